#include "tensorflow/core/framework/op_kernel.h"
#include "tf_util.hpp"
#include "tfpose/sizing.hpp"

namespace tfpose_tf {

using namespace ::tensorflow;  // NOLINT(build/namespaces): kernel files are TF-only glue

class SizingOp : public OpKernel {
 public:
  explicit SizingOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    std::vector<int64_t> res;
    OP_REQUIRES_OK(ctx, ctx->GetAttr("net_resolution", &res));
    OP_REQUIRES(ctx, res.size() == 2,
                errors::InvalidArgument("TfposeSizing: net_resolution must be [W, H], got ", res.size(), " values"));
    resolution_ = {res[0], res[1]};
    OP_REQUIRES_OK(ctx, ctx->GetAttr("scale_number", &scale_number_));
  }

  void Compute(OpKernelContext* ctx) override {
    const Tensor& size = ctx->input(0);
    const Tensor& gap = ctx->input(1);
    const Tensor& dynamic = ctx->input(2);
    OP_REQUIRES(
        ctx, size.dims() == 1 && size.NumElements() == 2,
        errors::InvalidArgument("TfposeSizing: image_size must be [2] (H, W), got shape ", size.shape().DebugString()));
    OP_REQUIRES(ctx, gap.dims() == 0 && dynamic.dims() == 0,
                errors::InvalidArgument("TfposeSizing: scale_gap and net_resolution_dynamic must be scalars"));
    tfpose::Sizing s;
    RunGuarded(ctx, "TfposeSizing", [&] {
      s = tfpose::compute_sizing(size.flat<int64_t>()(0), size.flat<int64_t>()(1), resolution_, scale_number_,
                                 gap.scalar<double>()(), dynamic.scalar<double>()());
    });
    if (!ctx->status().ok()) return;
    const int64_t S = static_cast<int64_t>(s.net.size());
    Tensor *sizes = nullptr, *ratios = nullptr, *scaling = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, TensorShape({S, 2}), &sizes));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(1, TensorShape({S}), &ratios));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(2, TensorShape({2}), &scaling));
    auto sz = sizes->matrix<int32_t>();
    for (int64_t i = 0; i < S; ++i) {
      sz(i, 0) = static_cast<int32_t>(s.net[i].h);
      sz(i, 1) = static_cast<int32_t>(s.net[i].w);
      ratios->flat<double>()(i) = s.scale_ratios[i];
    }
    scaling->flat<float>()(0) = s.output.scale_net_to_output;
    scaling->flat<float>()(1) = s.output.nms_offset;
  }

 private:
  tfpose::NetSize resolution_{0, 0};
  int64_t scale_number_ = 1;
};

REGISTER_KERNEL_BUILDER(Name("TfposeSizing").Device(DEVICE_CPU), SizingOp);

}  // namespace tfpose_tf
