// Hands and face from the body, as OpenPose finds them (docs/algorithms/hand-face.md):
// the hand and face tables (keypoint counts, network channels and size, thresholds, render pairs and
// colours) and the box rules (docs/algorithms/hand-face.md §2.1, §3). This is the only copy of OpenPose's hand and face
// constants; the pybind module (tfpose.models.hand() / face()), the estimator, drawing and JSON read it.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "tfpose/pose_model.hpp"

namespace tfpose {

// One keypoint set found by a separate network on a square crop ("HAND" or "FACE").
struct KeypointSet {
  std::string name;
  int num_keypoints;    // 21 (hand) / 70 (face)
  int num_channels;     // network output channels: keypoints + 1 background (22 / 71)
  int net_resolution;   // N, OpenPose's default square crop and network input side (368)
  float box_threshold;  // a body part is used for the box iff its score > this (0.03 / 0.25)
  // A box is processed iff side > min_side and side * side > min_area (docs/algorithms/hand-face.md §4.2).
  float min_side;
  float min_area;
  float render_threshold;  // drawn iff score > this (0.2 / 0.4)
  float circle_ratio;      // CPU renderer: thickness = sqrt(W*H) * circle_ratio * ratio (1/50 / 1/75)
  float line_ratio;        // line thickness = thickness * line_ratio (0.75 / 0.334)
  std::vector<std::array<int, 2>> render_pairs;  // lines, each in the colour of its second point
  std::vector<std::array<uint8_t, 3>> colors;    // RGB per keypoint
};

// "HAND" or "FACE"; anything else throws InvalidArgument naming these.
const KeypointSet& get_keypoint_set(const std::string& name);

// Multi-scale hands (docs/algorithms/hand-face.md §4.9): OpenPose's defaults of --hand_scale_number and
// --hand_scale_range.
constexpr int kHandScaleNumberDefault = 1;
constexpr float kHandScaleRangeDefault = 0.4f;

// Hand boxes (docs/algorithms/hand-face.md §2.1) of R people. keypoints: [R, P, 3] float32 (x, y, score) of the body
// model, input-image pixels; out: [R, 2, 4] float32, left hand then right hand, (x, y, width, height) of a square box,
// (0, 0, 0, 0) when the wrist, elbow or shoulder of that side is not above 0.03 or any of their coordinates is not
// finite. Float32 arithmetic in OpenPose's order.
void hand_boxes(const float* keypoints, int64_t rows, const PoseModel& model, float* out);

// Face boxes (docs/algorithms/hand-face.md §3.1, §3.2) of R people: keypoints [R, P, 3] -> out [R, 4] (x, y, w, h)
// square, (0, 0, 0, 0) when no estimate fires. A part with a non-finite coordinate counts as not found.
void face_boxes(const float* keypoints, int64_t rows, const PoseModel& model, float* out);

// Throws InvalidArgument unless P matches the model and R >= 0.
void check_box_args(const char* op, int64_t rows, int64_t parts, const PoseModel& model);

}  // namespace tfpose
