// The PAF line score of one candidate pair (spec 7.1), shared by the CPU connector and the CUDA pair
// score kernel. Float32 arithmetic in OpenPose's order of operations, so both devices round alike.
#pragma once

#include <cmath>
#include <cstdint>

#include "tfpose/detail/hd.hpp"

namespace tfpose {
namespace detail {

// Thresholds the line score needs (already resolved from the model defaults).
struct PafScoreParams {
  float inter_threshold;            // a sample passes iff its dot product is > this
  float inter_min_above_threshold;  // the pair passes iff passing/n > this
  float close_score;                // nms_threshold + 1e-6 (close-keypoint fallback, spec 7.1.5)
  float close_distance;             // sqrt(W * H) / 150
  float fail_score;                 // 0 (OpenPose CPU) or -1 (OpenPose CUDA)
};

// OpenPose's pir(v) = int(v + 0.5) clamped into [0, n - 1]. Comparing in float before converting
// gives the same index for every finite v and avoids the undefined int conversion of huge values.
TFPOSE_HD int clamped_pir(float v, int n) {
  const float f = v + 0.5f;
  if (!(f >= 1.f)) return 0;
  if (f >= static_cast<float>(n)) return n - 1;
  return static_cast<int>(f);
}

// Number of PAF samples: clamp(pir(sqrt(5 * max(|dx|, |dy|))), 5, 25).
TFPOSE_HD int paf_num_samples(float dx, float dy) {
  const float m = fmaxf(fabsf(dx), fabsf(dy));
  const float f = sqrtf(5.f * m) + 0.5f;
  if (!(f < 25.f)) return 25;
  const int r = static_cast<int>(f);
  return r < 5 ? 5 : r;
}

TFPOSE_HD float close_distance(int64_t w, int64_t h) {
  return sqrtf(static_cast<float>(w * h)) / 150.f;
}

// OpenPose adds 1e-6 in double to the float NMS threshold, then stores a float.
TFPOSE_HD float close_score(float nms_threshold) {
  return static_cast<float>(static_cast<double>(nms_threshold) + 1e-6);
}

// Smallest passing-sample count c in [0, n] with float(c) / float(n) > min_above (the pair's count
// rule), n + 1 if none. float(c) / float(n) never decreases with c, so fewer than this many passing
// samples can never pass the rule.
TFPOSE_HD int paf_min_passing(int n, float min_above) {
  for (int c = 0; c <= n; ++c)
    if (static_cast<float>(c) / static_cast<float>(n) > min_above) return c;
  return n + 1;
}

// Score of the line from a = (ax, ay) to b = (bx, by) (peak coordinates, NMS offset included) over a
// W x H field. sample(px, py, &vx, &vy) returns the PAF's x and y components at integer pixel (px, py).
// A NaN PAF sample fails the per-sample test (every comparison with NaN is false). Returns 0 for
// coincident points, the mean of the passing samples if enough pass, else the close-keypoint
// fallback or params.fail_score.
// kEarlyExit: stop sampling once the samples left cannot lift the count to paf_min_passing (the
// result is then the fallback whatever they hold, so it is the same float); for callers whose
// samples are expensive (the fast path's per-pixel bicubic evaluation).
// min_passing: optional table of paf_min_passing(n, inter_min_above_threshold) for n in [0, 25],
// so that a caller scoring many pairs need not redo its divisions per pair (kEarlyExit only).
template <bool kEarlyExit = false, typename Sampler>
TFPOSE_HD float paf_line_score(float ax, float ay, float bx, float by, int w, int h, const PafScoreParams& params,
                               const Sampler& sample, const int* min_passing = nullptr) {
  const float dx = bx - ax;
  const float dy = by - ay;
  const int n = paf_num_samples(dx, dy);
  const float norm = sqrtf(dx * dx + dy * dy);
  if (!(static_cast<double>(norm) > 1e-6)) return 0.f;
  const float ux = dx / norm;
  const float uy = dy / norm;
  const float step_x = dx / static_cast<float>(n);
  const float step_y = dy / static_cast<float>(n);
  float sum = 0.f;
  unsigned count = 0;
  const int need = !kEarlyExit              ? 0
                   : min_passing != nullptr ? min_passing[n]
                                            : paf_min_passing(n, params.inter_min_above_threshold);
  for (int m = 0; m < n; ++m) {
    if (kEarlyExit && static_cast<int>(count) + (n - m) < need) break;
    const int px = clamped_pir(ax + static_cast<float>(m) * step_x, w);
    const int py = clamped_pir(ay + static_cast<float>(m) * step_y, h);
    float vx, vy;
    sample(px, py, &vx, &vy);
    // Two roundings, no fused multiply-add: the CPU build that produced the golden data had none.
#if defined(__CUDA_ARCH__)
    const float e = __fadd_rn(__fmul_rn(ux, vx), __fmul_rn(uy, vy));
#else
    const float e = ux * vx + uy * vy;
#endif
    if (e > params.inter_threshold) {
      sum += e;
      ++count;
    }
  }
  if (static_cast<float>(count) / static_cast<float>(n) > params.inter_min_above_threshold)
    return sum / static_cast<float>(count);
  if (norm < params.close_distance) return params.close_score;
  return params.fail_score;
}

// Sampler over strided float planes: x component at px[py * row + px * col], y likewise (NHWC:
// row = W * C, col = C, pointers offset to the two PAF channels).
struct StridedPafSampler {
  const float* paf_x;
  const float* paf_y;
  int64_t row, col;
  TFPOSE_HD void operator()(int px, int py, float* vx, float* vy) const {
    const int64_t i = static_cast<int64_t>(py) * row + static_cast<int64_t>(px) * col;
    *vx = paf_x[i];
    *vy = paf_y[i];
  }
};

}  // namespace detail
}  // namespace tfpose
