// OpenPose's resize-and-merge (spec §4): every scale's network output brought to the target size and
// averaged over scales, in either OpenPose build's arithmetic.
#pragma once

#include <cstdint>
#include <vector>

#include "tfpose/common.hpp"

namespace tfpose {

// One scale's network output: [N, h, w, C] float32 NHWC (N and C shared by all scales).
struct ScaleMaps {
  const float* data;
  int64_t h, w;
  double ratio;  // scaleInputToNet of this scale; only ratio / ratio of scale 0 is used ("cuda")
};

// out: [N, H, W, C]. "cpu": OpenCV INTER_CUBIC (a = -0.75, half-pixel mapping, replicated border),
// each scale stretched over the whole target, summed, divided by the number of scales.
// "cuda": Catmull-Rom (a = -0.5) with OpenPose's tap clamping, scales aligned by their ratios.
void resize_and_merge(const std::vector<ScaleMaps>& scales, int64_t n, int64_t c, int64_t H, int64_t W,
                      OpenposeBuild build, float* out, const ParallelFor& pf = serial_for);

// Throws InvalidArgument (naming expected and actual) on: no scale, sizes < 1, non-finite or
// non-positive ratios, target < 1, more than 8 scales for "cuda", or a "cuda" single scale whose
// target is not 8x (or 1x) the input in integer division, as OpenPose's CUDA build requires.
void check_resize_and_merge_args(const std::vector<ScaleMaps>& scales, int64_t n, int64_t c, int64_t H,
                                 int64_t W, OpenposeBuild build);

}  // namespace tfpose
