// Small CUDA runtime queries for the bindings, which are compiled without CUDA headers: which device
// a pointer lives on, and switching the calling thread's device for the duration of a launch.
#include <cuda_runtime.h>

#include "tfpose/cuda_launch.hpp"

namespace tfpose {
namespace cuda {

int device_count(int* count) {
  *count = 0;
  const cudaError_t err = cudaGetDeviceCount(count);
  if (err != cudaSuccess) *count = 0;
  return static_cast<int>(err);
}

int pointer_device(const void* ptr, int* device) {
  *device = -1;
  cudaPointerAttributes attr;
  const cudaError_t err = cudaPointerGetAttributes(&attr, ptr);
  if (err != cudaSuccess) return static_cast<int>(err);
  // Managed memory is usable from its device too; plain host memory (registered or not) is not.
  if (attr.type == cudaMemoryTypeDevice || attr.type == cudaMemoryTypeManaged) *device = attr.device;
  return 0;
}

int get_device(int* device) {
  return static_cast<int>(cudaGetDevice(device));
}

int set_device(int device) {
  return static_cast<int>(cudaSetDevice(device));
}

}  // namespace cuda
}  // namespace tfpose
