// Glue of the GPU kernels (compiled only with GOOGLE_CUDA): the raw cudaStream_t of the kernel's
// compute stream, and launcher error codes turned into statuses. Needs no CUDA headers.
#pragma once

#if GOOGLE_CUDA

#include "tensorflow/core/framework/op_kernel.h"
#include "tfpose/cuda_launch.hpp"
#include "xla/stream_executor/stream.h"

namespace tfpose_tf {

// The stream TF runs this kernel's GPU work on; the launchers enqueue there, so the op's outputs are
// ordered with the rest of the graph exactly like TF's own GPU kernels.
inline void* GpuStream(::tensorflow::OpKernelContext* ctx) {
  ::tensorflow::DeviceContext* dc = ctx->op_device_context();
  ::stream_executor::Stream* s = dc == nullptr ? nullptr : dc->stream();
  return s == nullptr ? nullptr : s->platform_specific_handle().stream;
}

// OK, or an Internal status naming the op and the CUDA error of the launch.
inline void CheckLaunch(::tensorflow::OpKernelContext* ctx, const char* op, int code) {
  if (code != 0)
    ctx->CtxFailure(__FILE__, __LINE__,
                    ::tensorflow::errors::Internal(op, ": CUDA launch failed: ", tfpose::cuda::error_string(code)));
}

}  // namespace tfpose_tf

#endif  // GOOGLE_CUDA
