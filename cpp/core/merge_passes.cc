#include "tfpose/detail/merge_passes.hpp"

namespace tfpose {
namespace detail {

namespace {

// The mode is a compile-time constant so that the loops vectorise; one clone pair per mode.
template <MergeStep mode>
TFPOSE_CPU_CLONES void vertical_pass(const float* __restrict r0, const float* __restrict r1, const float* __restrict r2,
                                     const float* __restrict r3, const float* wt, int64_t n, float k,
                                     float* __restrict o) {
  const float w[4] = {wt[0], wt[1], wt[2], wt[3]};
  for (int64_t j = 0; j < n; ++j) o[j] = merge_step(mode, o[j], cubic_sum(r0[j], r1[j], r2[j], r3[j], w), k);
}

template <MergeStep mode>
TFPOSE_CPU_CLONES void copy_pass(const float* __restrict src, int64_t n, float k, float* __restrict o) {
  for (int64_t j = 0; j < n; ++j) o[j] = merge_step(mode, o[j], src[j], k);
}

}  // namespace

TFPOSE_CPU_CLONES void horizontal_pass(const float* __restrict src, const CubicTaps* taps, int64_t W, int64_t C,
                                       float* __restrict dst) {
  for (int64_t x = 0; x < W; ++x) {
    const CubicTaps& t = taps[x];
    const float w[4] = {t.w[0], t.w[1], t.w[2], t.w[3]};
    const float* __restrict a0 = src + t.idx[0] * C;
    const float* __restrict a1 = src + t.idx[1] * C;
    const float* __restrict a2 = src + t.idx[2] * C;
    const float* __restrict a3 = src + t.idx[3] * C;
    float* __restrict o = dst + x * C;
    for (int64_t c = 0; c < C; ++c) o[c] = cubic_sum(a0[c], a1[c], a2[c], a3[c], w);
  }
}

void vertical_merge_pass(MergeStep mode, const float* r0, const float* r1, const float* r2, const float* r3,
                         const float w[4], int64_t n, float k, float* o) {
  switch (mode) {
    case MergeStep::kAssign:
      return vertical_pass<MergeStep::kAssign>(r0, r1, r2, r3, w, n, k, o);
    case MergeStep::kAdd:
      return vertical_pass<MergeStep::kAdd>(r0, r1, r2, r3, w, n, k, o);
    case MergeStep::kAddThenScale:
      return vertical_pass<MergeStep::kAddThenScale>(r0, r1, r2, r3, w, n, k, o);
    case MergeStep::kAddThenDivide:
      return vertical_pass<MergeStep::kAddThenDivide>(r0, r1, r2, r3, w, n, k, o);
  }
}

void copy_merge_pass(MergeStep mode, const float* src, int64_t n, float k, float* o) {
  switch (mode) {
    case MergeStep::kAssign:
      return copy_pass<MergeStep::kAssign>(src, n, k, o);
    case MergeStep::kAdd:
      return copy_pass<MergeStep::kAdd>(src, n, k, o);
    case MergeStep::kAddThenScale:
      return copy_pass<MergeStep::kAddThenScale>(src, n, k, o);
    case MergeStep::kAddThenDivide:
      return copy_pass<MergeStep::kAddThenDivide>(src, n, k, o);
  }
}

}  // namespace detail
}  // namespace tfpose
