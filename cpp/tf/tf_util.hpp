// Glue shared by the TensorFlow kernels: a ParallelFor over TF's intra-op pool and the conversion of
// core errors into TF statuses.
#pragma once

#include <algorithm>
#include <string>

#include "tensorflow/core/framework/op_kernel.h"
#include "tfpose/common.hpp"
#include "tfpose/detail/denormals.hpp"

namespace tfpose_tf {

// Runs the core's parallel loops on the core's own worker pool, the one the numpy entry points use,
// with as many threads as the kernel's intra-op pool has (at most kMaxThreads): the TF op and the
// numpy entry then split the same loops into the same tasks (tensorflow::Shard has a cost model of
// its own), so the op costs what the numpy entry costs plus TensorFlow's dispatch
// (benchmarks/README.md, bench_end_to_end, "TF op path"). The pool runs every range through the
// core's guard: IEEE denormals (TF's threads flush them) and a range's exception rethrown here.
inline tfpose::ParallelFor PoolFor(::tensorflow::OpKernelContext* ctx) {
  auto* workers = ctx->device()->tensorflow_cpu_worker_threads();
  return tfpose::thread_parallel_for(std::min(workers->num_threads, tfpose::kMaxThreads));
}

// Calls body() where a core check may throw outside a Compute (a kernel's constructor checking its
// attributes): a tfpose::InvalidArgument becomes the InvalidArgument status "op: message".
template <typename Body>
::tensorflow::Status CoreStatus(const char* op, Body&& body) {
  try {
    body();
  } catch (const tfpose::InvalidArgument& e) {
    return ::tensorflow::errors::InvalidArgument(op, ": ", e.what());
  }
  return ::tensorflow::OkStatus();
}

// Calls body() with IEEE denormals (as the numpy entry points compute); a tfpose::InvalidArgument
// becomes an InvalidArgument status on ctx, anything else an Internal status. Exceptions never cross
// into TensorFlow.
template <typename Body>
void RunGuarded(::tensorflow::OpKernelContext* ctx, const char* op, Body&& body) {
  try {
    tfpose::detail::ScopedKeepDenormals keep_denormals;
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
