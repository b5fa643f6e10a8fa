// TFPOSE_HD marks per-element math that both the CPU core and the CUDA kernels compile, so the two
// cannot drift apart (DESIGN principle 1).
#pragma once

#if defined(__CUDACC__)
#define TFPOSE_HD __host__ __device__ __forceinline__
#else
#define TFPOSE_HD inline
#endif
