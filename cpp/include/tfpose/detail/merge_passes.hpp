// The CPU loops of resize-and-merge that the dense resize (core/resize_and_merge.cc) and the fast
// path's exact evaluation (core/fast_path/exact_eval.cc) share: the vertical pass with its merge step
// and the copy of a same-size scale. Both call these, so a value evaluated by the fast path rounds
// exactly like the dense map's. CPU only (the CUDA kernels call detail/interp.hpp per element).
//
// Each loop is compiled twice, for AVX2 and for the baseline, and picked at load time
// (TFPOSE_CPU_CLONES). Neither clone contracts a*b+c into an FMA (the core is built with
// -ffp-contract=off, and the AVX2 clone does not enable FMA), so both round like the scalar code,
// OpenCV and the CUDA kernels (built with --fmad=false): every machine gives the same answer.
#pragma once

#include <cstdint>

#include "tfpose/detail/interp.hpp"

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(__CUDACC__)
#define TFPOSE_CPU_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define TFPOSE_CPU_CLONES
#endif

namespace tfpose {
namespace detail {

// One source row [w, C] -> one horizontally interpolated row [W, C] (taps: [W]).
void horizontal_pass(const float* src, const CubicTaps* taps, int64_t W, int64_t C, float* dst);

// o[j] = merge_step(mode, o[j], cubic_sum(r0[j], r1[j], r2[j], r3[j], w), k) for j < n: the vertical
// pass over four horizontally interpolated rows, merged into the output row.
void vertical_merge_pass(MergeStep mode, const float* r0, const float* r1, const float* r2, const float* r3,
                         const float w[4], int64_t n, float k, float* o);

// o[j] = merge_step(mode, o[j], src[j], k) for j < n: a scale already at the target size.
void copy_merge_pass(MergeStep mode, const float* src, int64_t n, float k, float* o);

}  // namespace detail
}  // namespace tfpose
