// Global maximum of each channel (OpenPose's maximumCpu/maximumGpu, docs/algorithms/body.md §6).
#pragma once

#include <cstdint>

#include "tfpose/common.hpp"

namespace tfpose {

// heatmaps: [N, H, W, C] float32 (NHWC). out: [N, C, 3] = (x, y, value) of each channel's maximum,
// x/y integer pixel indices; ties go to the first in raster order (y outer, x inner).
// NaN values are skipped; a channel that is all NaN gives (0, 0, NaN). H, W >= 1.
void maximum(const float* heatmaps, int64_t n, int64_t h, int64_t w, int64_t c, float* out,
             const ParallelFor& pf = serial_for);

// Throws InvalidArgument unless the sizes describe a non-empty map (H, W, C >= 1; N >= 0).
void check_maximum_args(int64_t n, int64_t h, int64_t w, int64_t c);

}  // namespace tfpose
