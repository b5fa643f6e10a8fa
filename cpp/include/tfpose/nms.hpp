// OpenPose's non-maximum suppression (spec §5): peaks per part in raster order, refined by the 7x7
// positive-weight centroid, shifted by an offset.
#pragma once

#include <cstdint>

#include "tfpose/common.hpp"

namespace tfpose {

struct NmsParams {
  float threshold = 0.05f;  // in [0, 1]
  int64_t max_peaks = 127;  // K >= 1
  float offset_x = 0.f, offset_y = 0.f;
  OpenposeBuild build = OpenposeBuild::kCpu;
};

// Peaks per part: OpenPose keeps 127. The output is [N, P, K, 3] float32, so an absurd K would
// allocate gigabytes before finding a single peak; 4096 is far beyond any real heatmap's peaks.
// Exported as tfpose._core.MAX_PEAKS_LIMIT, which python/tfpose/_args.py checks against.
constexpr int64_t kMaxPeaksLimit = 4096;

// heatmaps: [N, H, W, P] float32. peaks: [N, P, K, 3] (x, y, score), rows past the count zeroed.
// counts: [N, P] = min(peaks found, K); the first K in raster order (y outer, x inner) are kept.
// Peak test and refinement: detail/peak.hpp. NaN never forms a peak (every comparison with NaN is
// false), and a NaN neighbour suppresses one. +Inf is above any threshold, so an isolated +Inf is a
// peak with score +Inf; where the centroid would be non-finite (+Inf in the 7x7 window, or float32
// overflow of the weight sums) the peak is reported at its integer position (+ offset), so peak
// coordinates are always finite. -Inf is never a peak and never blocks one.
void nms(const float* heatmaps, int64_t n, int64_t h, int64_t w, int64_t p, const NmsParams& params, float* peaks,
         int32_t* counts, const ParallelFor& pf = serial_for);

// Throws InvalidArgument for threshold outside [0, 1] (or NaN), K outside [1, kMaxPeaksLimit],
// non-finite offsets or H, W, P < 1.
void check_nms_args(int64_t n, int64_t h, int64_t w, int64_t p, const NmsParams& params);

}  // namespace tfpose
