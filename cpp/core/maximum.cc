#include "tfpose/maximum.hpp"

#include <algorithm>
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
  // One unit = one image. Pass 1 walks the NHWC plane in blocks of kBlock pixels: each block's maximum
  // per channel, written branch-free over the C contiguous channels so it vectorises (NaN is skipped: a
  // comparison with NaN is false), and per channel the first block whose maximum is the largest so far
  // (a later block only with a strictly larger one). Pass 2 scans from that block for the first pixel in
  // raster order holding the value (the tie rule), normally within the block. A channel without a
  // number stays unfound.
  constexpr int64_t kBlock = 64;
  pf(n, plane * c * 2, [&](int64_t b, int64_t e) {
    std::vector<float> best(static_cast<size_t>(c)), blk(static_cast<size_t>(c));
    std::vector<int64_t> from(static_cast<size_t>(c));
    for (int64_t i = b; i < e; ++i) {
      const float* img = heatmaps + i * plane * c;
      std::fill(best.begin(), best.end(), -std::numeric_limits<float>::infinity());
      std::fill(from.begin(), from.end(), int64_t{-1});
      float* __restrict bv = blk.data();
      for (int64_t p0 = 0; p0 < plane; p0 += kBlock) {
        const int64_t p1 = std::min(plane, p0 + kBlock);
        std::fill(blk.begin(), blk.end(), -std::numeric_limits<float>::infinity());
        for (int64_t p = p0; p < p1; ++p) {
          const float* __restrict px = img + p * c;
          for (int64_t ch = 0; ch < c; ++ch) bv[ch] = px[ch] > bv[ch] ? px[ch] : bv[ch];
        }
        for (int64_t ch = 0; ch < c; ++ch) {
          // The first block that can hold an all -inf channel's value is recorded too.
          if (bv[ch] > best[ch] || (from[ch] < 0 && bv[ch] == best[ch])) {
            best[ch] = bv[ch];
            from[ch] = p0;
          }
        }
      }
      std::vector<int64_t> where(static_cast<size_t>(c), int64_t{-1});
      for (int64_t ch = 0; ch < c; ++ch) {
        if (from[ch] < 0) continue;
        for (int64_t p = from[ch]; p < plane; ++p) {
          if (img[p * c + ch] == best[ch]) {
            where[ch] = p;
            break;
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
          o[ch * 3 + 2] = best[ch];
        }
      }
    }
  });
}

}  // namespace tfpose
