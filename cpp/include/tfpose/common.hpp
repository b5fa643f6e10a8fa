// Shared vocabulary of the tfpose core: errors, the OpenPose build switch, and the parallel-for
// hook through which callers (TensorFlow's intra-op pool, std::thread in the pybind module) lend
// threads to the core without the core knowing about either.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>

namespace tfpose {

// Thrown by core validation. The message names what was expected and what came; the TF kernels turn
// it into InvalidArgument, the pybind11 module into ValueError.
class InvalidArgument : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// OpenPose's CPU and CUDA builds compute different results (docs/algorithms/body.md §4, §5, §7); every op reproduces
// either one, on every device.
enum class OpenposeBuild { kCpu = 0, kCuda = 1 };

// "cpu" or "cuda"; anything else throws InvalidArgument.
OpenposeBuild parse_openpose_build(const std::string& name);
const char* openpose_build_name(OpenposeBuild build);

// fn(begin, end) processes units [begin, end). A ParallelFor may call fn concurrently on disjoint
// ranges covering [0, n) and returns when all are done. cost_per_unit is a hint in CPU cycles.
using RangeFn = std::function<void(int64_t begin, int64_t end)>;
using ParallelFor = std::function<void(int64_t n, int64_t cost_per_unit, const RangeFn& fn)>;

// Runs fn(0, n) on the calling thread (with IEEE denormals, like every ParallelFor of the core).
void serial_for(int64_t n, int64_t cost_per_unit, const RangeFn& fn);

// The one place where the core's parallel loops get their execution rules, whatever pool runs them
// (TensorFlow's intra-op pool, the thread pool below): every range runs with IEEE denormal arithmetic
// (TensorFlow's threads flush denormals to zero; numpy callers do not: one answer needs one mode), and
// an exception thrown by a range is caught on its thread (an exception escaping a pool thread would
// terminate the process); the first one is rethrown to the caller once every range has finished.
ParallelFor guarded_parallel_for(ParallelFor inner);

// Most threads a numpy entry point may ask for (the calling thread included).
constexpr int kMaxThreads = 256;
// A pool worker that finds no job for this long ends; the next job starts workers again.
constexpr int kPoolIdleSeconds = 5;

// A ParallelFor over a process-wide pool of std::threads (at most `threads` take part, the calling
// thread included; 0 = hardware concurrency; more than kMaxThreads or fewer than 0 throws
// InvalidArgument), used where no framework pool exists (the numpy entry points). Small jobs, and
// calls made from inside a task of this pool, run on the calling thread. Safe to call from several
// threads at once and after fork() in the child; see guarded_parallel_for for denormals and errors.
ParallelFor thread_parallel_for(int threads = 0);

// What the core keeps between calls, whatever the frames it saw: pooled full-resolution planes of the
// fast path up to kPoolMaxBytes in all; a thread's scratch buffer larger than kScratchKeepBytes is
// released at the end of the call that grew it (an ordinary frame's stay, saving page faults).
constexpr size_t kPoolMaxBytes = size_t{32} << 20;
constexpr size_t kScratchKeepBytes = size_t{4} << 20;

namespace detail {
// Makes a process-wide mutex safe across fork(): it is locked before every fork() (in registration
// order) and unlocked after it in parent and child, so a child never inherits it held by a thread
// that does not exist there. For mutexes that live for the whole process (never destroyed); lock
// them only briefly, never while waiting for another registered mutex or for other threads.
void hold_across_fork(std::mutex* mu);

// A new mutex for process-wide state: never destroyed (threads may outlive static teardown) and held
// across fork() (hold_across_fork).
std::mutex* new_process_mutex();

// Releases the memory of each given vector whose capacity exceeds kScratchKeepBytes.
template <typename... Vectors>
void trim_scratch(Vectors&... vs) {
  ((vs.capacity() * sizeof(typename Vectors::value_type) > kScratchKeepBytes ? Vectors().swap(vs) : void()), ...);
}
}  // namespace detail

// Builds "what: expected E, got G" messages consistently.
std::string expected_got(const std::string& what, const std::string& expected, const std::string& got);
std::string shape_str(std::initializer_list<int64_t> dims);
// The one formatter of numbers in messages: the shortest text that reads back as v (Python's repr of
// a float: "0.3", "inf", "nan", "2.0"), so that messages name the value the caller gave. The float
// overload reads back at float precision, so a float attribute 0.3f prints "0.3" (not
// "0.30000001192092896", nor std::to_string's "0.300000"). Integers print with std::to_string.
std::string number_str(double v);
std::string number_str(float v);

}  // namespace tfpose
