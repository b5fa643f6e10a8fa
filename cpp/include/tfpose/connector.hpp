// OpenPose's body-part connector (docs/algorithms/body.md §7): groups NMS peaks into people with the part affinity
// fields, by either OpenPose build's algorithm (CPU per-limb assembly or CUDA global greedy).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "tfpose/common.hpp"
#include "tfpose/detail/paf_score.hpp"
#include "tfpose/people.hpp"
#include "tfpose/pose_model.hpp"

namespace tfpose {

// The connector's thresholds (OpenPose's names, docs/algorithms/body.md §1.4), the one parameters type of the
// connector, the pipeline and the pair-score tables. As given by a caller a negative value means the model's OpenPose
// default; resolve_thresholds returns them with every default applied. The OpenPose build is not a threshold: it is
// passed beside them (the pipeline owns it, see PipelineParams).
struct ConnectThresholds {
  float nms_threshold = -1.f;
  float inter_min_above_threshold = -1.f;
  float inter_threshold = -1.f;
  int min_subset_cnt = -1;
  float min_subset_score = -1.f;
};

// The field names of ConnectThresholds, in order: the TF op attributes, the Python keywords and the
// binding's ConnectThresholds use these names (python/tfpose/_args.py reads them from the core).
constexpr const char* kThresholdNames[] = {"nms_threshold", "inter_min_above_threshold", "inter_threshold",
                                           "min_subset_cnt", "min_subset_score"};

// Applies the model defaults to the negative values; throws InvalidArgument for NaN, for
// nms_threshold, inter_min_above_threshold or inter_threshold above 1, or a non-finite
// min_subset_score.
ConnectThresholds resolve_thresholds(const PoseModel& model, const ConnectThresholds& given);

// score(k, ia, ib): PAF score (spec 7.1) of the ia-th peak of limb k's part A with the ib-th peak of
// its part B (0-based); > 1e-6 means connectable. Lets dense maps, sparse interpolation or a GPU
// score table feed the same assembly.
using PairScoreFn = std::function<float(int k, int ia, int ib)>;

// Assembly, filter and output of one image (spec 7.2/7.3, 7.4, 7.5).
// peaks: [P, K, 3] (x, y, score) with NMS offset; counts: [P], each in [0, K].
People assemble_people(const PoseModel& model, const ConnectThresholds& th, OpenposeBuild build, const float* peaks,
                       const int32_t* counts, int64_t k, float scale, const PairScoreFn& score);

// The connector on dense maps for a batch.
// maps: [N, H, W, C] float32 NHWC, C = model.num_channels() (only the PAF channels are read).
// peaks: [N, P, K, 3]; counts: [N, P]. scale: num_scale (1 or N) values multiplying keypoint x and y.
// Validates everything (InvalidArgument naming expected and actual) before computing; out gets N
// entries. Peaks outside the map are allowed: PAF samples are clamped into it, as in OpenPose.
std::vector<People> connect(const float* maps, int64_t n, int64_t h, int64_t w, int64_t c, const float* peaks,
                            const int32_t* counts, int64_t p, int64_t k, const float* scale, int64_t num_scale,
                            const PoseModel& model, const ConnectThresholds& thresholds, OpenposeBuild build,
                            const ParallelFor& pf = serial_for);

// Shape checks that need no data (used by the kernels before allocating anything).
void check_connect_shapes(int64_t n, int64_t h, int64_t w, int64_t c, int64_t peaks_n, int64_t p, int64_t k,
                          int64_t counts_n, int64_t counts_p, int64_t num_scale, const PoseModel& model);

// Throws InvalidArgument unless every count is in [0, K] and the first counts rows of peaks
// [N, P, K, 3] are finite (NMS never reports a non-finite peak; peaks given by callers are checked).
void check_connect_peaks(const float* peaks, const int32_t* counts, int64_t n, int64_t p, int64_t k);

// The PAF line-score thresholds of the resolved thresholds for a W x H field.
detail::PafScoreParams paf_score_params(const ConnectThresholds& th, OpenposeBuild build, int64_t w, int64_t h);

}  // namespace tfpose
