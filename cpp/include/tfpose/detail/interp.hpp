// Per-axis bicubic interpolation of OpenPose's two builds (docs/algorithms/body.md §4): where a target coordinate
// samples its source, which four source indices it reads and with which weights. Compiled by the CPU
// core and by the CUDA kernels alike, so both compute the same taps and weights bit for bit.
//
// A value along one axis is sum_k v[idx[k]] * w[k]; 2-D resizing is separable (horizontal pass,
// then vertical pass over four horizontally interpolated rows), as in both OpenPose builds.
#pragma once

#include <math.h>

#include <cstdint>

#include "tfpose/detail/hd.hpp"

namespace tfpose {
namespace detail {

// Four source indices (already clamped into [0, n - 1]) and their weights for one target coordinate.
struct CubicTaps {
  int32_t idx[4];
  float w[4];
};

// Keys' cubic kernel with a = -0.75 (OpenCV's INTER_CUBIC) at offsets 1 + t, t, 1 - t, 2 - t, in
// OpenCV's float arithmetic: the first three from the kernel's two polynomial pieces, the last from
// the weights summing to one (that is how OpenCV rounds them; t = 0 gives exactly 0, 1, 0, 0).
TFPOSE_HD void opencv_cubic_weights(float t, float w[4]) {
  const float a = -0.75f;
  const float s0 = t + 1.f;  // 1 <= s0 < 2: outer piece
  w[0] = ((a * s0 - 5.f * a) * s0 + 8.f * a) * s0 - 4.f * a;
  w[1] = ((a + 2.f) * t - (a + 3.f)) * t * t + 1.f;  // inner piece at t
  const float s2 = 1.f - t;
  w[2] = ((a + 2.f) * s2 - (a + 3.f)) * s2 * s2 + 1.f;  // inner piece at 1 - t
  w[3] = 1.f - w[0] - w[1] - w[2];
}

// cv::resize INTER_CUBIC along one axis, target index d of n_dst, source length n_src (docs/algorithms/body.md §4.1).
// scale = 1 / (n_dst / n_src) in double, exactly as OpenCV derives it from the two sizes; the source
// coordinate is rounded to float before its floor is taken, the taps replicate the border.
TFPOSE_HD double opencv_axis_scale(int64_t n_src, int64_t n_dst) {
  return 1.0 / (static_cast<double>(n_dst) / static_cast<double>(n_src));
}

TFPOSE_HD CubicTaps opencv_cubic_taps(int64_t d, double scale, int64_t n_src) {
  const float u = static_cast<float>((static_cast<double>(d) + 0.5) * scale - 0.5);
  const float fl = floorf(u);
  const int64_t base = static_cast<int64_t>(fl);
  CubicTaps taps;
  opencv_cubic_weights(u - fl, taps.w);
  for (int k = 0; k < 4; ++k) {
    int64_t i = base - 1 + k;
    i = i < 0 ? 0 : (i > n_src - 1 ? n_src - 1 : i);
    taps.idx[k] = static_cast<int32_t>(i);
  }
  return taps;
}

// Catmull-Rom (Keys a = -0.5) weights of v0..v3 for parameter t. They are the coefficients of the
// docs/algorithms/body.md §4.2 polynomial v1 + t(-v0 + v2)/2 + t^2(v0 - 2.5 v1 + 2 v2 - v3/2) + t^3(-v0 + 3 v1 - 3 v2 +
// v3)/2 collected per tap; valid for any t, including the t < 0 and t > 1 that OpenPose's clamped taps produce at the
// borders (extrapolation).
TFPOSE_HD void catmull_rom_weights(float t, float w[4]) {
  const float t2 = t * t, t3 = t2 * t;
  w[0] = -0.5f * t + t2 - 0.5f * t3;
  w[1] = 1.f - 2.5f * t2 + 1.5f * t3;
  w[2] = 0.5f * t + 2.f * t2 - 1.5f * t3;
  w[3] = -0.5f * t2 + 0.5f * t3;
}

// OpenPose's CUDA source coordinate (float): u = (d + 0.5) / factor - 0.5, where factor is the
// target/source size ratio of that scale (8 for a single scale; (W_t / w_0) / r_i when merging).
TFPOSE_HD float openpose_cuda_coord(int64_t d, float factor) {
  return (static_cast<float>(d) + 0.5f) / factor - 0.5f;
}

// OpenPose's CUDA taps for source coordinate u on an axis of n samples (docs/algorithms/body.md §4.2): i1 = floor(u)
// clamped into the axis, neighbours clamped, t = u - i1 kept unclamped.
TFPOSE_HD CubicTaps openpose_cuda_taps(float u, int64_t n) {
  const float fl = floorf(u);
  int64_t i1 = static_cast<int64_t>(fl);
  i1 = i1 < 0 ? 0 : (i1 > n - 1 ? n - 1 : i1);
  const int64_t i0 = i1 - 1 < 0 ? 0 : i1 - 1;
  const int64_t i2 = i1 + 1 > n - 1 ? n - 1 : i1 + 1;
  const int64_t i3 = i2 + 1 > n - 1 ? n - 1 : i2 + 1;
  CubicTaps taps;
  taps.idx[0] = static_cast<int32_t>(i0);
  taps.idx[1] = static_cast<int32_t>(i1);
  taps.idx[2] = static_cast<int32_t>(i2);
  taps.idx[3] = static_cast<int32_t>(i3);
  catmull_rom_weights(u - static_cast<float>(i1), taps.w);
  return taps;
}

// Factor of a single "cuda" scale: OpenPose derives one factor from the heights, ceil(H_t / h) in
// float, and uses it for both axes.
TFPOSE_HD float openpose_cuda_single_factor(int64_t h_src, int64_t h_dst) {
  return ceilf(static_cast<float>(h_dst) / static_cast<float>(h_src));
}

// Factors of scale i when merging "cuda" scales (docs/algorithms/body.md §4.2): (target / scale-0 size) / (r_i / r_0),
// everything in float as OpenPose's CUDA build computes it.
TFPOSE_HD float openpose_cuda_merge_factor(int64_t n_dst, int64_t n_src0, float ratio_i, float ratio_0) {
  return (static_cast<float>(n_dst) / static_cast<float>(n_src0)) / (ratio_i / ratio_0);
}

// How one scale is sampled along one axis: OpenCV's (double) scale for the "cpu" build, OpenPose's
// float factor for the "cuda" build. Built once per call on the host, read per element by the CPU
// plans and by the CUDA kernel alike.
struct AxisSampling {
  bool cuda;
  double scale;  // "cpu": opencv_axis_scale(n_src, n_dst)
  float factor;  // "cuda": openpose_cuda_single_factor or openpose_cuda_merge_factor
};

TFPOSE_HD CubicTaps axis_taps(const AxisSampling& a, int64_t d, int64_t n_src) {
  return a.cuda ? openpose_cuda_taps(openpose_cuda_coord(d, a.factor), n_src) : opencv_cubic_taps(d, a.scale, n_src);
}

// Sampling of scale s (h_s x w_s, ratio r_s) of num_scales onto the target H x W; scale 0 is h_0 x w_0
// with ratio r_0. copy: the scale is copied, not interpolated (cv::resize copies a same-size image;
// OpenPose's CUDA build copies only a single same-size scale: merged CUDA scales are always
// interpolated, t = 0 gives equal values but NaN/Inf neighbours would spread).
struct ScaleSampling {
  bool copy;
  AxisSampling x, y;
};

TFPOSE_HD ScaleSampling scale_sampling(int64_t h_s, int64_t w_s, double r_s, int64_t h_0, int64_t w_0, double r_0,
                                       int64_t num_scales, int64_t H, int64_t W, bool cuda) {
  ScaleSampling out;
  out.copy = h_s == H && w_s == W && (!cuda || num_scales == 1);
  out.x = {cuda, 0.0, 0.f};
  out.y = {cuda, 0.0, 0.f};
  if (!cuda) {
    out.x.scale = opencv_axis_scale(w_s, W);
    out.y.scale = opencv_axis_scale(h_s, H);
  } else if (num_scales == 1) {
    out.x.factor = out.y.factor = openpose_cuda_single_factor(h_s, H);
  } else {
    // OpenPose's CUDA build holds the ratios in float.
    const float r0 = static_cast<float>(r_0), ri = static_cast<float>(r_s);
    out.x.factor = openpose_cuda_merge_factor(W, w_0, ri, r0);
    out.y.factor = openpose_cuda_merge_factor(H, h_0, ri, r0);
  }
  return out;
}

// Weighted sum of four taps in a fixed order (left to right), shared by every pass so that all
// callers round identically. NaN or Inf in any tap propagates (0 * Inf is NaN).
TFPOSE_HD float cubic_sum(float v0, float v1, float v2, float v3, const float w[4]) {
  return v0 * w[0] + v1 * w[1] + v2 * w[2] + v3 * w[3];
}

// How scale s of S enters a merged output value o (docs/algorithms/body.md §4): the first scale assigns, later ones
// add, the last one also applies the average (OpenCV's cpu path multiplies by k = 1/S in float,
// OpenPose's CUDA kernel divides by k = S), in the order both builds accumulate: ((v_0 + v_1) + v_2)...
// The dense resize and the per-pixel evaluator both go through merge_step, so they round alike.
enum class MergeStep { kAssign, kAdd, kAddThenScale, kAddThenDivide };

TFPOSE_HD MergeStep merge_step_of(int64_t s, int64_t num_scales, bool cuda_build) {
  if (s == 0) return MergeStep::kAssign;  // also the only scale: no averaging at all
  if (s + 1 < num_scales) return MergeStep::kAdd;
  return cuda_build ? MergeStep::kAddThenDivide : MergeStep::kAddThenScale;
}

TFPOSE_HD float merge_step(MergeStep mode, float o, float v, float k) {
  switch (mode) {
    case MergeStep::kAssign:
      return v;
    case MergeStep::kAdd:
      return o + v;
    case MergeStep::kAddThenScale:
      return (o + v) * k;
    case MergeStep::kAddThenDivide:
      return (o + v) / k;
  }
  return v;
}

// The merge constant k of merge_step for S scales.
TFPOSE_HD float merge_constant(int64_t num_scales, bool cuda_build) {
  return cuda_build ? static_cast<float>(num_scales) : static_cast<float>(1.0 / static_cast<double>(num_scales));
}

// Horizontal pass at one target column: the four taps of a source row (col_stride apart).
TFPOSE_HD float cubic_row(const float* row, int64_t col_stride, const CubicTaps& tx) {
  return cubic_sum(row[tx.idx[0] * col_stride], row[tx.idx[1] * col_stride], row[tx.idx[2] * col_stride],
                   row[tx.idx[3] * col_stride], tx.w);
}

// One resized value of one scale at the target pixel whose taps are (tx, ty): the vertical pass over
// four horizontally interpolated rows, exactly the dense resize's order of operations (horizontal
// first, then vertical), so a value evaluated here equals the dense map's bit for bit.
// plane: the channel's source pixel (0, 0); row_stride, col_stride: elements to the next row / pixel.
TFPOSE_HD float bicubic_pixel(const float* plane, int64_t row_stride, int64_t col_stride, const CubicTaps& tx,
                              const CubicTaps& ty) {
  return cubic_sum(cubic_row(plane + ty.idx[0] * row_stride, col_stride, tx),
                   cubic_row(plane + ty.idx[1] * row_stride, col_stride, tx),
                   cubic_row(plane + ty.idx[2] * row_stride, col_stride, tx),
                   cubic_row(plane + ty.idx[3] * row_stride, col_stride, tx), ty.w);
}

// One scale of a merged map as the per-pixel evaluator sees it: data points at the channel's source
// pixel (0, 0) of one image; copy scales (same size as the target) are read in place, the others
// through their per-column and per-row taps ([W] and [H], as the dense resize computes them).
struct ScaleView {
  const float* data;
  int64_t row_stride, col_stride;
  bool copy;
  const CubicTaps* xtaps;
  const CubicTaps* ytaps;
};

// The merged value at target pixel (x, y) over num_scales views: bit-identical to resize_and_merge.
TFPOSE_HD float merged_pixel(const ScaleView* views, int64_t num_scales, bool cuda_build, int64_t x, int64_t y) {
  const float k = merge_constant(num_scales, cuda_build);
  float o = 0.f;
  for (int64_t s = 0; s < num_scales; ++s) {
    const ScaleView& v = views[s];
    const float val = v.copy ? v.data[y * v.row_stride + x * v.col_stride]
                             : bicubic_pixel(v.data, v.row_stride, v.col_stride, v.xtaps[x], v.ytaps[y]);
    o = merge_step(merge_step_of(s, num_scales, cuda_build), o, val, k);
  }
  return o;
}

}  // namespace detail
}  // namespace tfpose
