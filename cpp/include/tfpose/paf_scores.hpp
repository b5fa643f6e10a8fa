// The connector's pair-score table (spec 7.3 step 1): the PAF line score (spec 7.1) of every limb and
// every (candidate of part A, candidate of part B), as OpenPose's CUDA build computes it on the GPU
// before the assembly runs on the host. The CPU version here and the CUDA kernel (cpp/cuda/paf_scores.cu)
// both evaluate detail/paf_score.hpp, the function the CPU connector scores pairs with.
#pragma once

#include <cstdint>
#include <vector>

#include "tfpose/common.hpp"
#include "tfpose/connector.hpp"
#include "tfpose/detail/paf_score.hpp"
#include "tfpose/pose_model.hpp"

namespace tfpose {

// One limb as the score kernels read it: its two parts and the two absolute PAF channels (x, y).
struct PafLimb {
  int32_t part_a, part_b, channel_x, channel_y;
};

// The model's limbs in connector order.
std::vector<PafLimb> paf_limbs(const PoseModel& model);

// maps [N, H, W, C], peaks [N, P, K, 3] (NMS offset included), counts [N, P] -> out [N, L, K, K]:
// out[n, l, i, j] = score of the i-th peak of limb l's part A with the j-th of its part B, and -1 where
// i >= counts[n, A] or j >= counts[n, B]. Counts outside [0, K] are clamped into it (the CUDA kernel
// cannot report them; the connector's own entry points reject them).
void paf_score_table(const float* maps, int64_t n, int64_t h, int64_t w, int64_t c, const float* peaks,
                     const int32_t* counts, int64_t p, int64_t k, const std::vector<PafLimb>& limbs,
                     const detail::PafScoreParams& params, float* out, const ParallelFor& pf = serial_for);

// Throws InvalidArgument unless limbs index parts < P and channels < C, and H, W >= 1, K >= 1, and
// H, W fit an int (the score function samples with int indices).
void check_paf_score_args(int64_t n, int64_t h, int64_t w, int64_t c, int64_t p, int64_t k,
                          const std::vector<PafLimb>& limbs);

}  // namespace tfpose
