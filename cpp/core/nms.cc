#include "tfpose/nms.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "tfpose/detail/peak.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace tfpose {

namespace {

// A value of the rule in a message: at float precision where it is a float (a TF attribute, a field
// of NmsParams: 0.3f reads "0.3"), else at double precision (a Python number: 1.0000001).
std::string value_str(double v) {
  const float f = static_cast<float>(v);
  return static_cast<double>(f) == v ? number_str(f) : number_str(v);
}

// threshold, max_peaks and offsets; `prefix` is prepended to the name in messages.
void check_nms_values(double threshold, int64_t max_peaks, float offset_x, float offset_y, const std::string& prefix) {
  if (!(threshold >= 0.0 && threshold <= 1.0))  // also rejects NaN
    throw InvalidArgument(expected_got(prefix + "threshold", "a number in [0, 1]", value_str(threshold)));
  if (max_peaks < 1 || max_peaks > kMaxPeaksLimit)
    throw InvalidArgument(expected_got(prefix + "max_peaks", "an int in [1, " + std::to_string(kMaxPeaksLimit) + "]",
                                       std::to_string(max_peaks)));
  if (!std::isfinite(offset_x) || !std::isfinite(offset_y))
    throw InvalidArgument(expected_got(prefix + "offset", "finite (x, y)",
                                       "(" + number_str(offset_x) + ", " + number_str(offset_y) + ")"));
}

// A peak found by one band, before the bands of an image are concatenated.
struct Found {
  int32_t part;
  float xys[3];
};

// The scan looks at a row a chunk of 16 values (all parts of consecutive pixels) at a time and first
// builds a bit mask of candidates: values above the threshold and >= their left and right
// neighbours (the same part, +-P values away, so these are contiguous loads). Both builds' peak tests
// imply this (a NaN fails it, as it fails them), so only the few candidates of smooth maps, which
// lie far below the threshold almost everywhere, reach the exact per-pixel test.
constexpr int64_t kChunk = 16;

// Bit j set iff v[j] is a candidate; the caller guarantees v[-p] and v[15 + p] are readable.
inline uint32_t candidates(const float* v, int64_t p, float threshold) {
#if defined(__SSE2__)
  // GCC does not vectorise this by itself. Ordered compares are false for NaN, as in the scalar test.
  const __m128 t = _mm_set1_ps(threshold);
  __m128 above[4];
  for (int q = 0; q < 4; ++q) above[q] = _mm_cmpgt_ps(_mm_loadu_ps(v + 4 * q), t);
  const __m128 any = _mm_or_ps(_mm_or_ps(above[0], above[1]), _mm_or_ps(above[2], above[3]));
  if (_mm_movemask_ps(any) == 0) return 0;  // the usual case, decided without a branch per value
  uint32_t mask = 0;
  for (int q = 0; q < 4; ++q) {
    const float* c = v + 4 * q;
    const __m128 cv = _mm_loadu_ps(c);
    __m128 m = _mm_and_ps(above[q], _mm_cmpge_ps(cv, _mm_loadu_ps(c - p)));
    m = _mm_and_ps(m, _mm_cmpge_ps(cv, _mm_loadu_ps(c + p)));
    mask |= static_cast<uint32_t>(_mm_movemask_ps(m)) << (4 * q);
  }
  return mask;
#else
  uint32_t mask = 0;
  for (int j = 0; j < kChunk; ++j)
    mask |= static_cast<uint32_t>(v[j] > threshold && v[j] >= v[j - p] && v[j] >= v[j + p]) << j;
  return mask;
#endif
}

inline int ctz32(uint32_t m) {
#if defined(__GNUC__)
  return __builtin_ctz(m);
#else
  int j = 0;
  while (!(m & 1u)) m >>= 1, ++j;
  return j;
#endif
}

}  // namespace

PeakRefinement parse_peak_refinement(const std::string& name) {
  if (name == "centroid") return PeakRefinement::kCentroid;
  if (name == "quadratic") return PeakRefinement::kQuadratic;
  throw InvalidArgument(expected_got("peak_refinement", "\"centroid\" or \"quadratic\"", "\"" + name + "\""));
}

const char* peak_refinement_name(PeakRefinement r) {
  return r == PeakRefinement::kQuadratic ? "quadratic" : "centroid";
}

NmsParams make_nms_params(double threshold, int64_t max_peaks, double offset_x, double offset_y,
                          const std::string& openpose_build, const std::string& peak_refinement) {
  NmsParams params;
  params.threshold = static_cast<float>(threshold);
  params.max_peaks = max_peaks;
  params.offset_x = static_cast<float>(offset_x);
  params.offset_y = static_cast<float>(offset_y);
  check_nms_values(threshold, max_peaks, params.offset_x, params.offset_y, "");
  params.build = parse_openpose_build(openpose_build);
  params.refinement = parse_peak_refinement(peak_refinement);
  return params;
}

void check_max_peaks(int64_t max_peaks) {
  check_nms_values(0.0, max_peaks, 0.f, 0.f, "");
}

void check_nms_args(int64_t n, int64_t h, int64_t w, int64_t p, const NmsParams& params) {
  if (n < 0 || h < 1 || w < 1 || p < 1)
    throw InvalidArgument(
        expected_got("nms: heatmaps shape", "[N >= 0, H >= 1, W >= 1, P >= 1]", shape_str({n, h, w, p})));
  check_nms_values(params.threshold, params.max_peaks, params.offset_x, params.offset_y, "nms: ");
}

void nms(const float* heatmaps, int64_t n, int64_t h, int64_t w, int64_t p, const NmsParams& params, float* peaks,
         int32_t* counts, const ParallelFor& pf) {
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
      // The exact test of value i of row y (element i = x * P + c).
      auto consider = [&](int64_t y, const float* row, int64_t i) {
        if (!(row[i] > threshold)) return;
        const int64_t x = i / p, c = i % p;
        if (band_count[static_cast<size_t>(c)] >= k) return;
        const float* plane = base + c;
        if (!detail::is_peak(cuda_rule, plane, x, y, w, h, sx, sy, threshold)) return;
        Found f;
        f.part = static_cast<int32_t>(c);
        detail::refine(static_cast<int>(params.refinement), plane, x, y, w, h, sx, sy, params.offset_x, params.offset_y,
                       f.xys);
        out.push_back(f);
        ++band_count[static_cast<size_t>(c)];
      };
      for (int64_t y = band * rows_per_band; y < y_end; ++y) {
        const float* row = base + y * sy;
        // Elements of the first and last pixel of the row lack a left or right neighbour: they,
        // and a row shorter than a chunk plus two pixels, take the plain test.
        int64_t i = 0;
        for (; i < std::min(sy, p); ++i) consider(y, row, i);
        const int64_t simd_end = sy - p - kChunk;
        for (; i <= simd_end; i += kChunk) {
          uint32_t mask = candidates(row + i, p, threshold);
          while (mask) {
            const int j = ctz32(mask);
            mask &= mask - 1;
            consider(y, row, i + j);
          }
        }
        for (; i < sy; ++i) consider(y, row, i);
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
