#include <algorithm>
#include <cmath>
#include <vector>

#include "tfpose/maximum.hpp"
#include "tfpose/topdown.hpp"

namespace tfpose {

namespace {

// One channel of one image, read through the NHWC stride.
struct Plane {
  const float* base;  // image n, channel ch
  int64_t h, w, c;
  float at(int64_t y, int64_t x) const { return base[(y * w + x) * c]; }
};

// Simple Baselines: shift by 0.25 toward the higher neighbour on each axis where both exist.
void refine_quarter(const Plane& p, int64_t x, int64_t y, double* rx, double* ry) {
  if (x > 0 && x < p.w - 1) {
    const float d = p.at(y, x + 1) - p.at(y, x - 1);
    if (std::isfinite(d)) *rx += d > 0 ? 0.25 : (d < 0 ? -0.25 : 0.0);
  }
  if (y > 0 && y < p.h - 1) {
    const float d = p.at(y + 1, x) - p.at(y - 1, x);
    if (std::isfinite(d)) *ry += d > 0 ? 0.25 : (d < 0 ? -0.25 : 0.0);
  }
}

// DARK (Zhang et al. 2020, "Distribution-Aware Coordinate Representation for Human Pose Estimation"):
// blur with a k x k Gaussian over a zero-padded map, rescale to the original maximum, clamp at 1e-10,
// take the log, and move by -H^-1 g with the gradient and Hessian from central differences at the argmax
// (which needs two pixels on each side).
void refine_dark(const Plane& p, int64_t x, int64_t y, float origin_max, int kernel, std::vector<double>* buf,
                 double* rx, double* ry) {
  if (!(x >= 2 && x <= p.w - 3 && y >= 2 && y <= p.h - 3)) return;
  const int r = (kernel - 1) / 2;
  const double sigma = 0.3 * ((kernel - 1) * 0.5 - 1) + 0.8;
  std::vector<double> g(static_cast<size_t>(kernel));
  double sum = 0;
  for (int i = 0; i < kernel; ++i) sum += g[i] = std::exp(-double(i - r) * (i - r) / (2 * sigma * sigma));
  for (auto& v : g) v /= sum;
  const int64_t h = p.h, w = p.w;
  buf->assign(static_cast<size_t>(2 * h * w), 0.0);
  double* tmp = buf->data();
  double* blur = tmp + h * w;
  for (int64_t i = 0; i < h; ++i)
    for (int64_t j = 0; j < w; ++j) {
      double s = 0;
      for (int t = -r; t <= r; ++t) {
        const int64_t jj = j + t;
        if (jj >= 0 && jj < w) s += g[t + r] * p.at(i, jj);
      }
      tmp[i * w + j] = s;
    }
  double bmax = -INFINITY;
  for (int64_t i = 0; i < h; ++i)
    for (int64_t j = 0; j < w; ++j) {
      double s = 0;
      for (int t = -r; t <= r; ++t) {
        const int64_t ii = i + t;
        if (ii >= 0 && ii < h) s += g[t + r] * tmp[ii * w + j];
      }
      blur[i * w + j] = s;
      bmax = s > bmax ? s : bmax;
    }
  if (!(std::isfinite(bmax) && bmax != 0.0)) return;
  const double scale = origin_max / bmax;
  auto lg = [&](int64_t dy, int64_t dx) { return std::log(std::max(blur[(y + dy) * w + (x + dx)] * scale, 1e-10)); };
  const double c0 = lg(0, 0);
  const double dx = 0.5 * (lg(0, 1) - lg(0, -1));
  const double dy = 0.5 * (lg(1, 0) - lg(-1, 0));
  const double dxx = 0.25 * (lg(0, 2) - 2 * c0 + lg(0, -2));
  const double dyy = 0.25 * (lg(2, 0) - 2 * c0 + lg(-2, 0));
  const double dxy = 0.25 * (lg(1, 1) - lg(-1, 1) - lg(1, -1) + lg(-1, -1));
  const double det = dxx * dyy - dxy * dxy;
  if (!(std::isfinite(det) && std::isfinite(dx) && std::isfinite(dy)) || det == 0.0) return;
  // offset = -H^-1 g with H^-1 = [[dyy, -dxy], [-dxy, dxx]] / det
  const double ox = -(dyy * dx - dxy * dy) / det;
  const double oy = -(-dxy * dx + dxx * dy) / det;
  if (!(std::isfinite(ox) && std::isfinite(oy))) return;
  *rx += ox;
  *ry += oy;
}

}  // namespace

Refinement parse_refinement(const std::string& name) {
  if (name == "none") return Refinement::kNone;
  if (name == "quarter") return Refinement::kQuarter;
  if (name == "dark") return Refinement::kDark;
  throw InvalidArgument(expected_got("refinement", "\"none\", \"quarter\" or \"dark\"", "\"" + name + "\""));
}

void check_topdown_args(int64_t n, int64_t h, int64_t w, int64_t c, const TopDownParams& params) {
  if (n < 0 || h < 1 || w < 1 || c < 1)
    throw InvalidArgument(
        expected_got("topdown_decode: heatmaps shape", "[N >= 0, H >= 1, W >= 1, C >= 1]", shape_str({n, h, w, c})));
  if (params.dark_kernel < 3 || params.dark_kernel % 2 == 0 || params.dark_kernel > 255)
    throw InvalidArgument(
        expected_got("topdown_decode: dark_kernel", "an odd int in [3, 255]", std::to_string(params.dark_kernel)));
}

void topdown_decode(const float* heatmaps, int64_t n, int64_t h, int64_t w, int64_t c, const TopDownParams& params,
                    const double* transforms, float* out, const ParallelFor& pf) {
  check_topdown_args(n, h, w, c, params);
  maximum(heatmaps, n, h, w, c, out, pf);  // the integer argmax and its value: OpenPose's rule, one copy
  const int64_t cost = params.refinement == Refinement::kDark ? h * w * params.dark_kernel * 2 : 16;
  pf(n * c, cost, [&](int64_t b, int64_t e) {
    std::vector<double> buf;
    for (int64_t u = b; u < e; ++u) {
      const int64_t i = u / c, ch = u % c;
      float* o = out + u * 3;
      double x = o[0], y = o[1];
      if (!std::isnan(o[2])) {
        const Plane p{heatmaps + i * h * w * c + ch, h, w, c};
        const auto xi = static_cast<int64_t>(o[0]), yi = static_cast<int64_t>(o[1]);
        if (params.refinement == Refinement::kQuarter) refine_quarter(p, xi, yi, &x, &y);
        if (params.refinement == Refinement::kDark) refine_dark(p, xi, yi, o[2], params.dark_kernel, &buf, &x, &y);
      }
      if (transforms != nullptr) {
        const double* m = transforms + i * 6;
        const double tx = m[0] * x + m[1] * y + m[2];
        const double ty = m[3] * x + m[4] * y + m[5];
        x = tx;
        y = ty;
      }
      o[0] = static_cast<float>(x);
      o[1] = static_cast<float>(y);
    }
  });
}

}  // namespace tfpose
