// Host launchers of tfpose's CUDA kernels (cpp/cuda/*.cu). All pointers are device pointers; each
// launcher only enqueues work on `stream` and returns the cudaError_t of the launch as an int
// (0 = success), so this header needs no CUDA headers and TF/pybind callers stay plain C++.
// The math is the CPU core's (cpp/include/tfpose/detail/*), compiled for the device.
#pragma once

#include <cstdint>

namespace tfpose {
namespace cuda {

using Stream = void*;  // a cudaStream_t

// Message of a cudaError_t returned by a launcher.
const char* error_string(int code);

// maximum.hpp on the device. heatmaps [N, H, W, C] -> out [N, C, 3]; same tie and NaN rules.
int maximum(const float* heatmaps, int64_t n, int64_t h, int64_t w, int64_t c, float* out, Stream stream);

}  // namespace cuda
}  // namespace tfpose
