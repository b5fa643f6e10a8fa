// TEMP stand-in so that the pipeline links and can be tested before the real NMS lands. Drop at merge.
#include "tfpose/nms.hpp"

#include <algorithm>
#include <cmath>

namespace tfpose {

void check_nms_args(int64_t n, int64_t h, int64_t w, int64_t p, const NmsParams& params) {
  if (n < 0 || h < 1 || w < 1 || p < 1) throw InvalidArgument("nms: bad sizes");
  if (!(params.threshold >= 0.f && params.threshold <= 1.f)) throw InvalidArgument("nms: bad threshold");
  if (params.max_peaks < 1 || params.max_peaks > kMaxPeaksLimit) throw InvalidArgument("nms: bad max_peaks");
}

void nms(const float* heatmaps, int64_t n, int64_t h, int64_t w, int64_t p, const NmsParams& params,
         float* peaks, int32_t* counts, const ParallelFor& pf) {
  check_nms_args(n, h, w, p, params);
  const int64_t K = params.max_peaks;
  const float th = params.threshold;
  const bool cpu = params.build == OpenposeBuild::kCpu;
  std::fill(peaks, peaks + n * p * K * 3, 0.f);
  pf(n * p, h * w * 10, [&](int64_t b, int64_t e) {
    for (int64_t ip = b; ip < e; ++ip) {
      const int64_t i = ip / p, part = ip % p;
      auto at = [&](int64_t y, int64_t x) { return heatmaps[((i * h + y) * w + x) * p + part]; };
      int32_t cnt = 0;
      float* out = peaks + ip * K * 3;
      for (int64_t y = 0; y < h && cnt < K; ++y) {
        for (int64_t x = 0; x < w && cnt < K; ++x) {
          const float v = at(y, x);
          if (!(v > th)) continue;
          bool peak = true;
          const bool interior = x >= 2 && x <= w - 3 && y >= 2 && y <= h - 3;
          const bool ring = x == 1 || x == w - 2 || y == 1 || y == h - 2;
          if (!cpu) {
            if (!(x >= 1 && x <= w - 2 && y >= 1 && y <= h - 2)) continue;
            for (int dy = -1; dy <= 1 && peak; ++dy)
              for (int dx = -1; dx <= 1; ++dx)
                if ((dx || dy) && !(v > at(y + dy, x + dx))) { peak = false; break; }
          } else if (interior) {
            for (int dy = -1; dy <= 1 && peak; ++dy)
              for (int dx = -1; dx <= 1; ++dx)
                if ((dx || dy) && !(v > at(y + dy, x + dx))) { peak = false; break; }
          } else if (ring) {
            for (int dy = -1; dy <= 1 && peak; ++dy)
              for (int dx = -1; dx <= 1; ++dx) {
                if (!(dx || dy)) continue;
                const int64_t yy = y + dy, xx = x + dx;
                const float nb = (yy < 0 || yy >= h || xx < 0 || xx >= w) ? th : at(yy, xx);
                if (!(v >= nb)) { peak = false; break; }
              }
          } else {
            continue;
          }
          if (!peak) continue;
          float sx = 0, sy = 0, sv = 0;
          for (int64_t yy = std::max<int64_t>(0, y - 3); yy <= std::min(h - 1, y + 3); ++yy)
            for (int64_t xx = std::max<int64_t>(0, x - 3); xx <= std::min(w - 1, x + 3); ++xx) {
              const float vv = at(yy, xx);
              if (vv > 0) { sx += xx * vv; sy += yy * vv; sv += vv; }
            }
          out[cnt * 3 + 0] = sx / sv + params.offset_x;
          out[cnt * 3 + 1] = sy / sv + params.offset_y;
          out[cnt * 3 + 2] = v;
          ++cnt;
        }
      }
      counts[ip] = cnt;
    }
  });
}

}  // namespace tfpose
