#include "tfpose/common.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
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

namespace {

// Persistent workers behind thread_parallel_for: started lazily, never joined or destroyed (they
// wait on a condition variable, which does not keep the process from exiting, and the pool is
// leaked so that no static destructor runs under them). One job = n tasks claimed through an atomic
// counter by the workers and by the caller, who also runs whatever the workers have not taken, so a
// job finishes even when every worker is busy with another caller's job.
class WorkerPool {
 public:
  static WorkerPool& get() {
    static std::mutex mu;
    static WorkerPool* pool = nullptr;
    static pid_t owner = 0;
    std::lock_guard<std::mutex> lock(mu);
    // A forked child has none of the parent's threads: it starts a pool of its own (the parent's
    // is leaked; its mutexes may have been held at the fork).
    if (pool == nullptr || owner != getpid()) {
      pool = new WorkerPool();
      owner = getpid();
    }
    return *pool;
  }

  // Runs task(0) .. task(n - 1), on at most `helpers` workers besides the calling thread. The first
  // exception a task throws is rethrown here once all tasks have finished.
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
    if (job->err) std::rethrow_exception(job->err);
  }

 private:
  struct Job {
    const std::function<void(int64_t)>* task = nullptr;
    int64_t n = 0;
    std::atomic<int64_t> next{0};
    int64_t done = 0;        // under mu
    std::exception_ptr err;  // under mu
    std::mutex mu;
    std::condition_variable cv;
  };

  // Claims one task of the job and runs it; false once none is left to claim.
  static bool claim_and_run(Job& job) {
    const int64_t i = job.next.fetch_add(1);
    if (i >= job.n) return false;
    std::exception_ptr err;
    in_task() = true;
    try {
      (*job.task)(i);
    } catch (...) {
      err = std::current_exception();
    }
    in_task() = false;
    std::lock_guard<std::mutex> lock(job.mu);
    if (err && !job.err) job.err = err;
    if (++job.done == job.n) job.cv.notify_all();
    return true;
  }

  void work() {
    for (;;) {
      std::shared_ptr<Job> job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return !queue_.empty(); });
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

 public:
  // Set while this thread runs a task: a parallel-for called from inside one runs serially (its
  // caller's job already occupies the pool; waiting on it from a worker could deadlock).
  static bool& in_task() {
    thread_local bool flag = false;
    return flag;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> queue_;
  int workers_ = 0;
};

}  // namespace

ParallelFor thread_parallel_for(int threads) {
  int hw = static_cast<int>(std::thread::hardware_concurrency());
  int max_threads = threads > 0 ? threads : std::max(1, hw);
  return [max_threads](int64_t n, int64_t cost_per_unit, const RangeFn& fn) {
    if (n <= 0) return;
    // Waking a pooled worker costs a few microseconds (~20k cycles); below that much work per
    // thread, stay serial.
    const int64_t min_cost_per_thread = 20000;
    int64_t total = n * std::max<int64_t>(cost_per_unit, 1);
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
