// The TfposeNms kernel minus its computation, shared by nms_kernel.cc (CPU) and nms_kernel_gpu.cc (GPU).
#pragma once

#include <string>

#include "tensorflow/core/framework/op_kernel.h"
#include "tf_util.hpp"
#include "tfpose/nms.hpp"

namespace tfpose_tf {

// The TF names the kernels use, declared one by one (a header must not pull in all of ::tensorflow).
using ::tensorflow::OpInputList;
using ::tensorflow::OpKernel;
using ::tensorflow::OpKernelConstruction;
using ::tensorflow::OpKernelContext;
using ::tensorflow::Tensor;
using ::tensorflow::TensorShape;
namespace errors = ::tensorflow::errors;

// Attribute and argument checks shared by the CPU and GPU kernels; Run computes on the kernel's
// device (heatmaps, peaks and counts live there; offset is a host input).
class NmsOpBase : public OpKernel {
 public:
  explicit NmsOpBase(OpKernelConstruction* ctx) : OpKernel(ctx) {
    float threshold = 0.f;
    int64_t max_peaks = 0;
    std::string build, refinement;
    OP_REQUIRES_OK(ctx, ctx->GetAttr("threshold", &threshold));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("max_peaks", &max_peaks));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("openpose_build", &build));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("peak_refinement", &refinement));
    // Attributes are checked once here, by the core's rule, so a bad graph fails before any data
    // flows; the offset is an input, checked per call (check_nms_args).
    OP_REQUIRES_OK(ctx, CoreStatus("TfposeNms", [&] {
                     params_ = tfpose::make_nms_params(threshold, max_peaks, 0.0, 0.0, build, refinement);
                   }));
  }

  void Compute(OpKernelContext* ctx) override {
    const Tensor& in = ctx->input(0);
    const Tensor& offset = ctx->input(1);
    OP_REQUIRES(ctx, in.dims() == 4,
                errors::InvalidArgument("TfposeNms: heatmaps: expected rank 4 [N, H, W, P], got shape ",
                                        in.shape().DebugString()));
    OP_REQUIRES(ctx, offset.dims() == 1 && offset.dim_size(0) == 2,
                errors::InvalidArgument("TfposeNms: offset: expected shape [2] (x, y), got shape ",
                                        offset.shape().DebugString()));
    const int64_t n = in.dim_size(0), h = in.dim_size(1), w = in.dim_size(2), p = in.dim_size(3);
    tfpose::NmsParams params = params_;
    params.offset_x = offset.flat<float>()(0);
    params.offset_y = offset.flat<float>()(1);
    RunGuarded(ctx, "TfposeNms", [&] { tfpose::check_nms_args(n, h, w, p, params); });
    if (!ctx->status().ok()) return;
    Tensor* peaks = nullptr;
    Tensor* counts = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, TensorShape({n, p, params.max_peaks, 3}), &peaks));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(1, TensorShape({n, p}), &counts));
    Run(ctx, in.flat<float>().data(), n, h, w, p, params, peaks->flat<float>().data(), counts->flat<int32_t>().data());
  }

 protected:
  // heatmaps [N, H, W, P] -> peaks [N, P, K, 3], counts [N, P]; arguments already validated.
  virtual void Run(OpKernelContext* ctx, const float* heatmaps, int64_t n, int64_t h, int64_t w, int64_t p,
                   const tfpose::NmsParams& params, float* peaks, int32_t* counts) = 0;

 private:
  tfpose::NmsParams params_;
};

}  // namespace tfpose_tf
