// The fast path's geometry: which source indices each tile and block reads, with which bounding
// weights, built from the resize plans and cached across calls.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "fast_path_internal.hpp"

namespace tfpose {
namespace fast_path {

namespace {

using detail::CubicTaps;
using detail::ResizePlan;

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

SoaTaps soa_taps(const ResizePlan& p) {
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
    const bool same_as_next =
        x + 1 < nx && std::memcmp(p.xtaps[static_cast<size_t>(x)].idx, p.xtaps[static_cast<size_t>(x + 1)].idx,
                                  sizeof(int32_t) * 4) == 0;
    soa.group_end[static_cast<size_t>(x)] =
        same_as_next ? soa.group_end[static_cast<size_t>(x + 1)] : static_cast<int32_t>(x + 1);
    groups += !same_as_next;
  }
  soa.use_groups = nx >= 2 * groups;
  return soa;
}

bool same_taps(const std::vector<CubicTaps>& a, const std::vector<CubicTaps>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(CubicTaps)) == 0);
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
    st.soa_x.push_back(soa_taps(p));
    const AxisWeightSums ax = axis_weight_sums(p, true), ay = axis_weight_sums(p, false);
    // A relative 1e-6 above the double products: the float cannot lie below them.
    const double up = 1.0 + 1e-6;
    st.coarse.push_back({static_cast<float>((ay.pos * ax.pos + ay.neg * ax.neg) * up),
                         static_cast<float>((ay.pos * ax.neg + ay.neg * ax.pos) * up),
                         static_cast<float>((ay.pos + ay.neg) * (ax.pos + ax.neg) * up)});
  }
  return gp;
}

}  // namespace

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

NmsSetup make_nms_setup(const std::vector<ScaleMaps>& scales, int64_t H, int64_t W, OpenposeBuild build) {
  NmsSetup st;
  st.plans = detail::make_resize_plans(scales, H, W, build);
  // The geometry cache: one entry, the last geometry built (see fast_path.hpp, hidden state).
  static std::mutex* mu = new std::mutex();  // never destroyed: workers may outlive static teardown
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

}  // namespace fast_path
}  // namespace tfpose
