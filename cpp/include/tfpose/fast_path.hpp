// The fast path of net_output_to_people: the same peaks and people as the dense chain
// resize-and-merge -> NMS -> connect, bit for bit, without ever building the [N, H, W, C] maps.
// Interpolated values are evaluated only where a peak may lie (tiles whose bicubic bound exceeds the
// NMS threshold, plus the 3-pixel margin the peak test and the 7x7 centroid read) and at the PAF
// samples the connector takes, with the dense resize's taps and order of operations.
// Implementation: core/fast_path/ (fast_path_internal.hpp describes the stages).
//
// Hidden state kept across calls (process-wide, never freed; none of it changes a result):
//   - geometry cache (core/fast_path/geometry.cc): ONE entry, the tile/block geometry of the last
//     (scales' sizes and taps, H, W) that fast_nms saw, shared by concurrent calls through a
//     shared_ptr and replaced when a call's taps differ. Size O(S * (H + W)) floats.
//   - plane pool (core/fast_path/exact_eval.cc): at most kPlanePoolKeep = 4 free H x W float planes
//     of exact values (each at most the largest H * W seen); a worker borrows one per call.
//   - per-thread scratch (thread_local, in every thread that ran a stage): in the calling thread the
//     tile flags [N, P, TY, TX] bytes, block flags [N, BY, BX] bytes and the planar copy of the part
//     channels [N, P, h, w] floats per interpolated scale; in workers the bound scratch (a few
//     [h or rows, tiles or blocks, P] float rows) and NmsScratch (per interpolated scale [h, W]
//     floats). Each grows to the largest call the thread ran and is reused, never shrunk.
#pragma once

#include <cstdint>
#include <vector>

#include "tfpose/common.hpp"
#include "tfpose/connector.hpp"
#include "tfpose/nms.hpp"
#include "tfpose/pose_model.hpp"
#include "tfpose/resize_and_merge.hpp"

namespace tfpose {

// Equals nms(resize_and_merge(scales, n, c, H, W, params.build)[..., :p], params) bit for bit (peaks
// [N, P, K, 3], counts [N, P], as nms writes them), reading channels [0, p) of the S scales
// [N, h_i, w_i, C]. params.build is the one build of both stages (resize arithmetic and peak rule).
// Validates like the two dense ops (InvalidArgument); 1 <= p <= c.
void fast_nms(const std::vector<ScaleMaps>& scales, int64_t n, int64_t c, int64_t H, int64_t W, int64_t p,
              const NmsParams& params, float* peaks, int32_t* counts, const ParallelFor& pf = serial_for);

// Equals connect(resize_and_merge(scales, ...), n, H, W, c, peaks, counts, ...) with a single scale
// factor, sampling the PAF channels per pixel. Validates peaks and counts like connect.
std::vector<People> fast_connect(const std::vector<ScaleMaps>& scales, int64_t n, int64_t c, int64_t H, int64_t W,
                                 OpenposeBuild build, const float* peaks, const int32_t* counts, int64_t k, float scale,
                                 const PoseModel& model, const ConnectThresholds& th,
                                 const ParallelFor& pf = serial_for);

}  // namespace tfpose
