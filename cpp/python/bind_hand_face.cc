#include <pybind11/stl.h>

#include "bindings.hpp"
#include "tfpose/hand_face.hpp"

namespace tfpose_py {

namespace {

// keypoints [..., P, 3] -> (rows = product of the leading dims, P); the leading dims are kept for the output.
std::vector<int64_t> people_shape(const FloatArray& k, const char* op, int64_t* rows, int64_t* parts) {
  std::vector<int64_t> shape(k.shape(), k.shape() + k.ndim());
  if (k.ndim() < 2 || shape.back() != 3) {
    std::string got = "[";
    for (size_t i = 0; i < shape.size(); ++i) got += (i ? ", " : "") + std::to_string(shape[i]);
    throw tfpose::InvalidArgument(
        tfpose::expected_got(std::string(op) + ": keypoints", "shape [..., P, 3]", got + "]"));
  }
  *parts = shape[shape.size() - 2];
  *rows = 1;
  for (size_t i = 0; i + 2 < shape.size(); ++i) *rows *= shape[i];
  shape.resize(shape.size() - 2);
  return shape;
}

template <typename Fn>
py::array_t<float> boxes(const FloatArray& keypoints, const std::string& model, const char* op,
                         std::vector<int64_t> tail, Fn fn) {
  const tfpose::PoseModel& pm = tfpose::get_pose_model(model);
  int64_t rows = 0, parts = 0;
  std::vector<int64_t> shape = people_shape(keypoints, op, &rows, &parts);
  tfpose::check_box_args(op, rows, parts, pm);
  shape.insert(shape.end(), tail.begin(), tail.end());
  py::array_t<float> out(shape);
  const float* in = keypoints.data();
  float* o = out.mutable_data();
  {
    py::gil_scoped_release release;
    fn(in, rows, pm, o);
  }
  return out;
}

}  // namespace

void bind_hand_face(py::module_& m) {
  m.def(
      "keypoint_set",
      [](const std::string& name) {
        const tfpose::KeypointSet& s = tfpose::get_keypoint_set(name);
        py::dict d;
        d["name"] = s.name;
        d["num_keypoints"] = s.num_keypoints;
        d["num_channels"] = s.num_channels;
        d["net_resolution"] = s.net_resolution;
        d["box_threshold"] = s.box_threshold;
        d["min_side"] = s.min_side;
        d["min_area"] = s.min_area;
        d["render_threshold"] = s.render_threshold;
        d["circle_ratio"] = s.circle_ratio;
        d["line_ratio"] = s.line_ratio;
        d["render_pairs"] = s.render_pairs;
        std::vector<std::array<int, 3>> colors;
        for (const auto& c : s.colors) colors.push_back({c[0], c[1], c[2]});
        d["colors"] = colors;
        return d;
      },
      py::arg("name"), "The C++ table of \"HAND\" or \"FACE\" as a dict (see tfpose.models.hand / face).");
  m.attr("HAND_SCALE_NUMBER_DEFAULT") = tfpose::kHandScaleNumberDefault;
  m.attr("HAND_SCALE_RANGE_DEFAULT") = tfpose::kHandScaleRangeDefault;
  m.def(
      "hand_boxes",
      [](const FloatArray& keypoints, const std::string& model) {
        return boxes(keypoints, model, "hand_boxes", {2, 4}, tfpose::hand_boxes);
      },
      py::arg("keypoints"), py::arg("model"),
      "keypoints [..., P, 3] float32 -> [..., 2, 4] (left, right) boxes (x, y, w, h).");
  m.def(
      "face_boxes",
      [](const FloatArray& keypoints, const std::string& model) {
        return boxes(keypoints, model, "face_boxes", {4}, tfpose::face_boxes);
      },
      py::arg("keypoints"), py::arg("model"), "keypoints [..., P, 3] float32 -> [..., 4] boxes (x, y, w, h).");
}

}  // namespace tfpose_py
