#include <cmath>
#include <string>

#include "tfpose/common.hpp"
#include "tfpose/hand_face.hpp"

namespace tfpose {

namespace {

// Box rules' constants: literals in OpenPose's handDetector.cpp / faceDetector.cpp (docs/algorithms/hand-face.md §2.1,
// §3), unchanged since v1.0.0 and independent of every flag.
constexpr float kWristExtension = 0.33f;  // hand centre: a third of the forearm beyond the wrist
constexpr float kHandSide = 1.5f;         // side = 1.5 * max(|WE|, 0.9 * |ES|)
constexpr float kUpperArm = 0.9f;
constexpr float kFaceMpi = 1.33f;      // MPI: side = 1.33 * |Neck Head|
constexpr float kFaceProfile = 0.85f;  // profile: 0.85 * (|N Y| + |N A| + |Neck N|)
constexpr float kFaceNeckNose = 2.f;
constexpr float kFaceEyes = 3.f;
constexpr float kFaceEars = 2.f;

KeypointSet make_hand() {
  KeypointSet s;
  s.name = "HAND";
  s.num_keypoints = 21;
  s.num_channels = 22;
  s.net_resolution = 368;
  s.box_threshold = 0.03f;
  s.min_side = 1.f;
  s.min_area = 10.f;
  s.render_threshold = 0.2f;
  s.circle_ratio = 1.f / 50.f;
  s.line_ratio = 0.75f;
  // Wrist to each fingertip, thumb first; each finger drawn in the colours of its own points.
  for (int finger = 0; finger < 5; ++finger) {
    int prev = 0;
    for (int k = 1; k <= 4; ++k) {
      const int p = finger * 4 + k;
      s.render_pairs.push_back({prev, p});
      prev = p;
    }
  }
  s.colors = {{100, 100, 100}, {100, 0, 0},   {150, 0, 0},   {200, 0, 0},   {255, 0, 0},   {100, 100, 0},
              {150, 150, 0},   {200, 200, 0}, {255, 255, 0}, {0, 100, 50},  {0, 150, 75},  {0, 200, 100},
              {0, 255, 125},   {0, 50, 100},  {0, 75, 150},  {0, 100, 200}, {0, 125, 255}, {100, 0, 100},
              {150, 0, 150},   {200, 0, 200}, {255, 0, 255}};
  return s;
}

KeypointSet make_face() {
  KeypointSet s;
  s.name = "FACE";
  s.num_keypoints = 70;
  s.num_channels = 71;
  s.net_resolution = 368;
  s.box_threshold = 0.25f;
  s.min_side = 40.f;
  s.min_area = 0.f;
  s.render_threshold = 0.4f;
  s.circle_ratio = 1.f / 75.f;
  s.line_ratio = 0.334f;
  // Open chains (jaw, brows, nose bridge, lower nose) then closed loops (eyes, outer and inner lips);
  // the pupils 68 and 69 have no lines.
  const int chains[5][2] = {{0, 16}, {17, 21}, {22, 26}, {27, 30}, {31, 35}};
  for (const auto& c : chains)
    for (int p = c[0]; p < c[1]; ++p) s.render_pairs.push_back({p, p + 1});
  const int loops[4][2] = {{36, 41}, {42, 47}, {48, 59}, {60, 67}};
  for (const auto& l : loops) {
    for (int p = l[0]; p < l[1]; ++p) s.render_pairs.push_back({p, p + 1});
    s.render_pairs.push_back({l[1], l[0]});
  }
  s.colors.assign(70, {255, 255, 255});
  return s;
}

int part(const PoseModel& m, const char* name, const char* fallback = nullptr) {
  for (int i = 0; i < m.num_parts(); ++i)
    if (m.part_names[i] == name) return i;
  if (fallback != nullptr) return part(m, fallback);
  throw InvalidArgument(expected_got("pose model " + m.name, std::string("a part named ") + name, "none"));
}

// Parts of one person: x, y, score per part.
struct Body {
  const float* k;
  bool ok(int p, float t) const {
    // A non-finite coordinate would turn the box into NaN; such a part is treated as not found.
    return k[p * 3 + 2] > t && std::isfinite(k[p * 3]) && std::isfinite(k[p * 3 + 1]);
  }
  float x(int p) const { return k[p * 3]; }
  float y(int p) const { return k[p * 3 + 1]; }
  float dist(int a, int b) const {
    const float dx = x(a) - x(b), dy = y(a) - y(b);
    return std::sqrt(dx * dx + dy * dy);
  }
};

void hand_box(const Body& b, int wrist, int elbow, int shoulder, float t, float* out) {
  out[0] = out[1] = out[2] = out[3] = 0.f;
  if (!(b.ok(wrist, t) && b.ok(elbow, t) && b.ok(shoulder, t))) return;
  const float cx = b.x(wrist) + kWristExtension * (b.x(wrist) - b.x(elbow));
  const float cy = b.y(wrist) + kWristExtension * (b.y(wrist) - b.y(elbow));
  const float we = b.dist(wrist, elbow);
  const float es = kUpperArm * b.dist(elbow, shoulder);
  const float side = kHandSide * (we > es ? we : es);
  out[0] = cx - side / 2.f;
  out[1] = cy - side / 2.f;
  out[2] = side;
  out[3] = side;
}

}  // namespace

const KeypointSet& get_keypoint_set(const std::string& name) {
  static const KeypointSet hand = make_hand();
  static const KeypointSet face = make_face();
  if (name == hand.name) return hand;
  if (name == face.name) return face;
  throw InvalidArgument(expected_got("keypoint set", "\"HAND\" or \"FACE\"", "\"" + name + "\""));
}

void check_box_args(const char* op, int64_t rows, int64_t parts, const PoseModel& model) {
  if (rows < 0 || parts != model.num_parts())
    throw InvalidArgument(expected_got(std::string(op) + ": keypoints shape",
                                       "[..., P = " + std::to_string(model.num_parts()) + ", 3] for " + model.name,
                                       "P = " + std::to_string(parts)));
}

void hand_boxes(const float* keypoints, int64_t rows, const PoseModel& model, float* out) {
  const float t = get_keypoint_set("HAND").box_threshold;
  const int lw = part(model, "LWrist"), le = part(model, "LElbow"), ls = part(model, "LShoulder");
  const int rw = part(model, "RWrist"), re = part(model, "RElbow"), rs = part(model, "RShoulder");
  const int64_t stride = static_cast<int64_t>(model.num_parts()) * 3;
  for (int64_t r = 0; r < rows; ++r) {
    const Body b{keypoints + r * stride};
    hand_box(b, lw, le, ls, t, out + r * 8);
    hand_box(b, rw, re, rs, t, out + r * 8 + 4);
  }
}

void face_boxes(const float* keypoints, int64_t rows, const PoseModel& model, float* out) {
  const float t = get_keypoint_set("FACE").box_threshold;
  const int neck = part(model, "Neck");
  const int nose = part(model, "Nose", "Head");
  const int leye = part(model, "LEye", "Head"), reye = part(model, "REye", "Head");
  const int lear = part(model, "LEar", "Head"), rear = part(model, "REar", "Head");
  const bool mpi_rule = nose == lear && lear == rear;
  const int64_t stride = static_cast<int64_t>(model.num_parts()) * 3;
  for (int64_t r = 0; r < rows; ++r) {
    const Body b{keypoints + r * stride};
    float cx = 0.f, cy = 0.f, side = 0.f;
    if (mpi_rule) {
      if (b.ok(neck, t) && b.ok(nose, t)) {
        cx = b.x(nose);
        cy = b.y(nose);
        side = kFaceMpi * b.dist(neck, nose);
      }
    } else {
      int count = 0;
      const bool ok_le = b.ok(leye, t), ok_re = b.ok(reye, t), ok_la = b.ok(lear, t), ok_ra = b.ok(rear, t);
      if (b.ok(neck, t) && b.ok(nose, t)) {
        if (ok_le == ok_la && ok_re == ok_ra && ok_le != ok_re) {  // profile: one side's eye and ear
          const int eye = ok_le ? leye : reye, ear = ok_le ? lear : rear;
          cx += (b.x(eye) + b.x(ear) + b.x(nose)) / 3.f;
          cy += (b.y(eye) + b.y(ear) + b.y(nose)) / 3.f;
          side += kFaceProfile * (b.dist(nose, eye) + b.dist(nose, ear) + b.dist(neck, nose));
        } else {
          cx += (b.x(neck) + b.x(nose)) / 2.f;
          cy += (b.y(neck) + b.y(nose)) / 2.f;
          side += kFaceNeckNose * b.dist(neck, nose);
        }
        ++count;
      }
      if (ok_le && ok_re) {
        cx += (b.x(leye) + b.x(reye)) / 2.f;
        cy += (b.y(leye) + b.y(reye)) / 2.f;
        side += kFaceEyes * b.dist(leye, reye);
        ++count;
      }
      if (ok_la && ok_ra) {
        cx += (b.x(lear) + b.x(rear)) / 2.f;
        cy += (b.y(lear) + b.y(rear)) / 2.f;
        side += kFaceEars * b.dist(lear, rear);
        ++count;
      }
      if (count > 0) {
        cx /= static_cast<float>(count);
        cy /= static_cast<float>(count);
        side /= static_cast<float>(count);
      }
    }
    float* o = out + r * 4;
    // The rectangle is built around the averaged point even though OpenPose names it "top-left".
    o[0] = cx - side / 2.f;
    o[1] = cy - side / 2.f;
    o[2] = side;
    o[3] = side;
  }
}

}  // namespace tfpose
