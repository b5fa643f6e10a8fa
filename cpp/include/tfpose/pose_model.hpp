// The pose-model tables (docs/algorithms/body.md §1, §1.4, §7.2, §7.4): parts, limbs, PAF channels, OpenPose's default
// thresholds, and OpenPose's drawing colours. This is the only copy; the connector, the pybind module
// (tfpose.models), drawing and JSON output all read it.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "tfpose/pose_defaults.hpp"

namespace tfpose {

struct PoseModel {
  std::string name;
  std::vector<std::string> part_names;      // P names (no background)
  std::vector<std::array<int, 2>> pairs;    // L limbs (part A, part B), in connector order
  std::vector<std::array<int, 2>> map_idx;  // L (x, y) PAF indices after the background channel
  PoseDefaults defaults;                    // kPoseDefaults, except where OpenPose gives the model its own
  std::vector<int> ear_limbs;               // limbs that only fill people (CPU connector, spec 7.2)
  std::vector<int> foot_parts;              // parts not counted by the BODY_25 foot rule (spec 7.4)
  // OpenPose's render tables: RGB 0..255 per part, and the pairs it draws (a limb is drawn in the
  // colour of its second part).
  std::vector<std::array<uint8_t, 3>> part_colors;
  std::vector<std::array<int, 2>> render_pairs;
  // Horizontal-flip tables (test-time flip averaging, tfpose.Estimator's flip option): flip_parts[p]
  // is the part that p becomes in a mirrored image (left <-> right by OpenPose's "L"/"R" name prefix,
  // itself for centre parts); flip_limbs[k] the limb that k becomes, always with the same part order
  // (checked when the table is built), so its PAF is mirrored by negating x. Derived from part_names
  // and pairs when the table is built, so they cannot disagree with them.
  std::vector<int> flip_parts;
  std::vector<int> flip_limbs;

  int num_parts() const { return static_cast<int>(part_names.size()); }   // P
  int num_limbs() const { return static_cast<int>(pairs.size()); }        // L
  int background_channel() const { return num_parts(); }                  // P
  int num_channels() const { return num_parts() + 1 + 2 * num_limbs(); }  // C = P + 1 + 2L
  // Absolute channel of limb k's PAF component (0 = x, 1 = y) in the network output.
  int paf_channel(int k, int component) const { return num_parts() + 1 + map_idx[k][component]; }
  bool is_ear_limb(int k) const;
  // The CPU connector's one-part people: MPI models (P = 15) skip the "already held" check.
  bool duplicate_one_part_people() const { return num_parts() == 15; }
  // BODY_25's foot rule in the person filter (spec 7.4).
  bool has_foot_rule() const { return !foot_parts.empty(); }
};

// "COCO_18", "BODY_25", "MPI_15" or "MPI_15_4"; anything else throws InvalidArgument naming these.
const PoseModel& get_pose_model(const std::string& name);
// The valid names, in OpenPose's enum order of the four body models.
std::vector<std::string> pose_model_names();

}  // namespace tfpose
