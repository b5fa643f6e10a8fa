// Device version of tfpose::resize_and_merge: one thread per output value (image, y, x, channel), the
// channel fastest so that neighbouring threads read and write neighbouring floats. Each thread folds
// the scales in the CPU core's order (first assigns, later ones add, the last also scales or divides)
// and rebuilds its taps with the same detail/interp.hpp functions the CPU plans use. The CPU computes
// a horizontal pass per source row and then a vertical pass; here the four horizontal values of the
// thread's column are recomputed per thread, with the same operands in the same order, so every value
// is bit-identical to the CPU core's (the target is compiled with --fmad=false, see CMakeLists.txt).
#include <cuda_runtime.h>

#include <algorithm>

#include "tfpose/cuda_launch.hpp"
#include "tfpose/detail/interp.hpp"

namespace tfpose {
namespace cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kScalesPerLaunch = 8;  // kernel parameters are passed by value (< 4 KiB)

struct DevScale {
  const float* data;  // [N, h, w, C]
  int64_t h, w;
  detail::ScaleSampling sampling;
};

// Scales [first, first + count) of num_scales. Longer lists ("cpu" takes any number) are folded by
// consecutive launches that carry the running sum through `out`, which is the same float sequence.
struct ScaleBatch {
  DevScale s[kScalesPerLaunch];
  int count;
  int first;
  int num_scales;
  bool cuda;  // the build, for detail::merge_step_of
  float k;    // detail::merge_constant
};

// The scale's resized value at (y, x, ch): detail::bicubic_pixel, the per-pixel form of the CPU
// core's horizontal-then-vertical passes with the same operands in the same order.
__device__ __forceinline__ float sample(const DevScale& sc, int64_t img, int64_t y, int64_t x, int64_t ch, int64_t c) {
  const float* image = sc.data + img * sc.h * sc.w * c;
  if (sc.sampling.copy) return image[(y * sc.w + x) * c + ch];
  return detail::bicubic_pixel(image + ch, sc.w * c, c, detail::axis_taps(sc.sampling.x, x, sc.w),
                               detail::axis_taps(sc.sampling.y, y, sc.h));
}

__global__ void resize_and_merge_kernel(ScaleBatch batch, int64_t total, int64_t H, int64_t W, int64_t c,
                                        float* __restrict__ out) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t ch = i % c;
    const int64_t x = (i / c) % W;
    const int64_t y = (i / (c * W)) % H;
    const int64_t img = i / (c * W * H);
    float acc = batch.first == 0 ? 0.f : out[i];
    for (int j = 0; j < batch.count; ++j) {
      const int64_t s = batch.first + j;
      acc = detail::merge_step(detail::merge_step_of(s, batch.num_scales, batch.cuda), acc,
                               sample(batch.s[j], img, y, x, ch, c), batch.k);
    }
    out[i] = acc;
  }
}

}  // namespace

int resize_and_merge(const std::vector<ScaleMaps>& scales, int64_t n, int64_t c, int64_t H, int64_t W,
                     OpenposeBuild build, float* out, Stream stream) {
  const int64_t total = n * H * W * c;
  if (total <= 0 || scales.empty()) return 0;
  const bool cuda = build == OpenposeBuild::kCuda;
  const int num_scales = static_cast<int>(scales.size());
  const float k = detail::merge_constant(num_scales, cuda);
  const int64_t blocks64 = std::min<int64_t>((total + kThreads - 1) / kThreads, int64_t{1} << 20);
  const unsigned blocks = static_cast<unsigned>(blocks64);
  for (int first = 0; first < num_scales; first += kScalesPerLaunch) {
    ScaleBatch b{};
    b.count = std::min(kScalesPerLaunch, num_scales - first);
    b.first = first;
    b.num_scales = num_scales;
    b.cuda = cuda;
    b.k = k;
    for (int j = 0; j < b.count; ++j) {
      const ScaleMaps& m = scales[static_cast<size_t>(first + j)];
      b.s[j].data = m.data;
      b.s[j].h = m.h;
      b.s[j].w = m.w;
      b.s[j].sampling =
          detail::scale_sampling(m.h, m.w, m.ratio, scales[0].h, scales[0].w, scales[0].ratio, num_scales, H, W, cuda);
    }
    resize_and_merge_kernel<<<blocks, kThreads, 0, static_cast<cudaStream_t>(stream)>>>(b, total, H, W, c, out);
    const cudaError_t err = cudaGetLastError();
    if (err != cudaSuccess) return static_cast<int>(err);
  }
  return 0;
}

}  // namespace cuda
}  // namespace tfpose
