#include "tfpose/placement.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "tfpose/detail/interp.hpp"
#include "tfpose/sizing.hpp"  // kMaxNetSide

namespace tfpose {

namespace {

constexpr int64_t kMaxSide = (int64_t{1} << 31) - 1;

// The four taps of target index d along an axis of n_in source samples: indices clamped into the
// axis, weights of taps outside it set to 0 (constant border).
detail::CubicTaps placement_taps(int64_t d, double scale, int64_t n_in) {
  const double u = static_cast<double>(d) / scale;
  const double fl = std::floor(u);
  const float t = static_cast<float>(u - fl);
  detail::CubicTaps taps;
  if (scale > 1.0) {
    detail::opencv_cubic_weights(t, taps.w);
  } else {
    taps.w[0] = 0.f;
    taps.w[1] = 1.f - t;
    taps.w[2] = t;
    taps.w[3] = 0.f;
  }
  // fl may be far outside the axis (the canvas beyond the image): clamp before converting.
  const double base = std::min(std::max(fl, -4.0), static_cast<double>(n_in) + 4.0);
  for (int k = 0; k < 4; ++k) {
    const int64_t i = static_cast<int64_t>(base) - 1 + k;
    if (i < 0 || i >= n_in) taps.w[k] = 0.f;
    taps.idx[k] = static_cast<int32_t>(std::min(std::max<int64_t>(i, 0), n_in - 1));
  }
  return taps;
}

std::vector<detail::CubicTaps> axis_taps(int64_t n_out, double scale, int64_t n_in) {
  std::vector<detail::CubicTaps> taps(static_cast<size_t>(n_out));
  for (int64_t d = 0; d < n_out; ++d) taps[d] = placement_taps(d, scale, n_in);
  return taps;
}

}  // namespace

void check_resize_fixed_aspect_ratio_args(int64_t n, int64_t h, int64_t w, int64_t c, double scale, int64_t out_h,
                                          int64_t out_w) {
  const std::string op = "resize_fixed_aspect_ratio: ";
  if (n < 0 || h < 1 || w < 1 || c < 1 || h > kMaxSide || w > kMaxSide || c > kMaxSide)
    throw InvalidArgument(expected_got(op + "images shape", "[N >= 0, H >= 1, W >= 1, C >= 1], sides below 2^31",
                                       shape_str({n, h, w, c})));
  if (!std::isfinite(scale) || scale <= 0)
    throw InvalidArgument(expected_got(op + "scale", "a finite positive factor", number_str(scale)));
  if (out_h < 1 || out_w < 1 || out_h > kMaxNetSide || out_w > kMaxNetSide)
    throw InvalidArgument(expected_got(op + "canvas size", "(H, W) both in [1, " + std::to_string(kMaxNetSide) + "]",
                                       "(" + std::to_string(out_h) + ", " + std::to_string(out_w) + ")"));
  // The canvas holds N * H * W * C floats: refuse what no address space holds before any allocation.
  const int64_t per_image = out_h * out_w * c;  // <= 2^32 * 2^31: fits int64
  if (n > 0 && per_image > (int64_t{1} << 31) / n)
    throw InvalidArgument(
        expected_got(op + "canvas", "at most 2^31 values (N * H * W * C)", shape_str({n, out_h, out_w, c})));
}

namespace {

// Nearest integer of v in [0, 255], ties to even (as std::nearbyint in the default rounding mode):
// adding 2^23 leaves no fraction bits, so the float addition itself rounds. Branch-free, so the
// vertical pass vectorises without a libm call per value.
inline float round_0_255(float v) {
  v = std::min(std::max(v, 0.f), 255.f);  // rounding and clamping to integer bounds commute
  const float magic = 8388608.f;
  return (v + magic) - magic;
}

// Horizontal pass of one source row (uint8, C channels) into out_w x C floats. kTaps = 2 reads only
// the middle taps (bilinear: the outer weights are 0, and the values are >= 0, so dropping 0 * v
// terms cannot change a sum, not even the sign of a zero); kTaps = 4 sums all four, left to right.
template <int kTaps, int kC>
void horizontal_row(const uint8_t* in, int64_t c_dyn, const std::vector<detail::CubicTaps>& tx, float* o) {
  const int64_t c = kC > 0 ? kC : c_dyn;
  const int64_t out_w = static_cast<int64_t>(tx.size());
  for (int64_t x = 0; x < out_w; ++x) {
    const detail::CubicTaps& t = tx[x];
    const uint8_t* p0 = in + static_cast<int64_t>(t.idx[0]) * c;
    const uint8_t* p1 = in + static_cast<int64_t>(t.idx[1]) * c;
    const uint8_t* p2 = in + static_cast<int64_t>(t.idx[2]) * c;
    const uint8_t* p3 = in + static_cast<int64_t>(t.idx[3]) * c;
    float* ox = o + x * c;
    for (int64_t ch = 0; ch < c; ++ch) {
      if (kTaps == 2)
        ox[ch] = static_cast<float>(p1[ch]) * t.w[1] + static_cast<float>(p2[ch]) * t.w[2];
      else
        ox[ch] = detail::cubic_sum(p0[ch], p1[ch], p2[ch], p3[ch], t.w);
    }
  }
}

template <int kTaps>
void horizontal_row_any_c(const uint8_t* in, int64_t c, const std::vector<detail::CubicTaps>& tx, float* o) {
  if (c == 3)
    horizontal_row<kTaps, 3>(in, c, tx, o);
  else
    horizontal_row<kTaps, 0>(in, c, tx, o);
}

}  // namespace

void resize_fixed_aspect_ratio(const uint8_t* images, int64_t n, int64_t h, int64_t w, int64_t c, double scale,
                               int64_t out_h, int64_t out_w, float* out, const ParallelFor& pf) {
  check_resize_fixed_aspect_ratio_args(n, h, w, c, scale, out_h, out_w);
  const bool cubic = scale > 1.0;
  const int first_tap = cubic ? 0 : 1, last_tap = cubic ? 3 : 2;  // bilinear: the outer taps weigh 0
  const std::vector<detail::CubicTaps> tx = axis_taps(out_w, scale, w);
  const std::vector<detail::CubicTaps> ty = axis_taps(out_h, scale, h);
  const int64_t row_len = out_w * c;
  // Bands of output rows: each band interpolates horizontally the source rows its vertical taps read
  // (at most 4 per output row, in a per-thread buffer that stays in cache) and then sums vertically.
  // A band recomputes at most 3 rows of its neighbour; memory is O(band x canvas width), never the image.
  constexpr int64_t kBand = 32;
  const int64_t bands = (out_h + kBand - 1) / kBand;
  const int64_t taps = cubic ? 4 : 2;
  for (int64_t b = 0; b < n; ++b) {
    const uint8_t* img = images + b * h * w * c;
    float* dst = out + b * out_h * row_len;
    pf(bands, kBand * row_len * taps * 4, [&](int64_t begin, int64_t end) {
      thread_local std::vector<float> rows;
      thread_local std::vector<int32_t> source;  // the band's source rows, ascending
      for (int64_t band = begin; band < end; ++band) {
        const int64_t y0 = band * kBand, y1 = std::min(out_h, y0 + kBand);
        source.clear();
        // A row's taps are consecutive source rows and start no earlier than the previous row's, so
        // a tap not above the last row collected is already in the list: the list stays sorted.
        for (int64_t y = y0; y < y1; ++y)
          for (int k = first_tap; k <= last_tap; ++k)
            if (source.empty() || ty[y].idx[k] > source.back()) source.push_back(ty[y].idx[k]);
        rows.resize(source.size() * static_cast<size_t>(row_len));
        for (size_t r = 0; r < source.size(); ++r) {
          const uint8_t* in = img + static_cast<int64_t>(source[r]) * w * c;
          if (cubic)
            horizontal_row_any_c<4>(in, c, tx, rows.data() + r * row_len);
          else
            horizontal_row_any_c<2>(in, c, tx, rows.data() + r * row_len);
        }
        for (int64_t y = y0; y < y1; ++y) {
          const detail::CubicTaps& t = ty[y];
          const float* r[4];
          for (int k = first_tap; k <= last_tap; ++k) {
            const size_t i =
                static_cast<size_t>(std::lower_bound(source.begin(), source.end(), t.idx[k]) - source.begin());
            r[k] = rows.data() + i * row_len;
          }
          float* o = dst + y * row_len;
          if (cubic) {
            const float w0 = t.w[0], w1 = t.w[1], w2 = t.w[2], w3 = t.w[3];
            for (int64_t i = 0; i < row_len; ++i)
              o[i] = round_0_255(r[0][i] * w0 + r[1][i] * w1 + r[2][i] * w2 + r[3][i] * w3);
          } else {
            const float w1 = t.w[1], w2 = t.w[2];
            for (int64_t i = 0; i < row_len; ++i) o[i] = round_0_255(r[1][i] * w1 + r[2][i] * w2);
          }
        }
      }
      detail::trim_scratch(rows, source);
    });
  }
}

}  // namespace tfpose
