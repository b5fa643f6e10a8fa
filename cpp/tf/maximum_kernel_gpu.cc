// GPU kernel of TfposeMaximum (built only when CMake compiles CUDA into the op library).
#if GOOGLE_CUDA && defined(TFPOSE_WITH_CUDA)

#include "tensorflow/core/framework/op_kernel.h"
#include "tf_gpu_util.hpp"
#include "tf_util.hpp"
#include "tfpose/maximum.hpp"

namespace tfpose_tf {

using namespace ::tensorflow;  // NOLINT(build/namespaces): kernel files are TF-only glue

class MaximumGpuOp : public OpKernel {
 public:
  explicit MaximumGpuOp(OpKernelConstruction* ctx) : OpKernel(ctx) {}

  void Compute(OpKernelContext* ctx) override {
    const Tensor& in = ctx->input(0);
    OP_REQUIRES(ctx, in.dims() == 4,
                errors::InvalidArgument("TfposeMaximum: heatmaps must be rank 4 [N, H, W, C], got shape ",
                                        in.shape().DebugString()));
    const int64_t n = in.dim_size(0), h = in.dim_size(1), w = in.dim_size(2), c = in.dim_size(3);
    RunGuarded(ctx, "TfposeMaximum", [&] { tfpose::check_maximum_args(n, h, w, c); });
    if (!ctx->status().ok()) return;
    Tensor* out = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, TensorShape({n, c, 3}), &out));
    if (n == 0) return;
    CheckLaunch(ctx, "TfposeMaximum",
                tfpose::cuda::maximum(in.flat<float>().data(), n, h, w, c, out->flat<float>().data(), GpuStream(ctx)));
  }
};

REGISTER_KERNEL_BUILDER(Name("TfposeMaximum").Device(DEVICE_GPU), MaximumGpuOp);

}  // namespace tfpose_tf

#endif
