#include "tensorflow/core/framework/op_kernel.h"
#include "tf_util.hpp"
#include "tfpose/maximum.hpp"

namespace tfpose_tf {

using namespace ::tensorflow;  // NOLINT(build/namespaces): kernel files are TF-only glue

class MaximumOp : public OpKernel {
 public:
  explicit MaximumOp(OpKernelConstruction* ctx) : OpKernel(ctx) {}

  void Compute(OpKernelContext* ctx) override {
    const Tensor& in = ctx->input(0);
    OP_REQUIRES(ctx, in.dims() == 4,
                errors::InvalidArgument("TfposeMaximum: heatmaps must be rank 4 [N, H, W, C], got shape ",
                                        in.shape().DebugString()));
    const int64_t n = in.dim_size(0), h = in.dim_size(1), w = in.dim_size(2), c = in.dim_size(3);
    // Checked before the empty-batch shortcut: an empty batch of an invalid shape is an error, as in
    // the numpy entry point.
    RunGuarded(ctx, "TfposeMaximum", [&] { tfpose::check_maximum_args(n, h, w, c); });
    if (!ctx->status().ok()) return;
    Tensor* out = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, TensorShape({n, c, 3}), &out));
    if (n == 0) return;
    RunGuarded(ctx, "TfposeMaximum", [&] {
      tfpose::maximum(in.flat<float>().data(), n, h, w, c, out->flat<float>().data(), PoolFor(ctx));
    });
  }
};

REGISTER_KERNEL_BUILDER(Name("TfposeMaximum").Device(DEVICE_CPU), MaximumOp);

}  // namespace tfpose_tf
