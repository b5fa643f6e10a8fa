#include "tfpose/maximum.hpp"

#include <cmath>
#include <limits>
#include <vector>

namespace tfpose {

void check_maximum_args(int64_t n, int64_t h, int64_t w, int64_t c) {
  if (n < 0 || h < 1 || w < 1 || c < 1)
    throw InvalidArgument(expected_got("maximum: heatmaps shape", "[N >= 0, H >= 1, W >= 1, C >= 1]",
                                       shape_str({n, h, w, c})));
}

void maximum(const float* heatmaps, int64_t n, int64_t h, int64_t w, int64_t c, float* out,
             const ParallelFor& pf) {
  check_maximum_args(n, h, w, c);
  const int64_t plane = h * w;
  // One unit = one image. The scan keeps, per channel, the first pixel holding a value strictly
  // greater than every earlier one: that is the first maximum in raster order, and NaN (false in
  // every comparison) is never taken. Written branch-free over the C contiguous channels of a pixel
  // so it vectorises; a channel that never beat -inf (all NaN or all -inf) is resolved afterwards.
  pf(n, plane * c * 2, [&](int64_t b, int64_t e) {
    std::vector<float> best(static_cast<size_t>(c));
    std::vector<float> where(static_cast<size_t>(c));  // pixel index as float: exact below 2^24
    const bool exact_index = plane <= (int64_t{1} << 24);
    for (int64_t i = b; i < e; ++i) {
      const float* img = heatmaps + i * plane * c;
      std::fill(best.begin(), best.end(), -std::numeric_limits<float>::infinity());
      std::fill(where.begin(), where.end(), -1.f);
      float* __restrict bv = best.data();
      float* __restrict wv = where.data();
      if (exact_index) {
        for (int64_t p = 0; p < plane; ++p) {
          const float* __restrict px = img + p * c;
          const float fp = static_cast<float>(p);
          for (int64_t ch = 0; ch < c; ++ch) {
            const bool take = px[ch] > bv[ch];
            bv[ch] = take ? px[ch] : bv[ch];
            wv[ch] = take ? fp : wv[ch];
          }
        }
      }
      float* o = out + i * c * 3;
      for (int64_t ch = 0; ch < c; ++ch) {
        int64_t at = static_cast<int64_t>(wv[ch]);
        if (!exact_index || at < 0) {
          // Slow path: huge planes, or no value above -inf (first non-NaN wins, i.e. the first -inf).
          at = -1;
          float top = -std::numeric_limits<float>::infinity();
          for (int64_t p = 0; p < plane; ++p) {
            const float v = img[p * c + ch];
            if (v > top || (at < 0 && v == top)) {
              top = v;
              at = p;
            }
          }
          bv[ch] = top;
        }
        if (at < 0) {  // every value NaN
          o[ch * 3 + 0] = 0.f;
          o[ch * 3 + 1] = 0.f;
          o[ch * 3 + 2] = std::numeric_limits<float>::quiet_NaN();
        } else {
          o[ch * 3 + 0] = static_cast<float>(at % w);
          o[ch * 3 + 1] = static_cast<float>(at / w);
          o[ch * 3 + 2] = bv[ch];
        }
      }
    }
  });
}

}  // namespace tfpose
