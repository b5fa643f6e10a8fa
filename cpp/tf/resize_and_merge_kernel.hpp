// The TfposeResizeAndMerge kernel minus its computation, shared by resize_and_merge_kernel.cc (CPU)
// and resize_and_merge_kernel_gpu.cc (GPU).
#pragma once

#include <string>
#include <vector>

#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/tensor_shape.h"
#include "tf_util.hpp"
#include "tfpose/resize_and_merge.hpp"

namespace tfpose_tf {

// The TF names the kernels use, declared one by one (a header must not pull in all of ::tensorflow).
using ::tensorflow::OpInputList;
using ::tensorflow::OpKernel;
using ::tensorflow::OpKernelConstruction;
using ::tensorflow::OpKernelContext;
using ::tensorflow::Tensor;
using ::tensorflow::TensorShape;
namespace errors = ::tensorflow::errors;

// Argument parsing and validation shared by the CPU and GPU kernels; Run computes on the device the
// kernel is registered for (net output data are device pointers there, ratios and target on the host).
class ResizeAndMergeOpBase : public OpKernel {
 public:
  explicit ResizeAndMergeOpBase(OpKernelConstruction* ctx) : OpKernel(ctx) {
    std::string build;
    OP_REQUIRES_OK(ctx, ctx->GetAttr("openpose_build", &build));
    try {
      build_ = tfpose::parse_openpose_build(build);
    } catch (const tfpose::InvalidArgument& e) {
      ctx->CtxFailure(__FILE__, __LINE__, errors::InvalidArgument("TfposeResizeAndMerge: ", e.what()));
    }
  }

  void Compute(OpKernelContext* ctx) override {
    OpInputList nets;
    OP_REQUIRES_OK(ctx, ctx->input_list("net_outputs", &nets));
    const int num_scales = nets.size();
    const Tensor& first = nets[0];
    OP_REQUIRES(ctx, first.dims() == 4,
                errors::InvalidArgument("TfposeResizeAndMerge: net_outputs[0] must be rank 4 [N, h, w, C], "
                                        "got shape ",
                                        first.shape().DebugString()));
    const int64_t n = first.dim_size(0), c = first.dim_size(3);
    for (int i = 1; i < num_scales; ++i) {
      const Tensor& t = nets[i];
      OP_REQUIRES(ctx, t.dims() == 4,
                  errors::InvalidArgument("TfposeResizeAndMerge: net_outputs[", i,
                                          "] must be rank 4 [N, h, w, C], got shape ", t.shape().DebugString()));
      OP_REQUIRES(ctx, t.dim_size(0) == n && t.dim_size(3) == c,
                  errors::InvalidArgument("TfposeResizeAndMerge: net_outputs[", i, "] must have N = ", n,
                                          " and C = ", c, " like net_outputs[0], got shape ", t.shape().DebugString()));
    }

    const Tensor& ratios = ctx->input(num_scales);
    OP_REQUIRES(ctx, ratios.dims() == 1 && ratios.dim_size(0) == num_scales,
                errors::InvalidArgument("TfposeResizeAndMerge: scale_ratios must have shape [", num_scales,
                                        "] (one per scale), got shape ", ratios.shape().DebugString()));
    const Tensor& target = ctx->input(num_scales + 1);
    OP_REQUIRES(ctx, target.dims() == 1 && target.dim_size(0) == 2,
                errors::InvalidArgument("TfposeResizeAndMerge: target_size must have shape [2] (H, W), got "
                                        "shape ",
                                        target.shape().DebugString()));
    const auto tv = target.flat<int32_t>();
    int64_t H = tv(0), W = tv(1);
    if (H == 0 && W == 0) {
      tfpose::resolve_target_size(first.dim_size(1), first.dim_size(2), &H, &W);
    } else {
      OP_REQUIRES(ctx, H > 0 && W > 0,
                  errors::InvalidArgument("TfposeResizeAndMerge: target_size must be positive (H, W) or (0, 0) "
                                          "for 8x scale 0, got (",
                                          H, ", ", W, ")"));
    }

    std::vector<tfpose::ScaleMaps> scales(static_cast<size_t>(num_scales));
    const auto rv = ratios.flat<double>();
    for (int i = 0; i < num_scales; ++i)
      scales[i] = {nets[i].flat<float>().data(), nets[i].dim_size(1), nets[i].dim_size(2), rv(i)};

    RunGuarded(ctx, "TfposeResizeAndMerge", [&] { tfpose::check_resize_and_merge_args(scales, n, c, H, W, build_); });
    if (!ctx->status().ok()) return;

    TensorShape out_shape;
    OP_REQUIRES_OK(ctx, TensorShape::BuildTensorShape({n, H, W, c}, &out_shape));
    Tensor* out = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, out_shape, &out));
    if (n == 0) return;
    Run(ctx, scales, n, c, H, W, build_, out->flat<float>().data());
  }

 protected:
  // scales[i].data [N, h_i, w_i, C] -> out [N, H, W, C]; arguments are already validated, N > 0.
  virtual void Run(OpKernelContext* ctx, const std::vector<tfpose::ScaleMaps>& scales, int64_t n, int64_t c, int64_t H,
                   int64_t W, tfpose::OpenposeBuild build, float* out) = 0;

 private:
  tfpose::OpenposeBuild build_ = tfpose::OpenposeBuild::kCpu;
};

}  // namespace tfpose_tf
