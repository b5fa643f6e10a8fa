// Top-down decoding of single-person heatmaps: each channel's maximum (OpenPose's maximum, docs/algorithms/body.md §6)
// with an optional sub-pixel refinement and an optional affine map back to image pixels. Used for
// OpenPose's hands and face (docs/algorithms/hand-face.md §4.7-4.8, refinement "none") and for Simple Baselines-style
// models.
#pragma once

#include <cstdint>
#include <string>

#include "tfpose/common.hpp"

namespace tfpose {

// kNone: the integer argmax (OpenPose). kQuarter: a quarter pixel toward the higher neighbour, per
// axis (Xiao et al. 2018, Simple Baselines). kDark: distribution-aware refinement (Zhang et al. 2020,
// DARK): Gaussian-smoothed, log-transformed map, one Newton step from the argmax.
enum class Refinement { kNone = 0, kQuarter = 1, kDark = 2 };

// "none", "quarter" or "dark"; anything else throws InvalidArgument.
Refinement parse_refinement(const std::string& name);

struct TopDownParams {
  Refinement refinement = Refinement::kNone;
  int dark_kernel = 11;  // DARK's Gaussian: odd size k >= 3, sigma = 0.3 * ((k - 1) / 2 - 1) + 0.8
};

// Pixel convention: (x, y) = (column, row) with the centre of heatmap pixel (j, i) at (j, i); the
// refinement adds a sub-pixel offset in that convention. Then, if transforms is not null, per image n
// (x, y) <- (a x + b y + c, d x + e y + f) with transforms[n] = [a, b, c, d, e, f] (a 2x3 matrix,
// row-major), evaluated in double and stored as float32.
//
// heatmaps: [N, H, W, C] float32 NHWC; transforms: [N, 6] float64 or nullptr; out: [N, C, 3] float32
// (x, y, score), score = the channel's maximum value (unrefined). Ties go to the first maximum in raster
// order; NaN values are skipped (an all-NaN channel gives position (0, 0) and score NaN); a refinement
// that needs a neighbour outside the map, or meets a non-finite value, leaves that axis unrefined
// ("quarter") or the whole point unrefined ("dark", also when its Hessian is singular).
void topdown_decode(const float* heatmaps, int64_t n, int64_t h, int64_t w, int64_t c, const TopDownParams& params,
                    const double* transforms, float* out, const ParallelFor& pf = serial_for);

// Throws InvalidArgument unless the sizes describe a non-empty map and the parameters are valid.
void check_topdown_args(int64_t n, int64_t h, int64_t w, int64_t c, const TopDownParams& params);

}  // namespace tfpose
