// The fast path's exact evaluation (stage 2 of fast_nms): merged values of one part channel at the
// pixels the flagged tiles need, with the dense resize's operations in its order, so that they equal
// the dense map's bit for bit.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "fast_path_internal.hpp"
#include "tfpose/detail/byte_scan.hpp"
#include "tfpose/detail/interp.hpp"
#include "tfpose/detail/merge_passes.hpp"

namespace tfpose {
namespace fast_path {

namespace {

using detail::CubicTaps;
using detail::ResizePlan;

// HxW planes of exact values, kept between calls: a fresh one per call and worker would cost page
// faults for every page the evaluated tiles touch. Only the pixels of evaluated runs are ever read,
// so a plane is never cleared.
class PlanePool {
 public:
  std::unique_ptr<float[]> get(size_t size, size_t* cap) {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = 0; i < free_.size(); ++i) {
      if (free_[i].second >= size) {
        std::unique_ptr<float[]> out = std::move(free_[i].first);
        *cap = free_[i].second;
        free_.erase(free_.begin() + static_cast<std::ptrdiff_t>(i));
        return out;
      }
    }
    *cap = size;
    // Touched once here: otherwise its pages fault in over many calls, as units (a different part
    // of the plane each) land on different workers and planes from call to call.
    return std::unique_ptr<float[]>(new float[size]());
  }
  void put(std::unique_ptr<float[]> plane, size_t cap) {
    std::lock_guard<std::mutex> lock(mu_);
    if (free_.size() < kPlanePoolKeep) free_.emplace_back(std::move(plane), cap);
  }

 private:
  std::mutex mu_;
  std::vector<std::pair<std::unique_ptr<float[]>, size_t>> free_;
};

PlanePool& plane_pool() {
  static PlanePool* pool = new PlanePool();  // never destroyed: workers may outlive static teardown
  return *pool;
}

// h[x] = cubic_sum of g's four taps at x for x in [x0, x1): cubic_row's operations in its order.
TFPOSE_CPU_CLONES void horizontal_run(const float* __restrict g, const SoaTaps& t, int64_t x0, int64_t x1,
                                      float* __restrict h) {
  const int32_t *__restrict i0 = t.idx[0].data(), *__restrict i1 = t.idx[1].data(), *__restrict i2 = t.idx[2].data(),
                              *__restrict i3 = t.idx[3].data();
  const float *__restrict w0 = t.w[0].data(), *__restrict w1 = t.w[1].data(), *__restrict w2 = t.w[2].data(),
                            *__restrict w3 = t.w[3].data();
  if (!t.use_groups) {
    for (int64_t x = x0; x < x1; ++x) h[x] = g[i0[x]] * w0[x] + g[i1[x]] * w1[x] + g[i2[x]] * w2[x] + g[i3[x]] * w3[x];
    return;
  }
  // The same products and sums per column, in the same order; only the loads are shared.
  const int32_t* __restrict ge = t.group_end.data();
  for (int64_t x = x0; x < x1;) {
    const int64_t e = std::min<int64_t>(x1, ge[x]);
    const float a = g[i0[x]], b = g[i1[x]], c = g[i2[x]], d = g[i3[x]];
    for (int64_t j = x; j < e; ++j) h[j] = a * w0[j] + b * w1[j] + c * w2[j] + d * w3[j];
    x = e;
  }
}

}  // namespace

PooledPlane::PooledPlane(size_t size) : data(plane_pool().get(size, &cap)) {}
PooledPlane::~PooledPlane() {
  plane_pool().put(std::move(data), cap);
}

void size_nms_scratch(const NmsSetup& st, int64_t W, NmsScratch& sc) {
  const int64_t chunks = (W + kChunk - 1) / kChunk;
  int64_t total = 0;
  sc.hcache_off.assign(st.plans.size(), 0);
  for (size_t s = 0; s < st.plans.size(); ++s) {
    sc.hcache_off[s] = total;
    if (!st.plans[s].copy) total += st.plans[s].h * W;
  }
  if (sc.hcache.size() < static_cast<size_t>(total)) sc.hcache.resize(static_cast<size_t>(total));
  sc.need.resize(static_cast<size_t>(total / W * chunks));
}

void mark_band(const NmsSetup& st, int64_t W, int64_t by0, int64_t by1, NmsScratch& sc) {
  const int64_t chunks = (W + kChunk - 1) / kChunk;
  for (size_t s = 0; s < st.plans.size(); ++s) {
    const ResizePlan& p = st.plans[s];
    if (p.copy) continue;
    const Range rr = tap_range(p, false, by0, by1);
    char* base = sc.need.data() + sc.hcache_off[s] / W * chunks;
    for (int64_t r = rr.lo; r <= rr.hi; ++r)
      for (const auto& run : sc.cols) {
        const int64_t k0 = run[0] / kChunk, k1 = (run[1] + kChunk - 1) / kChunk;
        std::memset(base + r * chunks + k0, 1, static_cast<size_t>(k1 - k0));
      }
  }
}

// Exact merged values of channel `channel` over the unit's pieces (y0, y1, x0, x1) into plane
// ([H, W]); sc.need marks the horizontal values they read. Per scale: the horizontal pass of the
// marked chunks, then the vertical pass and merge_step per piece: the dense resize's operations in
// its order (scales in order per pixel; the pieces are disjoint), so the values are bit-identical.
// planar[s]: the channel's [h, w] plane of interpolated scale s (see fast_nms), unused for copies.
void eval_unit(const NmsSetup& st, bool cuda, int64_t img, int64_t c, int64_t channel, int64_t W,
               const float* const* planar, float* plane, NmsScratch& sc) {
  const int64_t S = static_cast<int64_t>(st.plans.size());
  const float k = detail::merge_constant(S, cuda);
  const int64_t chunks = (W + kChunk - 1) / kChunk;
  for (int64_t s = 0; s < S; ++s) {
    const ResizePlan& p = st.plans[static_cast<size_t>(s)];
    const detail::MergeStep mode = detail::merge_step_of(s, S, cuda);
    if (p.copy) {
      const float* src = p.data + img * p.h * p.w * c + channel;
      const int64_t rs = p.w * c;
      for (const auto& q : sc.pieces)
        for (int64_t y = q[0]; y < q[1]; ++y)
          for (int64_t x = q[2]; x < q[3]; ++x) {
            float& o = plane[y * W + x];
            o = detail::merge_step(mode, o, src[y * rs + x * c], k);
          }
      continue;
    }
    float* hr = sc.hcache.data() + sc.hcache_off[static_cast<size_t>(s)];
    const char* need = sc.need.data() + sc.hcache_off[static_cast<size_t>(s)] / W * chunks;
    for (int64_t r = 0; r < p.h; ++r)
      detail::for_runs(need + r * chunks, chunks, [&](int64_t k0, int64_t k1) {
        horizontal_run(planar[s] + r * p.w, st.g->soa_x[static_cast<size_t>(s)], k0 * kChunk, std::min(W, k1 * kChunk),
                       hr + r * W);
      });
    for (const auto& q : sc.pieces) {
      const int64_t x0 = q[2], n = q[3] - q[2];
      for (int64_t y = q[0]; y < q[1]; ++y) {
        const CubicTaps& ty = p.ytaps[static_cast<size_t>(y)];
        detail::vertical_merge_pass(mode, hr + ty.idx[0] * W + x0, hr + ty.idx[1] * W + x0, hr + ty.idx[2] * W + x0,
                                    hr + ty.idx[3] * W + x0, ty.w, n, k, plane + y * W + x0);
      }
    }
  }
}

}  // namespace fast_path
}  // namespace tfpose
