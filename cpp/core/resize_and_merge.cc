#include "tfpose/resize_and_merge.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "tfpose/detail/denormals.hpp"
#include "tfpose/detail/interp.hpp"
#include "tfpose/detail/merge_passes.hpp"

namespace tfpose {

namespace {

using detail::CubicTaps;
using detail::ScopedKeepDenormals;
using ScalePlan = detail::ResizePlan;

constexpr int64_t kMaxSide = std::numeric_limits<int32_t>::max();  // tap indices are int32

// Horizontally interpolated source rows of one scale, kept while output rows still need them. The
// four taps of an output row are distinct rows within a window of four consecutive ones and move
// monotonically down the image, so row r can live in slot r mod 4 without evicting a live row.
struct RowCache {
  std::vector<float> buf;  // [4, W, C]
  int64_t tag[4] = {-1, -1, -1, -1};
};

}  // namespace

void check_resize_and_merge_args(const std::vector<ScaleMaps>& scales, int64_t n, int64_t c, int64_t H, int64_t W,
                                 OpenposeBuild build) {
  if (scales.empty())
    throw InvalidArgument(expected_got("resize_and_merge: net_outputs", "at least one scale", "none"));
  if (n < 0 || c < 1)
    throw InvalidArgument(expected_got("resize_and_merge: batch and channels", "N >= 0, C >= 1",
                                       "N = " + std::to_string(n) + ", C = " + std::to_string(c)));
  for (size_t s = 0; s < scales.size(); ++s) {
    const ScaleMaps& m = scales[s];
    const std::string what = "resize_and_merge: net_outputs[" + std::to_string(s) + "] shape";
    if (m.h < 1 || m.w < 1 || m.h > kMaxSide || m.w > kMaxSide)
      throw InvalidArgument(expected_got(what, "[N, h >= 1, w >= 1, C]", shape_str({n, m.h, m.w, c})));
    if (!std::isfinite(m.ratio) || m.ratio <= 0)
      throw InvalidArgument(expected_got("resize_and_merge: scale_ratios[" + std::to_string(s) + "]",
                                         "a finite positive number", std::to_string(m.ratio)));
  }
  if (H < 1 || W < 1 || H > kMaxSide || W > kMaxSide)
    throw InvalidArgument(expected_got("resize_and_merge: target_size", "(H >= 1, W >= 1)",
                                       "(" + std::to_string(H) + ", " + std::to_string(W) + ")"));
  if (build != OpenposeBuild::kCuda) return;
  if (static_cast<int64_t>(scales.size()) > kMaxCudaScales)
    throw InvalidArgument(expected_got("resize_and_merge: number of scales with openpose_build=\"cuda\"",
                                       "at most " + std::to_string(kMaxCudaScales), std::to_string(scales.size())));
  if (scales.size() > 1) {
    // The merge factors are float32 (as in OpenPose); absurd ratios must not turn them into 0 or Inf,
    // whose source coordinates could not be turned into tap indices.
    for (size_t s = 0; s < scales.size(); ++s) {
      const float r0 = static_cast<float>(scales[0].ratio), ri = static_cast<float>(scales[s].ratio);
      const float fx = detail::openpose_cuda_merge_factor(W, scales[0].w, ri, r0);
      const float fy = detail::openpose_cuda_merge_factor(H, scales[0].h, ri, r0);
      const float lo = 1.f / 1073741824.f;  // 2^-30: |source coordinate| stays below 2^61
      if (!(std::isfinite(fx) && std::isfinite(fy) && fx > lo && fy > lo))
        throw InvalidArgument(
            expected_got("resize_and_merge: sampling factors of scale " + std::to_string(s) +
                             " (target / scale-0 size) / (scale_ratios[" + std::to_string(s) + "] / scale_ratios[0])",
                         "finite and > 2^-30 in float32", "(" + std::to_string(fy) + ", " + std::to_string(fx) + ")"));
    }
    return;
  }
  {
    const ScaleMaps& m = scales[0];
    const bool same = m.h == H && m.w == W;
    if (!same && (H / m.h != 8 || W / m.w != 8))
      throw InvalidArgument(
          expected_got("resize_and_merge: target_size with openpose_build=\"cuda\" and one scale",
                       "8x the net output (H / h == W / w == 8 in integer division) or the same size, as "
                       "OpenPose's CUDA build requires; net output (h, w) = (" +
                           std::to_string(m.h) + ", " + std::to_string(m.w) + ")",
                       "(" + std::to_string(H) + ", " + std::to_string(W) + ")"));
  }
}

void resize_and_merge(const std::vector<ScaleMaps>& scales, int64_t n, int64_t c, int64_t H, int64_t W,
                      OpenposeBuild build, float* out, const ParallelFor& pf) {
  check_resize_and_merge_args(scales, n, c, H, W, build);
  if (n == 0) return;
  const std::vector<ScalePlan> plans = detail::make_resize_plans(scales, H, W, build);
  const size_t num_scales = plans.size();
  const bool cuda = build == OpenposeBuild::kCuda;
  const float k = detail::merge_constant(static_cast<int64_t>(num_scales), cuda);
  const int64_t row = W * c;

  // Work unit = (image, block of output rows). A shard's consecutive units of one image share the
  // cached source rows, so only a shard's first block recomputes up to three of them per scale; the
  // block size just sets the scheduling granularity. Aim for >= 16 units per call.
  int64_t rows_per_block = 64;
  while (rows_per_block > 8 && n * ((H + rows_per_block - 1) / rows_per_block) < 16) rows_per_block /= 2;
  const int64_t blocks = (H + rows_per_block - 1) / rows_per_block;
  int64_t src_rows = 0;
  for (const ScalePlan& p : plans) src_rows += p.copy ? 0 : p.h;
  // Per unit: 8 flops per output value and scale, plus the horizontal passes of its source rows.
  const int64_t cost = rows_per_block * row * 8 * static_cast<int64_t>(num_scales) +
                       (src_rows / std::max<int64_t>(blocks, 1) + 3) * row * 8;

  pf(n * blocks, cost, [&](int64_t begin, int64_t end) {
    ScopedKeepDenormals keep_denormals;
    std::vector<RowCache> caches(num_scales);
    for (size_t s = 0; s < num_scales; ++s)
      if (!plans[s].copy) caches[s].buf.resize(static_cast<size_t>(4 * row));
    int64_t cached_image = -1;
    for (int64_t unit = begin; unit < end; ++unit) {
      const int64_t img = unit / blocks;
      const int64_t y0 = (unit % blocks) * rows_per_block, y1 = std::min(H, y0 + rows_per_block);
      // Consecutive blocks of one image keep the cached rows; another image invalidates them.
      if (img != cached_image) {
        for (RowCache& rc : caches) std::fill(rc.tag, rc.tag + 4, int64_t{-1});
        cached_image = img;
      }
      for (int64_t y = y0; y < y1; ++y) {
        float* o = out + (img * H + y) * row;
        for (size_t s = 0; s < num_scales; ++s) {
          const ScalePlan& p = plans[s];
          const detail::MergeStep mode =
              detail::merge_step_of(static_cast<int64_t>(s), static_cast<int64_t>(num_scales), cuda);
          const float* image = p.data + img * p.h * p.w * c;
          if (p.copy) {
            detail::copy_merge_pass(mode, image + y * row, row, k, o);
            continue;
          }
          const CubicTaps& ty = p.ytaps[static_cast<size_t>(y)];
          RowCache& rc = caches[s];
          const float* rows[4];
          for (int j = 0; j < 4; ++j) {
            const int64_t r = ty.idx[j];
            const int slot = static_cast<int>(r & 3);
            float* dst = rc.buf.data() + slot * row;
            if (rc.tag[slot] != r) {
              detail::horizontal_pass(image + r * p.w * c, p.xtaps.data(), W, c, dst);
              rc.tag[slot] = r;
            }
            rows[j] = dst;
          }
          detail::vertical_merge_pass(mode, rows[0], rows[1], rows[2], rows[3], ty.w, row, k, o);
        }
      }
    }
  });
}

namespace detail {

std::vector<ResizePlan> make_resize_plans(const std::vector<ScaleMaps>& scales, int64_t H, int64_t W,
                                          OpenposeBuild build) {
  std::vector<ResizePlan> plans(scales.size());
  for (size_t s = 0; s < scales.size(); ++s) {
    ResizePlan& p = plans[s];
    p.data = scales[s].data;
    p.h = scales[s].h;
    p.w = scales[s].w;
    // The same sampling the CUDA kernel computes per element (detail::scale_sampling, axis_taps).
    const detail::ScaleSampling smp =
        detail::scale_sampling(p.h, p.w, scales[s].ratio, scales[0].h, scales[0].w, scales[0].ratio,
                               static_cast<int64_t>(scales.size()), H, W, build == OpenposeBuild::kCuda);
    p.copy = smp.copy;
    if (p.copy) continue;
    p.xtaps.resize(static_cast<size_t>(W));
    p.ytaps.resize(static_cast<size_t>(H));
    for (int64_t x = 0; x < W; ++x) p.xtaps[x] = detail::axis_taps(smp.x, x, p.w);
    for (int64_t y = 0; y < H; ++y) p.ytaps[y] = detail::axis_taps(smp.y, y, p.h);
  }
  return plans;
}

}  // namespace detail

}  // namespace tfpose
