// fast_connect: the connector's pair scores with merged PAF values evaluated only at the samples it
// takes (detail::merged_pixel, bit-identical to the dense resize), then OpenPose's assembly.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <exception>
#include <mutex>
#include <string>
#include <vector>

#include "tfpose/detail/denormals.hpp"
#include "tfpose/detail/interp.hpp"
#include "tfpose/detail/paf_score.hpp"
#include "tfpose/fast_path.hpp"

namespace tfpose {

using detail::ResizePlan;

std::vector<People> fast_connect(const std::vector<ScaleMaps>& scales, int64_t n, int64_t c, int64_t H, int64_t W,
                                 OpenposeBuild build, const float* peaks, const int32_t* counts, int64_t k, float scale,
                                 const PoseModel& model, const ConnectThresholds& th, const ParallelFor& pf) {
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
  for (int m = 1; m <= 25; ++m)
    min_passing[static_cast<size_t>(m)] = detail::paf_min_passing(m, ps.inter_min_above_threshold);

  // Pair scores of every (image, limb), computed in parallel; the assembly then only reads them.
  // table[img * L + l] is [counts[A], counts[B]] row-major.
  std::vector<std::vector<float>> table(static_cast<size_t>(n * L));
  int64_t max_pairs = 1;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t l = 0; l < L; ++l)
      max_pairs =
          std::max<int64_t>(max_pairs, int64_t{counts[i * P + model.pairs[l][0]]} * counts[i * P + model.pairs[l][1]]);
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
