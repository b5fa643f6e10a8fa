// Shared vocabulary of the tfpose core: errors, the OpenPose build switch, and the parallel-for
// hook through which callers (TensorFlow's intra-op pool, std::thread in the pybind module) lend
// threads to the core without the core knowing about either.
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>

namespace tfpose {

// Thrown by core validation. The message names what was expected and what came; the TF kernels turn
// it into InvalidArgument, the pybind11 module into ValueError.
class InvalidArgument : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// OpenPose's CPU and CUDA builds compute different results (spec §4, §5, §7); every op reproduces
// either one, on every device.
enum class OpenposeBuild { kCpu = 0, kCuda = 1 };

// "cpu" or "cuda"; anything else throws InvalidArgument.
OpenposeBuild parse_openpose_build(const std::string& name);
const char* openpose_build_name(OpenposeBuild build);

// fn(begin, end) processes units [begin, end). A ParallelFor may call fn concurrently on disjoint
// ranges covering [0, n) and returns when all are done. cost_per_unit is a hint in CPU cycles.
using RangeFn = std::function<void(int64_t begin, int64_t end)>;
using ParallelFor = std::function<void(int64_t n, int64_t cost_per_unit, const RangeFn& fn)>;

// Runs fn(0, n) on the calling thread.
void serial_for(int64_t n, int64_t cost_per_unit, const RangeFn& fn);

// A ParallelFor over a process-wide pool of persistent std::threads (at most `threads` take part, the
// calling thread included; 0 = hardware concurrency), used where no framework pool exists (the numpy
// entry points). Small jobs, and calls made from inside a task of this pool, run on the calling
// thread. Safe to call from several threads at once; a task's exception is rethrown to the caller.
ParallelFor thread_parallel_for(int threads = 0);

// Builds "what: expected E, got G" messages consistently.
std::string expected_got(const std::string& what, const std::string& expected, const std::string& got);
std::string shape_str(std::initializer_list<int64_t> dims);

}  // namespace tfpose
