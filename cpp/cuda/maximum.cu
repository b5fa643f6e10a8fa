// Device version of tfpose::maximum: one block per (image, channel), a strided scan of the NHWC
// plane then a shared-memory argmax reduction that keeps the smallest raster index on ties, so the
// result equals the CPU core's first-in-raster-order rule.
#include <cuda_runtime.h>

#include <cmath>

#include "tfpose/cuda_launch.hpp"

namespace tfpose {
namespace cuda {
namespace {

constexpr int kThreads = 256;

__device__ __forceinline__ bool better(float v, long long i, float bv, long long bi) {
  // NaN is never better; on equal values the earlier raster index wins; an unset slot (bi < 0)
  // loses to any number, including -inf.
  if (v != v) return false;
  if (bi < 0) return true;
  return v > bv || (v == bv && i < bi);
}

__global__ void maximum_kernel(const float* __restrict__ heat, long long plane, long long w, long long c,
                               float* __restrict__ out) {
  const long long img = blockIdx.x / c;
  const long long ch = blockIdx.x % c;
  const float* base = heat + img * plane * c + ch;
  float bv = -INFINITY;
  long long bi = -1;
  for (long long p = threadIdx.x; p < plane; p += blockDim.x) {
    float v = base[p * c];
    if (better(v, p, bv, bi)) {
      bv = v;
      bi = p;
    }
  }
  __shared__ float sv[kThreads];
  __shared__ long long si[kThreads];
  sv[threadIdx.x] = bv;
  si[threadIdx.x] = bi;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s && si[threadIdx.x + s] >= 0 &&
        better(sv[threadIdx.x + s], si[threadIdx.x + s], sv[threadIdx.x], si[threadIdx.x])) {
      sv[threadIdx.x] = sv[threadIdx.x + s];
      si[threadIdx.x] = si[threadIdx.x + s];
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    float* o = out + (img * c + ch) * 3;
    if (si[0] < 0) {
      o[0] = 0.f;
      o[1] = 0.f;
      o[2] = NAN;
    } else {
      o[0] = static_cast<float>(si[0] % w);
      o[1] = static_cast<float>(si[0] / w);
      o[2] = sv[0];
    }
  }
}

}  // namespace

const char* error_string(int code) {
  return cudaGetErrorString(static_cast<cudaError_t>(code));
}

int maximum(const float* heatmaps, int64_t n, int64_t h, int64_t w, int64_t c, float* out, Stream stream) {
  if (n <= 0 || c <= 0) return 0;
  maximum_kernel<<<static_cast<unsigned>(n * c), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(heatmaps, h * w, w,
                                                                                                   c, out);
  return static_cast<int>(cudaGetLastError());
}

}  // namespace cuda
}  // namespace tfpose
