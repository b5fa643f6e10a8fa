// fast_nms: the dense chain resize-and-merge -> NMS bit for bit, bounding first and evaluating only
// where a peak may lie. The three stages and their state are described in fast_path_internal.hpp;
// the hidden state across calls in fast_path.hpp.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "fast_path_internal.hpp"
#include "tfpose/detail/byte_scan.hpp"
#include "tfpose/detail/denormals.hpp"
#include "tfpose/detail/merge_passes.hpp"
#include "tfpose/detail/peak.hpp"
#include "tfpose/fast_path.hpp"

namespace tfpose {

namespace fast_path {
namespace {

using detail::ResizePlan;

// m[x - ia] = 1 where row[x] > threshold and row[x] >= row[x - 1], row[x + 1], else 0 (ia >= 1,
// ib <= W - 1).
TFPOSE_CPU_CLONES void candidate_mask(const float* __restrict row, int64_t ia, int64_t ib, float threshold,
                                      uint8_t* __restrict m) {
  for (int64_t x = ia; x < ib; ++x) {
    const float v = row[x];
    m[x - ia] = static_cast<uint8_t>((v > threshold) & (v >= row[x - 1]) & (v >= row[x + 1]));
  }
}

void check_fast_nms_args(const std::vector<ScaleMaps>& scales, int64_t n, int64_t c, int64_t H, int64_t W,
                         OpenposeBuild build, int64_t p, const NmsParams& params) {
  check_resize_and_merge_args(scales, n, c, H, W, build);
  if (p < 1 || p > c)
    throw InvalidArgument(
        expected_got("fast_nms: part channels", "1 <= P <= C = " + std::to_string(c), std::to_string(p)));
  check_nms_args(n, H, W, p, params);
}

// What the stages of one fast_nms call share. The three buffers belong to the calling thread
// (thread_local in fast_nms): the workers reach them through these references, since the name of a
// thread_local denotes each thread's own object.
struct Call {
  const NmsSetup& st;
  int64_t n, c, p, H, W;
  bool cuda_src;  // the maps' build: how they are resized and merged
  const NmsParams& params;
  int64_t TX, TY, T, BX, BY;   // tiles and blocks per row and column; T = TX * TY
  int64_t src_pixels;          // sum over scales of h * w
  std::vector<char>& active;   // [N, BY, BX]: stage 0's verdict per block
  std::vector<char>& flags;    // [N, P, TY, TX]: stage 1's verdict per tile
  std::vector<float>& planar;  // per interpolated scale [N, P, h, w], at planar_off[s]
  std::vector<int64_t> planar_off;
};

// The part channels of the interpolated scales of image img, planar ([N, P, h, w]): the exact
// evaluation then reads each channel's source rows contiguously instead of one value per cache line.
// Only the source rows of active block rows and their neighbours (the exact values reach kMargin
// pixels past a flagged tile, never past the neighbouring block row): the rest is never read, so
// empty area costs no copy.
void copy_planar(const Call& k, int64_t img) {
  const char* act = k.active.data() + img * k.BY * k.BX;
  for (size_t s = 0; s < k.st.plans.size(); ++s) {
    const ResizePlan& pl = k.st.plans[s];
    if (pl.copy) continue;
    const float* src = pl.data + img * pl.h * pl.w * k.c;
    float* dst = k.planar.data() + k.planar_off[s] + img * k.p * pl.h * pl.w;
    int64_t next_row = 0;  // rows below it are copied already
    for (int64_t by = 0; by < k.BY; ++by) {
      bool near = false;
      for (int64_t b = std::max<int64_t>(0, by - 1); b <= std::min(k.BY - 1, by + 1) && !near; ++b)
        for (int64_t bx = 0; bx < k.BX && !near; ++bx) near = act[b * k.BX + bx] != 0;
      if (!near) continue;
      const Range yr = k.st.g->block_rows[s][static_cast<size_t>(by)];
      for (int64_t r = std::max(next_row, yr.lo); r <= yr.hi; ++r)
        for (int64_t x = 0; x < pl.w; ++x)
          for (int64_t ch = 0; ch < k.p; ++ch) dst[(ch * pl.h + r) * pl.w + x] = src[(r * pl.w + x) * k.c + ch];
      next_row = std::max(next_row, yr.hi + 1);
    }
  }
}

// Stage 0, unit = image: the coarse block bound, then the planar copy of what may be needed.
void block_stage(const Call& k, const ParallelFor& pf) {
  pf(k.n, k.src_pixels * k.p * 6 + 1, [&](int64_t begin, int64_t end) {
    detail::ScopedKeepDenormals keep_denormals;
    thread_local BlockScratch sc;
    const AtScopeExit trim{[&] { sc.trim(); }};
    for (int64_t img = begin; img < end; ++img) {
      block_bounds(k.st, img, k.c, k.p, k.params.threshold, sc, k.active.data() + img * k.BY * k.BX);
      copy_planar(k, img);
    }
  });
}

// Stage 1 on the active blocks only, unit = (image, block row), all parts at once.
void tile_stage(const Call& k, const ParallelFor& pf) {
  int64_t num_active = 0;
  for (char a : k.active) num_active += a;
  if (num_active == 0) return;
  const int64_t cost = k.src_pixels * k.p * 40 / k.BY * num_active / (k.n * k.BY * k.BX) + 1;
  pf(k.n * k.BY, cost, [&](int64_t begin, int64_t end) {
    detail::ScopedKeepDenormals keep_denormals;
    thread_local BoundScratch sc;
    const AtScopeExit trim{[&] { sc.trim(); }};
    std::vector<std::array<int64_t, 2>> runs;
    for (int64_t unit = begin; unit < end; ++unit) {
      const int64_t img = unit / k.BY, by = unit % k.BY;
      const char* act = k.active.data() + unit * k.BX;
      runs.clear();
      for (int64_t bx = 0; bx < k.BX; ++bx) {
        if (!act[bx]) continue;
        const int64_t t0 = bx * kBlock, t1 = std::min(k.TX, t0 + kBlock);
        if (!runs.empty() && runs.back()[1] == t0)
          runs.back()[1] = t1;
        else
          runs.push_back({t0, t1});
      }
      if (runs.empty()) continue;
      const int64_t ty0 = by * kBlock;
      bound_candidates(k.st, img, k.c, k.p, ty0, std::min(k.TY, ty0 + kBlock), k.params.threshold, runs, sc,
                       k.flags.data() + img * k.p * k.T);
    }
  });
}

// Per-worker buffers of stage 2 besides NmsScratch.
struct UnitBuffers {
  std::vector<char> row_any;              // [TY + 2]: row_any[ty + 1] = whether band ty has a flagged tile
  std::vector<char> zeros;                // [TX]
  std::array<std::vector<char>, 4> need;  // [TX] each, see collect_pieces
  std::vector<uint8_t> mask;              // candidate mask of one row run
};

// The pieces (y0, y1, x0, x1) of one unit that need exact values: every pixel a flagged tile's peak
// test and centroid read, the tile plus a kMargin ring. Row y of band ty needs the columns
// (+- kMargin) of the flagged tiles of band ty, of band ty - 1 in its first kMargin rows and of band
// ty + 1 in its last kMargin rows. need[i][tx]: flagged in band ty, or in ty - 1 (bit 0 of i), or in
// ty + 1 (bit 1); i = 0 is the band's own flags. Marks the source chunks they read (mark_band).
void collect_pieces(const Call& k, const char* flag, UnitBuffers& b, NmsScratch& sc) {
  const int64_t TX = k.TX, W = k.W;
  const std::vector<char>& row_any = b.row_any;
  for (int64_t ty = 0; ty < k.TY; ++ty) {
    if (!row_any[static_cast<size_t>(ty)] && !row_any[static_cast<size_t>(ty + 1)] &&
        !row_any[static_cast<size_t>(ty + 2)])
      continue;
    const int64_t y0 = ty * kTile, y1 = std::min(k.H, y0 + kTile);
    const char* fm = flag + ty * TX;
    const char* fu = row_any[static_cast<size_t>(ty)] ? fm - TX : b.zeros.data();
    const char* fd = row_any[static_cast<size_t>(ty + 2)] ? fm + TX : b.zeros.data();
    {
      char* __restrict n1 = b.need[1].data();
      char* __restrict n2 = b.need[2].data();
      char* __restrict n3 = b.need[3].data();
      for (int64_t t = 0; t < TX; ++t) {
        n1[t] = static_cast<char>(fm[t] | fu[t]);
        n2[t] = static_cast<char>(fm[t] | fd[t]);
        n3[t] = static_cast<char>(fm[t] | fu[t] | fd[t]);
      }
    }
    sc.cols.clear();
    detail::for_runs(b.need[3].data(), TX, [&](int64_t t0, int64_t t1) {
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
      detail::for_runs(which == 0 ? fm : b.need[static_cast<size_t>(which)].data(), TX, [&](int64_t t0, int64_t t1) {
        sc.pieces.push_back({y, ye, std::max<int64_t>(0, t0 * kTile - kMargin), std::min(W, t1 * kTile + kMargin)});
      });
      y = ye;
    }
    mark_band(k.st, W, y0, y1, sc);
  }
}

// The unit's first K peaks in raster order into out ([K, 3]); returns their count. Bands top to
// bottom, within a band rows outer, then the flagged tiles left to right: runs of adjacent flagged
// tiles, in pixels, give the same pixels in the same order as tile by tile.
int64_t scan_peaks(const Call& k, const char* flag, const float* plane, UnitBuffers& b, NmsScratch& sc, float* out) {
  const int64_t K = k.params.max_peaks, W = k.W, H = k.H;
  const float threshold = k.params.threshold;
  const bool cuda_rule = k.params.build == OpenposeBuild::kCuda;
  int64_t cnt = 0;
  for (int64_t ty = 0; ty < k.TY && cnt < K; ++ty) {
    const int64_t y0 = ty * kTile, y1 = std::min(H, y0 + kTile);
    if (!b.row_any[static_cast<size_t>(ty + 1)]) continue;
    sc.cols.clear();
    detail::for_runs(flag + ty * k.TX, k.TX,
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
          b.mask.resize(static_cast<size_t>(len + 8));
          candidate_mask(row, ia, ib, threshold, b.mask.data());
          std::memset(b.mask.data() + len, 0, 8);
          // Eight mask bytes at a time: most words of a run are all zero.
          for (int64_t i = 0; i < len; i += 8) {
            uint64_t word;
            std::memcpy(&word, b.mask.data() + i, 8);
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
          detail::refine(static_cast<int>(k.params.refinement), plane, x, yy, W, H, 1, W, k.params.offset_x,
                         k.params.offset_y, out + cnt * 3);
          if (++cnt == K) break;
        }
      }
    }
  }
  return cnt;
}

// Stage 2, unit = (image, part): exact values where the flagged tiles need them, then the unit's
// first K peaks.
void exact_stage(const Call& k, float* peaks, int32_t* counts, const ParallelFor& pf) {
  const int64_t num_flagged = detail::count_flags(k.flags.data(), static_cast<int64_t>(k.flags.size()));
  pf(k.n * k.p, (num_flagged / (k.n * k.p) + 1) * kTile * kTile * 30, [&](int64_t begin, int64_t end) {
    detail::ScopedKeepDenormals keep_denormals;
    thread_local NmsScratch sc_of_thread;
    NmsScratch& sc = sc_of_thread;  // one TLS lookup, not one per use in the loops below
    const AtScopeExit trim{[&] { sc.trim(); }};
    UnitBuffers b;
    b.zeros.assign(static_cast<size_t>(k.TX), 0);
    for (auto& v : b.need) v.resize(static_cast<size_t>(k.TX));
    PooledPlane pooled(static_cast<size_t>(k.H * k.W));
    float* plane = pooled.data.get();
    size_nms_scratch(k.st, k.W, sc);
    std::vector<const float*> planar_src(k.st.plans.size(), nullptr);
    for (int64_t unit = begin; unit < end; ++unit) {
      const int64_t img = unit / k.p, part = unit % k.p;
      const char* flag = k.flags.data() + unit * k.T;
      // Bands far from any flagged tile cost one test (row_any is padded by one empty band each side).
      b.row_any.assign(static_cast<size_t>(k.TY + 2), 0);
      bool any = false;
      for (int64_t ty = 0; ty < k.TY; ++ty) {
        const bool a = detail::any_nonzero(flag + ty * k.TX, k.TX);
        b.row_any[static_cast<size_t>(ty + 1)] = a;
        any = any || a;
      }
      if (!any) continue;
      std::fill(sc.need.begin(), sc.need.end(), 0);
      sc.pieces.clear();
      for (size_t s = 0; s < k.st.plans.size(); ++s) {
        const ResizePlan& pl = k.st.plans[s];
        planar_src[s] = pl.copy ? nullptr : k.planar.data() + k.planar_off[s] + (img * k.p + part) * pl.h * pl.w;
      }
      collect_pieces(k, flag, b, sc);
      eval_unit(k.st, k.cuda_src, img, k.c, part, k.W, planar_src.data(), plane, sc);
      counts[unit] = static_cast<int32_t>(scan_peaks(k, flag, plane, b, sc, peaks + unit * k.params.max_peaks * 3));
    }
  });
}

}  // namespace
}  // namespace fast_path

void fast_nms(const std::vector<ScaleMaps>& scales, int64_t n, int64_t c, int64_t H, int64_t W, int64_t p,
              const NmsParams& params, float* peaks, int32_t* counts, const ParallelFor& pf) {
  using namespace fast_path;
  const OpenposeBuild build = params.build;
  check_fast_nms_args(scales, n, c, H, W, build, p, params);
  const int64_t K = params.max_peaks;
  std::memset(peaks, 0, sizeof(float) * static_cast<size_t>(n * p * K * 3));
  std::memset(counts, 0, sizeof(int32_t) * static_cast<size_t>(n * p));
  if (n == 0) return;
  const NmsSetup st = make_nms_setup(scales, H, W, build);
  const int64_t TX = st.g->tiles_x, TY = st.g->tiles_y, BX = st.g->blocks_x, BY = st.g->blocks_y;
  int64_t src_pixels = 0;
  for (const ResizePlan& pl : st.plans) src_pixels += pl.h * pl.w;

  // Scratch lives on in each thread (thread_local): fresh allocations per call would cost a page fault
  // per page, more than the bound itself on a COCO frame.
  thread_local std::vector<char> active_of_thread, flags_of_thread;
  thread_local std::vector<float> planar_of_thread;
  const AtScopeExit trim{[&] { detail::trim_scratch(active_of_thread, flags_of_thread, planar_of_thread); }};
  Call k{st,
         n,
         c,
         p,
         H,
         W,
         build == OpenposeBuild::kCuda,
         params,
         TX,
         TY,
         TX * TY,
         BX,
         BY,
         src_pixels,
         active_of_thread,
         flags_of_thread,
         planar_of_thread,
         std::vector<int64_t>(st.plans.size(), 0)};
  k.flags.assign(static_cast<size_t>(n * p * k.T), 0);
  k.active.assign(static_cast<size_t>(n * BY * BX), 0);
  {
    int64_t total = 0;
    for (size_t s = 0; s < st.plans.size(); ++s) {
      k.planar_off[s] = total;
      if (!st.plans[s].copy) total += n * p * st.plans[s].h * st.plans[s].w;
    }
    k.planar.resize(static_cast<size_t>(total));
  }
  block_stage(k, pf);
  tile_stage(k, pf);
  exact_stage(k, peaks, counts, pf);
}

}  // namespace tfpose
