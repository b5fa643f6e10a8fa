#include "tfpose/fast_path.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <exception>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
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
  std::vector<float> pos, neg;  // [hi - lo + 1], rounded up from the double maxima
};

TileWeights tile_weights(const ResizePlan& p, bool x_axis, int64_t d0, int64_t d1) {
  TileWeights tw;
  tw.r = tap_range(p, x_axis, d0, d1);
  const size_t len = static_cast<size_t>(tw.r.hi - tw.r.lo + 1);
  std::vector<double> pos(len, 0.0), neg(len, 0.0);
  if (p.copy) {
    std::fill(pos.begin(), pos.end(), 1.0);
  } else {
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
        pos[i] = std::max(pos[i], ps[i]);
        neg[i] = std::max(neg[i], ns[i]);
      }
    }
  }
  // A relative 1e-6 above the double weights: the nearest float cannot lie below them.
  for (size_t i = 0; i < len; ++i) {
    tw.pos.push_back(static_cast<float>(pos[i] * (1.0 + 1e-6)));
    tw.neg.push_back(static_cast<float>(neg[i] * (1.0 + 1e-6)));
  }
  return tw;
}

// Blocks of kBlock x kBlock tiles get a coarse bound first (block_bounds); only blocks that may
// exceed the threshold get the per-tile bound and everything after it, so that empty area costs
// little more than reading the source maps once.
constexpr int64_t kBlock = 32 / kTile;

// Largest sum of positive and of |negative| tap weights that any target index of one axis gives
// (taps clamped onto the same index counted separately: each term is bounded on its own).
struct AxisWeightSums {
  double pos = 0.0, neg = 0.0;
};

AxisWeightSums axis_weight_sums(const ResizePlan& p, bool x_axis) {
  AxisWeightSums a;
  if (p.copy) {
    a.pos = 1.0;
    return a;
  }
  for (const CubicTaps& t : x_axis ? p.xtaps : p.ytaps) {
    double ps = 0.0, ns = 0.0;
    for (int j = 0; j < 4; ++j) (t.w[j] > 0.f ? ps : ns) += std::fabs(static_cast<double>(t.w[j]));
    a.pos = std::max(a.pos, ps);
    a.neg = std::max(a.neg, ns);
  }
  return a;
}

// Per scale, what the coarse bound multiplies the window maxima with: every value v of that scale
// is sum_ij wy_i wx_j t_ij <= wpos max(t, 0) + wneg max(-t, 0) over the taps' window, where wpos =
// PyPx + NyNx and wneg = PyNx + NyPx; wmag = (Py + Ny)(Px + Nx) bounds sum |w| for the rounding slack.
struct CoarseWeights {
  float wpos, wneg, wmag;
};

// The horizontal taps of one scale as separate arrays (idx[k][x], w[k][x]), so that the horizontal
// pass vectorises over target columns. When upsampling, consecutive columns share their four source
// indices (8 at the usual 8x): group_end[x] = end of x's run of columns with the same indices, and
// the pass then broadcasts four source values per run instead of gathering four per column
// (gathers are slow on many x86 cores). use_groups: runs average >= 2 columns.
struct SoaTaps {
  std::vector<int32_t> idx[4];
  std::vector<float> w[4];
  std::vector<int32_t> group_end;
  bool use_groups = false;
};

// What every unit of fast_nms shares that depends only on the shapes and taps: built once and
// cached across calls (keyed by the taps themselves), since building it costs about as much as
// bounding an empty frame.
struct NmsGeom {
  int64_t H = 0, W = 0;
  std::vector<ResizePlan> key;  // the plans it was built from, data pointers cleared
  int64_t tiles_x = 0, tiles_y = 0;
  int64_t blocks_x = 0, blocks_y = 0;
  std::vector<std::vector<TileWeights>> tile_cols, tile_rows;  // [S][tiles_x], [S][tiles_y]
  std::vector<std::vector<Range>> block_cols, block_rows;      // [S][blocks_x], [S][blocks_y]: source windows
  std::vector<CoarseWeights> coarse;                           // [S]
  std::vector<SoaTaps> soa_x;                                  // [S], empty for copies
};

// What every unit of fast_nms shares, per call.
struct NmsSetup {
  std::vector<ResizePlan> plans;
  std::shared_ptr<const NmsGeom> g;
};

bool same_taps(const std::vector<CubicTaps>& a, const std::vector<CubicTaps>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(CubicTaps)) == 0);
}

bool geom_matches(const NmsGeom& g, const std::vector<ResizePlan>& plans, int64_t H, int64_t W) {
  if (g.H != H || g.W != W || g.key.size() != plans.size()) return false;
  for (size_t s = 0; s < plans.size(); ++s) {
    const ResizePlan &a = g.key[s], &b = plans[s];
    if (a.h != b.h || a.w != b.w || a.copy != b.copy || !same_taps(a.xtaps, b.xtaps) || !same_taps(a.ytaps, b.ytaps))
      return false;
  }
  return true;
}

std::shared_ptr<const NmsGeom> make_nms_geom(const std::vector<ResizePlan>& plans, int64_t H, int64_t W) {
  auto gp = std::make_shared<NmsGeom>();
  NmsGeom& st = *gp;
  st.H = H;
  st.W = W;
  st.key = plans;
  for (ResizePlan& k : st.key) k.data = nullptr;
  st.tiles_x = (W + kTile - 1) / kTile;
  st.tiles_y = (H + kTile - 1) / kTile;
  const size_t S = plans.size();
  st.tile_cols.resize(S);
  st.tile_rows.resize(S);
  for (size_t s = 0; s < S; ++s) {
    const ResizePlan& p = plans[s];
    for (int64_t t = 0; t < st.tiles_x; ++t)
      st.tile_cols[s].push_back(tile_weights(p, true, t * kTile, std::min(W, (t + 1) * kTile)));
    for (int64_t t = 0; t < st.tiles_y; ++t)
      st.tile_rows[s].push_back(tile_weights(p, false, t * kTile, std::min(H, (t + 1) * kTile)));
  }
  const int64_t bpx = kBlock * kTile;
  st.blocks_x = (W + bpx - 1) / bpx;
  st.blocks_y = (H + bpx - 1) / bpx;
  st.block_cols.resize(S);
  st.block_rows.resize(S);
  for (size_t s = 0; s < S; ++s) {
    const ResizePlan& p = plans[s];
    for (int64_t b = 0; b < st.blocks_x; ++b)
      st.block_cols[s].push_back(tap_range(p, true, b * bpx, std::min(W, (b + 1) * bpx)));
    for (int64_t b = 0; b < st.blocks_y; ++b)
      st.block_rows[s].push_back(tap_range(p, false, b * bpx, std::min(H, (b + 1) * bpx)));
    SoaTaps soa;
    for (const CubicTaps& t : p.xtaps)
      for (int k = 0; k < 4; ++k) {
        soa.idx[k].push_back(t.idx[k]);
        soa.w[k].push_back(t.w[k]);
      }
    const int64_t nx = static_cast<int64_t>(p.xtaps.size());
    soa.group_end.resize(static_cast<size_t>(nx));
    int64_t groups = 0;
    for (int64_t x = nx - 1; x >= 0; --x) {
      const bool same_as_next = x + 1 < nx && std::memcmp(p.xtaps[static_cast<size_t>(x)].idx,
                                                          p.xtaps[static_cast<size_t>(x + 1)].idx, sizeof(int32_t) * 4) == 0;
      soa.group_end[static_cast<size_t>(x)] =
          same_as_next ? soa.group_end[static_cast<size_t>(x + 1)] : static_cast<int32_t>(x + 1);
      groups += !same_as_next;
    }
    soa.use_groups = nx >= 2 * groups;
    st.soa_x.push_back(std::move(soa));
    const AxisWeightSums ax = axis_weight_sums(p, true), ay = axis_weight_sums(p, false);
    // A relative 1e-6 above the double products: the float cannot lie below them.
    const double up = 1.0 + 1e-6;
    st.coarse.push_back({static_cast<float>((ay.pos * ax.pos + ay.neg * ax.neg) * up),
                         static_cast<float>((ay.pos * ax.neg + ay.neg * ax.pos) * up),
                         static_cast<float>((ay.pos + ay.neg) * (ax.pos + ax.neg) * up)});
  }
  return gp;
}

NmsSetup make_nms_setup(const std::vector<ScaleMaps>& scales, int64_t H, int64_t W, OpenposeBuild build) {
  NmsSetup st;
  st.plans = detail::make_resize_plans(scales, H, W, build);
  static std::mutex* mu = detail::new_process_mutex();  // held across fork(); never destroyed
  static std::shared_ptr<const NmsGeom>* cached = new std::shared_ptr<const NmsGeom>();
  {
    std::lock_guard<std::mutex> lock(*mu);
    if (*cached && geom_matches(**cached, st.plans, H, W)) st.g = *cached;
  }
  if (!st.g) {
    st.g = make_nms_geom(st.plans, H, W);
    std::lock_guard<std::mutex> lock(*mu);
    *cached = st.g;
  }
  return st;
}

// Max that keeps a NaN once one came in (a > m and a < m are both false for NaN a or m).
inline float nan_max(float m, float a) { return (a > m || a != a) ? a : m; }

struct BlockScratch {
  std::vector<float> hpos, hneg;  // [source rows, blocks_x, P]: row maxima over each block's columns
  std::vector<float> apos, aneg;  // [w, P]: max(t, 0) + t * 0 and max(-t, 0) of one source row
  std::vector<float> a2pos, a2neg, a4pos, a4neg;  // [w, P]: their maxima over columns x..x+1, x..x+3
  std::vector<float> mpos, mneg;  // [blocks_x, P]: column maxima of one block row
  std::vector<float> total, slack;  // [blocks_y, blocks_x, P]
};

// The bound loops run over P contiguous channels; AVX2 clones where the CPU has it (no FMA: not
// needed for a bound, and the clones then round exactly like the default).
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(__CUDACC__)
#define TFPOSE_BOUND_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define TFPOSE_BOUND_CLONES
#endif

// Coarse pass of one image: active[by * blocks_x + bx] = whether any part channel of block (by, bx)
// may exceed the threshold, by the bound sum_s (wpos_s Mpos_s + wneg_s Mneg_s) / S, Mpos_s / Mneg_s
// the largest max(t, 0) / max(-t, 0) over the scale's source window of the block (separable sliding
// maxima), plus the same rounding slack as the tile bound, doubled. A NaN or Inf in the window makes
// the block active (max(t, 0) + t * 0 is then NaN and nan_max keeps it).
TFPOSE_BOUND_CLONES void block_bounds(const NmsSetup& st, int64_t img, int64_t c, int64_t P, float threshold, BlockScratch& sc,
                  char* active) {
  const int64_t BX = st.g->blocks_x, BY = st.g->blocks_y;
  const size_t S = st.plans.size();
  const float inv_s = static_cast<float>(1.0 / static_cast<double>(S));
  sc.total.assign(static_cast<size_t>(BY * BX * P), 0.f);
  sc.slack.assign(static_cast<size_t>(BY * BX * P), 0.f);
  float* __restrict total = sc.total.data();
  float* __restrict slack = sc.slack.data();
  const int64_t BP = BX * P;
  for (size_t s = 0; s < S; ++s) {
    const ResizePlan& p = st.plans[s];
    const CoarseWeights cw = st.g->coarse[s];
    const float* src = p.data + img * p.h * p.w * c;
    sc.hpos.assign(static_cast<size_t>(p.h * BP), 0.f);
    sc.hneg.assign(static_cast<size_t>(p.h * BP), 0.f);
    sc.apos.resize(static_cast<size_t>(p.w * P));
    sc.aneg.resize(static_cast<size_t>(p.w * P));
    for (auto* v : {&sc.a2pos, &sc.a2neg, &sc.a4pos, &sc.a4neg}) v->resize(static_cast<size_t>(p.w * P));
    for (int64_t r = 0; r < p.h; ++r) {
      // Once per source value (the block windows overlap): max(t, 0), NaN for a NaN or infinite t.
      float* __restrict ap = sc.apos.data();
      float* __restrict an = sc.aneg.data();
      for (int64_t x = 0; x < p.w; ++x) {
        const float* __restrict v = src + (r * p.w + x) * c;
        for (int64_t ch = 0; ch < P; ++ch) {
          const float a = v[ch];
          ap[x * P + ch] = (a > 0.f ? a : 0.f) + a * 0.f;
          an[x * P + ch] = -a > 0.f ? -a : 0.f;
        }
      }
      // Maxima over 4 consecutive columns (two overlapping ones cover any window of 4..8 columns,
      // the usual 8x block window): flat loops over columns and channels.
      const int64_t n4 = p.w >= 4 ? (p.w - 3) * P : 0;
      if (n4 > 0) {
        float* __restrict a2p = sc.a2pos.data();
        float* __restrict a2n = sc.a2neg.data();
        float* __restrict a4p = sc.a4pos.data();
        float* __restrict a4n = sc.a4neg.data();
        for (int64_t i = 0; i < n4 + 2 * P; ++i) {
          a2p[i] = nan_max(ap[i], ap[i + P]);
          a2n[i] = std::max(an[i], an[i + P]);
        }
        for (int64_t i = 0; i < n4; ++i) {
          a4p[i] = nan_max(a2p[i], a2p[i + 2 * P]);
          a4n[i] = std::max(a2n[i], a2n[i + 2 * P]);
        }
      }
      for (int64_t bx = 0; bx < BX; ++bx) {
        const Range xr = st.g->block_cols[s][static_cast<size_t>(bx)];
        float* __restrict hp = sc.hpos.data() + (r * BX + bx) * P;
        float* __restrict hn = sc.hneg.data() + (r * BX + bx) * P;
        const int64_t len = xr.hi - xr.lo + 1;
        if (n4 > 0 && len >= 4 && len <= 8) {
          const float *__restrict p0 = sc.a4pos.data() + xr.lo * P, *__restrict p1 = sc.a4pos.data() + (xr.hi - 3) * P;
          const float *__restrict n0 = sc.a4neg.data() + xr.lo * P, *__restrict n1 = sc.a4neg.data() + (xr.hi - 3) * P;
          for (int64_t ch = 0; ch < P; ++ch) {
            hp[ch] = nan_max(p0[ch], p1[ch]);
            hn[ch] = std::max(n0[ch], n1[ch]);
          }
          continue;
        }
        for (int64_t x = xr.lo; x <= xr.hi; ++x)
          for (int64_t ch = 0; ch < P; ++ch) {
            hp[ch] = nan_max(hp[ch], ap[x * P + ch]);
            hn[ch] = std::max(hn[ch], an[x * P + ch]);
          }
      }
    }
    sc.mpos.resize(static_cast<size_t>(BP));
    sc.mneg.resize(static_cast<size_t>(BP));
    float* __restrict mp = sc.mpos.data();
    float* __restrict mn = sc.mneg.data();
    for (int64_t by = 0; by < BY; ++by) {
      const Range yr = st.g->block_rows[s][static_cast<size_t>(by)];
      std::fill(mp, mp + BP, 0.f);
      std::fill(mn, mn + BP, 0.f);
      // Rows outer, so that the maxima vectorise over blocks and channels.
      for (int64_t r = yr.lo; r <= yr.hi; ++r) {
        const float* __restrict hp = sc.hpos.data() + r * BP;
        const float* __restrict hn = sc.hneg.data() + r * BP;
        for (int64_t i = 0; i < BP; ++i) {
          mp[i] = nan_max(mp[i], hp[i]);
          mn[i] = std::max(mn[i], hn[i]);
        }
      }
      float* __restrict tot = total + by * BP;
      float* __restrict sl = slack + by * BP;
      for (int64_t i = 0; i < BP; ++i) {
        tot[i] += cw.wpos * mp[i] + cw.wneg * mn[i];
        sl[i] += cw.wmag * (mp[i] > mn[i] ? mp[i] : mn[i]) + mp[i] * 0.f;
      }
    }
  }
  for (int64_t b = 0; b < BY * BX; ++b) {
    bool any = false;
    for (int64_t ch = 0; ch < P; ++ch) {
      const size_t o = static_cast<size_t>(b * P + ch);
      // Slack: see bound_candidates (2e-5 there); this bound's own float sums are of a few
      // non-negative terms, well inside the doubled allowance.
      const float bnd = total[o] * inv_s + 4e-5f * slack[o] * inv_s + 1e-37f;
      any = any || !(bnd <= threshold);
    }
    active[b] = any;
  }
}

// ---- Memory kept between calls (bounded: kPoolMaxBytes, kScratchKeepBytes; mutex held across fork) ----

// HxW planes of exact values, kept between calls: a fresh one per call and worker would cost page
// faults for every page the evaluated tiles touch. Only the pixels of evaluated runs are ever read,
// so a plane is never cleared. At most kKeep planes and kPoolMaxBytes are kept; larger ones are freed.
class PlanePool {
 public:
  std::unique_ptr<float[]> get(size_t size, size_t* cap) {
    {
      std::lock_guard<std::mutex> lock(*mu_);
      for (size_t i = 0; i < free_.size(); ++i) {
        if (free_[i].second >= size) {
          std::unique_ptr<float[]> out = std::move(free_[i].first);
          *cap = free_[i].second;
          kept_bytes_ -= *cap * sizeof(float);
          free_.erase(free_.begin() + static_cast<std::ptrdiff_t>(i));
          return out;
        }
      }
    }
    *cap = size;
    // Touched once here (outside the lock): otherwise its pages fault in over many calls, as units
    // (a different part of the plane each) land on different workers and planes from call to call.
    return std::unique_ptr<float[]>(new float[size]());
  }
  void put(std::unique_ptr<float[]> plane, size_t cap) {
    std::unique_ptr<float[]> drop;  // freed after unlocking
    std::lock_guard<std::mutex> lock(*mu_);
    if (free_.size() < kKeep && kept_bytes_ + cap * sizeof(float) <= kPoolMaxBytes) {
      kept_bytes_ += cap * sizeof(float);
      free_.emplace_back(std::move(plane), cap);
    } else {
      drop = std::move(plane);
    }
  }

 private:
  static constexpr size_t kKeep = 4;
  std::mutex* mu_ = detail::new_process_mutex();
  size_t kept_bytes_ = 0;
  std::vector<std::pair<std::unique_ptr<float[]>, size_t>> free_;
};

PlanePool& plane_pool() {
  static PlanePool* pool = new PlanePool();  // never destroyed: workers may outlive static teardown
  return *pool;
}

// Runs f at scope exit: trims a thread's scratch once the work that grew it is done.
template <typename F>
struct AtScopeExit {
  F f;
  ~AtScopeExit() { f(); }
};
template <typename F>
AtScopeExit(F) -> AtScopeExit<F>;

// ---- end of memory kept between calls ----

struct PooledPlane {
  explicit PooledPlane(size_t size) : data(plane_pool().get(size, &cap)) {}
  ~PooledPlane() { plane_pool().put(std::move(data), cap); }
  PooledPlane(const PooledPlane&) = delete;
  PooledPlane& operator=(const PooledPlane&) = delete;
  size_t cap = 0;
  std::unique_ptr<float[]> data;
};

// Stage 1, all part channels of one image at once (they are contiguous in NHWC, so every loop below
// vectorises over channels): per tile and part, the separable bound sum_s B_s / S of the tile's
// merged values, B_s = sum_r posy_r hpos_r + negy_r hneg_r over the tile's source rows r, where
// hpos_r = sum_x posx_x max(t, 0) + negx_x max(-t, 0) >= every horizontally interpolated value of
// row r in the tile's columns, hneg_r likewise >= their negation (TileWeights). cand = whether that
// bound plus the rounding slack may exceed the threshold. Any NaN or Inf tap makes the tile a
// candidate (t * 0 is then NaN and is added in). Work unit: a chunk of tile rows [ty0, ty1).
struct BoundScratch {
  std::vector<float> hpos, hneg;  // [rows, tiles_x, P] per scale, concatenated
  std::vector<float> bsum, msum;  // [tiles_x, P]
  std::vector<float> apos, aneg;  // [w, P]: max(t, 0), max(-t, 0) of one source row
};

// hp = sum_i pos_i ap_i + neg_i an_i and hn = sum_i neg_i ap_i + pos_i an_i over len source
// pixels (ap, an: [len, P]), per channel.
TFPOSE_BOUND_CLONES void row_tile_sums(const float* __restrict ap, const float* __restrict an,
                                       const float* pos, const float* neg, int64_t len, int64_t P,
                                       float* __restrict hp, float* __restrict hn) {
  for (int64_t ch = 0; ch < P; ++ch) hp[ch] = hn[ch] = 0.f;
  for (int64_t i = 0; i < len; ++i) {
    const float wp = pos[i], wn = neg[i];
    const float* __restrict a = ap + i * P;
    const float* __restrict b = an + i * P;
    for (int64_t ch = 0; ch < P; ++ch) {
      hp[ch] += wp * a[ch] + wn * b[ch];
      hn[ch] += wn * a[ch] + wp * b[ch];
    }
  }
}

// bs += wp hp + wn hn, ms += (wp + wn)(hp + hn) over n values.
TFPOSE_BOUND_CLONES void column_sums(const float* __restrict hp, const float* __restrict hn, float wp, float wn,
                                     int64_t n, float* __restrict bs, float* __restrict ms) {
  const float wm = wp + wn;
  for (int64_t i = 0; i < n; ++i) {
    bs[i] += wp * hp[i] + wn * hn[i];
    ms[i] += wm * (hp[i] + hn[i]);
  }
}

// Only the tile columns within runs ([t0, t1) in tiles) are bounded; the others keep cand = 0.
TFPOSE_BOUND_CLONES void bound_candidates(const NmsSetup& st, int64_t img, int64_t c, int64_t P, int64_t ty0, int64_t ty1,
                      float threshold, const std::vector<std::array<int64_t, 2>>& runs, BoundScratch& sc,
                      char* cand /* [P][tiles_y * tiles_x] */) {
  const int64_t TX = st.g->tiles_x, T = st.g->tiles_x * st.g->tiles_y;
  const size_t S = st.plans.size();
  std::vector<int64_t> rlo(S), rhi(S), off(S);
  size_t total = 0;
  for (size_t s = 0; s < S; ++s) {
    rlo[s] = st.g->tile_rows[s][static_cast<size_t>(ty0)].r.lo;
    rhi[s] = rlo[s];
    for (int64_t ty = ty0; ty < ty1; ++ty) {
      rlo[s] = std::min(rlo[s], st.g->tile_rows[s][static_cast<size_t>(ty)].r.lo);
      rhi[s] = std::max(rhi[s], st.g->tile_rows[s][static_cast<size_t>(ty)].r.hi);
    }
    off[s] = static_cast<int64_t>(total);
    total += static_cast<size_t>((rhi[s] - rlo[s] + 1) * TX * P);
  }
  sc.hpos.resize(total);
  sc.hneg.resize(total);
  sc.bsum.resize(static_cast<size_t>(TX * P));
  sc.msum.resize(static_cast<size_t>(TX * P));
  for (size_t s = 0; s < S; ++s) {
    const ResizePlan& p = st.plans[s];
    const float* src = p.data + img * p.h * p.w * c;
    sc.apos.resize(static_cast<size_t>(p.w * P));
    sc.aneg.resize(static_cast<size_t>(p.w * P));
    for (int64_t r = rlo[s]; r <= rhi[s]; ++r) {
      const float* row = src + r * p.w * c;
      // max(t, 0) (plus t * 0: NaN for a NaN or infinite t, so that it reaches the bound) and
      // max(-t, 0) of every source value of the row, once; the tiles' sums then only multiply-add.
      for (int64_t x = 0; x < p.w; ++x) {
        const float* __restrict v = row + x * c;
        float* __restrict ap = sc.apos.data() + x * P;
        float* __restrict an = sc.aneg.data() + x * P;
        for (int64_t ch = 0; ch < P; ++ch) {
          const float a = v[ch];
          ap[ch] = (a > 0.f ? a : 0.f) + a * 0.f;
          an[ch] = -a > 0.f ? -a : 0.f;
        }
      }
      float* hp_row = sc.hpos.data() + off[s] + (r - rlo[s]) * TX * P;
      float* hn_row = sc.hneg.data() + off[s] + (r - rlo[s]) * TX * P;
      for (const auto& run : runs)
      for (int64_t t = run[0]; t < run[1]; ++t) {
        const TileWeights& tw = st.g->tile_cols[s][static_cast<size_t>(t)];
        row_tile_sums(sc.apos.data() + tw.r.lo * P, sc.aneg.data() + tw.r.lo * P, tw.pos.data(), tw.neg.data(),
                      tw.r.hi - tw.r.lo + 1, P, hp_row + t * P, hn_row + t * P);
      }
    }
  }
  const float inv_s = static_cast<float>(1.0 / static_cast<double>(S));
  for (int64_t ty = ty0; ty < ty1; ++ty) {
    std::fill(sc.bsum.begin(), sc.bsum.end(), 0.f);
    std::fill(sc.msum.begin(), sc.msum.end(), 0.f);
    for (size_t s = 0; s < S; ++s) {
      const TileWeights& tw = st.g->tile_rows[s][static_cast<size_t>(ty)];
      for (int64_t r = tw.r.lo; r <= tw.r.hi; ++r) {
        const float wp = tw.pos[static_cast<size_t>(r - tw.r.lo)], wn = tw.neg[static_cast<size_t>(r - tw.r.lo)];
        for (const auto& run : runs) {
          const int64_t o = off[s] + (r - rlo[s]) * TX * P + run[0] * P;
          column_sums(sc.hpos.data() + o, sc.hneg.data() + o, wp, wn, (run[1] - run[0]) * P,
                      sc.bsum.data() + run[0] * P, sc.msum.data() + run[0] * P);
        }
      }
    }
    for (const auto& run : runs)
    for (int64_t t = run[0]; t < run[1]; ++t) {
      for (int64_t ch = 0; ch < P; ++ch) {
        // Averaging bounds the averaged value. The slack covers the exact evaluation's float32 rounding
        // (a few ulp of sum |w t| <= mag; 1e-5 mag) plus this float arithmetic's own (sums of
        // non-negative terms, weights rounded up: far below another 1e-5 mag); 1e-37 denormal
        // products. NaN: candidate.
        const float bnd = sc.bsum[static_cast<size_t>(t * P + ch)] * inv_s +
                          2e-5f * sc.msum[static_cast<size_t>(t * P + ch)] * inv_s + 1e-37f;
        cand[ch * T + ty * TX + t] = !(bnd <= threshold);
      }
    }
  }
}

// h[x] = cubic_sum of g's four taps at x for x in [x0, x1): cubic_row's operations in its order.
TFPOSE_BOUND_CLONES void horizontal_run(const float* __restrict g, const SoaTaps& t, int64_t x0, int64_t x1,
                                        float* __restrict h) {
  const int32_t *__restrict i0 = t.idx[0].data(), *__restrict i1 = t.idx[1].data(), *__restrict i2 = t.idx[2].data(),
                              *__restrict i3 = t.idx[3].data();
  const float *__restrict w0 = t.w[0].data(), *__restrict w1 = t.w[1].data(), *__restrict w2 = t.w[2].data(),
                            *__restrict w3 = t.w[3].data();
  if (!t.use_groups) {
    for (int64_t x = x0; x < x1; ++x) h[x] = g[i0[x]] * w0[x] + g[i1[x]] * w1[x] + g[i2[x]] * w2[x] + g[i3[x]] * w3[x];
    return;
  }
  // The same products and sums per column, in the same order; only the loads are shared.
  const int32_t* __restrict ge = t.group_end.data();
  for (int64_t x = x0; x < x1;) {
    const int64_t e = std::min<int64_t>(x1, ge[x]);
    const float a = g[i0[x]], b = g[i1[x]], c = g[i2[x]], d = g[i3[x]];
    for (int64_t j = x; j < e; ++j) h[j] = a * w0[j] + b * w1[j] + c * w2[j] + d * w3[j];
    x = e;
  }
}

// m[x - ia] = 1 where row[x] > threshold and row[x] >= row[x - 1], row[x + 1], else 0 (ia >= 1,
// ib <= W - 1).
TFPOSE_BOUND_CLONES void candidate_mask(const float* __restrict row, int64_t ia, int64_t ib, float threshold,
                                        uint8_t* __restrict m) {
  for (int64_t x = ia; x < ib; ++x) {
    const float v = row[x];
    m[x - ia] = static_cast<uint8_t>((v > threshold) & (v >= row[x - 1]) & (v >= row[x + 1]));
  }
}

// The horizontal pass runs once per unit over the union of what its bands need, per source row in
// chunks of kChunk target columns: the bands of a unit share most of their source rows (a source
// row feeds ~4 bands at 8x upsampling).
constexpr int64_t kChunk = 8;

struct NmsScratch {
  std::vector<float> hcache;          // per interpolated scale [h, W]: horizontally interpolated values
  std::vector<int64_t> hcache_off;    // [S]: offset of scale s in hcache (and / W * chunks in need)
  std::vector<char> need;             // per interpolated scale [h, chunks]: chunk needed by some band
  std::vector<std::array<int64_t, 2>> cols;      // column runs [x0, x1) of the band's union
  std::vector<std::array<int64_t, 4>> pieces;    // (y0, y1, x0, x1) of the unit that need exact values
  std::vector<int64_t> xs;                       // peak candidates of one row run
};

// o[j] = merge_step(mode, o[j], cubic_sum of the four rows at j) for j < n. One cloned function per
// mode (target_clones does not take templates); the AVX2 clone has no FMA, so it rounds exactly like
// the default one and the dense resize.
#define TFPOSE_VERTICAL_RUN(name, mode)                                                                     \
  TFPOSE_BOUND_CLONES void name(const float* __restrict r0, const float* __restrict r1,                    \
                                const float* __restrict r2, const float* __restrict r3, const float* wp,   \
                                int64_t n, float k, float* __restrict o) {                                 \
    const float w[4] = {wp[0], wp[1], wp[2], wp[3]};                                                      \
    for (int64_t j = 0; j < n; ++j)                                                                        \
      o[j] = detail::merge_step(mode, o[j], detail::cubic_sum(r0[j], r1[j], r2[j], r3[j], w), k);          \
  }
TFPOSE_VERTICAL_RUN(vertical_assign, detail::MergeStep::kAssign)
TFPOSE_VERTICAL_RUN(vertical_add, detail::MergeStep::kAdd)
TFPOSE_VERTICAL_RUN(vertical_add_scale, detail::MergeStep::kAddThenScale)
TFPOSE_VERTICAL_RUN(vertical_add_divide, detail::MergeStep::kAddThenDivide)
#undef TFPOSE_VERTICAL_RUN

void vertical_run(detail::MergeStep mode, const float* r0, const float* r1, const float* r2, const float* r3,
                  const float w[4], int64_t n, float k, float* o) {
  using M = detail::MergeStep;
  switch (mode) {
    case M::kAssign: return vertical_assign(r0, r1, r2, r3, w, n, k, o);
    case M::kAdd: return vertical_add(r0, r1, r2, r3, w, n, k, o);
    case M::kAddThenScale: return vertical_add_scale(r0, r1, r2, r3, w, n, k, o);
    case M::kAddThenDivide: return vertical_add_divide(r0, r1, r2, r3, w, n, k, o);
  }
}

// Whether any of the n bytes at f is nonzero; eight at a time, flag rows being mostly zero.
inline bool any_nonzero(const char* f, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, f + i, 8);
    if (w != 0) return true;
  }
  for (; i < n; ++i)
    if (f[i]) return true;
  return false;
}

// emit(t0, t1) for every maximal run [t0, t1) of nonzero bytes among f[0, n), left to right;
// zero bytes are skipped eight at a time.
template <typename Emit>
void for_runs(const char* f, int64_t n, Emit emit) {
  int64_t t = 0;
  while (t < n) {
    if (t + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, f + t, 8);
      if (w == 0) {
        t += 8;
        continue;
      }
      t += __builtin_ctzll(w) / 8;  // little-endian: the lowest set byte is the first nonzero one
    } else if (!f[t]) {
      ++t;
      continue;
    }
    // The run's end: the first zero byte, eight at a time (the bytes are 0 or 1, so ~w & 0x01..01
    // marks the zero ones).
    int64_t t1 = t + 1;
    while (t1 + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, f + t1, 8);
      const uint64_t zeros = ~w & 0x0101010101010101ull;
      if (zeros != 0) {
        t1 += __builtin_ctzll(zeros) / 8;
        break;
      }
      t1 += 8;
    }
    if (t1 + 8 > n)
      while (t1 < n && f[t1]) ++t1;
    emit(t, t1);
    t = t1;
  }
}

// Marks the chunks of the source rows that band [by0, by1) reads over the column runs sc.cols.
void mark_band(const NmsSetup& st, int64_t W, int64_t by0, int64_t by1, NmsScratch& sc) {
  const int64_t chunks = (W + kChunk - 1) / kChunk;
  for (size_t s = 0; s < st.plans.size(); ++s) {
    const ResizePlan& p = st.plans[s];
    if (p.copy) continue;
    const Range rr = tap_range(p, false, by0, by1);
    char* base = sc.need.data() + sc.hcache_off[s] / W * chunks;
    for (int64_t r = rr.lo; r <= rr.hi; ++r)
      for (const auto& run : sc.cols) {
        const int64_t k0 = run[0] / kChunk, k1 = (run[1] + kChunk - 1) / kChunk;
        std::memset(base + r * chunks + k0, 1, static_cast<size_t>(k1 - k0));
      }
  }
}

// Exact merged values of channel `channel` over the unit's pieces (y0, y1, x0, x1) into plane
// ([H, W]); sc.need marks the horizontal values they read. Per scale: the horizontal pass of the
// marked chunks, then the vertical pass and merge_step per piece: the dense resize's operations in
// its order (scales in order per pixel; the pieces are disjoint), so the values are bit-identical.
// planar[s]: the channel's [h, w] plane of interpolated scale s (see fast_nms), unused for copies.
void eval_unit(const NmsSetup& st, bool cuda, int64_t img, int64_t c, int64_t channel, int64_t W,
               const float* const* planar, float* plane, NmsScratch& sc) {
  const int64_t S = static_cast<int64_t>(st.plans.size());
  const float k = detail::merge_constant(S, cuda);
  const int64_t chunks = (W + kChunk - 1) / kChunk;
  for (int64_t s = 0; s < S; ++s) {
    const ResizePlan& p = st.plans[static_cast<size_t>(s)];
    const detail::MergeStep mode = detail::merge_step_of(s, S, cuda);
    if (p.copy) {
      const float* src = p.data + img * p.h * p.w * c + channel;
      const int64_t rs = p.w * c;
      for (const auto& q : sc.pieces)
        for (int64_t y = q[0]; y < q[1]; ++y)
          for (int64_t x = q[2]; x < q[3]; ++x) {
            float& o = plane[y * W + x];
            o = detail::merge_step(mode, o, src[y * rs + x * c], k);
          }
      continue;
    }
    float* hr = sc.hcache.data() + sc.hcache_off[static_cast<size_t>(s)];
    const char* need = sc.need.data() + sc.hcache_off[static_cast<size_t>(s)] / W * chunks;
    for (int64_t r = 0; r < p.h; ++r)
      for_runs(need + r * chunks, chunks, [&](int64_t k0, int64_t k1) {
        horizontal_run(planar[s] + r * p.w, st.g->soa_x[static_cast<size_t>(s)], k0 * kChunk,
                       std::min(W, k1 * kChunk), hr + r * W);
      });
    for (const auto& q : sc.pieces) {
      const int64_t x0 = q[2], n = q[3] - q[2];
      for (int64_t y = q[0]; y < q[1]; ++y) {
        const CubicTaps& ty = p.ytaps[static_cast<size_t>(y)];
        vertical_run(mode, hr + ty.idx[0] * W + x0, hr + ty.idx[1] * W + x0, hr + ty.idx[2] * W + x0,
                     hr + ty.idx[3] * W + x0, ty.w, n, k, plane + y * W + x0);
      }
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
  const int64_t TX = st.g->tiles_x, TY = st.g->tiles_y, T = TX * TY;
  int64_t src_pixels = 0;
  for (const ResizePlan& pl : st.plans) src_pixels += pl.h * pl.w;

  // Stage 0 (per image: which blocks may exceed the threshold at all) and stage 1 (per image and
  // block row, all parts at once, the active blocks only: which tiles may).
  // Scratch lives on in each thread (thread_local): fresh allocations per call would cost a page fault
  // per page, more than the bound itself on a COCO frame.
  // (The workers must reach the caller's vector through a plain reference: the name of a thread_local
  // denotes each thread's own object.)
  thread_local std::vector<char> flags_of_thread;
  std::vector<char>& flags = flags_of_thread;
  flags.assign(static_cast<size_t>(n * p * T), 0);
  const int64_t BX = st.g->blocks_x, BY = st.g->blocks_y;
  thread_local std::vector<char> active_of_thread;
  std::vector<char>& active = active_of_thread;
  active.assign(static_cast<size_t>(n * BY * BX), 0);
  thread_local std::vector<float> planar_of_thread;
  std::vector<float>& planar = planar_of_thread;
  const AtScopeExit trim_call{[&] { detail::trim_scratch(flags, active, planar); }};
  std::vector<int64_t> planar_off(st.plans.size(), 0);
  {
    int64_t total = 0;
    for (size_t s = 0; s < st.plans.size(); ++s) {
      planar_off[s] = total;
      if (!st.plans[s].copy) total += n * p * st.plans[s].h * st.plans[s].w;
    }
    planar.resize(static_cast<size_t>(total));
  }
  // Stage 0: the coarse block bound, per image.
  pf(n, src_pixels * p * 6 + 1, [&](int64_t begin, int64_t end) {
    detail::ScopedKeepDenormals keep_denormals;
    thread_local BlockScratch sc;
    const AtScopeExit trim{[&] {
      detail::trim_scratch(sc.hpos, sc.hneg, sc.apos, sc.aneg, sc.a2pos, sc.a2neg, sc.a4pos, sc.a4neg, sc.mpos,
                           sc.mneg, sc.total, sc.slack);
    }};
    for (int64_t img = begin; img < end; ++img) {
      block_bounds(st, img, c, p, threshold, sc, active.data() + img * BY * BX);
      // The part channels of the interpolated scales, planar ([N, P, h, w]): the exact evaluation
      // then reads each channel's source rows contiguously instead of one value per cache line.
      // Only the source rows of active block rows and their neighbours (the exact values reach
      // kMargin pixels past a flagged tile, never past the neighbouring block row): the rest is
      // never read, so empty area costs no copy.
      const char* act = active.data() + img * BY * BX;
      for (size_t s = 0; s < st.plans.size(); ++s) {
        const ResizePlan& pl = st.plans[s];
        if (pl.copy) continue;
        const float* src = pl.data + img * pl.h * pl.w * c;
        float* dst = planar.data() + planar_off[s] + img * p * pl.h * pl.w;
        int64_t next_row = 0;  // rows below it are copied already
        for (int64_t by = 0; by < BY; ++by) {
          bool near = false;
          for (int64_t b = std::max<int64_t>(0, by - 1); b <= std::min(BY - 1, by + 1) && !near; ++b)
            for (int64_t bx = 0; bx < BX && !near; ++bx) near = act[b * BX + bx] != 0;
          if (!near) continue;
          const Range yr = st.g->block_rows[s][static_cast<size_t>(by)];
          for (int64_t r = std::max(next_row, yr.lo); r <= yr.hi; ++r)
            for (int64_t x = 0; x < pl.w; ++x)
              for (int64_t ch = 0; ch < p; ++ch) dst[(ch * pl.h + r) * pl.w + x] = src[(r * pl.w + x) * c + ch];
          next_row = std::max(next_row, yr.hi + 1);
        }
      }
    }
  });
  // Stage 1 on the active blocks only, unit = (image, block row).
  int64_t num_active = 0;
  for (char a : active) num_active += a;
  if (num_active > 0) {
    pf(n * BY, src_pixels * p * 40 / BY * num_active / (n * BY * BX) + 1, [&](int64_t begin, int64_t end) {
      detail::ScopedKeepDenormals keep_denormals;
      thread_local BoundScratch sc;
      const AtScopeExit trim{[&] { detail::trim_scratch(sc.hpos, sc.hneg, sc.bsum, sc.msum, sc.apos, sc.aneg); }};
      std::vector<std::array<int64_t, 2>> runs;
      for (int64_t unit = begin; unit < end; ++unit) {
        const int64_t img = unit / BY, by = unit % BY;
        const char* act = active.data() + unit * BX;
        runs.clear();
        for (int64_t bx = 0; bx < BX; ++bx) {
          if (!act[bx]) continue;
          const int64_t t0 = bx * kBlock, t1 = std::min(TX, t0 + kBlock);
          if (!runs.empty() && runs.back()[1] == t0)
            runs.back()[1] = t1;
          else
            runs.push_back({t0, t1});
        }
        if (runs.empty()) continue;
        const int64_t ty0 = by * kBlock;
        bound_candidates(st, img, c, p, ty0, std::min(TY, ty0 + kBlock), threshold, runs, sc,
                         flags.data() + img * p * T);
      }
    });
  }

  // Stage 2, unit = (image, part): exact values where the flagged tiles need them, then the unit's
  // first K peaks.
  int64_t num_flagged = 0;
  {
    // Flags are 0 or 1: the top byte of w * 0x0101..01 is the sum of w's eight bytes (<= 8).
    size_t i = 0;
    for (; i + 8 <= flags.size(); i += 8) {
      uint64_t w;
      std::memcpy(&w, flags.data() + i, 8);
      num_flagged += static_cast<int64_t>((w * 0x0101010101010101ull) >> 56);  // byte sum
    }
    for (; i < flags.size(); ++i) num_flagged += flags[i];
  }
  pf(n * p, (num_flagged / (n * p) + 1) * kTile * kTile * 30, [&](int64_t begin, int64_t end) {
    detail::ScopedKeepDenormals keep_denormals;
    thread_local NmsScratch sc_of_thread;
    NmsScratch& sc = sc_of_thread;  // one TLS lookup, not one per use in the loops below
    const AtScopeExit trim{[&] { detail::trim_scratch(sc.hcache, sc.need, sc.cols, sc.pieces, sc.xs); }};
    std::vector<char> row_any;
    const std::vector<char> zeros(static_cast<size_t>(TX), 0);
    std::array<std::vector<char>, 4> need;
    for (auto& v : need) v.resize(static_cast<size_t>(TX));
    std::vector<uint8_t> mask;
    PooledPlane pooled(static_cast<size_t>(H * W));
    float* plane = pooled.data.get();
    {
      const int64_t chunks = (W + kChunk - 1) / kChunk;
      int64_t total = 0;
      sc.hcache_off.assign(st.plans.size(), 0);
      for (size_t s = 0; s < st.plans.size(); ++s) {
        sc.hcache_off[s] = total;
        if (!st.plans[s].copy) total += st.plans[s].h * W;
      }
      if (sc.hcache.size() < static_cast<size_t>(total)) sc.hcache.resize(static_cast<size_t>(total));
      sc.need.resize(static_cast<size_t>(total / W * chunks));
    }
    for (int64_t unit = begin; unit < end; ++unit) {
      const int64_t img = unit / p, part = unit % p;
      const char* flag = flags.data() + unit * T;
      // row_any[ty + 1]: whether band ty has a flagged tile (padded by one empty band each side), so
      // that bands far from any flagged tile cost one test.
      row_any.assign(static_cast<size_t>(TY + 2), 0);
      bool any = false;
      for (int64_t ty = 0; ty < TY; ++ty) {
        const bool a = any_nonzero(flag + ty * TX, TX);
        row_any[static_cast<size_t>(ty + 1)] = a;
        any = any || a;
      }
      if (!any) continue;
      std::fill(sc.need.begin(), sc.need.end(), 0);
      sc.pieces.clear();
      std::vector<const float*> planar_src(st.plans.size(), nullptr);
      for (size_t s = 0; s < st.plans.size(); ++s)
        if (!st.plans[s].copy)
          planar_src[s] = planar.data() + planar_off[s] + (img * p + part) * st.plans[s].h * st.plans[s].w;
      // Exact values of every pixel a flagged tile's peak test and centroid read: the tile plus a
      // kMargin ring. Row y of band ty needs the columns (+- kMargin) of the flagged tiles of band ty,
      // of band ty - 1 in its first kMargin rows and of band ty + 1 in its last kMargin rows.
      // need[i][tx]: flagged in band ty, or in ty - 1 (bit 0 of i), or in ty + 1 (bit 1); i = 0 is fm.
      for (int64_t ty = 0; ty < TY; ++ty) {
        if (!row_any[static_cast<size_t>(ty)] && !row_any[static_cast<size_t>(ty + 1)] &&
            !row_any[static_cast<size_t>(ty + 2)])
          continue;
        const int64_t y0 = ty * kTile, y1 = std::min(H, y0 + kTile);
        const char* fm = flag + ty * TX;
        const char* fu = row_any[static_cast<size_t>(ty)] ? fm - TX : zeros.data();
        const char* fd = row_any[static_cast<size_t>(ty + 2)] ? fm + TX : zeros.data();
        {
          char* __restrict n1 = need[1].data();
          char* __restrict n2 = need[2].data();
          char* __restrict n3 = need[3].data();
          for (int64_t t = 0; t < TX; ++t) {
            n1[t] = static_cast<char>(fm[t] | fu[t]);
            n2[t] = static_cast<char>(fm[t] | fd[t]);
            n3[t] = static_cast<char>(fm[t] | fu[t] | fd[t]);
          }
        }
        sc.cols.clear();
        for_runs(need[3].data(), TX, [&](int64_t t0, int64_t t1) {
          const int64_t x0 = std::max<int64_t>(0, t0 * kTile - kMargin), x1 = std::min(W, t1 * kTile + kMargin);
          if (!sc.cols.empty() && x0 <= sc.cols.back()[1])
            sc.cols.back()[1] = x1;
          else
            sc.cols.push_back({x0, x1});
        });
        if (sc.cols.empty()) continue;
        int64_t y = y0;
        while (y < y1) {
          const bool top = y - y0 < kMargin, bottom = y0 + kTile - y <= kMargin;
          int64_t ye = y + 1;
          while (ye < y1 && (ye - y0 < kMargin) == top && (y0 + kTile - ye <= kMargin) == bottom) ++ye;
          const int which = (top ? 1 : 0) | (bottom ? 2 : 0);
          for_runs(which == 0 ? fm : need[static_cast<size_t>(which)].data(), TX, [&](int64_t t0, int64_t t1) {
            sc.pieces.push_back({y, ye, std::max<int64_t>(0, t0 * kTile - kMargin), std::min(W, t1 * kTile + kMargin)});
          });
          y = ye;
        }
        mark_band(st, W, y0, y1, sc);
      }
      eval_unit(st, cuda_src, img, c, part, W, planar_src.data(), plane, sc);
      float* out = peaks + unit * K * 3;
      int64_t cnt = 0;
      // Raster order: bands top to bottom, within a band rows outer, then the flagged tiles left to right.
      for (int64_t ty = 0; ty < TY && cnt < K; ++ty) {
        const int64_t y0 = ty * kTile, y1 = std::min(H, y0 + kTile);
        if (!row_any[static_cast<size_t>(ty + 1)]) continue;
        // Runs of adjacent flagged tiles, in pixels: the same pixels in the same order as tile by tile.
        sc.cols.clear();
        for_runs(flag + ty * TX, TX,
                 [&](int64_t t0, int64_t t1) { sc.cols.push_back({t0 * kTile, std::min(W, t1 * kTile)}); });
        for (int64_t yy = y0; yy < y1 && cnt < K; ++yy) {
          for (size_t ri = 0; ri < sc.cols.size() && cnt < K; ++ri) {
            const float* row = plane + yy * W;
            const int64_t xa = sc.cols[ri][0], xb = sc.cols[ri][1];
            // Candidates in x order, branch-free: v > threshold and v >= both in-map row neighbours,
            // which every peak of either rule satisfies (a NaN fails it and is_peak alike); the
            // neighbours lie in the evaluated margin. is_peak then decides.
            sc.xs.clear();
            if (xa == 0) sc.xs.push_back(0);
            const int64_t ia = std::max<int64_t>(xa, 1), ib = std::min<int64_t>(xb, W - 1);
            if (ib > ia) {
              const int64_t len = ib - ia;
              mask.resize(static_cast<size_t>(len + 8));
              candidate_mask(row, ia, ib, threshold, mask.data());
              std::memset(mask.data() + len, 0, 8);
              // Eight mask bytes at a time: most words of a run are all zero.
              for (int64_t i = 0; i < len; i += 8) {
                uint64_t word;
                std::memcpy(&word, mask.data() + i, 8);
                while (word != 0) {
                  const int bit = __builtin_ctzll(word);
                  sc.xs.push_back(ia + i + bit / 8);
                  word &= word - 1;
                }
              }
            }
            if (xb == W && W > 1) sc.xs.push_back(W - 1);
            for (const int64_t x : sc.xs) {
              if (!detail::is_peak(cuda_rule, plane, x, yy, W, H, 1, W, threshold)) continue;
              detail::refine_peak(plane, x, yy, W, H, 1, W, params.offset_x, params.offset_y, out + cnt * 3);
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
  // paf_num_samples is at most 25.
  std::array<int, 26> min_passing{};
  for (int m = 1; m <= 25; ++m) min_passing[static_cast<size_t>(m)] = detail::paf_min_passing(m, ps.inter_min_above_threshold);

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
          t[static_cast<size_t>(ia * nb + ib)] = detail::paf_line_score<true>(
              pa[0], pa[1], pb[0], pb[1], static_cast<int>(W), static_cast<int>(H), ps, sampler, min_passing.data());
        }
      }
    }
  });

  std::vector<People> out(static_cast<size_t>(n));
  // An exception in a range (allocation failure) reaches the caller through the ParallelFor's guard.
  pf(n, 200000, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const int32_t* cnt = counts + i * P;
      auto score = [&](int l, int ia, int ib) {
        const int nb = cnt[model.pairs[l][1]];
        return table[static_cast<size_t>(i * L + l)][static_cast<size_t>(ia * nb + ib)];
      };
      out[static_cast<size_t>(i)] = assemble_people(model, th, build, peaks + i * P * k * 3, cnt, k, scale, score);
    }
  });
  return out;
}

}  // namespace tfpose
