// Tests of the TensorFlow-free core, meant to run under sanitizers (tests/cpp/run_sanitizers.sh):
// hostile values through every op, fast == dense, the parallel-for guard (exceptions, denormal mode),
// concurrent callers of the worker pool and of the fast path's caches, and fork() during computation.
// Prints one line per check; exits 1 on the first failure. Modes: see main().
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#endif

#include "tfpose/common.hpp"
#include "tfpose/fast_path.hpp"
#include "tfpose/maximum.hpp"
#include "tfpose/nms.hpp"
#include "tfpose/pipeline.hpp"
#include "tfpose/placement.hpp"
#include "tfpose/resize_and_merge.hpp"
#include "tfpose/sizing.hpp"

namespace {

int failures = 0;

// Prints failures always and passes only when `report` (summary checks), then stops at a failure.
void check(bool ok, const std::string& what, bool report = true) {
  if (ok && !report) return;
  std::printf("%s %s\n", ok ? "ok  " : "FAIL", what.c_str());
  std::fflush(stdout);
  if (!ok) {
    ++failures;
    std::exit(1);
  }
}

// Blob-like maps [1, h, w, c] with a few Gaussian peaks per part channel and smooth PAFs, plus
// `odd` values (NaN, +-Inf, denormal, huge) at random places.
std::vector<float> make_maps(int64_t h, int64_t w, int64_t c, uint32_t seed, int odd) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  std::vector<float> m(static_cast<size_t>(h * w * c), 0.f);
  for (int64_t ch = 0; ch < c; ++ch) {
    for (int b = 0; b < 3; ++b) {
      const float cx = u(rng) * w, cy = u(rng) * h, amp = ch < 18 ? 0.3f + 0.7f * u(rng) : 2.f * u(rng) - 1.f;
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x) {
          const float d2 = (x - cx) * (x - cx) + (y - cy) * (y - cy);
          m[static_cast<size_t>((y * w + x) * c + ch)] += amp * std::exp(-d2 / 3.f);
        }
    }
  }
  const float specials[] = {NAN, INFINITY, -INFINITY, 1e-40f, -3e-39f, 3e38f, -3e38f};
  for (int i = 0; i < odd; ++i) m[rng() % m.size()] = specials[rng() % (sizeof(specials) / sizeof(float))];
  return m;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

bool same_people(const std::vector<tfpose::People>& a, const std::vector<tfpose::People>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].count != b[i].count || !same_bits(a[i].keypoints, b[i].keypoints) || !same_bits(a[i].scores, b[i].scores))
      return false;
  return true;
}

std::vector<tfpose::People> people(const std::vector<float>& maps, int64_t h, int64_t w, bool fast,
                                   const tfpose::ParallelFor& pf,
                                   tfpose::OpenposeBuild build = tfpose::OpenposeBuild::kCpu) {
  const tfpose::PoseModel& model = tfpose::get_pose_model("COCO_18");
  tfpose::PipelineParams params;
  params.fast = fast;
  params.build = build;
  const std::vector<tfpose::ScaleMaps> scales{{maps.data(), h, w, 1.0}};
  return tfpose::net_output_to_people(scales, 1, model.num_channels(), 8 * h, 8 * w, 8 * h, 8 * w, model, params, pf);
}

// ---- checks ----

void hostile_values_fast_equals_dense() {
  int found = 0;
  for (uint32_t seed = 0; seed < 12; ++seed) {
    const int64_t h = 9 + seed % 5, w = 11 + seed % 7;
    const auto maps = make_maps(h, w, 57, seed, seed % 3 == 0 ? 0 : 25);
    for (auto build : {tfpose::OpenposeBuild::kCpu, tfpose::OpenposeBuild::kCuda}) {
      const auto fast = people(maps, h, w, true, tfpose::serial_for, build);
      const auto dense = people(maps, h, w, false, tfpose::thread_parallel_for(2), build);
      check(same_people(fast, dense), "fast == dense, seed " + std::to_string(seed), false);
      for (const auto& p : fast) {
        found += static_cast<int>(p.count);
        for (float v : p.keypoints) check(std::isfinite(v), "finite keypoints, seed " + std::to_string(seed), false);
      }
    }
    std::vector<float> mx(57 * 3);
    tfpose::maximum(maps.data(), 1, h, w, 57, mx.data(), tfpose::thread_parallel_for(2));
    std::vector<float> peaks(57 * 16 * 3);  // every channel as a part: [1, 57, 16, 3]
    std::vector<int32_t> counts(57);
    tfpose::NmsParams np;
    np.threshold = 0.f;
    np.max_peaks = 16;
    tfpose::nms(maps.data(), 1, h, w, 57, np, peaks.data(), counts.data(), tfpose::thread_parallel_for(2));
    for (float v : peaks) check(std::isfinite(v), "finite NMS output", false);
  }
  check(found > 0,
        "12 hostile maps x 2 builds: fast == dense bit for bit, finite keypoints and NMS output, "
        "maximum runs (" +
            std::to_string(found) + " people)");
}

void guard_rethrows_and_keeps_denormals() {
  // A raw pool whose threads would terminate the process if an exception escaped them, started
  // with denormals flushed (as TensorFlow's threads are).
  tfpose::ParallelFor raw = [](int64_t n, int64_t, const tfpose::RangeFn& fn) {
    std::vector<std::thread> ts;
    for (int64_t i = 0; i < n; ++i)
      ts.emplace_back([&fn, i] {
#ifdef _MM_FLUSH_ZERO_ON
        _mm_setcsr(_mm_getcsr() | 0x8040u);
#endif
        fn(i, i + 1);
      });
    for (auto& t : ts) t.join();
  };
  const auto guarded = tfpose::guarded_parallel_for(raw);
  std::atomic<int> ran{0};
  bool caught = false;
  try {
    guarded(4, 1, [&](int64_t b, int64_t) {
      ++ran;
      if (b == 2) throw std::bad_alloc();
    });
  } catch (const std::bad_alloc&) {
    caught = true;
  }
  check(caught && ran == 4, "guarded_parallel_for: a range's exception reaches the caller after all ranges");
  std::atomic<int> tiny_nonzero{0};
  guarded(4, 1, [&](int64_t, int64_t) {
    volatile float tiny = 1e-39f;
    volatile float half = tiny * 0.5f;
    if (half != 0.f && tiny > 0.f) ++tiny_nonzero;
  });
  check(tiny_nonzero == 4, "guarded_parallel_for: IEEE denormals inside every range");
  bool threw = false;
  try {
    tfpose::thread_parallel_for(tfpose::kMaxThreads + 1);
  } catch (const tfpose::InvalidArgument& e) {
    threw = std::string(e.what()).find("threads: expected 0..256") != std::string::npos;
  }
  check(threw, "thread_parallel_for: threads above kMaxThreads is InvalidArgument");
  caught = false;
  try {
    tfpose::thread_parallel_for(4)(64, 1 << 20, [](int64_t b, int64_t) {
      if (b > 0) throw std::runtime_error("worker failure");
    });
  } catch (const std::runtime_error&) {
    caught = true;
  }
  check(caught, "thread_parallel_for: a worker's exception reaches the caller");
}

// Several threads share the worker pool, the geometry cache (two shapes alternate, so it is replaced
// while read) and the plane pool; each result must equal the serial dense one.
void concurrent_callers_agree() {
  const int64_t shapes[2][2] = {{23, 29}, {17, 35}};
  std::vector<std::vector<float>> maps;
  std::vector<std::vector<tfpose::People>> want;
  for (int s = 0; s < 2; ++s) {
    maps.push_back(make_maps(shapes[s][0], shapes[s][1], 57, 100 + s, 3));
    want.push_back(people(maps[s], shapes[s][0], shapes[s][1], false, tfpose::serial_for));
  }
  std::atomic<int> bad{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&, t] {
      for (int it = 0; it < 6; ++it) {
        const int s = (t + it) % 2;
        const auto got = people(maps[s], shapes[s][0], shapes[s][1], (it % 3) != 2, tfpose::thread_parallel_for(3));
        if (!same_people(got, want[s])) ++bad;
      }
    });
  for (auto& t : ts) t.join();
  check(bad == 0, "4 threads x 6 calls through the pool and caches: every result equals the serial one");
}

// fork() while two threads compute: every child computes with the inherited pools and caches and
// exits; a child stuck on a mutex held at the fork is killed after 60 s and counted.
void fork_during_computation() {
  const int64_t h = 21, w = 27;
  const auto maps = make_maps(h, w, 57, 7, 0);
  const auto want = people(maps, h, w, true, tfpose::serial_for);
  std::atomic<bool> stop{false};
  std::vector<std::thread> busy;
  for (int t = 0; t < 2; ++t)
    busy.emplace_back([&, t] {
      while (!stop) people(maps, h, w, t == 0, tfpose::thread_parallel_for(2));
    });
  int stuck = 0, failed = 0;
  const int forks = 100;
  for (int i = 0; i < forks; ++i) {
    const pid_t pid = fork();
    if (pid == 0) {
      const bool ok = same_people(people(maps, h, w, true, tfpose::thread_parallel_for(2)), want);
      _exit(ok ? 0 : 3);
    }
    int status = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (;;) {
      if (waitpid(pid, &status, WNOHANG) == pid) {
        failed += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        break;
      }
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        ++stuck;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  stop = true;
  for (auto& t : busy) t.join();
  check(stuck == 0 && failed == 0, std::to_string(forks) + " forks during computation: " + std::to_string(stuck) +
                                       " stuck, " + std::to_string(failed) + " failed");
}

// Placement of images of odd sizes (1 pixel, thin, up- and downscales, canvases wider than the
// image, C = 1 and 4): every value an integer in 0..255, the same bits on 1 thread and on the pool,
// sizes from compute_sizing; and the sizing rules' errors.
void placement_and_sizing() {
  std::mt19937 rng(7);
  const int64_t shapes[][2] = {{1, 1}, {1, 500}, {500, 1}, {2, 2}, {37, 91}, {368, 656}, {900, 120}, {3, 4000}};
  int cases = 0;
  for (const auto& hw : shapes)
    for (int64_t c : {1, 3, 4}) {
      const int64_t h = hw[0], w = hw[1];
      std::vector<uint8_t> img(static_cast<size_t>(2 * h * w * c));
      for (auto& v : img) v = static_cast<uint8_t>(rng() & 255);
      for (double scale : {0.013, 0.5, 1.0, 1.7, 9.0}) {
        const int64_t oh = 16 + static_cast<int64_t>(rng() % 100), ow = 16 + static_cast<int64_t>(rng() % 100);
        std::vector<float> a(static_cast<size_t>(2 * oh * ow * c)), b(a.size());
        tfpose::resize_fixed_aspect_ratio(img.data(), 2, h, w, c, scale, oh, ow, a.data());
        tfpose::resize_fixed_aspect_ratio(img.data(), 2, h, w, c, scale, oh, ow, b.data(),
                                          tfpose::thread_parallel_for(3));
        check(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0, "placement: same bits on 1 and 3 threads",
              false);
        for (float v : a) check(v >= 0.f && v <= 255.f && v == std::floor(v), "placement: integers in 0..255", false);
        ++cases;
      }
    }
  bool threw = false;
  try {
    std::vector<float> o(16 * 16 * 3);
    const uint8_t px[3] = {1, 2, 3};
    tfpose::resize_fixed_aspect_ratio(px, 1, 1, 1, 3, std::nan(""), 16, 16, o.data());
  } catch (const tfpose::InvalidArgument&) {
    threw = true;
  }
  check(threw, "placement: a NaN scale throws InvalidArgument");
  check(cases == 8 * 3 * 5,
        "placement of " + std::to_string(cases) + " odd sizes: bounds, integers, thread-independent");
  int errors = 0;
  const int64_t bad[][2] = {{0, 0}, {1, 1}, {10000, 3}, {3, 2000}};
  for (const auto& hw : bad) {
    try {
      tfpose::compute_sizing(hw[0], hw[1], {-1, 368}, 1, 0.25, 1.0);
    } catch (const tfpose::InvalidArgument&) {
      ++errors;
    }
  }
  const tfpose::Sizing s = tfpose::compute_sizing(720, 1280, {-1, 368}, 4, 0.25, 1.0);
  check(errors == 4 && s.net.size() == 4 && s.net[0].w == 656 && s.net[0].h == 368,
        "sizing: 4 bad image sizes throw, 1280x720 at -1x368 gives 656x368 and 4 scales");
}

// The one NMS-parameter rule and the one number formatter (the same words from every entry point),
// and the defaults NmsParams takes from kPoseDefaults.
void nms_rule_and_number_words() {
  auto message = [](auto fn) {
    try {
      fn();
    } catch (const tfpose::InvalidArgument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  check(tfpose::number_str(0.3f) == "0.3" && tfpose::number_str(0.3) == "0.3" && tfpose::number_str(1.5f) == "1.5" &&
            tfpose::number_str(2.0) == "2.0" && tfpose::number_str(-0.1f) == "-0.1",
        "number_str: shortest text at float and double precision");
  check(message([] { tfpose::make_nms_params(1.5, 127, 0, 0, "cpu", "centroid"); }) ==
            "threshold: expected a number in [0, 1], got 1.5",
        "make_nms_params: threshold outside [0, 1]");
  check(message([] { tfpose::make_nms_params(1.0000001, 127, 0, 0, "cpu", "centroid"); }).find("1.0000001") !=
            std::string::npos,
        "make_nms_params: a double just above 1 is rejected before the float conversion");
  check(message([] { tfpose::check_max_peaks(0); }) == "max_peaks: expected an int in [1, 4096], got 0",
        "check_max_peaks: 0");
  check(
      message([] { tfpose::make_nms_params(0.1, 5, 1e39, 0, "cpu", "centroid"); }).find("offset") != std::string::npos,
      "make_nms_params: an offset that overflows float32 is not finite");
  const tfpose::NmsParams d;
  const tfpose::NmsParams p = tfpose::make_nms_params(0.05, 127, 0.5, 0.5, "cuda", "quadratic");
  check(d.max_peaks == tfpose::kPoseDefaults.max_peaks && d.threshold == tfpose::kPoseDefaults.nms_threshold &&
            p.build == tfpose::OpenposeBuild::kCuda && p.refinement == tfpose::PeakRefinement::kQuadratic &&
            p.threshold == 0.05f && p.offset_x == 0.5f,
        "NmsParams: defaults from kPoseDefaults; make_nms_params parses the names");
}

}  // namespace

int main(int argc, char** argv) {
  // --threads-only: the checks that matter under ThreadSanitizer (no fork). --no-fork: all but the
  // fork check (AddressSanitizer: GCC's libasan does not hold its allocator lock across fork(), so a
  // child can deadlock inside ASan's own malloc when a parent thread held it; seen 1 run in 4 on a
  // loaded machine, child stuck in SizeClassAllocator64::GetFromAllocator). --fork-only: the fork
  // check alone, for the unsanitized build (the runtime users run).
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "--fork-only") {
    fork_during_computation();
  } else {
    nms_rule_and_number_words();
    guard_rethrows_and_keeps_denormals();
    concurrent_callers_agree();
    placement_and_sizing();
    if (mode != "--threads-only") hostile_values_fast_equals_dense();
    if (mode.empty()) fork_during_computation();
  }
  std::printf("all core checks passed\n");
  return failures == 0 ? 0 : 1;
}
