// Glue shared by the TensorFlow kernels: a ParallelFor over TF's intra-op pool and the conversion of
// core errors into TF statuses.
#pragma once

#include <string>

#include "tensorflow/core/framework/op_kernel.h"
#include "tfpose/common.hpp"

namespace tfpose_tf {

// Runs the core's parallel loops on the core's own worker pool, the one the numpy entry points use,
// with as many threads as the kernel's intra-op pool has: the TF op and the numpy entry then split
// the same loops into the same tasks (tensorflow::Shard has a cost model of its own), so the op
// costs what the numpy entry costs plus TensorFlow's dispatch (benchmarks/README.md,
// bench_end_to_end, "TF op path").
inline tfpose::ParallelFor PoolFor(::tensorflow::OpKernelContext* ctx) {
  auto* workers = ctx->device()->tensorflow_cpu_worker_threads();
  return tfpose::thread_parallel_for(workers->num_threads);
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
