// OpenPose's resize-and-merge (docs/algorithms/body.md §4): every scale's network output brought to the target size and
// averaged over scales, in either OpenPose build's arithmetic.
#pragma once

#include <cstdint>
#include <vector>

#include "tfpose/common.hpp"
#include "tfpose/detail/interp.hpp"

namespace tfpose {

// One scale's network output: [N, h, w, C] float32 NHWC (N and C shared by all scales).
struct ScaleMaps {
  const float* data;
  int64_t h, w;
  double ratio;  // scaleInputToNet of this scale; only ratio / ratio of scale 0 is used ("cuda")
};

// out: [N, H, W, C]. "cpu": OpenCV INTER_CUBIC (a = -0.75, half-pixel mapping, replicated border),
// each scale stretched over the whole target, summed, multiplied by 1/S; a scale already at the
// target size is copied (as cv::resize does). Matches OpenCV built without IPP (Debian's, which the
// golden data used); IPP's cubic weights differ by < 1e-6 for non-8x ratios.
// "cuda": Catmull-Rom (a = -0.5) with OpenPose's tap clamping and extrapolation (docs/algorithms/body.md §4.2); one
// scale uses the factor ceil(H / h) on both axes (or is copied when H, W == h, w); several scales are aligned by their
// ratios (ratio_i / ratio_0 and the factors in float32, as OpenPose computes them). Both: separable (horizontal pass,
// then vertical), float32 arithmetic, denormals kept (IEEE) whatever the caller's FTZ/DAZ mode. NaN/Inf inputs are not
// special-cased: they reach, as NaN or +-Inf, every output pixel whose 4x4 taps read them (also with a zero weight, 0 *
// Inf = NaN), and no other. Every output pixel is computed independently of the ParallelFor's partition
// (deterministic).
void resize_and_merge(const std::vector<ScaleMaps>& scales, int64_t n, int64_t c, int64_t H, int64_t W,
                      OpenposeBuild build, float* out, const ParallelFor& pf = serial_for);

// Most scales the "cuda" build merges: OpenPose's merging kernel takes at most 8 source pointers.
// Exported as tfpose._core.MAX_CUDA_SCALES, which the Python option checks read.
constexpr int64_t kMaxCudaScales = 8;

// OpenPose's target size of the merged maps: 8x the size of scale 0 (its networks' stride).
constexpr int64_t kNetStride = 8;

// The one rule for a target size left open: (H, W) = (0, 0) becomes kNetStride x scale 0's (h, w);
// any other value is kept (and checked by check_resize_and_merge_args).
inline void resolve_target_size(int64_t h0, int64_t w0, int64_t* H, int64_t* W) {
  if (*H == 0 && *W == 0) {
    *H = kNetStride * h0;
    *W = kNetStride * w0;
  }
}
inline void resolve_target_size(const std::vector<ScaleMaps>& scales, int64_t* H, int64_t* W) {
  if (!scales.empty()) resolve_target_size(scales[0].h, scales[0].w, H, W);
}

// Throws InvalidArgument (naming expected and actual) on: no scale, N < 0, C < 1, h or w < 1,
// non-finite or non-positive ratios, target < 1, sides above 2^31 - 1, more than 8 scales for
// "cuda", or a "cuda" single scale whose target is neither the same size nor 8x the input
// (H / h == W / w == 8 in integer division), as OpenPose's CUDA build requires.
void check_resize_and_merge_args(const std::vector<ScaleMaps>& scales, int64_t n, int64_t c, int64_t H, int64_t W,
                                 OpenposeBuild build);

namespace detail {

// How one scale reaches the target: either a plain copy (same size, as cv::resize and OpenPose's
// CUDA build both do it) or per-column and per-row taps. Shared by the dense resize and the fast
// path's per-pixel evaluation, so both read the same taps. Arguments must have passed
// check_resize_and_merge_args.
struct ResizePlan {
  const float* data = nullptr;
  int64_t h = 0, w = 0;
  bool copy = false;
  std::vector<CubicTaps> xtaps;  // [W], empty for a copy
  std::vector<CubicTaps> ytaps;  // [H], empty for a copy
};

std::vector<ResizePlan> make_resize_plans(const std::vector<ScaleMaps>& scales, int64_t H, int64_t W,
                                          OpenposeBuild build);

}  // namespace detail

}  // namespace tfpose
