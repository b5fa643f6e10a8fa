// Every tfpose op's registration, documentation and shape function, in one place. Kernels live in
// one file per op (*_kernel.cc). Op names carry the "Tfpose" prefix so that "Op type not registered"
// in a process that did not `import tfpose` names the package to import.
#include <string>

#include "tensorflow/core/framework/common_shape_fns.h"
#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/shape_inference.h"
#include "tfpose/pose_defaults.hpp"
#include "tfpose/resize_and_merge.hpp"
#include "tfpose/sizing.hpp"

namespace tfpose_tf {

using ::tensorflow::Status;
using ::tensorflow::shape_inference::DimensionHandle;
using ::tensorflow::shape_inference::InferenceContext;
using ::tensorflow::shape_inference::ShapeHandle;

namespace {

// Output H/W of resize-and-merge: the constant target_size if given (> 0), else 8x scale 0.
Status TargetDims(InferenceContext* c, int target_input, ShapeHandle first, DimensionHandle* h, DimensionHandle* w) {
  ShapeHandle ts;
  TF_RETURN_IF_ERROR(c->WithRank(c->input(target_input), 1, &ts));
  DimensionHandle two;
  TF_RETURN_IF_ERROR(c->WithValue(c->Dim(ts, 0), 2, &two));
  const ::tensorflow::Tensor* t = c->input_tensor(target_input);
  *h = c->UnknownDim();
  *w = c->UnknownDim();
  if (t != nullptr && t->NumElements() == 2) {
    auto v = t->flat<int32_t>();
    if (v(0) > 0 && v(1) > 0) {
      *h = c->MakeDim(v(0));
      *w = c->MakeDim(v(1));
      return ::tensorflow::OkStatus();
    }
  }
  if (t != nullptr) {
    TF_RETURN_IF_ERROR(c->Multiply(c->Dim(first, 1), tfpose::kNetStride, h));
    TF_RETURN_IF_ERROR(c->Multiply(c->Dim(first, 2), tfpose::kNetStride, w));
  }
  return ::tensorflow::OkStatus();
}

// All S net outputs are [N, h_i, w_i, C] with the same N and C.
Status MergeScales(InferenceContext* c, int num_scales, ShapeHandle* first) {
  TF_RETURN_IF_ERROR(c->WithRank(c->input(0), 4, first));
  for (int i = 1; i < num_scales; ++i) {
    ShapeHandle s;
    TF_RETURN_IF_ERROR(c->WithRank(c->input(i), 4, &s));
    DimensionHandle d;
    TF_RETURN_IF_ERROR(c->Merge(c->Dim(*first, 0), c->Dim(s, 0), &d));
    TF_RETURN_IF_ERROR(c->Merge(c->Dim(*first, 3), c->Dim(s, 3), &d));
  }
  return ::tensorflow::OkStatus();
}

// Attribute defaults printed from the core's (pose_defaults.hpp) rather than restated; the core's
// number formatter prints the float as written ("0.05").
const std::string kThresholdAttr = "threshold: float = " + tfpose::number_str(tfpose::kPoseDefaults.nms_threshold);
const std::string kMaxPeaksAttr = "max_peaks: int = " + std::to_string(tfpose::kPoseDefaults.max_peaks);

// People outputs: keypoints [N, M, P, 3], scores [N, M], num_people [N]; M is data-dependent.
void PeopleOutputs(InferenceContext* c, DimensionHandle n) {
  c->set_output(0, c->MakeShape({n, c->UnknownDim(), c->UnknownDim(), c->MakeDim(3)}));
  c->set_output(1, c->MakeShape({n, c->UnknownDim()}));
  c->set_output(2, c->MakeShape({n}));
}

}  // namespace

REGISTER_OP("TfposeResizeAndMerge")
    .Input("net_outputs: S * float")
    .Input("scale_ratios: double")
    .Input("target_size: int32")
    .Attr("S: int >= 1")
    .Attr("openpose_build: {'cpu', 'cuda'} = 'cpu'")
    .Output("maps: float")
    .SetShapeFn([](InferenceContext* c) {
      int s;
      TF_RETURN_IF_ERROR(c->GetAttr("S", &s));
      ShapeHandle first;
      TF_RETURN_IF_ERROR(MergeScales(c, s, &first));
      ShapeHandle ratios;
      TF_RETURN_IF_ERROR(c->WithRank(c->input(s), 1, &ratios));
      DimensionHandle h, w;
      TF_RETURN_IF_ERROR(TargetDims(c, s + 1, first, &h, &w));
      c->set_output(0, c->MakeShape({c->Dim(first, 0), h, w, c->Dim(first, 3)}));
      return ::tensorflow::OkStatus();
    })
    .Doc(R"doc(
OpenPose's resize-and-merge: brings the network output of every scale to the target size and
averages over scales (spec section 4).

net_outputs: S tensors [N, h_i, w_i, C] float32, scale 0 first.
scale_ratios: [S] float64, scaleInputToNet of each scale (only ratios to scale 0 matter; used by
  openpose_build="cuda").
target_size: [2] int32 (H, W); zeros mean 8x the size of scale 0.
openpose_build: "cpu" = OpenCV bicubic (a=-0.75), every scale stretched over the whole target;
  "cuda" = Catmull-Rom (a=-0.5) with OpenPose's clamping, scales aligned by their ratios.
maps: [N, H, W, C] float32.
)doc");

REGISTER_OP("TfposeNms")
    .Input("heatmaps: float")
    .Input("offset: float")
    .Attr(kThresholdAttr)
    .Attr(kMaxPeaksAttr)
    .Attr("openpose_build: {'cpu', 'cuda'} = 'cpu'")
    .Attr("peak_refinement: {'centroid', 'quadratic'} = 'centroid'")
    .Output("peaks: float")
    .Output("counts: int32")
    .SetShapeFn([](InferenceContext* c) {
      ShapeHandle in;
      TF_RETURN_IF_ERROR(c->WithRank(c->input(0), 4, &in));
      ShapeHandle off;
      TF_RETURN_IF_ERROR(c->WithRank(c->input(1), 1, &off));
      int k;
      TF_RETURN_IF_ERROR(c->GetAttr("max_peaks", &k));
      c->set_output(0, c->MakeShape({c->Dim(in, 0), c->Dim(in, 3), c->MakeDim(k), c->MakeDim(3)}));
      c->set_output(1, c->MakeShape({c->Dim(in, 0), c->Dim(in, 3)}));
      return ::tensorflow::OkStatus();
    })
    .Doc(R"doc(
OpenPose's non-maximum suppression over part heatmaps (spec section 5).

heatmaps: [N, H, W, P] float32 (only the part channels).
offset: [2] float32 (x, y) added to every refined peak (OpenPose's nmsOffset).
threshold: a peak's value must exceed it; in [0, 1].
max_peaks: K, peaks kept per part in raster order.
openpose_build: "cpu" (ring rule with >= at the borders) or "cuda" (strict, no border peaks).
peak_refinement: "centroid" (OpenPose's 7x7 positive-weight centroid) or "quadratic" (tfpose's
  opt-in: vertex of the parabola through the log-values of the peak and its 2 neighbours per axis).
peaks: [N, P, K, 3] float32 (x, y, score), refined position + offset; unused rows 0.
counts: [N, P] int32, number of valid rows of peaks.
)doc");

REGISTER_OP("TfposeMaximum")
    .Input("heatmaps: float")
    .Output("maxima: float")
    .SetShapeFn([](InferenceContext* c) {
      ShapeHandle in;
      TF_RETURN_IF_ERROR(c->WithRank(c->input(0), 4, &in));
      c->set_output(0, c->MakeShape({c->Dim(in, 0), c->Dim(in, 3), c->MakeDim(3)}));
      return ::tensorflow::OkStatus();
    })
    .Doc(R"doc(
Global maximum of every channel (OpenPose's maximum, spec section 6).

heatmaps: [N, H, W, C] float32.
maxima: [N, C, 3] float32 (x, y, value); ties go to the first in raster order; NaNs are skipped.
)doc");

REGISTER_OP("TfposeConnect")
    .Input("maps: float")
    .Input("peaks: float")
    .Input("counts: int32")
    .Input("scale: float")
    .Attr("model: string = 'COCO_18'")
    .Attr("openpose_build: {'cpu', 'cuda'} = 'cpu'")
    .Attr("nms_threshold: float = -1")
    .Attr("inter_min_above_threshold: float = -1")
    .Attr("inter_threshold: float = -1")
    .Attr("min_subset_cnt: int = -1")
    .Attr("min_subset_score: float = -1")
    .Output("keypoints: float")
    .Output("scores: float")
    .Output("num_people: int32")
    .SetShapeFn([](InferenceContext* c) {
      ShapeHandle maps, peaks, counts;
      TF_RETURN_IF_ERROR(c->WithRank(c->input(0), 4, &maps));
      TF_RETURN_IF_ERROR(c->WithRank(c->input(1), 4, &peaks));
      TF_RETURN_IF_ERROR(c->WithRank(c->input(2), 2, &counts));
      TF_RETURN_IF_ERROR(c->WithRankAtMost(c->input(3), 1, &counts));
      DimensionHandle n;
      TF_RETURN_IF_ERROR(c->Merge(c->Dim(maps, 0), c->Dim(peaks, 0), &n));
      PeopleOutputs(c, n);
      return ::tensorflow::OkStatus();
    })
    .Doc(R"doc(
OpenPose's body-part connector: groups peaks into people with part affinity fields (spec section 7).

maps: [N, H, W, C] float32, all channels of the resized network output (parts, background, PAFs).
peaks: [N, P, K, 3] float32 and counts: [N, P] int32, as produced by TfposeNms.
scale: scalar or [N] float32, multiplies x and y of every keypoint (OpenPose's scaleNetToOutput).
model: "COCO_18", "BODY_25", "MPI_15" or "MPI_15_4".
openpose_build: "cpu" (per-limb assembly) or "cuda" (global greedy assembly).
Thresholds < 0 take the model's OpenPose default.
keypoints: [N, M, P, 3] float32 (x, y, score), missing parts (0, 0, 0); M = most people in the batch.
scores: [N, M] float32; num_people: [N] int32.
)doc");

REGISTER_OP("TfposeNetOutputToPeople")
    .Input("net_outputs: S * float")
    .Input("scale_ratios: double")
    .Input("net_input_size: int32")
    .Input("image_size: int32")
    .Attr("S: int >= 1")
    .Attr("model: string = 'COCO_18'")
    .Attr("openpose_build: {'cpu', 'cuda'} = 'cpu'")
    .Attr("nms_threshold: float = -1")
    .Attr(kMaxPeaksAttr)
    .Attr("inter_min_above_threshold: float = -1")
    .Attr("inter_threshold: float = -1")
    .Attr("min_subset_cnt: int = -1")
    .Attr("min_subset_score: float = -1")
    .Attr("fast: bool = true")
    .Attr("peak_refinement: {'centroid', 'quadratic'} = 'centroid'")
    .Output("keypoints: float")
    .Output("scores: float")
    .Output("num_people: int32")
    .SetShapeFn([](InferenceContext* c) {
      int s;
      TF_RETURN_IF_ERROR(c->GetAttr("S", &s));
      ShapeHandle first;
      TF_RETURN_IF_ERROR(MergeScales(c, s, &first));
      ShapeHandle v;
      TF_RETURN_IF_ERROR(c->WithRank(c->input(s), 1, &v));
      TF_RETURN_IF_ERROR(c->WithRank(c->input(s + 1), 1, &v));
      TF_RETURN_IF_ERROR(c->WithRank(c->input(s + 2), 1, &v));
      PeopleOutputs(c, c->Dim(first, 0));
      return ::tensorflow::OkStatus();
    })
    .Doc(R"doc(
The whole tail of OpenPose's forward pass (spec sections 3-7): resize-and-merge, NMS with OpenPose's
offset, connector, keypoints in original-image pixels.

net_outputs: S tensors [N, h_i, w_i, C] float32; scale_ratios: [S] float64 (see TfposeResizeAndMerge).
net_input_size: [2] int32 (H, W) of scale 0's network input; zeros mean 8x the blob size.
image_size: [2] int32 (H, W) of the original image; zeros mean the net input size.
fast: evaluate the interpolation only where a peak or a PAF sample needs it (same people as the
  dense chain); false runs the dense chain.
peak_refinement: the NMS peak position, as in TfposeNms ("centroid": OpenPose's).
keypoints: [N, M, P, 3], scores: [N, M], num_people: [N] (see TfposeConnect).
)doc");

// Hands, face and top-down decoding (docs/algorithms/hand-face.md).

namespace {

// keypoints [..., P, 3] -> [..., tail].
Status PeopleBoxesShape(InferenceContext* c, std::initializer_list<int64_t> tail) {
  ShapeHandle in, lead, out;
  TF_RETURN_IF_ERROR(c->WithRankAtLeast(c->input(0), 2, &in));
  if (c->RankKnown(in)) {
    DimensionHandle three;
    TF_RETURN_IF_ERROR(c->WithValue(c->Dim(in, -1), 3, &three));
    TF_RETURN_IF_ERROR(c->Subshape(in, 0, -2, &lead));
    std::vector<DimensionHandle> dims;
    for (int64_t d : tail) dims.push_back(c->MakeDim(d));
    TF_RETURN_IF_ERROR(c->Concatenate(lead, c->MakeShape(dims), &out));
    c->set_output(0, out);
  } else {
    c->set_output(0, c->UnknownShape());
  }
  return ::tensorflow::OkStatus();
}

}  // namespace

REGISTER_OP("TfposeHandBoxes")
    .Input("keypoints: float")
    .Attr("model: string = 'COCO_18'")
    .Output("boxes: float")
    .SetShapeFn([](InferenceContext* c) { return PeopleBoxesShape(c, {2, 4}); })
    .Doc(R"doc(
OpenPose's hand boxes from body keypoints (hand/face spec section 2.1).

keypoints: [..., P, 3] float32 (x, y, score) of the body model, input-image pixels (e.g. [N, M, P, 3]).
model: "COCO_18", "BODY_25", "MPI_15" or "MPI_15_4".
boxes: [..., 2, 4] float32, left hand then right hand, (x, y, width, height), square; zeros when the
  wrist, elbow or shoulder of that side has score <= 0.03.
)doc");

REGISTER_OP("TfposeFaceBoxes")
    .Input("keypoints: float")
    .Attr("model: string = 'COCO_18'")
    .Output("boxes: float")
    .SetShapeFn([](InferenceContext* c) { return PeopleBoxesShape(c, {4}); })
    .Doc(R"doc(
OpenPose's face boxes from body keypoints (hand/face spec section 3).

keypoints: [..., P, 3] float32 of the body model; model as in TfposeHandBoxes.
boxes: [..., 4] float32 (x, y, width, height), square; zeros when no estimate fires.
)doc");

REGISTER_OP("TfposeTopDownDecode")
    .Input("heatmaps: float")
    .Input("transforms: double")
    .Attr("refinement: {'none', 'quarter', 'dark'} = 'none'")
    .Attr("dark_kernel: int = 11")
    .Output("keypoints: float")
    .SetShapeFn([](InferenceContext* c) {
      ShapeHandle in, m;
      TF_RETURN_IF_ERROR(c->WithRank(c->input(0), 4, &in));
      TF_RETURN_IF_ERROR(c->WithRank(c->input(1), 3, &m));
      c->set_output(0, c->MakeShape({c->Dim(in, 0), c->Dim(in, 3), c->MakeDim(3)}));
      return ::tensorflow::OkStatus();
    })
    .Doc(R"doc(
Top-down decoding of single-person heatmaps: per channel the maximum, a sub-pixel refinement, and an
affine map back to image pixels (hand/face spec sections 4.7-4.8).

heatmaps: [N, H, W, C] float32; the centre of heatmap pixel (j, i) is (x, y) = (j, i).
transforms: [N, 2, 3] float64 affine (x, y) -> (a x + b y + c, d x + e y + f) per image, or [0, 2, 3]
  for none.
refinement: "none" (integer argmax, OpenPose), "quarter" (0.25 px toward the higher neighbour, Simple
  Baselines), "dark" (Zhang et al. 2020).
dark_kernel: odd Gaussian size of "dark".
keypoints: [N, C, 3] float32 (x, y, score = the channel's maximum).
)doc");

REGISTER_OP("TfposeCropAffine")
    .Input("images: uint8")
    .Input("image_index: int32")
    .Input("transforms: double")
    .Input("size: int32")
    .Output("crops: float")
    .SetShapeFn([](InferenceContext* c) {
      ShapeHandle images, index, m, size;
      TF_RETURN_IF_ERROR(c->WithRank(c->input(0), 4, &images));
      TF_RETURN_IF_ERROR(c->WithRank(c->input(1), 1, &index));
      TF_RETURN_IF_ERROR(c->WithRank(c->input(2), 3, &m));
      TF_RETURN_IF_ERROR(c->WithRank(c->input(3), 1, &size));
      DimensionHandle b;
      TF_RETURN_IF_ERROR(c->Merge(c->Dim(index, 0), c->Dim(m, 0), &b));
      DimensionHandle oh = c->UnknownDim(), ow = c->UnknownDim();
      const ::tensorflow::Tensor* t = c->input_tensor(3);
      if (t != nullptr && t->NumElements() == 2) {
        oh = c->MakeDim(t->flat<int32_t>()(0));
        ow = c->MakeDim(t->flat<int32_t>()(1));
      }
      c->set_output(0, c->MakeShape({b, oh, ow, c->Dim(images, 3)}));
      return ::tensorflow::OkStatus();
    })
    .Doc(R"doc(
Affine crops with OpenCV's warpAffine rule (INTER_LINEAR | WARP_INVERSE_MAP, BORDER_CONSTANT 0),
computed in floating point: the crops OpenPose feeds its hand and face networks (hand/face spec
section 4.3).

images: [N, H, W, C] uint8; image_index: [B] int32, the image of each crop.
transforms: [B, 2, 3] float64: crop pixel (j, i) samples the image at (a j + b i + c, d j + e i + f),
  pixel centres at integer coordinates; taps outside the image read 0.
size: [2] int32 (H, W) of the crops.
crops: [B, H, W, C] float32, bilinear samples rounded to the nearest integer (0..255).
)doc");

}  // namespace tfpose_tf

namespace tfpose_tf {

REGISTER_OP("TfposeSizing")
    .Input("image_size: int64")
    .Input("scale_gap: double")
    .Input("net_resolution_dynamic: double")
    .Attr("net_resolution: list(int)")
    .Attr("scale_number: int >= 1")
    .Output("net_input_sizes: int32")
    .Output("scale_ratios: double")
    .Output("output_scaling: float")
    .SetShapeFn([](InferenceContext* c) {
      ShapeHandle size;
      TF_RETURN_IF_ERROR(c->WithRank(c->input(0), 1, &size));
      int64_t scales = 0;
      TF_RETURN_IF_ERROR(c->GetAttr("scale_number", &scales));
      c->set_output(0, c->MakeShape({scales, 2}));
      c->set_output(1, c->MakeShape({scales}));
      c->set_output(2, c->MakeShape({2}));
      return ::tensorflow::OkStatus();
    })
    .Doc(R"doc(
OpenPose's input sizing (spec sections 2.1 and 3) for one image size, by the core's compute_sizing
(the rules tfpose.sizing applies in Python).

image_size: [2] int64 (H, W) of the image. scale_gap: OpenPose's --scale_gap (double scalar).
net_resolution_dynamic: OpenPose's --net_resolution_dynamic (double scalar).
net_resolution: [W, H], a side <= 0 computed from the aspect ratio. scale_number: scales (>= 1).
net_input_sizes: [S, 2] int32 (H_n, W_n) of each scale, scale 0 first.
scale_ratios: [S] double, scaleInputToNet of each scale.
output_scaling: [2] float (scaleNetToOutput, nmsOffset) of scale 0.
InvalidArgument, in the words of tfpose.sizing, for an empty image or one too small or too thin for
the settings.
)doc");

REGISTER_OP("TfposeResizeFixedAspectRatio")
    .Input("images: uint8")
    .Input("scale: double")
    .Input("size: int64")
    .Output("canvas: float")
    .SetShapeFn([](InferenceContext* c) {
      ShapeHandle images, scale, size;
      TF_RETURN_IF_ERROR(c->WithRank(c->input(0), 4, &images));
      TF_RETURN_IF_ERROR(c->WithRank(c->input(1), 0, &scale));
      TF_RETURN_IF_ERROR(c->WithRank(c->input(2), 1, &size));
      DimensionHandle oh = c->UnknownDim(), ow = c->UnknownDim();
      const ::tensorflow::Tensor* t = c->input_tensor(2);
      // Only valid constant sizes become static dims; the kernel refuses the others in its own words.
      if (t != nullptr && t->NumElements() == 2) {
        const int64_t h = t->flat<int64_t>()(0), w = t->flat<int64_t>()(1);
        if (h >= 1 && w >= 1 && h <= tfpose::kMaxNetSide && w <= tfpose::kMaxNetSide) {
          oh = c->MakeDim(h);
          ow = c->MakeDim(w);
        }
      }
      c->set_output(0, c->MakeShape({c->Dim(images, 0), oh, ow, c->Dim(images, 3)}));
      return ::tensorflow::OkStatus();
    })
    .Doc(R"doc(
OpenPose's placement of the image on the network canvas (resizeFixedAspectRatio, spec section 2.2):
the image scaled by `scale` at the top-left, black elsewhere; bicubic when scale > 1, else bilinear,
computed in floating point (OpenCV 5's warpAffine rule; see include/tfpose/placement.hpp).

images: [N, H, W, C] uint8. scale: double scalar (scaleInputToNet). size: [2] int64 (H_n, W_n),
  each in [1, 65536].
canvas: [N, H_n, W_n, C] float32 holding integers 0..255. Time and memory follow the canvas.
)doc");

}  // namespace tfpose_tf
