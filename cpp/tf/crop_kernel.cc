#include "tensorflow/core/framework/op_kernel.h"
#include "tf_util.hpp"
#include "tfpose/crop.hpp"

namespace tfpose_tf {

using namespace ::tensorflow;  // NOLINT(build/namespaces): kernel files are TF-only glue

class CropAffineOp : public OpKernel {
 public:
  explicit CropAffineOp(OpKernelConstruction* ctx) : OpKernel(ctx) {}

  void Compute(OpKernelContext* ctx) override {
    const Tensor& images = ctx->input(0);
    const Tensor& index = ctx->input(1);
    const Tensor& m = ctx->input(2);
    const Tensor& size = ctx->input(3);
    OP_REQUIRES(ctx, images.dims() == 4,
                errors::InvalidArgument("TfposeCropAffine: images must be rank 4 [N, H, W, C], got shape ",
                                        images.shape().DebugString()));
    OP_REQUIRES(ctx,
                index.dims() == 1 && m.dims() == 3 && m.dim_size(0) == index.dim_size(0) && m.dim_size(1) == 2 &&
                    m.dim_size(2) == 3,
                errors::InvalidArgument("TfposeCropAffine: expected image_index [B] and transforms [B, 2, 3], got ",
                                        index.shape().DebugString(), " and ", m.shape().DebugString()));
    OP_REQUIRES(
        ctx, size.dims() == 1 && size.NumElements() == 2,
        errors::InvalidArgument("TfposeCropAffine: size must be [2] (H, W), got shape ", size.shape().DebugString()));
    const int64_t n = images.dim_size(0), h = images.dim_size(1), w = images.dim_size(2), c = images.dim_size(3);
    const int64_t b = index.dim_size(0);
    const int64_t oh = size.flat<int32_t>()(0), ow = size.flat<int32_t>()(1);
    const int32_t* idx = index.flat<int32_t>().data();
    RunGuarded(ctx, "TfposeCropAffine", [&] { tfpose::check_crop_args(n, h, w, c, idx, b, oh, ow); });
    if (!ctx->status().ok()) return;
    Tensor* out = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, TensorShape({b, oh, ow, c}), &out));
    if (b == 0) return;
    RunGuarded(ctx, "TfposeCropAffine", [&] {
      tfpose::crop_affine(images.flat<uint8_t>().data(), n, h, w, c, idx, m.flat<double>().data(), b, oh, ow,
                          out->flat<float>().data(), PoolFor(ctx));
    });
  }
};

REGISTER_KERNEL_BUILDER(Name("TfposeCropAffine").Device(DEVICE_CPU).HostMemory("size"), CropAffineOp);

}  // namespace tfpose_tf
