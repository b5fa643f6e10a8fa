// Device version of tfpose::paf_score_table, the pair-score kernel of OpenPose's CUDA connector (spec
// 7.3 step 1): one thread per (image, limb, i, j) evaluates detail::paf_line_score, the function the
// CPU connector scores with (samples and dot products in the same float order; no FMA contraction,
// see CMakeLists.txt). The assembly stays on the host, as in OpenPose.
#include <cuda_runtime.h>

#include "tfpose/cuda_launch.hpp"

namespace tfpose {
namespace cuda {
namespace {

constexpr int kThreads = 128;

struct LimbTable {
  PafLimb limb[kMaxPafLimbs];
};

__global__ void paf_score_kernel(const float* __restrict__ maps, int64_t n, int64_t h, int64_t w, int64_t c,
                                 const float* __restrict__ peaks, const int32_t* __restrict__ counts, int64_t p,
                                 int64_t k, LimbTable limbs, int64_t num_limbs, detail::PafScoreParams params,
                                 float* __restrict__ out) {
  const int64_t total = n * num_limbs * k * k;
  for (int64_t t = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; t < total;
       t += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t j = t % k;
    const int64_t i = (t / k) % k;
    const int64_t unit = t / (k * k);
    const int64_t img = unit / num_limbs;
    const PafLimb b = limbs.limb[unit % num_limbs];
    // Counts live on the device and cannot be validated before the launch: clamp, never read past K.
    int64_t na = counts[img * p + b.part_a], nb = counts[img * p + b.part_b];
    na = na < 0 ? 0 : (na > k ? k : na);
    nb = nb < 0 ? 0 : (nb > k ? k : nb);
    if (i >= na || j >= nb) {
      out[t] = -1.f;
      continue;
    }
    const float* image = maps + img * h * w * c;
    const float* pa = peaks + ((img * p + b.part_a) * k + i) * 3;
    const float* pb = peaks + ((img * p + b.part_b) * k + j) * 3;
    const detail::StridedPafSampler sampler{image + b.channel_x, image + b.channel_y, w * c, c};
    out[t] =
        detail::paf_line_score(pa[0], pa[1], pb[0], pb[1], static_cast<int>(w), static_cast<int>(h), params, sampler);
  }
}

}  // namespace

int paf_scores(const float* maps, int64_t n, int64_t h, int64_t w, int64_t c, const float* peaks, const int32_t* counts,
               int64_t p, int64_t k, const std::vector<PafLimb>& limbs, const detail::PafScoreParams& params,
               float* out, Stream stream) {
  if (limbs.size() > static_cast<size_t>(kMaxPafLimbs)) return static_cast<int>(cudaErrorInvalidValue);
  const int64_t num_limbs = static_cast<int64_t>(limbs.size());
  const int64_t total = n * num_limbs * k * k;
  if (total <= 0) return 0;
  LimbTable table{};
  for (int64_t l = 0; l < num_limbs; ++l) table.limb[l] = limbs[static_cast<size_t>(l)];
  const int64_t blocks = (total + kThreads - 1) / kThreads;
  const unsigned grid = static_cast<unsigned>(blocks < (int64_t{1} << 20) ? blocks : (int64_t{1} << 20));
  paf_score_kernel<<<grid, kThreads, 0, static_cast<cudaStream_t>(stream)>>>(maps, n, h, w, c, peaks, counts, p, k,
                                                                             table, num_limbs, params, out);
  return static_cast<int>(cudaGetLastError());
}

}  // namespace cuda
}  // namespace tfpose
