// The TfposeMaximum kernel minus its computation, shared by maximum_kernel.cc (CPU) and
// maximum_kernel_gpu.cc (GPU), like the NMS and resize-and-merge kernels.
#pragma once

#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/tensor_shape.h"
#include "tf_util.hpp"
#include "tfpose/maximum.hpp"

namespace tfpose_tf {

// Input checks and the output allocation shared by the CPU and GPU kernels; Run computes on the
// kernel's device (heatmaps and out live there).
class MaximumOpBase : public ::tensorflow::OpKernel {
 public:
  explicit MaximumOpBase(::tensorflow::OpKernelConstruction* ctx) : OpKernel(ctx) {}

  void Compute(::tensorflow::OpKernelContext* ctx) override {
    const ::tensorflow::Tensor& in = ctx->input(0);
    OP_REQUIRES(ctx, in.dims() == 4,
                ::tensorflow::errors::InvalidArgument("TfposeMaximum: heatmaps must be rank 4 [N, H, W, C], got shape ",
                                                      in.shape().DebugString()));
    const int64_t n = in.dim_size(0), h = in.dim_size(1), w = in.dim_size(2), c = in.dim_size(3);
    RunGuarded(ctx, "TfposeMaximum", [&] { tfpose::check_maximum_args(n, h, w, c); });
    if (!ctx->status().ok()) return;
    ::tensorflow::Tensor* out = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, ::tensorflow::TensorShape({n, c, 3}), &out));
    if (n == 0) return;
    Run(ctx, in.flat<float>().data(), n, h, w, c, out->flat<float>().data());
  }

 protected:
  // heatmaps [N, H, W, C] -> out [N, C, 3], both on the kernel's device; arguments already checked.
  virtual void Run(::tensorflow::OpKernelContext* ctx, const float* heatmaps, int64_t n, int64_t h, int64_t w,
                   int64_t c, float* out) = 0;
};

}  // namespace tfpose_tf
