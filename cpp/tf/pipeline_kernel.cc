#include <string>
#include <vector>

#include "people_util.hpp"
#include "tensorflow/core/framework/op_kernel.h"
#include "tf_util.hpp"
#include "tfpose/nms.hpp"
#include "tfpose/pipeline.hpp"

namespace tfpose_tf {

using namespace ::tensorflow;  // NOLINT(build/namespaces): kernel files are TF-only glue

// `fast` picks the sparse evaluation (tfpose/fast_path.hpp) or the dense chain: same people.
class NetOutputToPeopleOp : public OpKernel {
 public:
  explicit NetOutputToPeopleOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_REQUIRES_OK(ctx, ctx->GetAttr("S", &num_scales_));
    OP_REQUIRES_OK(ctx, ReadConnectAttrs(ctx, &model_, &params_.thresholds, &params_.build));
    int max_peaks = 0;
    OP_REQUIRES_OK(ctx, ctx->GetAttr("max_peaks", &max_peaks));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("fast", &params_.fast));
    std::string refinement;
    OP_REQUIRES_OK(ctx, ctx->GetAttr("peak_refinement", &refinement));
    // The core's NMS-parameter rule (nms.hpp), as for TfposeNms.
    OP_REQUIRES_OK(ctx, CoreStatus("TfposeNetOutputToPeople", [&] {
                     tfpose::check_max_peaks(max_peaks);
                     params_.peak_refinement = tfpose::parse_peak_refinement(refinement);
                   }));
    params_.max_peaks = max_peaks;
  }

  void Compute(OpKernelContext* ctx) override {
    const int s = num_scales_;
    const Tensor& first = ctx->input(0);
    for (int i = 0; i < s; ++i) {
      const Tensor& t = ctx->input(i);
      OP_REQUIRES(ctx, t.dims() == 4,
                  errors::InvalidArgument("TfposeNetOutputToPeople: net_outputs[", i,
                                          "] must be rank 4 [N, h, w, C], got shape ", t.shape().DebugString()));
      OP_REQUIRES(
          ctx, t.dim_size(0) == first.dim_size(0) && t.dim_size(3) == first.dim_size(3),
          errors::InvalidArgument("TfposeNetOutputToPeople: net_outputs[", i, "] shape ", t.shape().DebugString(),
                                  ": expected N and C of net_outputs[0] ", first.shape().DebugString()));
    }
    const Tensor& ratios = ctx->input(s);
    const Tensor& net_size = ctx->input(s + 1);
    const Tensor& image_size = ctx->input(s + 2);
    OP_REQUIRES(ctx, ratios.dims() == 1 && ratios.dim_size(0) == s,
                errors::InvalidArgument("TfposeNetOutputToPeople: scale_ratios: expected shape [", s,
                                        "] (one per scale), got ", ratios.shape().DebugString()));
    OP_REQUIRES(ctx, net_size.dims() == 1 && net_size.dim_size(0) == 2,
                errors::InvalidArgument("TfposeNetOutputToPeople: net_input_size: expected shape [2] (H, W), got ",
                                        net_size.shape().DebugString()));
    OP_REQUIRES(ctx, image_size.dims() == 1 && image_size.dim_size(0) == 2,
                errors::InvalidArgument("TfposeNetOutputToPeople: image_size: expected shape [2] (H, W), got ",
                                        image_size.shape().DebugString()));
    std::vector<tfpose::ScaleMaps> scales;
    for (int i = 0; i < s; ++i) {
      const Tensor& t = ctx->input(i);
      scales.push_back({t.flat<float>().data(), t.dim_size(1), t.dim_size(2), ratios.flat<double>()(i)});
    }
    const int64_t n = first.dim_size(0), c = first.dim_size(3);
    const auto ns = net_size.flat<int32_t>();
    const auto is = image_size.flat<int32_t>();
    RunGuarded(ctx, "TfposeNetOutputToPeople", [&] {
      std::vector<tfpose::People> people =
          tfpose::net_output_to_people(scales, n, c, ns(0), ns(1), is(0), is(1), *model_, params_, PoolFor(ctx));
      WritePeopleOutputs(ctx, people, n, model_->num_parts());
    });
  }

 private:
  int num_scales_ = 1;
  const tfpose::PoseModel* model_ = nullptr;
  tfpose::PipelineParams params_;
};

REGISTER_KERNEL_BUILDER(Name("TfposeNetOutputToPeople").Device(DEVICE_CPU), NetOutputToPeopleOp);

}  // namespace tfpose_tf
