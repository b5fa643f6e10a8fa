// The tail of OpenPose's forward pass (docs/algorithms/body.md §3-7) as one dense chain: resize-and-merge of every
// scale to 8x scale 0, NMS on the part channels with OpenPose's nmsOffset, connector with scaleNetToOutput.
#pragma once

#include <cstdint>
#include <vector>

#include "tfpose/common.hpp"
#include "tfpose/connector.hpp"
#include "tfpose/nms.hpp"
#include "tfpose/pose_model.hpp"
#include "tfpose/resize_and_merge.hpp"
#include "tfpose/sizing.hpp"  // output_scaling

namespace tfpose {

struct PipelineParams {
  // The one OpenPose build option of the chain: it selects the resize arithmetic, the NMS peak rule
  // and the connector's assembly alike (OpenPose cannot mix them either).
  OpenposeBuild build = OpenposeBuild::kCpu;
  ConnectThresholds thresholds;  // negative: the model's default
  int64_t max_peaks = kPoseDefaults.max_peaks;
  // true: fast_path.hpp (maps evaluated only where peaks and PAF samples need them); false: the dense
  // maps [N, H, W, C]. Both return the same people, bit for bit.
  bool fast = true;
  // NMS peak position (nms.hpp): OpenPose's centroid by default.
  PeakRefinement peak_refinement = PeakRefinement::kCentroid;
};

// scales: S network outputs [N, h_i, w_i, C] (C = model.num_channels()). net_h/net_w: scale 0's
// network input size, 0 and 0 = 8x its blob; image_h/image_w: original image size, 0 and 0 = the
// net input size. Maps are resized to 8x scale 0's blob (OpenPose's target; with params.fast only
// evaluated where needed), peaks found with NMS threshold = the connector's nms_threshold; returns N
// people lists in original-image pixels.
std::vector<People> net_output_to_people(const std::vector<ScaleMaps>& scales, int64_t n, int64_t c, int64_t net_h,
                                         int64_t net_w, int64_t image_h, int64_t image_w, const PoseModel& model,
                                         const PipelineParams& params, const ParallelFor& pf = serial_for);

}  // namespace tfpose
