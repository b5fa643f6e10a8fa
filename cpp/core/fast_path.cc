#include "tfpose/fast_path.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tfpose/detail/denormals.hpp"
#include "tfpose/detail/interp.hpp"
#include "tfpose/detail/paf_score.hpp"
#include "tfpose/detail/peak.hpp"

namespace tfpose {

namespace {

using detail::CubicTaps;
using detail::ResizePlan;

// Output tiles whose bound exceeds the threshold are evaluated exactly. 8 x 8 is one source pixel at
// the usual 8x upsampling, so a blob's tail drags in little background; it must be >= kMargin so
// that a tile's margin lies within its neighbour tiles.
constexpr int64_t kTile = 8;
constexpr int64_t kMargin = 3;  // the peak test reads 1 pixel around, the 7x7 centroid 3
static_assert(kTile >= kMargin, "a tile's margin must fit in its neighbours");

// Inclusive range of source indices that target indices [d0, d1) read along one axis.
struct Range {
  int64_t lo, hi;
};

Range tap_range(const ResizePlan& p, bool x_axis, int64_t d0, int64_t d1) {
  if (p.copy) return {d0, d1 - 1};
  const std::vector<CubicTaps>& taps = x_axis ? p.xtaps : p.ytaps;
  Range r{std::numeric_limits<int64_t>::max(), -1};
  for (int64_t d = d0; d < d1; ++d) {
    for (int j = 0; j < 4; ++j) {
      r.lo = std::min<int64_t>(r.lo, taps[static_cast<size_t>(d)].idx[j]);
      r.hi = std::max<int64_t>(r.hi, taps[static_cast<size_t>(d)].idx[j]);
    }
  }
  return r;
}

// Along one axis, for the target indices of one tile: the source indices they read ([lo, hi]) and,
// per source index i, the largest positive and |negative| weight that any of the tile's target
// indices gives it (taps clamped onto the same index summed per sign). Then for every value v of the
// tile, v = sum_i w_i t_i <= sum_i pos_i max(t_i, 0) + neg_i max(-t_i, 0).
struct TileWeights {
  Range r;
  std::vector<double> pos, neg;  // [hi - lo + 1]
};

TileWeights tile_weights(const ResizePlan& p, bool x_axis, int64_t d0, int64_t d1) {
  TileWeights tw;
  tw.r = tap_range(p, x_axis, d0, d1);
  const size_t len = static_cast<size_t>(tw.r.hi - tw.r.lo + 1);
  tw.pos.assign(len, 0.0);
  tw.neg.assign(len, 0.0);
  if (p.copy) {
    std::fill(tw.pos.begin(), tw.pos.end(), 1.0);
    return tw;
  }
  const std::vector<CubicTaps>& taps = x_axis ? p.xtaps : p.ytaps;
  std::vector<double> ps(len), ns(len);
  for (int64_t d = d0; d < d1; ++d) {
    std::fill(ps.begin(), ps.end(), 0.0);
    std::fill(ns.begin(), ns.end(), 0.0);
    const CubicTaps& t = taps[static_cast<size_t>(d)];
    for (int j = 0; j < 4; ++j) {
      const size_t i = static_cast<size_t>(t.idx[j] - tw.r.lo);
      (t.w[j] > 0.f ? ps[i] : ns[i]) += std::fabs(static_cast<double>(t.w[j]));
    }
    for (size_t i = 0; i < len; ++i) {
      tw.pos[i] = std::max(tw.pos[i], ps[i]);
      tw.neg[i] = std::max(tw.neg[i], ns[i]);
    }
  }
  return tw;
}

// What every (image, part) unit of fast_nms shares.
struct NmsSetup {
  std::vector<ResizePlan> plans;
  int64_t tiles_x = 0, tiles_y = 0;
  std::vector<std::vector<TileWeights>> tile_cols, tile_rows;  // [S][tiles_x], [S][tiles_y]
};

NmsSetup make_nms_setup(const std::vector<ScaleMaps>& scales, int64_t H, int64_t W, OpenposeBuild build) {
  NmsSetup st;
  st.plans = detail::make_resize_plans(scales, H, W, build);
  st.tiles_x = (W + kTile - 1) / kTile;
  st.tiles_y = (H + kTile - 1) / kTile;
  const size_t S = st.plans.size();
  st.tile_cols.resize(S);
  st.tile_rows.resize(S);
  for (size_t s = 0; s < S; ++s) {
    const ResizePlan& p = st.plans[s];
    for (int64_t t = 0; t < st.tiles_x; ++t)
      st.tile_cols[s].push_back(tile_weights(p, true, t * kTile, std::min(W, (t + 1) * kTile)));
    for (int64_t t = 0; t < st.tiles_y; ++t)
      st.tile_rows[s].push_back(tile_weights(p, false, t * kTile, std::min(H, (t + 1) * kTile)));
  }
  return st;
}

// Per-thread scratch of fast_nms; reused across the thread's units.
struct NmsScratch {
  std::vector<double> bound, mag;     // [tiles_y * tiles_x]
  std::vector<float> colmax, colmin;  // [h_s * tiles_x]
  std::vector<char> flag;             // [tiles_y * tiles_x]: bound above the threshold
  std::vector<float> hrows;           // horizontally interpolated source rows of one band run
  // [H * W] exact merged values of the unit's channel; only the pixels of evaluated runs are ever
  // written or read, so it is left uninitialised (untouched pages cost nothing).
  std::unique_ptr<float[]> plane;
};

// Upper bound of every tile's merged values of one channel (sc.bound) plus sum |w t| over its taps
// (sc.mag), the scale of float rounding, both summed over scales. Separable: first per source row and
// tile column the bounds hpos >= h and hneg >= -h of every horizontally interpolated value h, then the
// vertical weights over them. A NaN or infinite tap makes the bound infinite (or NaN): evaluated.
void tile_bounds(const NmsSetup& st, int64_t img, int64_t c, int64_t channel, NmsScratch& sc) {
  const int64_t tx_n = st.tiles_x, ty_n = st.tiles_y;
  sc.bound.assign(static_cast<size_t>(tx_n * ty_n), 0.0);
  sc.mag.assign(static_cast<size_t>(tx_n * ty_n), 0.0);
  const double inf = std::numeric_limits<double>::infinity();
  // Terms with a zero weight are skipped, so an infinite tap never makes 0 * Inf.
  auto acc = [](double w, double t) { return w > 0.0 && t > 0.0 ? w * t : 0.0; };
  for (size_t s = 0; s < st.plans.size(); ++s) {
    const ResizePlan& p = st.plans[s];
    const float* src = p.data + img * p.h * p.w * c + channel;
    sc.colmax.resize(static_cast<size_t>(p.h * tx_n));  // hpos
    sc.colmin.resize(static_cast<size_t>(p.h * tx_n));  // hneg
    for (int64_t r = 0; r < p.h; ++r) {
      const float* row = src + r * p.w * c;
      for (int64_t t = 0; t < tx_n; ++t) {
        const TileWeights& tw = st.tile_cols[s][static_cast<size_t>(t)];
        double hp = 0.0, hn = 0.0;
        for (int64_t x = tw.r.lo; x <= tw.r.hi; ++x) {
          const double v = row[x * c];
          if (v != v) {
            hp = hn = inf;
            break;
          }
          const size_t i = static_cast<size_t>(x - tw.r.lo);
          hp += acc(tw.pos[i], v) + acc(tw.neg[i], -v);
          hn += acc(tw.neg[i], v) + acc(tw.pos[i], -v);
        }
        sc.colmax[static_cast<size_t>(r * tx_n + t)] = static_cast<float>(hp);
        sc.colmin[static_cast<size_t>(r * tx_n + t)] = static_cast<float>(hn);
      }
    }
    for (int64_t ty = 0; ty < ty_n; ++ty) {
      const TileWeights& tw = st.tile_rows[s][static_cast<size_t>(ty)];
      for (int64_t tx = 0; tx < tx_n; ++tx) {
        double b = 0.0, m = 0.0;
        for (int64_t r = tw.r.lo; r <= tw.r.hi; ++r) {
          const size_t i = static_cast<size_t>(r - tw.r.lo);
          const double hp = sc.colmax[static_cast<size_t>(r * tx_n + tx)];
          const double hn = sc.colmin[static_cast<size_t>(r * tx_n + tx)];
          b += acc(tw.pos[i], hp) + acc(tw.neg[i], hn);
          m += acc(tw.pos[i] + tw.neg[i], hp + hn);
        }
        const size_t i = static_cast<size_t>(ty * tx_n + tx);
        sc.bound[i] += b;
        sc.mag[i] += m;
      }
    }
  }
}

template <detail::MergeStep mode>
void vertical_run(const float* r0, const float* r1, const float* r2, const float* r3, const float w[4], int64_t n,
                  float k, float* __restrict o) {
  for (int64_t j = 0; j < n; ++j) o[j] = detail::merge_step(mode, o[j], detail::cubic_sum(r0[j], r1[j], r2[j], r3[j], w), k);
}

void vertical_run(detail::MergeStep mode, const float* r0, const float* r1, const float* r2, const float* r3,
                  const float w[4], int64_t n, float k, float* o) {
  using M = detail::MergeStep;
  switch (mode) {
    case M::kAssign: return vertical_run<M::kAssign>(r0, r1, r2, r3, w, n, k, o);
    case M::kAdd: return vertical_run<M::kAdd>(r0, r1, r2, r3, w, n, k, o);
    case M::kAddThenScale: return vertical_run<M::kAddThenScale>(r0, r1, r2, r3, w, n, k, o);
    case M::kAddThenDivide: return vertical_run<M::kAddThenDivide>(r0, r1, r2, r3, w, n, k, o);
  }
}

// Exact merged values of channel `channel` over rows [y0, y1) x columns [x0, x1) into plane ([H, W]):
// per scale the horizontal pass of the source rows these rows read, then the vertical pass and
// merge_step, the dense resize's operations in its order (bit-identical values).
void eval_run(const NmsSetup& st, bool cuda, int64_t img, int64_t c, int64_t channel, int64_t W, int64_t x0,
              int64_t x1, int64_t y0, int64_t y1, NmsScratch& sc) {
  const int64_t n = x1 - x0;
  const int64_t S = static_cast<int64_t>(st.plans.size());
  const float k = detail::merge_constant(S, cuda);
  float* plane = sc.plane.get();
  for (int64_t s = 0; s < S; ++s) {
    const ResizePlan& p = st.plans[static_cast<size_t>(s)];
    const detail::MergeStep mode = detail::merge_step_of(s, S, cuda);
    const float* src = p.data + img * p.h * p.w * c + channel;
    const int64_t rs = p.w * c;
    if (p.copy) {
      for (int64_t y = y0; y < y1; ++y)
        for (int64_t x = x0; x < x1; ++x) {
          float& o = plane[y * W + x];
          o = detail::merge_step(mode, o, src[y * rs + x * c], k);
        }
      continue;
    }
    const Range rr = tap_range(p, false, y0, y1);
    sc.hrows.resize(static_cast<size_t>((rr.hi - rr.lo + 1) * n));
    float* hr = sc.hrows.data();
    for (int64_t r = rr.lo; r <= rr.hi; ++r) {
      const float* row = src + r * rs;
      float* h = hr + (r - rr.lo) * n;
      for (int64_t x = x0; x < x1; ++x) h[x - x0] = detail::cubic_row(row, c, p.xtaps[static_cast<size_t>(x)]);
    }
    for (int64_t y = y0; y < y1; ++y) {
      const CubicTaps& ty = p.ytaps[static_cast<size_t>(y)];
      vertical_run(mode, hr + (ty.idx[0] - rr.lo) * n, hr + (ty.idx[1] - rr.lo) * n, hr + (ty.idx[2] - rr.lo) * n,
                   hr + (ty.idx[3] - rr.lo) * n, ty.w, n, k, plane + y * W + x0);
    }
  }
}

void check_fast_nms_args(const std::vector<ScaleMaps>& scales, int64_t n, int64_t c, int64_t H, int64_t W,
                         OpenposeBuild build, int64_t p, const NmsParams& params) {
  check_resize_and_merge_args(scales, n, c, H, W, build);
  if (p < 1 || p > c)
    throw InvalidArgument(expected_got("fast_nms: part channels", "1 <= P <= C = " + std::to_string(c),
                                       std::to_string(p)));
  check_nms_args(n, H, W, p, params);
}

}  // namespace

void fast_nms(const std::vector<ScaleMaps>& scales, int64_t n, int64_t c, int64_t H, int64_t W,
              OpenposeBuild build, int64_t p, const NmsParams& params, float* peaks, int32_t* counts,
              const ParallelFor& pf) {
  check_fast_nms_args(scales, n, c, H, W, build, p, params);
  const int64_t K = params.max_peaks;
  std::memset(peaks, 0, sizeof(float) * static_cast<size_t>(n * p * K * 3));
  std::memset(counts, 0, sizeof(int32_t) * static_cast<size_t>(n * p));
  if (n == 0) return;
  const NmsSetup st = make_nms_setup(scales, H, W, build);
  const bool cuda_src = build == OpenposeBuild::kCuda;
  const bool cuda_rule = params.build == OpenposeBuild::kCuda;
  const float threshold = params.threshold;
  int64_t src_pixels = 0;
  for (const ResizePlan& pl : st.plans) src_pixels += pl.h * pl.w;

  // Unit = (image, part): bounds over its tiles, exact values where needed, its first K peaks.
  pf(n * p, src_pixels * 30 + st.tiles_x * st.tiles_y * 100, [&](int64_t begin, int64_t end) {
    detail::ScopedKeepDenormals keep_denormals;
    NmsScratch sc;
    sc.plane.reset(new float[static_cast<size_t>(H * W)]);
    const int64_t TX = st.tiles_x, TY = st.tiles_y;
    const double inv_s = 1.0 / static_cast<double>(st.plans.size());
    for (int64_t unit = begin; unit < end; ++unit) {
      const int64_t img = unit / p, part = unit % p;
      tile_bounds(st, img, c, part, sc);
      sc.flag.assign(static_cast<size_t>(TX * TY), 0);
      for (size_t i = 0; i < sc.flag.size(); ++i) {
        // Averaging bounds the averaged value; the slack covers float32 rounding of the taps'
        // weighted sums (a few ulp of sum |w t| <= mag) and of denormal products. NaN: evaluate.
        const double b = sc.bound[i] * inv_s + 1e-5 * sc.mag[i] * inv_s + 1e-37;
        sc.flag[i] = !(b <= static_cast<double>(threshold));
      }
      // Band ty (tile row) is evaluated over the columns of the tiles flagged in bands ty - 1 .. ty + 1,
      // widened by the margin: then every pixel a flagged tile's peak test and centroid read is exact.
      auto eval_band = [&](int64_t ty) {
        const int64_t y0 = ty * kTile, y1 = std::min(H, y0 + kTile);
        int64_t tx = 0;
        auto need = [&](int64_t t) {
          for (int64_t b = std::max<int64_t>(0, ty - 1); b <= std::min(TY - 1, ty + 1); ++b)
            if (sc.flag[static_cast<size_t>(b * TX + t)]) return true;
          return false;
        };
        while (tx < TX) {
          if (!need(tx)) {
            ++tx;
            continue;
          }
          int64_t t1 = tx + 1;
          while (t1 < TX && need(t1)) ++t1;
          const int64_t x0 = std::max<int64_t>(0, tx * kTile - kMargin);
          const int64_t x1 = std::min(W, t1 * kTile + kMargin);
          eval_run(st, cuda_src, img, c, part, W, x0, x1, y0, y1, sc);
          tx = t1;
        }
      };
      const float* plane = sc.plane.get();
      float* out = peaks + unit * K * 3;
      int64_t cnt = 0;
      int64_t evaluated = 0;  // bands [0, evaluated) hold their exact values
      for (int64_t ty = 0; ty < TY && cnt < K; ++ty) {
        bool any = false;
        for (int64_t tx = 0; tx < TX; ++tx) any = any || sc.flag[static_cast<size_t>(ty * TX + tx)];
        if (!any) continue;
        for (int64_t b = std::max(evaluated, ty - 1); b <= std::min(TY - 1, ty + 1); ++b) eval_band(b);
        evaluated = std::max(evaluated, std::min(TY, ty + 2));
        // Raster order within the band: rows outer, then the flagged tiles left to right.
        const int64_t y0 = ty * kTile, y1 = std::min(H, y0 + kTile);
        for (int64_t y = y0; y < y1 && cnt < K; ++y) {
          for (int64_t tx = 0; tx < TX && cnt < K; ++tx) {
            if (!sc.flag[static_cast<size_t>(ty * TX + tx)]) continue;
            const int64_t x1 = std::min(W, (tx + 1) * kTile);
            for (int64_t x = tx * kTile; x < x1; ++x) {
              if (!(plane[y * W + x] > threshold)) continue;
              if (!detail::is_peak(cuda_rule, plane, x, y, W, H, 1, W, threshold)) continue;
              detail::refine_peak(plane, x, y, W, H, 1, W, params.offset_x, params.offset_y, out + cnt * 3);
              if (++cnt == K) break;
            }
          }
        }
      }
      counts[unit] = static_cast<int32_t>(cnt);
    }
  });
}

std::vector<People> fast_connect(const std::vector<ScaleMaps>& scales, int64_t n, int64_t c, int64_t H,
                                 int64_t W, OpenposeBuild build, const float* peaks, const int32_t* counts,
                                 int64_t k, float scale, const PoseModel& model, const ConnectThresholds& th,
                                 const ParallelFor& pf) {
  check_resize_and_merge_args(scales, n, c, H, W, build);
  check_connect_shapes(n, H, W, c, n, model.num_parts(), k, n, model.num_parts(), 1, model);
  if (!std::isfinite(scale) || !(scale > 0.f))
    throw InvalidArgument(expected_got("connect: scale[0]", "a finite number > 0", std::to_string(scale)));
  const int64_t P = model.num_parts(), L = model.num_limbs();
  check_connect_peaks(peaks, counts, n, P, k);
  if (n == 0) return {};
  const std::vector<ResizePlan> plans = detail::make_resize_plans(scales, H, W, build);
  const int64_t S = static_cast<int64_t>(plans.size());
  const bool cuda = build == OpenposeBuild::kCuda;
  const detail::PafScoreParams ps = paf_score_params(th, build, W, H);

  // Pair scores of every (image, limb), computed in parallel; the assembly then only reads them.
  // table[img * L + l] is [counts[A], counts[B]] row-major.
  std::vector<std::vector<float>> table(static_cast<size_t>(n * L));
  int64_t max_pairs = 1;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t l = 0; l < L; ++l)
      max_pairs = std::max<int64_t>(max_pairs, int64_t{counts[i * P + model.pairs[l][0]]} *
                                                   counts[i * P + model.pairs[l][1]]);
  pf(n * L, max_pairs * 25 * 2 * S * 40, [&](int64_t begin, int64_t end) {
    detail::ScopedKeepDenormals keep_denormals;
    std::vector<detail::ScaleView> vx(static_cast<size_t>(S)), vy(static_cast<size_t>(S));
    for (int64_t unit = begin; unit < end; ++unit) {
      const int64_t img = unit / L, l = unit % L;
      const int A = model.pairs[l][0], B = model.pairs[l][1];
      const int na = counts[img * P + A], nb = counts[img * P + B];
      std::vector<float>& t = table[static_cast<size_t>(unit)];
      t.resize(static_cast<size_t>(na) * static_cast<size_t>(nb));
      if (t.empty()) continue;
      for (int64_t s = 0; s < S; ++s) {
        const ResizePlan& pl = plans[static_cast<size_t>(s)];
        const float* image = pl.data + img * pl.h * pl.w * c;
        const detail::ScaleView base{image, pl.w * c, c, pl.copy, pl.xtaps.data(), pl.ytaps.data()};
        vx[static_cast<size_t>(s)] = base;
        vy[static_cast<size_t>(s)] = base;
        vx[static_cast<size_t>(s)].data = image + model.paf_channel(static_cast<int>(l), 0);
        vy[static_cast<size_t>(s)].data = image + model.paf_channel(static_cast<int>(l), 1);
      }
      auto sampler = [&](int px, int py, float* ox, float* oy) {
        *ox = detail::merged_pixel(vx.data(), S, cuda, px, py);
        *oy = detail::merged_pixel(vy.data(), S, cuda, px, py);
      };
      const float* pk = peaks + img * P * k * 3;
      for (int ia = 0; ia < na; ++ia) {
        const float* pa = pk + (A * k + ia) * 3;
        for (int ib = 0; ib < nb; ++ib) {
          const float* pb = pk + (B * k + ib) * 3;
          t[static_cast<size_t>(ia * nb + ib)] = detail::paf_line_score(
              pa[0], pa[1], pb[0], pb[1], static_cast<int>(W), static_cast<int>(H), ps, sampler);
        }
      }
    }
  });

  std::vector<People> out(static_cast<size_t>(n));
  std::mutex err_mu;
  std::exception_ptr err;
  pf(n, 200000, [&](int64_t b, int64_t e) {
    try {
      for (int64_t i = b; i < e; ++i) {
        const int32_t* cnt = counts + i * P;
        auto score = [&](int l, int ia, int ib) {
          const int nb = cnt[model.pairs[l][1]];
          return table[static_cast<size_t>(i * L + l)][static_cast<size_t>(ia * nb + ib)];
        };
        out[static_cast<size_t>(i)] = assemble_people(model, th, build, peaks + i * P * k * 3, cnt, k, scale, score);
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(err_mu);
      if (!err) err = std::current_exception();
    }
  });
  if (err) std::rethrow_exception(err);
  return out;
}

}  // namespace tfpose
