// TEMP stand-in so that the pipeline links and can be tested before the real resize-and-merge lands:
// CPU build only (OpenCV-style bicubic a = -0.75), no CUDA semantics. Drop at merge.
#include "tfpose/resize_and_merge.hpp"

#include <algorithm>
#include <cmath>

namespace tfpose {

namespace {
void cubic_coeffs(float x, float* c) {
  const float A = -0.75f;
  c[0] = ((A * (x + 1) - 5 * A) * (x + 1) + 8 * A) * (x + 1) - 4 * A;
  c[1] = ((A + 2) * x - (A + 3)) * x * x + 1;
  c[2] = ((A + 2) * (1 - x) - (A + 3)) * (1 - x) * (1 - x) + 1;
  c[3] = 1.f - c[0] - c[1] - c[2];
}
}  // namespace

void check_resize_and_merge_args(const std::vector<ScaleMaps>& scales, int64_t n, int64_t c, int64_t H,
                                 int64_t W, OpenposeBuild build) {
  if (scales.empty()) throw InvalidArgument("resize_and_merge: expected at least one scale, got none");
  if (n < 0 || c < 1 || H < 1 || W < 1) throw InvalidArgument("resize_and_merge: bad sizes");
  for (const auto& s : scales)
    if (s.h < 1 || s.w < 1 || !(s.ratio > 0) || !std::isfinite(s.ratio))
      throw InvalidArgument("resize_and_merge: bad scale");
  if (build != OpenposeBuild::kCpu) throw InvalidArgument("resize_and_merge: TEMP stand-in has no cuda build");
}

void resize_and_merge(const std::vector<ScaleMaps>& scales, int64_t n, int64_t c, int64_t H, int64_t W,
                      OpenposeBuild build, float* out, const ParallelFor& pf) {
  check_resize_and_merge_args(scales, n, c, H, W, build);
  std::fill(out, out + n * H * W * c, 0.f);
  for (const auto& s : scales) {
    const int64_t h = s.h, w = s.w;
    std::vector<int64_t> xs(W * 4), ys(H * 4);
    std::vector<float> xc(W * 4), yc(H * 4);
    auto taps = [](int64_t dst, int64_t src, std::vector<int64_t>& idx, std::vector<float>& co) {
      const double sc = static_cast<double>(src) / dst;
      for (int64_t d = 0; d < dst; ++d) {
        float f = static_cast<float>((d + 0.5) * sc - 0.5);
        int64_t i = static_cast<int64_t>(std::floor(f));
        cubic_coeffs(f - i, &co[d * 4]);
        for (int t = 0; t < 4; ++t) idx[d * 4 + t] = std::min(src - 1, std::max<int64_t>(0, i - 1 + t));
      }
    };
    taps(W, w, xs, xc);
    taps(H, h, ys, yc);
    pf(n * H, W * c * 40, [&](int64_t b, int64_t e) {
      std::vector<float> rows(4 * W * c);
      for (int64_t r = b; r < e; ++r) {
        const int64_t i = r / H, y = r % H;
        const float* img = s.data + i * h * w * c;
        for (int t = 0; t < 4; ++t) {
          const float* src = img + ys[y * 4 + t] * w * c;
          for (int64_t x = 0; x < W; ++x)
            for (int64_t ch = 0; ch < c; ++ch) {
              float v = 0;
              for (int u = 0; u < 4; ++u) v += xc[x * 4 + u] * src[xs[x * 4 + u] * c + ch];
              rows[(t * W + x) * c + ch] = v;
            }
        }
        float* o = out + (i * H + y) * W * c;
        for (int64_t j = 0; j < W * c; ++j) {
          float v = 0;
          for (int t = 0; t < 4; ++t) v += yc[y * 4 + t] * rows[t * W * c + j];
          o[j] += v;
        }
      }
    });
  }
  if (scales.size() > 1) {
    const float inv = static_cast<float>(scales.size());
    for (int64_t j = 0; j < n * H * W * c; ++j) out[j] /= inv;
  }
}

}  // namespace tfpose
