#include <string>
#include <vector>

#include "people_util.hpp"
#include "tensorflow/core/framework/op_kernel.h"
#include "tf_util.hpp"
#include "tfpose/connector.hpp"
#include "tfpose/pose_model.hpp"

namespace tfpose_tf {

using namespace ::tensorflow;  // NOLINT(build/namespaces): kernel files are TF-only glue

Status ReadConnectAttrs(OpKernelConstruction* ctx, const tfpose::PoseModel** model, tfpose::ConnectThresholds* params,
                        tfpose::OpenposeBuild* build_out) {
  std::string name, build;
  TF_RETURN_IF_ERROR(ctx->GetAttr("model", &name));
  TF_RETURN_IF_ERROR(ctx->GetAttr("openpose_build", &build));
  TF_RETURN_IF_ERROR(ctx->GetAttr("nms_threshold", &params->nms_threshold));
  TF_RETURN_IF_ERROR(ctx->GetAttr("inter_min_above_threshold", &params->inter_min_above_threshold));
  TF_RETURN_IF_ERROR(ctx->GetAttr("inter_threshold", &params->inter_threshold));
  TF_RETURN_IF_ERROR(ctx->GetAttr("min_subset_cnt", &params->min_subset_cnt));
  TF_RETURN_IF_ERROR(ctx->GetAttr("min_subset_score", &params->min_subset_score));
  try {
    *model = &tfpose::get_pose_model(name);
    *build_out = tfpose::parse_openpose_build(build);
    tfpose::resolve_thresholds(**model, *params);
  } catch (const tfpose::InvalidArgument& e) {
    return errors::InvalidArgument(e.what());
  }
  return OkStatus();
}

void WritePeopleOutputs(OpKernelContext* ctx, const std::vector<tfpose::People>& people, int64_t n, int64_t p) {
  const int64_t m = tfpose::max_people(people);
  Tensor *kp = nullptr, *scores = nullptr, *num = nullptr;
  OP_REQUIRES_OK(ctx, ctx->allocate_output(0, TensorShape({n, m, p, 3}), &kp));
  OP_REQUIRES_OK(ctx, ctx->allocate_output(1, TensorShape({n, m}), &scores));
  OP_REQUIRES_OK(ctx, ctx->allocate_output(2, TensorShape({n}), &num));
  tfpose::pack_people(people, p, m, kp->flat<float>().data(), scores->flat<float>().data(),
                      num->flat<int32_t>().data());
}

class ConnectOp : public OpKernel {
 public:
  explicit ConnectOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_REQUIRES_OK(ctx, ReadConnectAttrs(ctx, &model_, &thresholds_, &build_));
  }

  void Compute(OpKernelContext* ctx) override {
    const Tensor& maps = ctx->input(0);
    const Tensor& peaks = ctx->input(1);
    const Tensor& counts = ctx->input(2);
    const Tensor& scale = ctx->input(3);
    OP_REQUIRES(ctx, maps.dims() == 4,
                errors::InvalidArgument("TfposeConnect: maps must be rank 4 [N, H, W, C], got shape ",
                                        maps.shape().DebugString()));
    OP_REQUIRES(
        ctx, peaks.dims() == 4 && peaks.dim_size(3) == 3,
        errors::InvalidArgument("TfposeConnect: peaks must be [N, P, K, 3], got shape ", peaks.shape().DebugString()));
    OP_REQUIRES(ctx, counts.dims() == 2,
                errors::InvalidArgument("TfposeConnect: counts must be rank 2 [N, P], got shape ",
                                        counts.shape().DebugString()));
    OP_REQUIRES(ctx, scale.dims() <= 1,
                errors::InvalidArgument("TfposeConnect: scale must be a scalar or [N], got shape ",
                                        scale.shape().DebugString()));
    const int64_t n = maps.dim_size(0), h = maps.dim_size(1), w = maps.dim_size(2), c = maps.dim_size(3);
    const int64_t p = peaks.dim_size(1), k = peaks.dim_size(2);
    RunGuarded(ctx, "TfposeConnect", [&] {
      tfpose::check_connect_shapes(n, h, w, c, peaks.dim_size(0), p, k, counts.dim_size(0), counts.dim_size(1),
                                   scale.NumElements(), *model_);
      std::vector<tfpose::People> people = tfpose::connect(
          maps.flat<float>().data(), n, h, w, c, peaks.flat<float>().data(), counts.flat<int32_t>().data(), p, k,
          scale.flat<float>().data(), scale.NumElements(), *model_, thresholds_, build_, PoolFor(ctx));
      WritePeopleOutputs(ctx, people, n, p);
    });
  }

 private:
  const tfpose::PoseModel* model_ = nullptr;
  tfpose::ConnectThresholds thresholds_;
  tfpose::OpenposeBuild build_ = tfpose::OpenposeBuild::kCpu;
};

REGISTER_KERNEL_BUILDER(Name("TfposeConnect").Device(DEVICE_CPU), ConnectOp);

}  // namespace tfpose_tf
