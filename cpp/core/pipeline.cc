#include "tfpose/pipeline.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "tfpose/detail/big_buffer.hpp"
#include "tfpose/fast_path.hpp"
#include "tfpose/nms.hpp"

namespace tfpose {

namespace {

// (0, 0) means "use the default"; anything else must be a real size.
void resolve_size(const char* what, int64_t* h, int64_t* w, int64_t default_h, int64_t default_w) {
  if (*h == 0 && *w == 0) {
    *h = default_h;
    *w = default_w;
    return;
  }
  if (*h < 2 || *w < 2)
    throw InvalidArgument(expected_got(what, "(H, W) both >= 2, or (0, 0) for the default",
                                       "(" + std::to_string(*h) + ", " + std::to_string(*w) + ")"));
}

}  // namespace

std::vector<People> net_output_to_people(const std::vector<ScaleMaps>& scales, int64_t n, int64_t c, int64_t net_h,
                                         int64_t net_w, int64_t image_h, int64_t image_w, const PoseModel& model,
                                         const PipelineParams& params, const ParallelFor& pf) {
  if (scales.empty())
    throw InvalidArgument(expected_got("net_output_to_people: net_outputs", "at least one scale", "none"));
  if (c != model.num_channels())
    throw InvalidArgument(expected_got("net_output_to_people: net_outputs channels for model " + model.name,
                                       std::to_string(model.num_channels()) + " (" + std::to_string(model.num_parts()) +
                                           " parts + background + " + std::to_string(2 * model.num_limbs()) +
                                           " PAF channels)",
                                       std::to_string(c)));
  const ConnectThresholds th = resolve_thresholds(model, params.thresholds);
  // OpenPose resizes to 8x the blob of scale 0 (its net stride), whatever the net input size was.
  int64_t H = 0, W = 0;
  resolve_target_size(scales, &H, &W);
  resolve_size("net_input_size", &net_h, &net_w, H, W);
  resolve_size("image_size", &image_h, &image_w, net_h, net_w);
  const OutputScaling sc = output_scaling(net_h, net_w, image_h, image_w);
  const OpenposeBuild build = params.build;
  check_resize_and_merge_args(scales, n, c, H, W, build);
  const int64_t P = model.num_parts();
  NmsParams nms_params;
  nms_params.threshold = th.nms_threshold;
  nms_params.max_peaks = params.max_peaks;
  nms_params.offset_x = nms_params.offset_y = sc.nms_offset;
  nms_params.build = build;
  nms_params.refinement = params.peak_refinement;
  check_nms_args(n, H, W, P, nms_params);
  if (n == 0) return {};
  const int64_t K = params.max_peaks;

  if (params.fast) {
    std::vector<float> peaks(static_cast<size_t>(n * P * K * 3));
    std::vector<int32_t> counts(static_cast<size_t>(n * P));
    fast_nms(scales, n, c, H, W, P, nms_params, peaks.data(), counts.data(), pf);
    return fast_connect(scales, n, c, H, W, build, peaks.data(), counts.data(), K, sc.scale_net_to_output, model, th,
                        pf);
  }

  detail::BigBuffer<float> maps(static_cast<size_t>(n * H * W * c));
  resize_and_merge(scales, n, c, H, W, build, maps.data(), pf);
  // NMS takes [N, H, W, P]: the part channels, without background and PAFs.
  detail::BigBuffer<float> parts(static_cast<size_t>(n * H * W * P));
  const int64_t pixels = n * H * W;
  const float* m = maps.data();
  float* pt = parts.data();
  pf(pixels, P * 2, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) std::copy(m + i * c, m + i * c + P, pt + i * P);
  });
  std::vector<float> peaks(static_cast<size_t>(n * P * K * 3));
  std::vector<int32_t> counts(static_cast<size_t>(n * P));
  nms(parts.data(), n, H, W, P, nms_params, peaks.data(), counts.data(), pf);
  parts.release();
  return connect(maps.data(), n, H, W, c, peaks.data(), counts.data(), P, K, &sc.scale_net_to_output, 1, model,
                 params.thresholds, build, pf);
}

}  // namespace tfpose
