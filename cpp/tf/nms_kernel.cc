#include "nms_kernel.hpp"

namespace tfpose_tf {

using namespace ::tensorflow;  // NOLINT(build/namespaces): kernel files are TF-only glue

class NmsOp : public NmsOpBase {
 public:
  using NmsOpBase::NmsOpBase;

 protected:
  void Run(OpKernelContext* ctx, const float* heatmaps, int64_t n, int64_t h, int64_t w, int64_t p,
           const tfpose::NmsParams& params, float* peaks, int32_t* counts) override {
    RunGuarded(ctx, "TfposeNms", [&] { tfpose::nms(heatmaps, n, h, w, p, params, peaks, counts, PoolFor(ctx)); });
  }
};

REGISTER_KERNEL_BUILDER(Name("TfposeNms").Device(DEVICE_CPU), NmsOp);

}  // namespace tfpose_tf
