// OpenPose's non-maximum suppression (docs/algorithms/body.md §5): peaks per part in raster order, refined by the 7x7
// positive-weight centroid, shifted by an offset.
#pragma once

#include <cstdint>
#include <string>

#include "tfpose/common.hpp"
#include "tfpose/pose_defaults.hpp"

namespace tfpose {

// Sub-pixel position of a peak. kCentroid: OpenPose's 7x7 positive-weight centroid (docs/algorithms/body.md §5.3, the
// default in both builds). kQuadratic: tfpose's opt-in refinement, the vertex of a parabola through the
// log-values of the peak and its two neighbours per axis (detail::log_parabola_step; DARK's Taylor
// step, Zhang et al. 2020), unbiased for Gaussian peaks where the clipped centroid pulls toward the pixel.
enum class PeakRefinement { kCentroid = 0, kQuadratic = 1 };

// "centroid" or "quadratic"; anything else throws InvalidArgument naming both.
PeakRefinement parse_peak_refinement(const std::string& name);
const char* peak_refinement_name(PeakRefinement r);

struct NmsParams {
  float threshold = kPoseDefaults.nms_threshold;  // in [0, 1]
  int64_t max_peaks = kPoseDefaults.max_peaks;    // K >= 1
  float offset_x = 0.f, offset_y = 0.f;
  OpenposeBuild build = OpenposeBuild::kCpu;
  PeakRefinement refinement = PeakRefinement::kCentroid;
};

// Peaks per part: OpenPose keeps 127. The output is [N, P, K, 3] float32, so an absurd K would
// allocate gigabytes before finding a single peak; 4096 is far beyond any real heatmap's peaks.
// Exported as tfpose._core.MAX_PEAKS_LIMIT, which python/tfpose/_args.py checks against.
constexpr int64_t kMaxPeaksLimit = 4096;

// heatmaps: [N, H, W, P] float32. peaks: [N, P, K, 3] (x, y, score), rows past the count zeroed.
// counts: [N, P] = min(peaks found, K); the first K in raster order (y outer, x inner) are kept.
// Peak test and refinement: detail/peak.hpp. A NaN or +-Inf pixel is never a peak; a NaN or +Inf
// neighbour suppresses one (every comparison with NaN is false, none exceeds +Inf); -Inf never blocks
// one. Where the centroid would be non-finite (float32 overflow of huge finite values) the integer
// position is reported, so coordinates and scores of peaks are always finite.
void nms(const float* heatmaps, int64_t n, int64_t h, int64_t w, int64_t p, const NmsParams& params, float* peaks,
         int32_t* counts, const ParallelFor& pf = serial_for);

// The one NMS-parameter rule, which every entry point applies: the TF kernels to their attributes
// (tf/nms_kernel.hpp, tf/pipeline_kernel.cc), the bindings to Python's values (_core.nms_params,
// which tfpose/_args.py calls) and nms() itself. threshold in [0, 1] (NaN rejected; checked before
// the float conversion, so 1.0000001 is rejected, not rounded to 1), max_peaks in [1, kMaxPeaksLimit],
// finite offsets (after the float conversion), openpose_build "cpu"/"cuda", peak_refinement
// "centroid"/"quadratic". Throws InvalidArgument "<name>: expected ..., got ..." (no op prefix: the
// caller adds its own).
NmsParams make_nms_params(double threshold, int64_t max_peaks, double offset_x, double offset_y,
                          const std::string& openpose_build, const std::string& peak_refinement);
// The max_peaks part of the rule, for entry points that take K without the rest (the pipeline).
void check_max_peaks(int64_t max_peaks);

// Throws InvalidArgument ("nms: ..."): H, W, P < 1, or params outside the rule above.
void check_nms_args(int64_t n, int64_t h, int64_t w, int64_t p, const NmsParams& params);

}  // namespace tfpose
