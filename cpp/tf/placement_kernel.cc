#include "tensorflow/core/framework/op_kernel.h"
#include "tf_util.hpp"
#include "tfpose/placement.hpp"

namespace tfpose_tf {

using namespace ::tensorflow;  // NOLINT(build/namespaces): kernel files are TF-only glue

class ResizeFixedAspectRatioOp : public OpKernel {
 public:
  explicit ResizeFixedAspectRatioOp(OpKernelConstruction* ctx) : OpKernel(ctx) {}

  void Compute(OpKernelContext* ctx) override {
    const Tensor& images = ctx->input(0);
    const Tensor& scale = ctx->input(1);
    const Tensor& size = ctx->input(2);
    OP_REQUIRES(ctx, images.dims() == 4,
                errors::InvalidArgument("TfposeResizeFixedAspectRatio: images must be rank 4 [N, H, W, C], got shape ",
                                        images.shape().DebugString()));
    OP_REQUIRES(ctx, scale.dims() == 0,
                errors::InvalidArgument("TfposeResizeFixedAspectRatio: scale must be a scalar, got shape ",
                                        scale.shape().DebugString()));
    OP_REQUIRES(ctx, size.dims() == 1 && size.NumElements() == 2,
                errors::InvalidArgument("TfposeResizeFixedAspectRatio: size must be [2] (H, W), got shape ",
                                        size.shape().DebugString()));
    const int64_t n = images.dim_size(0), h = images.dim_size(1), w = images.dim_size(2), c = images.dim_size(3);
    const int64_t oh = size.flat<int64_t>()(0), ow = size.flat<int64_t>()(1);
    const double s = scale.scalar<double>()();
    RunGuarded(ctx, "TfposeResizeFixedAspectRatio",
               [&] { tfpose::check_resize_fixed_aspect_ratio_args(n, h, w, c, s, oh, ow); });
    if (!ctx->status().ok()) return;
    Tensor* out = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, TensorShape({n, oh, ow, c}), &out));
    if (n == 0) return;
    RunGuarded(ctx, "TfposeResizeFixedAspectRatio", [&] {
      tfpose::resize_fixed_aspect_ratio(images.flat<uint8_t>().data(), n, h, w, c, s, oh, ow, out->flat<float>().data(),
                                        PoolFor(ctx));
    });
  }
};

REGISTER_KERNEL_BUILDER(Name("TfposeResizeFixedAspectRatio").Device(DEVICE_CPU), ResizeFixedAspectRatioOp);

}  // namespace tfpose_tf
