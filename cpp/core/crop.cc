#include "tfpose/crop.hpp"

#include <cmath>
#include <string>

namespace tfpose {

void check_crop_args(int64_t n, int64_t h, int64_t w, int64_t c, const int32_t* image_index, int64_t b,
                     int64_t out_h, int64_t out_w) {
  if (n < 0 || h < 1 || w < 1 || c < 1)
    throw InvalidArgument(expected_got("crop_affine: images shape", "[N >= 0, H >= 1, W >= 1, C >= 1]",
                                       shape_str({n, h, w, c})));
  if (b < 0 || out_h < 1 || out_w < 1 || out_h > (1 << 16) || out_w > (1 << 16))
    throw InvalidArgument(expected_got("crop_affine: crop size", "(H, W) in [1, 65536]",
                                       shape_str({out_h, out_w})));
  for (int64_t k = 0; k < b; ++k)
    if (image_index[k] < 0 || image_index[k] >= n)
      throw InvalidArgument(expected_got("crop_affine: image_index[" + std::to_string(k) + "]",
                                         "an image in [0, " + std::to_string(n) + ")",
                                         std::to_string(image_index[k])));
}

void crop_affine(const uint8_t* images, int64_t n, int64_t h, int64_t w, int64_t c, const int32_t* image_index,
                 const double* transforms, int64_t b, int64_t out_h, int64_t out_w, float* out,
                 const ParallelFor& pf) {
  check_crop_args(n, h, w, c, image_index, b, out_h, out_w);
  // One unit = one crop row.
  pf(b * out_h, out_w * c * 12, [&](int64_t begin, int64_t end) {
    for (int64_t u = begin; u < end; ++u) {
      const int64_t k = u / out_h, i = u % out_h;
      const uint8_t* img = images + static_cast<int64_t>(image_index[k]) * h * w * c;
      const double* m = transforms + k * 6;
      float* o = out + u * out_w * c;
      for (int64_t j = 0; j < out_w; ++j, o += c) {
        const double x = m[0] * j + m[1] * i + m[2];
        const double y = m[3] * j + m[4] * i + m[5];
        for (int64_t ch = 0; ch < c; ++ch) o[ch] = 0.f;
        if (!(std::isfinite(x) && std::isfinite(y)) || x <= -1.0 || y <= -1.0 || x >= w || y >= h) continue;
        const double x0 = std::floor(x), y0 = std::floor(y);
        const double fx = x - x0, fy = y - y0;
        const auto xi = static_cast<int64_t>(x0), yi = static_cast<int64_t>(y0);
        const double wts[4] = {(1 - fy) * (1 - fx), (1 - fy) * fx, fy * (1 - fx), fy * fx};
        const int64_t ys[4] = {yi, yi, yi + 1, yi + 1}, xs[4] = {xi, xi + 1, xi, xi + 1};
        double acc[4] = {0, 0, 0, 0};  // C <= 4 is the common case; larger C takes the loop below
        if (c <= 4) {
          for (int t = 0; t < 4; ++t) {
            if (ys[t] < 0 || ys[t] >= h || xs[t] < 0 || xs[t] >= w) continue;
            const uint8_t* px = img + (ys[t] * w + xs[t]) * c;
            for (int64_t ch = 0; ch < c; ++ch) acc[ch] += wts[t] * px[ch];
          }
          for (int64_t ch = 0; ch < c; ++ch) o[ch] = static_cast<float>(std::nearbyint(acc[ch]));
        } else {
          for (int64_t ch = 0; ch < c; ++ch) {
            double a = 0;
            for (int t = 0; t < 4; ++t)
              if (ys[t] >= 0 && ys[t] < h && xs[t] >= 0 && xs[t] < w) a += wts[t] * img[(ys[t] * w + xs[t]) * c + ch];
            o[ch] = static_cast<float>(std::nearbyint(a));
          }
        }
      }
    }
  });
}

}  // namespace tfpose
