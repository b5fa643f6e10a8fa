#include "tfpose/maximum.hpp"

#include <cmath>
#include <limits>
#include <vector>

namespace tfpose {

void check_maximum_args(int64_t n, int64_t h, int64_t w, int64_t c) {
  if (n < 0 || h < 1 || w < 1 || c < 1)
    throw InvalidArgument(
        expected_got("maximum: heatmaps shape", "[N >= 0, H >= 1, W >= 1, C >= 1]", shape_str({n, h, w, c})));
}

void maximum(const float* heatmaps, int64_t n, int64_t h, int64_t w, int64_t c, float* out, const ParallelFor& pf) {
  check_maximum_args(n, h, w, c);
  const int64_t plane = h * w;
  // One unit = one image, two passes over its NHWC plane. Pass 1: each channel's maximum, NaN
  // skipped (a comparison with NaN is false), written branch-free over the C contiguous channels so
  // it vectorises. Pass 2: the first pixel in raster order holding that value (the tie rule), which
  // stops as soon as every channel has been found. A channel without a number stays unfound.
  pf(n, plane * c * 2, [&](int64_t b, int64_t e) {
    std::vector<float> best(static_cast<size_t>(c));
    std::vector<int64_t> where(static_cast<size_t>(c));
    for (int64_t i = b; i < e; ++i) {
      const float* img = heatmaps + i * plane * c;
      std::fill(best.begin(), best.end(), -std::numeric_limits<float>::infinity());
      float* __restrict bv = best.data();
      for (int64_t p = 0; p < plane; ++p) {
        const float* __restrict px = img + p * c;
        for (int64_t ch = 0; ch < c; ++ch) bv[ch] = px[ch] > bv[ch] ? px[ch] : bv[ch];
      }
      std::fill(where.begin(), where.end(), int64_t{-1});
      int64_t missing = c;
      for (int64_t p = 0; p < plane && missing > 0; ++p) {
        const float* px = img + p * c;
        for (int64_t ch = 0; ch < c; ++ch) {
          if (where[ch] < 0 && px[ch] == bv[ch]) {
            where[ch] = p;
            --missing;
          }
        }
      }
      float* o = out + i * c * 3;
      for (int64_t ch = 0; ch < c; ++ch) {
        if (where[ch] < 0) {  // every value NaN
          o[ch * 3 + 0] = 0.f;
          o[ch * 3 + 1] = 0.f;
          o[ch * 3 + 2] = std::numeric_limits<float>::quiet_NaN();
        } else {
          o[ch * 3 + 0] = static_cast<float>(where[ch] % w);
          o[ch * 3 + 1] = static_cast<float>(where[ch] / w);
          o[ch * 3 + 2] = bv[ch];
        }
      }
    }
  });
}

}  // namespace tfpose
