// Glue shared by the TensorFlow kernels: a ParallelFor over TF's intra-op pool and the conversion of
// core errors into TF statuses.
#pragma once

#include <string>

#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/util/work_sharder.h"
#include "tfpose/common.hpp"

namespace tfpose_tf {

// Runs the core's parallel loops on the kernel's intra-op thread pool.
inline tfpose::ParallelFor PoolFor(::tensorflow::OpKernelContext* ctx) {
  auto* workers = ctx->device()->tensorflow_cpu_worker_threads();
  return [workers](int64_t n, int64_t cost, const tfpose::RangeFn& fn) {
    ::tensorflow::Shard(workers->num_threads, workers->workers, n, cost, [&fn](int64_t b, int64_t e) { fn(b, e); });
  };
}

// Calls body(); a tfpose::InvalidArgument becomes an InvalidArgument status on ctx, anything else an
// Internal status. Exceptions never cross into TensorFlow.
template <typename Body>
void RunGuarded(::tensorflow::OpKernelContext* ctx, const char* op, Body&& body) {
  try {
    body();
  } catch (const tfpose::InvalidArgument& e) {
    ctx->CtxFailure(__FILE__, __LINE__, ::tensorflow::errors::InvalidArgument(op, ": ", e.what()));
  } catch (const std::bad_alloc&) {
    ctx->CtxFailure(__FILE__, __LINE__, ::tensorflow::errors::ResourceExhausted(op, ": out of memory"));
  } catch (const std::exception& e) {
    ctx->CtxFailure(__FILE__, __LINE__, ::tensorflow::errors::Internal(op, ": ", e.what()));
  }
}

}  // namespace tfpose_tf
