// TfposeTopDownDecode: top-down keypoint decoding (tfpose/topdown.hpp) of heatmaps [N, H, W, C] with
// optional affine transforms [N, 2, 3] back to image pixels.
#include <string>

#include "tensorflow/core/framework/op_kernel.h"
#include "tf_util.hpp"
#include "tfpose/topdown.hpp"

namespace tfpose_tf {

using namespace ::tensorflow;  // NOLINT(build/namespaces): kernel files are TF-only glue

class TopDownDecodeOp : public OpKernel {
 public:
  explicit TopDownDecodeOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    std::string refinement;
    OP_REQUIRES_OK(ctx, ctx->GetAttr("refinement", &refinement));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("dark_kernel", &params_.dark_kernel));
    try {
      params_.refinement = tfpose::parse_refinement(refinement);
      tfpose::check_topdown_args(0, 1, 1, 1, params_);
    } catch (const tfpose::InvalidArgument& e) {
      ctx->CtxFailure(__FILE__, __LINE__, errors::InvalidArgument("TfposeTopDownDecode: ", e.what()));
    }
  }

  void Compute(OpKernelContext* ctx) override {
    const Tensor& in = ctx->input(0);
    const Tensor& m = ctx->input(1);
    OP_REQUIRES(ctx, in.dims() == 4,
                errors::InvalidArgument("TfposeTopDownDecode: heatmaps must be rank 4 [N, H, W, C], got shape ",
                                        in.shape().DebugString()));
    const int64_t n = in.dim_size(0), h = in.dim_size(1), w = in.dim_size(2), c = in.dim_size(3);
    OP_REQUIRES(ctx,
                m.dims() == 3 && (m.dim_size(0) == n || m.dim_size(0) == 0) && m.dim_size(1) == 2 && m.dim_size(2) == 3,
                errors::InvalidArgument("TfposeTopDownDecode: transforms must have shape [N = ", n,
                                        ", 2, 3] or [0, 2, 3], got shape ", m.shape().DebugString()));
    RunGuarded(ctx, "TfposeTopDownDecode", [&] { tfpose::check_topdown_args(n, h, w, c, params_); });
    if (!ctx->status().ok()) return;
    Tensor* out = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, TensorShape({n, c, 3}), &out));
    if (n == 0) return;
    const double* mp = m.dim_size(0) == 0 ? nullptr : m.flat<double>().data();
    RunGuarded(ctx, "TfposeTopDownDecode", [&] {
      tfpose::topdown_decode(in.flat<float>().data(), n, h, w, c, params_, mp, out->flat<float>().data(), PoolFor(ctx));
    });
  }

 private:
  tfpose::TopDownParams params_;
};

REGISTER_KERNEL_BUILDER(Name("TfposeTopDownDecode").Device(DEVICE_CPU), TopDownDecodeOp);

}  // namespace tfpose_tf
