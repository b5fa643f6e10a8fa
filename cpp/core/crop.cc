#include "tfpose/crop.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace tfpose {

void check_crop_args(int64_t n, int64_t h, int64_t w, int64_t c, const int32_t* image_index, int64_t b, int64_t out_h,
                     int64_t out_w) {
  if (n < 0 || h < 1 || w < 1 || c < 1)
    throw InvalidArgument(
        expected_got("crop_affine: images shape", "[N >= 0, H >= 1, W >= 1, C >= 1]", shape_str({n, h, w, c})));
  if (b < 0 || out_h < 1 || out_w < 1 || out_h > (1 << 16) || out_w > (1 << 16))
    throw InvalidArgument(expected_got("crop_affine: crop size", "(H, W) in [1, 65536]", shape_str({out_h, out_w})));
  for (int64_t k = 0; k < b; ++k)
    if (image_index[k] < 0 || image_index[k] >= n)
      throw InvalidArgument(expected_got("crop_affine: image_index[" + std::to_string(k) + "]",
                                         "an image in [0, " + std::to_string(n) + ")", std::to_string(image_index[k])));
}

namespace {

// Nearest integer, ties to even, for v >= 0 (a convex combination of 0..255): no libm call on the hot path.
inline float round_half_even(double v) {
  auto r = static_cast<int64_t>(v + 0.5);
  if (static_cast<double>(r) - v == 0.5 && (r & 1)) --r;
  return static_cast<float>(r);
}

// The two taps of one axis at coordinate v in [0, size): clamped indices and weights, 0 outside.
struct Taps {
  int64_t i0, i1;
  double w0, w1;
  bool any;  // false: the sample lies wholly outside (it reads black)
};

inline Taps taps(double v, int64_t size) {
  Taps t{0, 0, 0.0, 0.0, false};
  if (!std::isfinite(v) || v <= -1.0 || v >= static_cast<double>(size)) return t;
  const double v0 = std::floor(v);
  const double f = v - v0;
  const auto i = static_cast<int64_t>(v0);
  t.any = true;
  if (i >= 0) {
    t.i0 = i;
    t.w0 = 1 - f;
  }
  if (i + 1 < size) {
    t.i1 = i + 1;
    t.w1 = f;
  }
  return t;
}

}  // namespace

void crop_affine(const uint8_t* images, int64_t n, int64_t h, int64_t w, int64_t c, const int32_t* image_index,
                 const double* transforms, int64_t b, int64_t out_h, int64_t out_w, float* out, const ParallelFor& pf) {
  check_crop_args(n, h, w, c, image_index, b, out_h, out_w);
  // One unit = one crop row. Each output value is sum over the 4 taps of pixel * (wy * wx), in the order
  // (y0, x0), (y0, x1), (y1, x0), (y1, x1); taps outside the image have weight 0.
  pf(b * out_h, out_w * c * 12, [&](int64_t begin, int64_t end) {
    std::vector<Taps> cols;
    int64_t cols_of = -1;
    for (int64_t u = begin; u < end; ++u) {
      const int64_t k = u / out_h, i = u % out_h;
      const uint8_t* img = images + static_cast<int64_t>(image_index[k]) * h * w * c;
      const double* m = transforms + k * 6;
      float* o = out + u * out_w * c;
      if (m[1] == 0.0 && m[3] == 0.0) {
        // Axis-aligned (every hand and face crop): x depends on the column only, y on the row only.
        if (cols_of != k) {
          cols.resize(static_cast<size_t>(out_w));
          for (int64_t j = 0; j < out_w; ++j) cols[j] = taps(m[0] * j + m[2], w);
          cols_of = k;
        }
        const Taps ty = taps(m[4] * i + m[5], h);
        if (!ty.any) {
          std::fill(o, o + out_w * c, 0.f);
          continue;
        }
        const uint8_t* r0 = img + ty.i0 * w * c;
        const uint8_t* r1 = img + ty.i1 * w * c;
        for (int64_t j = 0; j < out_w; ++j, o += c) {
          const Taps& tx = cols[j];
          if (!tx.any) {
            for (int64_t ch = 0; ch < c; ++ch) o[ch] = 0.f;
            continue;
          }
          const double w00 = ty.w0 * tx.w0, w01 = ty.w0 * tx.w1, w10 = ty.w1 * tx.w0, w11 = ty.w1 * tx.w1;
          const uint8_t *p00 = r0 + tx.i0 * c, *p01 = r0 + tx.i1 * c, *p10 = r1 + tx.i0 * c, *p11 = r1 + tx.i1 * c;
          for (int64_t ch = 0; ch < c; ++ch)
            o[ch] = round_half_even(p00[ch] * w00 + p01[ch] * w01 + p10[ch] * w10 + p11[ch] * w11);
        }
        continue;
      }
      for (int64_t j = 0; j < out_w; ++j, o += c) {
        const Taps tx = taps(m[0] * j + m[1] * i + m[2], w);
        const Taps ty = taps(m[3] * j + m[4] * i + m[5], h);
        if (!tx.any || !ty.any) {
          for (int64_t ch = 0; ch < c; ++ch) o[ch] = 0.f;
          continue;
        }
        const double w00 = ty.w0 * tx.w0, w01 = ty.w0 * tx.w1, w10 = ty.w1 * tx.w0, w11 = ty.w1 * tx.w1;
        const uint8_t* r0 = img + ty.i0 * w * c;
        const uint8_t* r1 = img + ty.i1 * w * c;
        for (int64_t ch = 0; ch < c; ++ch)
          o[ch] = round_half_even(r0[tx.i0 * c + ch] * w00 + r0[tx.i1 * c + ch] * w01 + r1[tx.i0 * c + ch] * w10 +
                                  r1[tx.i1 * c + ch] * w11);
      }
    }
  });
}

}  // namespace tfpose
