// OpenPose's default post-processing parameters (docs/algorithms/body.md §1.4, maximize_positives = false): the one
// copy of these numbers. The pose-model table (pose_model.hpp) starts every model from kPoseDefaults,
// NMS (nms.hpp) and the pipeline (pipeline.hpp) take their defaults from it, the TF op registrations
// (tf/ops.cc) print it into their attribute defaults, and Python reads it as tfpose._core.POSE_DEFAULTS
// (tfpose/_args.py: DEFAULT_NMS_THRESHOLD, DEFAULT_MAX_PEAKS, ...).
#pragma once

namespace tfpose {

struct PoseDefaults {
  float nms_threshold;              // NMS peak threshold; also the connector's close-keypoint fallback
  float inter_min_above_threshold;  // fraction of PAF samples that must pass
  float inter_threshold;            // per-sample PAF dot-product threshold
  int min_subset_cnt;               // minimum number of parts of a person
  float min_subset_score;           // minimum mean score per part of a person
  int max_peaks;                    // K, peaks kept per part
};

// OpenPose's values for COCO_18 and BODY_25, and the defaults of the model-free ops (nms, the
// pipeline's max_peaks). The MPI models differ in nms_threshold and inter_threshold (pose_model.cc).
inline constexpr PoseDefaults kPoseDefaults{0.05f, 0.95f, 0.05f, 3, 0.4f, 127};

}  // namespace tfpose
