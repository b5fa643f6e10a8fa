#include "tfpose/pose_model.hpp"

#include <algorithm>
#include <stdexcept>

#include "tfpose/common.hpp"

namespace tfpose {

namespace {

using Pairs = std::vector<std::array<int, 2>>;
using Colors = std::vector<std::array<uint8_t, 3>>;

// OpenPose's per-part render colours (RGB). COCO and BODY_25 share the first seven; MPI was chosen by
// OpenPose to stay close to COCO.
const Colors kCocoColors = {{255, 0, 85}, {255, 0, 0}, {255, 85, 0},  {255, 170, 0}, {255, 255, 0}, {170, 255, 0},
                            {85, 255, 0}, {0, 255, 0}, {0, 255, 85},  {0, 255, 170}, {0, 255, 255}, {0, 170, 255},
                            {0, 85, 255}, {0, 0, 255}, {255, 0, 170}, {170, 0, 255}, {255, 0, 255}, {85, 0, 255}};

const Colors kBody25Colors = {{255, 0, 85},  {255, 0, 0},   {255, 85, 0},  {255, 170, 0}, {255, 255, 0},
                              {170, 255, 0}, {85, 255, 0},  {0, 255, 0},   {255, 0, 0},   {0, 255, 85},
                              {0, 255, 170}, {0, 255, 255}, {0, 170, 255}, {0, 85, 255},  {0, 0, 255},
                              {255, 0, 170}, {170, 0, 255}, {255, 0, 255}, {85, 0, 255},  {0, 0, 255},
                              {0, 0, 255},   {0, 0, 255},   {0, 255, 255}, {0, 255, 255}, {0, 255, 255}};

const Colors kMpiColors = {{255, 0, 85},  {255, 0, 0},   {255, 85, 0},  {255, 170, 0}, {255, 255, 0},
                           {170, 255, 0}, {85, 255, 0},  {43, 255, 0},  {0, 255, 0},   {0, 255, 85},
                           {0, 255, 170}, {0, 255, 255}, {0, 170, 255}, {0, 85, 255},  {0, 0, 255}};

PoseModel make_coco() {
  PoseModel m;
  m.name = "COCO_18";
  m.part_names = {"Nose",  "Neck",   "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist", "RHip",
                  "RKnee", "RAnkle", "LHip",      "LKnee",  "LAnkle", "REye",      "LEye",   "REar",   "LEar"};
  m.pairs = {{1, 2},   {1, 5},   {2, 3}, {3, 4},  {5, 6},   {6, 7},  {1, 8},   {8, 9},  {9, 10}, {1, 11},
             {11, 12}, {12, 13}, {1, 0}, {0, 14}, {14, 16}, {0, 15}, {15, 17}, {2, 16}, {5, 17}};
  m.map_idx = {{12, 13}, {20, 21}, {14, 15}, {16, 17}, {22, 23}, {24, 25}, {0, 1},   {2, 3},   {4, 5},  {6, 7},
               {8, 9},   {10, 11}, {28, 29}, {30, 31}, {34, 35}, {32, 33}, {36, 37}, {18, 19}, {26, 27}};
  m.defaults = kPoseDefaults;
  m.ear_limbs = {17, 18};
  m.part_colors = kCocoColors;
  m.render_pairs = {{1, 2},  {1, 5},   {2, 3},   {3, 4}, {5, 6},  {6, 7},   {1, 8},  {8, 9},  {9, 10},
                    {1, 11}, {11, 12}, {12, 13}, {1, 0}, {0, 14}, {14, 16}, {0, 15}, {15, 17}};
  return m;
}

PoseModel make_body25() {
  PoseModel m;
  m.name = "BODY_25";
  m.part_names = {"Nose", "Neck",    "RShoulder", "RElbow", "RWrist",  "LShoulder", "LElbow", "LWrist", "MidHip",
                  "RHip", "RKnee",   "RAnkle",    "LHip",   "LKnee",   "LAnkle",    "REye",   "LEye",   "REar",
                  "LEar", "LBigToe", "LSmallToe", "LHeel",  "RBigToe", "RSmallToe", "RHeel"};
  m.pairs = {{1, 8},   {1, 2},  {1, 5},   {2, 3},   {3, 4},   {5, 6},   {6, 7},   {8, 9},  {9, 10},
             {10, 11}, {8, 12}, {12, 13}, {13, 14}, {1, 0},   {0, 15},  {15, 17}, {0, 16}, {16, 18},
             {2, 17},  {5, 18}, {14, 19}, {19, 20}, {14, 21}, {11, 22}, {22, 23}, {11, 24}};
  m.map_idx = {{0, 1},   {14, 15}, {22, 23}, {16, 17}, {18, 19}, {24, 25}, {26, 27}, {6, 7},   {2, 3},
               {4, 5},   {8, 9},   {10, 11}, {12, 13}, {30, 31}, {32, 33}, {36, 37}, {34, 35}, {38, 39},
               {20, 21}, {28, 29}, {40, 41}, {42, 43}, {44, 45}, {46, 47}, {48, 49}, {50, 51}};
  m.defaults = kPoseDefaults;
  m.ear_limbs = {18, 19};
  m.foot_parts = {19, 20, 21, 22, 23, 24};
  m.part_colors = kBody25Colors;
  m.render_pairs = {{1, 8},  {1, 2},   {1, 5},   {2, 3},   {3, 4},   {5, 6},   {6, 7},   {8, 9},
                    {9, 10}, {10, 11}, {8, 12},  {12, 13}, {13, 14}, {1, 0},   {0, 15},  {15, 17},
                    {0, 16}, {16, 18}, {14, 19}, {19, 20}, {14, 21}, {11, 22}, {22, 23}, {11, 24}};
  return m;
}

PoseModel make_mpi(const std::string& name, float nms_threshold) {
  PoseModel m;
  m.name = name;
  m.part_names = {"Head", "Neck",  "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist",
                  "RHip", "RKnee", "RAnkle",    "LHip",   "LKnee",  "LAnkle",    "Chest"};
  m.pairs = {{0, 1},  {1, 2},  {2, 3}, {3, 4},  {1, 5},   {5, 6},   {6, 7},
             {1, 14}, {14, 8}, {8, 9}, {9, 10}, {14, 11}, {11, 12}, {12, 13}};
  for (int k = 0; k < 14; ++k) m.map_idx.push_back({2 * k, 2 * k + 1});
  m.defaults = kPoseDefaults;
  m.defaults.nms_threshold = nms_threshold;
  m.defaults.inter_threshold = 0.01f;
  m.part_colors = kMpiColors;
  m.render_pairs = m.pairs;
  return m;
}

// The mirror image of a part name: OpenPose names sided parts "R..." / "L..." followed by a capital
// ("RShoulder", "LBigToe"); every other name (Nose, Neck, MidHip, Head, Chest) is its own mirror.
std::string mirrored_name(const std::string& name) {
  if (name.size() >= 2 && (name[0] == 'R' || name[0] == 'L') && name[1] >= 'A' && name[1] <= 'Z')
    return (name[0] == 'R' ? "L" : "R") + name.substr(1);
  return name;
}

// Fills flip_parts and flip_limbs from the part names and pairs. A table whose mirror is incomplete
// (a sided part without its partner, a limb whose mirror is missing or runs the other way) is a
// programming error in this file: it throws at first use of the tables.
PoseModel with_flip_tables(PoseModel m) {
  const int P = m.num_parts(), L = m.num_limbs();
  for (int p = 0; p < P; ++p) {
    const auto it = std::find(m.part_names.begin(), m.part_names.end(), mirrored_name(m.part_names[p]));
    if (it == m.part_names.end()) throw std::logic_error(m.name + ": no mirror part for " + m.part_names[p]);
    m.flip_parts.push_back(static_cast<int>(it - m.part_names.begin()));
  }
  for (int k = 0; k < L; ++k) {
    const std::array<int, 2> want = {m.flip_parts[m.pairs[k][0]], m.flip_parts[m.pairs[k][1]]};
    const auto it = std::find(m.pairs.begin(), m.pairs.end(), want);
    if (it == m.pairs.end())
      throw std::logic_error(m.name + ": no mirror limb (same part order) for limb " + std::to_string(k));
    m.flip_limbs.push_back(static_cast<int>(it - m.pairs.begin()));
  }
  return m;
}

const std::vector<PoseModel>& all_models() {
  static const std::vector<PoseModel> models = {with_flip_tables(make_body25()), with_flip_tables(make_coco()),
                                                with_flip_tables(make_mpi("MPI_15", 0.6f)),
                                                with_flip_tables(make_mpi("MPI_15_4", 0.3f))};
  return models;
}

}  // namespace

bool PoseModel::is_ear_limb(int k) const {
  return std::find(ear_limbs.begin(), ear_limbs.end(), k) != ear_limbs.end();
}

const PoseModel& get_pose_model(const std::string& name) {
  for (const auto& m : all_models())
    if (m.name == name) return m;
  std::string valid;
  for (const auto& m : all_models()) valid += (valid.empty() ? "" : ", ") + ("\"" + m.name + "\"");
  throw InvalidArgument(expected_got("model", "one of " + valid, "\"" + name + "\""));
}

std::vector<std::string> pose_model_names() {
  std::vector<std::string> names;
  for (const auto& m : all_models()) names.push_back(m.name);
  return names;
}

}  // namespace tfpose
