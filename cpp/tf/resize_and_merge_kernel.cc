#include "resize_and_merge_kernel.hpp"

namespace tfpose_tf {

using namespace ::tensorflow;  // NOLINT(build/namespaces): kernel files are TF-only glue

class ResizeAndMergeOp : public ResizeAndMergeOpBase {
 public:
  using ResizeAndMergeOpBase::ResizeAndMergeOpBase;

 protected:
  void Run(OpKernelContext* ctx, const std::vector<tfpose::ScaleMaps>& scales, int64_t n, int64_t c, int64_t H,
           int64_t W, tfpose::OpenposeBuild build, float* out) override {
    RunGuarded(ctx, "TfposeResizeAndMerge",
               [&] { tfpose::resize_and_merge(scales, n, c, H, W, build, out, PoolFor(ctx)); });
  }
};

REGISTER_KERNEL_BUILDER(Name("TfposeResizeAndMerge").Device(DEVICE_CPU), ResizeAndMergeOp);

}  // namespace tfpose_tf
