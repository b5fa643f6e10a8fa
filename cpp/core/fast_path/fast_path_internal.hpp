// Private to core/fast_path/: the stages of fast_nms and the geometry they share.
//
// fast_nms runs in three stages over the S scales' source maps, never building [N, H, W, C]:
//   0. block bound (bounds.cc, block_bounds): per image, which blocks of kBlock x kBlock tiles may
//      hold a merged value above the threshold at all (a coarse bound from window maxima);
//   1. tile bound (bounds.cc, bound_candidates): per active block row, which kTile x kTile tiles may
//      (a separable bound from the tiles' tap weights, geometry.cc);
//   2. exact evaluation (exact_eval.cc, eval_unit) of the flagged tiles plus a kMargin ring with the
//      dense resize's operations in its order, then the peak scan (fast_nms.cc).
// fast_connect (fast_connect.cc) evaluates merged PAF values only at the samples the connector takes.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "tfpose/detail/interp.hpp"
#include "tfpose/resize_and_merge.hpp"

namespace tfpose {
namespace fast_path {

// Output tiles whose bound exceeds the threshold are evaluated exactly. 8 x 8 is one source pixel at
// the usual 8x upsampling, so a blob's tail drags in little background; it must be >= kMargin so
// that a tile's margin lies within its neighbour tiles.
constexpr int64_t kTile = 8;
constexpr int64_t kMargin = 3;  // the peak test reads 1 pixel around, the 7x7 centroid 3
static_assert(kTile >= kMargin, "a tile's margin must fit in its neighbours");

// Blocks of kBlock x kBlock tiles get a coarse bound first (block_bounds); only blocks that may
// exceed the threshold get the per-tile bound and everything after it, so that empty area costs
// little more than reading the source maps once.
constexpr int64_t kBlock = 32 / kTile;

// The horizontal pass of the exact evaluation runs once per unit over the union of what its bands
// need, per source row in chunks of kChunk target columns: the bands of a unit share most of their
// source rows (a source row feeds ~4 bands at 8x upsampling).
constexpr int64_t kChunk = 8;

// Inclusive range of source indices that target indices [d0, d1) read along one axis.
struct Range {
  int64_t lo, hi;
};

Range tap_range(const detail::ResizePlan& p, bool x_axis, int64_t d0, int64_t d1);

// Along one axis, for the target indices of one tile: the source indices they read ([lo, hi]) and,
// per source index i, the largest positive and |negative| weight that any of the tile's target
// indices gives it (taps clamped onto the same index summed per sign). Then for every value v of the
// tile, v = sum_i w_i t_i <= sum_i pos_i max(t_i, 0) + neg_i max(-t_i, 0).
struct TileWeights {
  Range r;
  std::vector<float> pos, neg;  // [hi - lo + 1], rounded up from the double maxima
};

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
  std::vector<detail::ResizePlan> key;  // the plans it was built from, data pointers cleared
  int64_t tiles_x = 0, tiles_y = 0;
  int64_t blocks_x = 0, blocks_y = 0;
  std::vector<std::vector<TileWeights>> tile_cols, tile_rows;  // [S][tiles_x], [S][tiles_y]
  std::vector<std::vector<Range>> block_cols, block_rows;      // [S][blocks_x], [S][blocks_y]: source windows
  std::vector<CoarseWeights> coarse;                           // [S]
  std::vector<SoaTaps> soa_x;                                  // [S], empty for copies
};

// What every unit of fast_nms shares, per call.
struct NmsSetup {
  std::vector<detail::ResizePlan> plans;
  std::shared_ptr<const NmsGeom> g;
};

// The plans of this call and the geometry for them: the cached one when its taps match, else a new
// one, which then replaces the cached one (geometry.cc).
NmsSetup make_nms_setup(const std::vector<ScaleMaps>& scales, int64_t H, int64_t W, OpenposeBuild build);

// ---------------------------------------------------------------- bounds (bounds.cc)

struct BlockScratch {
  std::vector<float> hpos, hneg;                  // [source rows, blocks_x, P]: row maxima over each block's columns
  std::vector<float> apos, aneg;                  // [w, P]: max(t, 0) + t * 0 and max(-t, 0) of one source row
  std::vector<float> a2pos, a2neg, a4pos, a4neg;  // [w, P]: their maxima over columns x..x+1, x..x+3
  std::vector<float> mpos, mneg;                  // [blocks_x, P]: column maxima of one block row
  std::vector<float> total, slack;                // [blocks_y, blocks_x, P]
};

// Stage 0 for image img: active[by * blocks_x + bx] = whether any of the P part channels of block
// (by, bx) may exceed the threshold.
void block_bounds(const NmsSetup& st, int64_t img, int64_t c, int64_t P, float threshold, BlockScratch& sc,
                  char* active);

struct BoundScratch {
  std::vector<float> hpos, hneg;  // [rows, tiles_x, P] per scale, concatenated
  std::vector<float> bsum, msum;  // [tiles_x, P]
  std::vector<float> apos, aneg;  // [w, P]: max(t, 0), max(-t, 0) of one source row
};

// Stage 1 for image img and tile rows [ty0, ty1): cand[ch * T + ty * tiles_x + tx] = whether tile
// (ty, tx) of part channel ch may exceed the threshold, for the tile columns within runs ([t0, t1)
// in tiles); the others keep their value.
void bound_candidates(const NmsSetup& st, int64_t img, int64_t c, int64_t P, int64_t ty0, int64_t ty1, float threshold,
                      const std::vector<std::array<int64_t, 2>>& runs, BoundScratch& sc,
                      char* cand /* [P][tiles_y * tiles_x] */);

// ---------------------------------------------------------------- exact evaluation (exact_eval.cc)

struct NmsScratch {
  std::vector<float> hcache;                   // per interpolated scale [h, W]: horizontally interpolated values
  std::vector<int64_t> hcache_off;             // [S]: offset of scale s in hcache (and / W * chunks in need)
  std::vector<char> need;                      // per interpolated scale [h, chunks]: chunk needed by some band
  std::vector<std::array<int64_t, 2>> cols;    // column runs [x0, x1) of the band's union
  std::vector<std::array<int64_t, 4>> pieces;  // (y0, y1, x0, x1) of the unit that need exact values
  std::vector<int64_t> xs;                     // peak candidates of one row run
};

// Sizes sc.hcache, sc.hcache_off and sc.need for the interpolated scales of st at target width W.
void size_nms_scratch(const NmsSetup& st, int64_t W, NmsScratch& sc);

// Marks the chunks of the source rows that band [by0, by1) reads over the column runs sc.cols.
void mark_band(const NmsSetup& st, int64_t W, int64_t by0, int64_t by1, NmsScratch& sc);

// Exact merged values of channel `channel` over the unit's pieces sc.pieces into plane ([H, W]);
// sc.need marks the horizontal values they read. planar[s]: the channel's [h, w] plane of
// interpolated scale s, unused for copies.
void eval_unit(const NmsSetup& st, bool cuda, int64_t img, int64_t c, int64_t channel, int64_t W,
               const float* const* planar, float* plane, NmsScratch& sc);

// An H x W plane of exact values on loan from a process-wide pool (at most kPlanePoolKeep planes
// are kept between calls), returned to it on destruction.
constexpr size_t kPlanePoolKeep = 4;
struct PooledPlane {
  explicit PooledPlane(size_t size);
  ~PooledPlane();
  PooledPlane(const PooledPlane&) = delete;
  PooledPlane& operator=(const PooledPlane&) = delete;
  size_t cap = 0;
  std::unique_ptr<float[]> data;
};

}  // namespace fast_path
}  // namespace tfpose
