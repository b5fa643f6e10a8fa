// Device version of tfpose::nms. One block per (image, part) walks the plane in raster order, a tile
// of kThreads pixels at a time: every thread runs the peak test (detail/peak.hpp, the CPU core's
// function) on its pixel, a block-wide exclusive scan of the peak flags gives each peak its rank in
// raster order, and peaks whose rank is below K refine (same function again) and write their row.
// The walk stops once K peaks are stored, and the rows past the count are zeroed, so peaks, order and
// counts equal the CPU core's (first K in raster order, y outer, x inner).
#include <cuda_runtime.h>

#include "tfpose/cuda_launch.hpp"
#include "tfpose/detail/peak.hpp"

namespace tfpose {
namespace cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;

struct NmsArgs {
  int64_t h, w, p, k;
  float threshold, offset_x, offset_y;
  bool cuda_rule;
  int refinement;  // NmsParams::refinement
};

__global__ void __launch_bounds__(kThreads)
    nms_kernel(const float* __restrict__ heat, NmsArgs a, float* __restrict__ peaks, int32_t* __restrict__ counts) {
  const int64_t img = blockIdx.x / a.p;
  const int64_t part = blockIdx.x % a.p;
  const int64_t sx = a.p, sy = a.w * a.p, plane_size = a.h * a.w;
  const float* plane = heat + img * a.h * sy + part;
  float* out = peaks + (img * a.p + part) * a.k * 3;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;

  __shared__ int warp_offset[kWarps];
  __shared__ int64_t stored;  // peaks stored so far (<= K)
  if (threadIdx.x == 0) stored = 0;
  __syncthreads();

  for (int64_t base = 0; base < plane_size; base += kThreads) {
    const int64_t pix = base + threadIdx.x;
    const int64_t y = pix / a.w, x = pix % a.w;
    const bool peak = pix < plane_size && detail::is_peak(a.cuda_rule, plane, x, y, a.w, a.h, sx, sy, a.threshold);
    const unsigned ballot = __ballot_sync(0xffffffffu, peak);
    if (lane == 0) warp_offset[warp] = __popc(ballot);
    __syncthreads();
    if (threadIdx.x == 0) {
      int run = 0;
      for (int q = 0; q < kWarps; ++q) {
        const int cnt = warp_offset[q];
        warp_offset[q] = run;
        run += cnt;
      }
    }
    __syncthreads();
    const int64_t before = stored;
    if (peak) {
      const int64_t rank = before + warp_offset[warp] + __popc(ballot & ((1u << lane) - 1u));
      if (rank < a.k)
        detail::refine(a.refinement, plane, x, y, a.w, a.h, sx, sy, a.offset_x, a.offset_y, out + rank * 3);
    }
    __syncthreads();  // every thread has read `stored` and warp_offset before they change
    if (threadIdx.x == kThreads - 1) {
      // The last lane's exclusive offset plus the last warp's own count is the tile's total.
      const int64_t total = warp_offset[kWarps - 1] + __popc(ballot);
      stored = before + total < a.k ? before + total : a.k;
    }
    __syncthreads();
    if (stored >= a.k) break;  // uniform: every thread reads the same shared value
  }
  const int64_t count = stored;
  for (int64_t i = count * 3 + threadIdx.x; i < a.k * 3; i += kThreads) out[i] = 0.f;
  if (threadIdx.x == 0) counts[img * a.p + part] = static_cast<int32_t>(count);
}

}  // namespace

int nms(const float* heatmaps, int64_t n, int64_t h, int64_t w, int64_t p, const NmsParams& params, float* peaks,
        int32_t* counts, Stream stream) {
  if (n <= 0 || p <= 0) return 0;
  NmsArgs a;
  a.h = h;
  a.w = w;
  a.p = p;
  a.k = params.max_peaks;
  a.threshold = params.threshold;
  a.offset_x = params.offset_x;
  a.offset_y = params.offset_y;
  a.cuda_rule = params.build == OpenposeBuild::kCuda;
  a.refinement = static_cast<int>(params.refinement);
  nms_kernel<<<static_cast<unsigned>(n * p), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(heatmaps, a, peaks,
                                                                                               counts);
  return static_cast<int>(cudaGetLastError());
}

}  // namespace cuda
}  // namespace tfpose
