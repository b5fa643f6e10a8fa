#include "tfpose/common.hpp"

#include <algorithm>
#include <sstream>
#include <thread>
#include <vector>

namespace tfpose {

OpenposeBuild parse_openpose_build(const std::string& name) {
  if (name == "cpu") return OpenposeBuild::kCpu;
  if (name == "cuda") return OpenposeBuild::kCuda;
  throw InvalidArgument(expected_got("openpose_build", "\"cpu\" or \"cuda\"", "\"" + name + "\""));
}

const char* openpose_build_name(OpenposeBuild build) {
  return build == OpenposeBuild::kCuda ? "cuda" : "cpu";
}

void serial_for(int64_t n, int64_t /*cost_per_unit*/, const RangeFn& fn) {
  if (n > 0) fn(0, n);
}

ParallelFor thread_parallel_for(int threads) {
  int hw = static_cast<int>(std::thread::hardware_concurrency());
  int max_threads = threads > 0 ? threads : std::max(1, hw);
  return [max_threads](int64_t n, int64_t cost_per_unit, const RangeFn& fn) {
    if (n <= 0) return;
    // Spawning a thread costs ~20 us (~50k cycles); below that much work per thread, stay serial.
    const int64_t min_cost_per_thread = 100000;
    int64_t total = n * std::max<int64_t>(cost_per_unit, 1);
    int64_t t = std::min<int64_t>({static_cast<int64_t>(max_threads), n,
                                   std::max<int64_t>(1, total / min_cost_per_thread)});
    if (t <= 1) {
      fn(0, n);
      return;
    }
    std::vector<std::thread> pool;
    pool.reserve(static_cast<size_t>(t - 1));
    int64_t chunk = (n + t - 1) / t;
    for (int64_t i = 1; i < t; ++i) {
      int64_t b = i * chunk, e = std::min(n, b + chunk);
      if (b < e) pool.emplace_back([&fn, b, e] { fn(b, e); });
    }
    fn(0, std::min(n, chunk));
    for (auto& th : pool) th.join();
  };
}

std::string expected_got(const std::string& what, const std::string& expected, const std::string& got) {
  return what + ": expected " + expected + ", got " + got;
}

std::string shape_str(std::initializer_list<int64_t> dims) {
  std::ostringstream os;
  os << "[";
  bool first = true;
  for (int64_t d : dims) {
    if (!first) os << ", ";
    os << d;
    first = false;
  }
  os << "]";
  return os.str();
}

}  // namespace tfpose
