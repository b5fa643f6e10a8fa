// The fast path's bounds (stages 0 and 1 of fast_nms): which blocks and tiles may hold a merged
// value above the NMS threshold, from the source maps and the geometry's weights alone.
#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "fast_path_internal.hpp"
#include "tfpose/detail/merge_passes.hpp"

namespace tfpose {
namespace fast_path {

namespace {

using detail::ResizePlan;

// Max that keeps a NaN once one came in (a > m and a < m are both false for NaN a or m).
inline float nan_max(float m, float a) {
  return (a > m || a != a) ? a : m;
}

// hp = sum_i pos_i ap_i + neg_i an_i and hn = sum_i neg_i ap_i + pos_i an_i over len source
// pixels (ap, an: [len, P]), per channel.
TFPOSE_CPU_CLONES void row_tile_sums(const float* __restrict ap, const float* __restrict an, const float* pos,
                                     const float* neg, int64_t len, int64_t P, float* __restrict hp,
                                     float* __restrict hn) {
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
TFPOSE_CPU_CLONES void column_sums(const float* __restrict hp, const float* __restrict hn, float wp, float wn,
                                   int64_t n, float* __restrict bs, float* __restrict ms) {
  const float wm = wp + wn;
  for (int64_t i = 0; i < n; ++i) {
    bs[i] += wp * hp[i] + wn * hn[i];
    ms[i] += wm * (hp[i] + hn[i]);
  }
}

}  // namespace

// The bound loops run over P contiguous channels, cloned for AVX2 where the CPU has it (no FMA: not
// needed for a bound, and the clones then round exactly like the default).
//
// Coarse pass of one image: active[by * blocks_x + bx] = whether any part channel of block (by, bx)
// may exceed the threshold, by the bound sum_s (wpos_s Mpos_s + wneg_s Mneg_s) / S, Mpos_s / Mneg_s
// the largest max(t, 0) / max(-t, 0) over the scale's source window of the block (separable sliding
// maxima), plus the same rounding slack as the tile bound, doubled. A NaN or Inf in the window makes
// the block active (max(t, 0) + t * 0 is then NaN and nan_max keeps it).
TFPOSE_CPU_CLONES void block_bounds(const NmsSetup& st, int64_t img, int64_t c, int64_t P, float threshold,
                                    BlockScratch& sc, char* active) {
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
          const float* __restrict p0 = sc.a4pos.data() + xr.lo * P, * __restrict p1 = sc.a4pos.data() + (xr.hi - 3) * P;
          const float* __restrict n0 = sc.a4neg.data() + xr.lo * P, * __restrict n1 = sc.a4neg.data() + (xr.hi - 3) * P;
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

// Stage 1, all part channels of one image at once (they are contiguous in NHWC, so every loop below
// vectorises over channels): per tile and part, the separable bound sum_s B_s / S of the tile's
// merged values, B_s = sum_r posy_r hpos_r + negy_r hneg_r over the tile's source rows r, where
// hpos_r = sum_x posx_x max(t, 0) + negx_x max(-t, 0) >= every horizontally interpolated value of
// row r in the tile's columns, hneg_r likewise >= their negation (TileWeights). cand = whether that
// bound plus the rounding slack may exceed the threshold. Any NaN or Inf tap makes the tile a
// candidate (t * 0 is then NaN and is added in). Work unit: a chunk of tile rows [ty0, ty1).
// Only the tile columns within runs ([t0, t1) in tiles) are bounded; the others keep cand = 0.
TFPOSE_CPU_CLONES void bound_candidates(const NmsSetup& st, int64_t img, int64_t c, int64_t P, int64_t ty0, int64_t ty1,
                                        float threshold, const std::vector<std::array<int64_t, 2>>& runs,
                                        BoundScratch& sc, char* cand /* [P][tiles_y * tiles_x] */) {
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

}  // namespace fast_path
}  // namespace tfpose
