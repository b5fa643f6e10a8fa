// Per-pixel NMS math (docs/algorithms/body.md §5) shared by the CPU core and the CUDA kernels: the peak test of both
// OpenPose builds, the 7x7 positive-weight centroid and tfpose's opt-in quadratic refinement.
// Everything works on one channel plane given as a pointer to its pixel (0, 0) plus strides, so NHWC
// maps are read in place: for [N, H, W, P], plane = map + n*H*W*P + p, sx = P (next pixel in a row),
// sy = W*P (next row).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "tfpose/detail/hd.hpp"

namespace tfpose {
namespace detail {

// IEEE float32 operations without contraction: nvcc fuses a*b+c into an FMA by default, which would
// make the GPU centroid differ from the CPU one (and from OpenPose's CPU build) in the last bits.
#if defined(__CUDA_ARCH__)
TFPOSE_HD float mul_rn(float a, float b) {
  return __fmul_rn(a, b);
}
TFPOSE_HD float add_rn(float a, float b) {
  return __fadd_rn(a, b);
}
TFPOSE_HD float div_rn(float a, float b) {
  return __fdiv_rn(a, b);
}
#else
TFPOSE_HD float mul_rn(float a, float b) {
  return a * b;
}
TFPOSE_HD float add_rn(float a, float b) {
  return a + b;
}
TFPOSE_HD float div_rn(float a, float b) {
  return a / b;
}
#endif

// False for NaN and +-Inf; written as a comparison so it needs no <cmath> on either side.
TFPOSE_HD bool finite_f(float v) {
  return v >= -3.402823466e+38f && v <= 3.402823466e+38f;
}

// v strictly greater than all 8 neighbours; the caller guarantees all 8 lie inside the map.
// Any NaN neighbour makes a comparison false, so it suppresses the peak.
TFPOSE_HD bool greater_than_all_8(const float* c, float v, int64_t sx, int64_t sy) {
  const float* up = c - sy;
  const float* dn = c + sy;
  return v > up[-sx] && v > up[0] && v > up[sx] && v > c[-sx] && v > c[sx] && v > dn[-sx] && v > dn[0] && v > dn[sx];
}

// CUDA build (nmsGpu, docs/algorithms/body.md §5.2): strict interior peaks only, border pixels never.
TFPOSE_HD bool is_peak_cuda(const float* plane, int64_t x, int64_t y, int64_t w, int64_t h, int64_t sx, int64_t sy,
                            float threshold) {
  if (x < 1 || y < 1 || x > w - 2 || y > h - 2) return false;
  const float* c = plane + y * sy + x * sx;
  const float v = *c;
  return v > threshold && finite_f(v) && greater_than_all_8(c, v, sx, sy);
}

// CPU build (nmsCpu, docs/algorithms/body.md §5.1). Strict test for 2 <= x <= W-3 and 2 <= y <= H-3; on the "ring"
// lines x in {1, W-2} or y in {1, H-2} (also where they cross the outer border) the test is >=
// against the neighbours, with a neighbour outside the map replaced by the threshold; every other
// pixel (the outer border off the ring lines) is never a peak.
TFPOSE_HD bool is_peak_cpu(const float* plane, int64_t x, int64_t y, int64_t w, int64_t h, int64_t sx, int64_t sy,
                           float threshold) {
  const float* c = plane + y * sy + x * sx;
  const float v = *c;
  if (!(v > threshold) || !finite_f(v)) return false;
  if (x >= 2 && y >= 2 && x <= w - 3 && y <= h - 3) return greater_than_all_8(c, v, sx, sy);
  if (!(x == 1 || x == w - 2 || y == 1 || y == h - 2)) return false;
  for (int64_t dy = -1; dy <= 1; ++dy) {
    const int64_t yy = y + dy;
    for (int64_t dx = -1; dx <= 1; ++dx) {
      const int64_t xx = x + dx;
      if ((dx == 0 && dy == 0)) continue;
      // Out-of-map neighbours stand for the threshold, and v > threshold already holds, so they
      // can never reject the pixel: skipping them is the same test.
      if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
      if (!(v >= plane[yy * sy + xx * sx])) return false;
    }
  }
  return true;
}

// Both rules: a NaN or +-Inf pixel is never a peak (tfpose's rule for non-finite maps, the same on
// every device and entry point; OpenPose would report +Inf peaks and then NaN keypoints).
TFPOSE_HD bool is_peak(bool cuda_rule, const float* plane, int64_t x, int64_t y, int64_t w, int64_t h, int64_t sx,
                       int64_t sy, float threshold) {
  return cuda_rule ? is_peak_cuda(plane, x, y, w, h, sx, sy, threshold)
                   : is_peak_cpu(plane, x, y, w, h, sx, sy, threshold);
}

// Writes (x̂ + offset_x, ŷ + offset_y, v) for the peak at integer (x, y): the centroid of the 7x7
// window clipped to the map, weighted by the values > 0, accumulated in float32 in OpenPose's order
// (rows outer, columns inner), and v the un-refined value at (x, y).
// A peak has v > threshold >= 0, so the weights never sum to 0. Where the centroid is not finite
// (an +Inf value in the window, or float32 overflow of the sums) OpenPose would report NaN/Inf; tfpose
// reports the integer position instead, so coordinates are always finite.
TFPOSE_HD void refine_peak(const float* plane, int64_t x, int64_t y, int64_t w, int64_t h, int64_t sx, int64_t sy,
                           float offset_x, float offset_y, float* out) {
  float x_acc = 0.f, y_acc = 0.f, s_acc = 0.f;
  const int64_t y0 = y - 3 < 0 ? 0 : y - 3, y1 = y + 3 > h - 1 ? h - 1 : y + 3;
  const int64_t x0 = x - 3 < 0 ? 0 : x - 3, x1 = x + 3 > w - 1 ? w - 1 : x + 3;
  for (int64_t yy = y0; yy <= y1; ++yy) {
    const float* row = plane + yy * sy;
    for (int64_t xx = x0; xx <= x1; ++xx) {
      const float s = row[xx * sx];
      if (s > 0.f) {
        x_acc = add_rn(x_acc, mul_rn(static_cast<float>(xx), s));
        y_acc = add_rn(y_acc, mul_rn(static_cast<float>(yy), s));
        s_acc = add_rn(s_acc, s);
      }
    }
  }
  float cx = div_rn(x_acc, s_acc), cy = div_rn(y_acc, s_acc);
  if (!finite_f(cx) || !finite_f(cy)) {
    cx = static_cast<float>(x);
    cy = static_cast<float>(y);
  }
  out[0] = add_rn(cx, offset_x);
  out[1] = add_rn(cy, offset_y);
  out[2] = plane[y * sy + x * sx];
}

// Natural logarithm of a positive, finite, normal double with + - * / only: libm's log (host) and
// CUDA's log (device, which uses FMA instructions whatever --fmad says) round differently, so the
// refinement below would not give the same float on CPU and GPU. v = m * 2^e with m in
// [sqrt(1/2), sqrt(2)); log(m) = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.172, summed to s^23
// (the next term is below 1e-19 of the result); both compilers evaluate it with the same IEEE
// operations in the same order (no contraction: -ffp-contract=off, --fmad=false).
TFPOSE_HD double log_ieee(double v) {
  uint64_t bits;
  memcpy(&bits, &v, sizeof bits);
  int e = static_cast<int>((bits >> 52) & 0x7ffu) - 1023;
  bits = (bits & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL;
  double m;
  memcpy(&m, &bits, sizeof m);
  if (m > 1.4142135623730951) {
    m = m * 0.5;
    e += 1;
  }
  const double s = (m - 1.0) / (m + 1.0), s2 = s * s;
  double t = 1.0 / 23.0;
  t = t * s2 + 1.0 / 21.0;
  t = t * s2 + 1.0 / 19.0;
  t = t * s2 + 1.0 / 17.0;
  t = t * s2 + 1.0 / 15.0;
  t = t * s2 + 1.0 / 13.0;
  t = t * s2 + 1.0 / 11.0;
  t = t * s2 + 1.0 / 9.0;
  t = t * s2 + 1.0 / 7.0;
  t = t * s2 + 1.0 / 5.0;
  t = t * s2 + 1.0 / 3.0;
  t = t * s2 + 1.0;
  return 2.0 * s * t + static_cast<double>(e) * 0.69314718055994530942;
}

// Sub-pixel offset along one axis from the peak value v0 and its two neighbours (vm before, vp after):
// the vertex of the parabola through the logarithms of the three values, which is exact for a
// Gaussian peak (the heatmaps' training target): the Taylor step of DARK (Zhang et al. 2020) with
// finite differences on the map itself. 0 where any value is not positive and finite or the log-values
// are not concave; clamped to [-0.5, 0.5] (the integer peak is the maximum of its 3x3, so a larger step
// would leave its pixel). Computed in double with log_ieee so CPU and CUDA give the same float.
TFPOSE_HD float log_parabola_step(float vm, float v0, float vp) {
  if (!(vm > 0.f && v0 > 0.f && vp > 0.f) || !finite_f(vm) || !finite_f(v0) || !finite_f(vp)) return 0.f;
  const double lm = log_ieee(vm), l0 = log_ieee(v0), lp = log_ieee(vp);
  const double curvature = lm - 2.0 * l0 + lp;
  if (!(curvature < 0.0)) return 0.f;
  double d = 0.5 * (lm - lp) / curvature;
  d = d < -0.5 ? -0.5 : (d > 0.5 ? 0.5 : d);
  return static_cast<float>(d);
}

// Writes (x + dx + offset_x, y + dy + offset_y, v) for the peak at integer (x, y), dx and dy from
// log_parabola_step on the row and the column through the peak; an axis whose neighbour lies outside
// the map is not refined. v is the un-refined value at (x, y), as in refine_peak.
TFPOSE_HD void refine_peak_quadratic(const float* plane, int64_t x, int64_t y, int64_t w, int64_t h, int64_t sx,
                                     int64_t sy, float offset_x, float offset_y, float* out) {
  const float* c = plane + y * sy + x * sx;
  const float v = *c;
  const float dx = (x >= 1 && x <= w - 2) ? log_parabola_step(c[-sx], v, c[sx]) : 0.f;
  const float dy = (y >= 1 && y <= h - 2) ? log_parabola_step(c[-sy], v, c[sy]) : 0.f;
  out[0] = add_rn(add_rn(static_cast<float>(x), dx), offset_x);
  out[1] = add_rn(add_rn(static_cast<float>(y), dy), offset_y);
  out[2] = v;
}

// The refinement NmsParams::refinement names (0 = OpenPose's centroid, 1 = quadratic), one switch for
// the CPU core, the fast path and the CUDA kernel.
TFPOSE_HD void refine(int refinement, const float* plane, int64_t x, int64_t y, int64_t w, int64_t h, int64_t sx,
                      int64_t sy, float offset_x, float offset_y, float* out) {
  if (refinement == 1)
    refine_peak_quadratic(plane, x, y, w, h, sx, sy, offset_x, offset_y, out);
  else
    refine_peak(plane, x, y, w, h, sx, sy, offset_x, offset_y, out);
}

}  // namespace detail
}  // namespace tfpose
