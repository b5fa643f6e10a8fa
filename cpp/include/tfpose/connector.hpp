// OpenPose's body-part connector (spec §7): groups NMS peaks into people with the part affinity
// fields, by either OpenPose build's algorithm (CPU per-limb assembly or CUDA global greedy).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "tfpose/common.hpp"
#include "tfpose/detail/paf_score.hpp"
#include "tfpose/pose_model.hpp"

namespace tfpose {

// Op attributes; a negative value means the model's OpenPose default (spec §1.4).
struct ConnectParams {
  float nms_threshold = -1.f;
  float inter_min_above_threshold = -1.f;
  float inter_threshold = -1.f;
  int min_subset_cnt = -1;
  float min_subset_score = -1.f;
  OpenposeBuild build = OpenposeBuild::kCpu;
};

// Thresholds after defaults were applied.
struct ConnectThresholds {
  float nms_threshold;
  float inter_min_above_threshold;
  float inter_threshold;
  int min_subset_cnt;
  float min_subset_score;
};

// Applies the model defaults; throws InvalidArgument for NaN, for nms_threshold,
// inter_min_above_threshold or inter_threshold above 1, or a non-finite min_subset_score.
ConnectThresholds resolve_thresholds(const PoseModel& model, const ConnectParams& params);

// The people of one image, in OpenPose's order (creation order of the groups).
struct People {
  int64_t count = 0;             // M_i
  std::vector<float> keypoints;  // [M_i, P, 3] (x * scale, y * scale, score); missing part (0, 0, 0)
  std::vector<float> scores;     // [M_i] person score S / (P + L)
};

// score(k, ia, ib): PAF score (spec 7.1) of the ia-th peak of limb k's part A with the ib-th peak of
// its part B (0-based); > 1e-6 means connectable. Lets dense maps, sparse interpolation or a GPU
// score table feed the same assembly.
using PairScoreFn = std::function<float(int k, int ia, int ib)>;

// Assembly, filter and output of one image (spec 7.2/7.3, 7.4, 7.5).
// peaks: [P, K, 3] (x, y, score) with NMS offset; counts: [P], each in [0, K].
People assemble_people(const PoseModel& model, const ConnectThresholds& th, OpenposeBuild build,
                       const float* peaks, const int32_t* counts, int64_t k, float scale,
                       const PairScoreFn& score);

// The connector on dense maps for a batch.
// maps: [N, H, W, C] float32 NHWC, C = model.num_channels() (only the PAF channels are read).
// peaks: [N, P, K, 3]; counts: [N, P]. scale: num_scale (1 or N) values multiplying keypoint x and y.
// Validates everything (InvalidArgument naming expected and actual) before computing; out gets N
// entries. Peaks outside the map are allowed: PAF samples are clamped into it, as in OpenPose.
std::vector<People> connect(const float* maps, int64_t n, int64_t h, int64_t w, int64_t c,
                            const float* peaks, const int32_t* counts, int64_t p, int64_t k,
                            const float* scale, int64_t num_scale, const PoseModel& model,
                            const ConnectParams& params, const ParallelFor& pf = serial_for);

// Shape checks that need no data (used by the kernels before allocating anything).
void check_connect_shapes(int64_t n, int64_t h, int64_t w, int64_t c, int64_t peaks_n, int64_t p,
                          int64_t k, int64_t counts_n, int64_t counts_p, int64_t num_scale,
                          const PoseModel& model);

// Throws InvalidArgument unless every count is in [0, K] and the first counts rows of peaks
// [N, P, K, 3] are finite (NMS never reports a non-finite peak; peaks given by callers are checked).
void check_connect_peaks(const float* peaks, const int32_t* counts, int64_t n, int64_t p, int64_t k);

// The PAF line-score thresholds of the resolved thresholds for a W x H field.
detail::PafScoreParams paf_score_params(const ConnectThresholds& th, OpenposeBuild build, int64_t w, int64_t h);

// M = the most people of any image (0 for an empty batch).
int64_t max_people(const std::vector<People>& people);

// Writes the padded batch: keypoints [N, M, P, 3], scores [N, M] (padding zero), num_people [N].
// m must be >= max_people(people).
void pack_people(const std::vector<People>& people, int64_t p, int64_t m, float* keypoints,
                 float* scores, int32_t* num_people);

}  // namespace tfpose
