// Host launchers of tfpose's CUDA kernels (cpp/cuda/*.cu). All pointers are device pointers; each
// launcher only enqueues work on `stream` and returns the cudaError_t of the launch as an int
// (0 = success), so this header needs no CUDA headers and TF/pybind callers stay plain C++.
// The math is the CPU core's (cpp/include/tfpose/detail/*), compiled for the device.
// Launchers do not validate: callers run the core's check_*_args first (the TF kernels and the
// pybind11 bindings do), exactly as they would before calling the CPU core.
#pragma once

#include <cstdint>
#include <vector>

#include "tfpose/nms.hpp"
#include "tfpose/paf_scores.hpp"
#include "tfpose/resize_and_merge.hpp"

namespace tfpose {
namespace cuda {

using Stream = void*;  // a cudaStream_t

// Message of a cudaError_t returned by a launcher.
const char* error_string(int code);

// Runtime queries for callers without CUDA headers (cpp/cuda/runtime.cu). device_count sets 0 when
// no driver or GPU is present (and returns that error). pointer_device sets -1 for memory that is not
// device or managed memory (host memory, or a pointer CUDA does not know).
int device_count(int* count);
int pointer_device(const void* ptr, int* device);
int get_device(int* device);
int set_device(int device);

// maximum.hpp on the device. heatmaps [N, H, W, C] -> out [N, C, 3]; same tie and NaN rules.
int maximum(const float* heatmaps, int64_t n, int64_t h, int64_t w, int64_t c, float* out, Stream stream);

// resize_and_merge.hpp on the device: scales[i].data are device pointers [N, h_i, w_i, C] (the vector
// itself lives on the host), out [N, H, W, C]. Bit-identical to the CPU core for both builds.
int resize_and_merge(const std::vector<ScaleMaps>& scales, int64_t n, int64_t c, int64_t H, int64_t W,
                     OpenposeBuild build, float* out, Stream stream);

// nms.hpp on the device: heatmaps [N, H, W, P] -> peaks [N, P, K, 3] (rows past the count zeroed),
// counts [N, P] int32; the same peaks in the same (raster) order as the CPU core.
int nms(const float* heatmaps, int64_t n, int64_t h, int64_t w, int64_t p, const NmsParams& params, float* peaks,
        int32_t* counts, Stream stream);

// paf_scores.hpp (paf_score_table) on the device: maps [N, H, W, C], peaks [N, P, K, 3], counts [N, P]
// -> out [N, L, K, K]; at most kMaxPafLimbs limbs (the table is a kernel parameter), more returns
// cudaErrorInvalidValue. Callers run check_paf_score_args first.
constexpr int kMaxPafLimbs = 64;
int paf_scores(const float* maps, int64_t n, int64_t h, int64_t w, int64_t c, const float* peaks, const int32_t* counts,
               int64_t p, int64_t k, const std::vector<PafLimb>& limbs, const detail::PafScoreParams& params,
               float* out, Stream stream);

}  // namespace cuda
}  // namespace tfpose
