#include "tfpose/common.hpp"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "tfpose/detail/denormals.hpp"

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
  detail::ScopedKeepDenormals keep_denormals;
  if (n > 0) fn(0, n);
}

ParallelFor guarded_parallel_for(ParallelFor inner) {
  return [inner = std::move(inner)](int64_t n, int64_t cost_per_unit, const RangeFn& fn) {
    std::mutex mu;
    std::exception_ptr err;
    inner(n, cost_per_unit, [&](int64_t begin, int64_t end) {
      detail::ScopedKeepDenormals keep_denormals;
      try {
        fn(begin, end);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu);
        if (!err) err = std::current_exception();
      }
    });
    if (err) std::rethrow_exception(err);
  };
}

// ---------------------------------------------------------------------------------------------
// fork(): process-wide mutexes are held across it (see detail::hold_across_fork)
// ---------------------------------------------------------------------------------------------

namespace {

struct ForkRegistry {
  std::mutex self;
  std::vector<std::mutex*> mutexes;  // locked in this order before fork(), unlocked in reverse after
};

ForkRegistry& fork_registry() {
  static ForkRegistry* registry = new ForkRegistry();  // never destroyed: used until the process ends
  return *registry;
}

void lock_before_fork() {
  ForkRegistry& r = fork_registry();
  r.self.lock();
  for (std::mutex* mu : r.mutexes) mu->lock();
}

// In the parent and in the child: the forking thread locked them, and in the child it is that same
// thread that continues, so it may unlock them.
void unlock_after_fork() {
  ForkRegistry& r = fork_registry();
  for (auto it = r.mutexes.rbegin(); it != r.mutexes.rend(); ++it) (*it)->unlock();
  r.self.unlock();
}

}  // namespace

void detail::hold_across_fork(std::mutex* mu) {
  static std::once_flag once;
  std::call_once(once, [] { pthread_atfork(lock_before_fork, unlock_after_fork, unlock_after_fork); });
  ForkRegistry& r = fork_registry();
  std::lock_guard<std::mutex> lock(r.self);
  r.mutexes.push_back(mu);
}

std::mutex* detail::new_process_mutex() {
  auto* mu = new std::mutex();
  hold_across_fork(mu);
  return mu;
}

namespace {

// Workers behind thread_parallel_for: started on demand, detached, ending after kPoolIdleSeconds
// without a job. The pool itself is leaked so that no static destructor runs under its workers.
// One job = n tasks claimed through an atomic counter by the workers and by the caller, who also
// runs whatever the workers have not taken, so a job finishes even when every worker is busy with
// another caller's job. Tasks never throw (guarded_parallel_for catches inside them).
class WorkerPool {
 public:
  static WorkerPool& get() {
    static std::mutex* mu = detail::new_process_mutex();
    static WorkerPool* pool = nullptr;
    static pid_t owner = 0;
    std::lock_guard<std::mutex> lock(*mu);
    // A forked child has none of the parent's threads: it starts a pool of its own (the parent's
    // is leaked; its locks and queue describe threads that do not exist here).
    if (pool == nullptr || owner != getpid()) {
      pool = new WorkerPool();
      owner = getpid();
    }
    return *pool;
  }

  // Runs task(0) .. task(n - 1), on at most `helpers` workers besides the calling thread.
  void run(int64_t n, int helpers, const std::function<void(int64_t)>& task) {
    auto job = std::make_shared<Job>();
    job->task = &task;
    job->n = n;
    {
      std::lock_guard<std::mutex> lock(mu_);
      while (workers_ < helpers) {
        std::thread([this] { work(); }).detach();
        ++workers_;
      }
      queue_.push_back(job);
    }
    for (int i = 0; i < helpers; ++i) cv_.notify_one();
    while (claim_and_run(*job)) {
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = std::find(queue_.begin(), queue_.end(), job);
      if (it != queue_.end()) queue_.erase(it);
    }
    std::unique_lock<std::mutex> lock(job->mu);
    job->cv.wait(lock, [&] { return job->done == job->n; });
  }

  // Set while this thread runs a task: a parallel-for called from inside one runs serially (its
  // caller's job already occupies the pool; waiting on it from a worker could deadlock).
  static bool& in_task() {
    thread_local bool flag = false;
    return flag;
  }

 private:
  struct Job {
    const std::function<void(int64_t)>* task = nullptr;
    int64_t n = 0;
    std::atomic<int64_t> next{0};
    int64_t done = 0;  // under mu
    std::mutex mu;
    std::condition_variable cv;
  };

  // Claims one task of the job and runs it; false once none is left to claim.
  static bool claim_and_run(Job& job) {
    const int64_t i = job.next.fetch_add(1);
    if (i >= job.n) return false;
    in_task() = true;
    (*job.task)(i);
    in_task() = false;
    std::lock_guard<std::mutex> lock(job.mu);
    if (++job.done == job.n) job.cv.notify_all();
    return true;
  }

  void work() {
    for (;;) {
      std::shared_ptr<Job> job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        if (!cv_.wait_for(lock, std::chrono::seconds(kPoolIdleSeconds), [&] { return !queue_.empty(); })) {
          --workers_;  // idle: leave (the next job starts a new worker if it needs one)
          return;
        }
        job = queue_.front();
        // Fully claimed jobs leave the queue at once, so that waiting workers never spin on them.
        if (job->next.load() >= job->n) {
          queue_.pop_front();
          continue;
        }
      }
      claim_and_run(*job);
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> queue_;
  int workers_ = 0;
};

}  // namespace

ParallelFor thread_parallel_for(int threads) {
  if (threads < 0 || threads > kMaxThreads)
    throw InvalidArgument(
        expected_got("threads", "0.." + std::to_string(kMaxThreads) + " (0 = all cores)", std::to_string(threads)));
  const int hw = static_cast<int>(std::thread::hardware_concurrency());
  const int max_threads = threads > 0 ? threads : std::min(kMaxThreads, std::max(1, hw));
  return guarded_parallel_for([max_threads](int64_t n, int64_t cost_per_unit, const RangeFn& fn) {
    if (n <= 0) return;
    // Waking a pooled worker costs a few microseconds (~20k cycles); below that much work per
    // thread, stay serial.
    const int64_t min_cost_per_thread = 20000;
    const int64_t per_unit = std::max<int64_t>(cost_per_unit, 1);
    const int64_t total = per_unit > INT64_MAX / n ? INT64_MAX : n * per_unit;
    int64_t t =
        std::min<int64_t>({static_cast<int64_t>(max_threads), n, std::max<int64_t>(1, total / min_cost_per_thread)});
    if (t <= 1 || WorkerPool::in_task()) {
      fn(0, n);
      return;
    }
    const int64_t chunk = (n + t - 1) / t;
    const int64_t chunks = (n + chunk - 1) / chunk;
    WorkerPool::get().run(chunks, static_cast<int>(chunks - 1),
                          [&](int64_t i) { fn(i * chunk, std::min(n, (i + 1) * chunk)); });
  });
}

std::string expected_got(const std::string& what, const std::string& expected, const std::string& got) {
  return what + ": expected " + expected + ", got " + got;
}

namespace {
// Shortest "%.*g" text of v that parses back (with parse) to v, with ".0" added to integral values.
template <typename T, typename Parse>
std::string shortest_str(T v, int max_digits, Parse parse) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[32];
  for (int digits = 1; digits <= max_digits; ++digits) {
    std::snprintf(buf, sizeof(buf), "%.*g", digits, static_cast<double>(v));
    if (parse(buf) == v) break;
  }
  std::string s = buf;
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return s;
}
}  // namespace

std::string number_str(double v) {
  return shortest_str(v, 17, [](const char* s) { return std::strtod(s, nullptr); });
}

std::string number_str(float v) {
  return shortest_str(v, 9, [](const char* s) { return std::strtof(s, nullptr); });
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
