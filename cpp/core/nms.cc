#include "tfpose/nms.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "tfpose/detail/peak.hpp"

namespace tfpose {

namespace {

std::string num_str(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}

// A peak found by one band, before the bands of an image are concatenated.
struct Found {
  int32_t part;
  float xys[3];
};

// Values are compared a chunk at a time so the (vectorised) "anything above the threshold?" scan
// skips the vast majority of a heatmap, which lies far below it, without a branch per value.
constexpr int64_t kChunk = 16;

inline bool any_above(const float* v, float threshold) {
  int any = 0;
  for (int64_t i = 0; i < kChunk; ++i) any |= v[i] > threshold;
  return any != 0;
}

}  // namespace

void check_nms_args(int64_t n, int64_t h, int64_t w, int64_t p, const NmsParams& params) {
  if (n < 0 || h < 1 || w < 1 || p < 1)
    throw InvalidArgument(expected_got("nms: heatmaps shape", "[N >= 0, H >= 1, W >= 1, P >= 1]",
                                       shape_str({n, h, w, p})));
  if (!(params.threshold >= 0.f && params.threshold <= 1.f))  // also rejects NaN
    throw InvalidArgument(expected_got("nms: threshold", "a number in [0, 1]", num_str(params.threshold)));
  if (params.max_peaks < 1 || params.max_peaks > kMaxPeaksLimit)
    throw InvalidArgument(expected_got("nms: max_peaks",
                                       "an int in [1, " + std::to_string(kMaxPeaksLimit) + "]",
                                       std::to_string(params.max_peaks)));
  if (!std::isfinite(params.offset_x) || !std::isfinite(params.offset_y))
    throw InvalidArgument(expected_got("nms: offset", "finite (x, y)",
                                       "(" + num_str(params.offset_x) + ", " + num_str(params.offset_y) + ")"));
}

void nms(const float* heatmaps, int64_t n, int64_t h, int64_t w, int64_t p, const NmsParams& params,
         float* peaks, int32_t* counts, const ParallelFor& pf) {
  check_nms_args(n, h, w, p, params);
  const int64_t k = params.max_peaks;
  std::memset(peaks, 0, sizeof(float) * static_cast<size_t>(n * p * k * 3));
  std::memset(counts, 0, sizeof(int32_t) * static_cast<size_t>(n * p));
  if (n == 0) return;

  const bool cuda_rule = params.build == OpenposeBuild::kCuda;
  const float threshold = params.threshold;
  const int64_t sx = p, sy = w * p, image = h * w * p;

  // One pass over the NHWC map, rows for all parts at once (contiguous reads), split into bands of
  // rows so that even a single image is shared among threads. Each band keeps, per part, at most
  // the first K peaks it finds (in raster order); concatenating the bands of an image in order then
  // keeps the image's first K, as OpenPose does.
  const int64_t rows_per_band = std::max<int64_t>(1, std::min<int64_t>(h, (int64_t{1} << 17) / sy));
  const int64_t bands = (h + rows_per_band - 1) / rows_per_band;
  std::vector<std::vector<Found>> found(static_cast<size_t>(n * bands));

  pf(n * bands, rows_per_band * sy * 2, [&](int64_t begin, int64_t end) {
    std::vector<int64_t> band_count(static_cast<size_t>(p));
    for (int64_t unit = begin; unit < end; ++unit) {
      const int64_t img = unit / bands, band = unit % bands;
      const float* base = heatmaps + img * image;
      std::vector<Found>& out = found[static_cast<size_t>(unit)];
      std::fill(band_count.begin(), band_count.end(), int64_t{0});
      const int64_t y_end = std::min(h, (band + 1) * rows_per_band);
      for (int64_t y = band * rows_per_band; y < y_end; ++y) {
        const float* row = base + y * sy;
        for (int64_t i0 = 0; i0 < sy; i0 += kChunk) {
          const int64_t i1 = std::min(sy, i0 + kChunk);
          if (i1 - i0 == kChunk && !any_above(row + i0, threshold)) continue;
          for (int64_t i = i0; i < i1; ++i) {
            if (!(row[i] > threshold)) continue;
            const int64_t x = i / p, c = i % p;
            if (band_count[static_cast<size_t>(c)] >= k) continue;
            const float* plane = base + c;
            if (!detail::is_peak(cuda_rule, plane, x, y, w, h, sx, sy, threshold)) continue;
            Found f;
            f.part = static_cast<int32_t>(c);
            detail::refine_peak(plane, x, y, w, h, sx, sy, params.offset_x, params.offset_y, f.xys);
            out.push_back(f);
            ++band_count[static_cast<size_t>(c)];
          }
        }
      }
    }
  });

  pf(n, bands * 8, [&](int64_t begin, int64_t end) {
    for (int64_t img = begin; img < end; ++img) {
      int32_t* cnt = counts + img * p;
      float* pk = peaks + img * p * k * 3;
      for (int64_t band = 0; band < bands; ++band) {
        for (const Found& f : found[static_cast<size_t>(img * bands + band)]) {
          int32_t& c = cnt[f.part];
          if (c >= k) continue;
          std::memcpy(pk + (f.part * k + c) * 3, f.xys, sizeof(f.xys));
          ++c;
        }
      }
    }
  });
}

}  // namespace tfpose
