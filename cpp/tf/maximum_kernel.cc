#include "maximum_kernel.hpp"

namespace tfpose_tf {

class MaximumOp : public MaximumOpBase {
 public:
  using MaximumOpBase::MaximumOpBase;

 protected:
  void Run(::tensorflow::OpKernelContext* ctx, const float* heatmaps, int64_t n, int64_t h, int64_t w, int64_t c,
           float* out) override {
    RunGuarded(ctx, "TfposeMaximum", [&] { tfpose::maximum(heatmaps, n, h, w, c, out, PoolFor(ctx)); });
  }
};

REGISTER_KERNEL_BUILDER(Name("TfposeMaximum").Device(::tensorflow::DEVICE_CPU), MaximumOp);

}  // namespace tfpose_tf
