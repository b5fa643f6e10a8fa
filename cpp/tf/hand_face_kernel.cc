#include "tensorflow/core/framework/op_kernel.h"
#include "tf_util.hpp"
#include "tfpose/hand_face.hpp"

namespace tfpose_tf {

using namespace ::tensorflow;  // NOLINT(build/namespaces): kernel files are TF-only glue

// TfposeHandBoxes / TfposeFaceBoxes: keypoints [..., P, 3] -> [..., 2, 4] / [..., 4].
template <bool kHands>
class BoxesOp : public OpKernel {
 public:
  explicit BoxesOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    std::string model;
    OP_REQUIRES_OK(ctx, ctx->GetAttr("model", &model));
    try {
      model_ = &tfpose::get_pose_model(model);
    } catch (const tfpose::InvalidArgument& e) {
      ctx->CtxFailure(__FILE__, __LINE__, errors::InvalidArgument(Name(), ": ", e.what()));
    }
  }

  static const char* Name() { return kHands ? "TfposeHandBoxes" : "TfposeFaceBoxes"; }

  void Compute(OpKernelContext* ctx) override {
    const Tensor& in = ctx->input(0);
    OP_REQUIRES(ctx, in.dims() >= 2 && in.dim_size(in.dims() - 1) == 3,
                errors::InvalidArgument(Name(), ": keypoints must have shape [..., P, 3], got shape ",
                                        in.shape().DebugString()));
    const int64_t parts = in.dim_size(in.dims() - 2);
    int64_t rows = 1;
    TensorShape out_shape;
    for (int d = 0; d < in.dims() - 2; ++d) {
      rows *= in.dim_size(d);
      OP_REQUIRES_OK(ctx, out_shape.AddDimWithStatus(in.dim_size(d)));
    }
    if (kHands) OP_REQUIRES_OK(ctx, out_shape.AddDimWithStatus(2));
    OP_REQUIRES_OK(ctx, out_shape.AddDimWithStatus(4));
    RunGuarded(ctx, Name(), [&] { tfpose::check_box_args(Name(), rows, parts, *model_); });
    if (!ctx->status().ok()) return;
    Tensor* out = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, out_shape, &out));
    if (rows == 0) return;
    RunGuarded(ctx, Name(), [&] {
      if (kHands)
        tfpose::hand_boxes(in.flat<float>().data(), rows, *model_, out->flat<float>().data());
      else
        tfpose::face_boxes(in.flat<float>().data(), rows, *model_, out->flat<float>().data());
    });
  }

 private:
  const tfpose::PoseModel* model_ = nullptr;
};

REGISTER_KERNEL_BUILDER(Name("TfposeHandBoxes").Device(DEVICE_CPU), BoxesOp<true>);
REGISTER_KERNEL_BUILDER(Name("TfposeFaceBoxes").Device(DEVICE_CPU), BoxesOp<false>);

}  // namespace tfpose_tf
