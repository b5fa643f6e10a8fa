#include "tfpose/paf_scores.hpp"

#include <limits>
#include <string>

namespace tfpose {

std::vector<PafLimb> paf_limbs(const PoseModel& model) {
  std::vector<PafLimb> limbs(static_cast<size_t>(model.num_limbs()));
  for (int l = 0; l < model.num_limbs(); ++l)
    limbs[static_cast<size_t>(l)] = {model.pairs[l][0], model.pairs[l][1], model.paf_channel(l, 0),
                                     model.paf_channel(l, 1)};
  return limbs;
}

void check_paf_score_args(int64_t n, int64_t h, int64_t w, int64_t c, int64_t p, int64_t k,
                          const std::vector<PafLimb>& limbs) {
  const int64_t int_max = std::numeric_limits<int>::max();
  if (n < 0 || h < 1 || w < 1 || c < 1 || h > int_max || w > int_max)
    throw InvalidArgument(
        expected_got("paf_scores: maps shape", "[N >= 0, 1 <= H, W < 2^31, C >= 1]", shape_str({n, h, w, c})));
  if (p < 1 || k < 1)
    throw InvalidArgument(expected_got("paf_scores: peaks shape", "[N, P >= 1, K >= 1, 3]", shape_str({n, p, k, 3})));
  for (size_t l = 0; l < limbs.size(); ++l) {
    const PafLimb& b = limbs[l];
    if (b.part_a < 0 || b.part_a >= p || b.part_b < 0 || b.part_b >= p || b.channel_x < 0 || b.channel_x >= c ||
        b.channel_y < 0 || b.channel_y >= c)
      throw InvalidArgument(
          expected_got("paf_scores: limb " + std::to_string(l),
                       "parts < P = " + std::to_string(p) + " and PAF channels < C = " + std::to_string(c),
                       "parts (" + std::to_string(b.part_a) + ", " + std::to_string(b.part_b) + "), channels (" +
                           std::to_string(b.channel_x) + ", " + std::to_string(b.channel_y) + ")"));
  }
}

void paf_score_table(const float* maps, int64_t n, int64_t h, int64_t w, int64_t c, const float* peaks,
                     const int32_t* counts, int64_t p, int64_t k, const std::vector<PafLimb>& limbs,
                     const detail::PafScoreParams& params, float* out, const ParallelFor& pf) {
  check_paf_score_args(n, h, w, c, p, k, limbs);
  const int64_t num_limbs = static_cast<int64_t>(limbs.size());
  pf(n * num_limbs, k * k * 200, [&](int64_t begin, int64_t end) {
    for (int64_t unit = begin; unit < end; ++unit) {
      const int64_t img = unit / num_limbs;
      const PafLimb& b = limbs[static_cast<size_t>(unit % num_limbs)];
      const float* image = maps + img * h * w * c;
      const float* pk = peaks + img * p * k * 3;
      auto clamp_count = [k](int32_t v) { return v < 0 ? int64_t{0} : (v > k ? k : int64_t{v}); };
      const int64_t na = clamp_count(counts[img * p + b.part_a]), nb = clamp_count(counts[img * p + b.part_b]);
      const detail::StridedPafSampler sampler{image + b.channel_x, image + b.channel_y, w * c, c};
      float* o = out + unit * k * k;
      for (int64_t i = 0; i < k; ++i) {
        for (int64_t j = 0; j < k; ++j) {
          if (i >= na || j >= nb) {
            o[i * k + j] = -1.f;
            continue;
          }
          const float* pa = pk + (b.part_a * k + i) * 3;
          const float* pb = pk + (b.part_b * k + j) * 3;
          o[i * k + j] = detail::paf_line_score(pa[0], pa[1], pb[0], pb[1], static_cast<int>(w), static_cast<int>(h),
                                                params, sampler);
        }
      }
    }
  });
}

}  // namespace tfpose
