#include <pybind11/stl.h>

#include "bindings.hpp"
#include "tfpose/crop.hpp"
#include "tfpose/hand_face.hpp"
#include "tfpose/topdown.hpp"

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
  m.def(
      "topdown_decode",
      [](const FloatArray& heatmaps, py::object transforms, const std::string& refinement, int dark_kernel,
         int threads) {
        auto s = checked_shape(heatmaps, 4, "topdown_decode: heatmaps", "[N, H, W, C]");
        tfpose::TopDownParams params;
        params.refinement = tfpose::parse_refinement(refinement);
        params.dark_kernel = dark_kernel;
        tfpose::check_topdown_args(s[0], s[1], s[2], s[3], params);
        py::array_t<double, py::array::c_style | py::array::forcecast> m;
        const double* mp = nullptr;
        if (!transforms.is_none()) {
          m = transforms.cast<py::array_t<double, py::array::c_style | py::array::forcecast>>();
          if (m.ndim() != 3 || m.shape(0) != s[0] || m.shape(1) != 2 || m.shape(2) != 3) {
            std::string got = "[";
            for (py::ssize_t i = 0; i < m.ndim(); ++i) got += (i ? ", " : "") + std::to_string(m.shape(i));
            throw tfpose::InvalidArgument(tfpose::expected_got(
                "topdown_decode: transforms", "shape [N = " + std::to_string(s[0]) + ", 2, 3]", got + "]"));
          }
          mp = m.data();
        }
        py::array_t<float> out({s[0], s[3], int64_t{3}});
        const float* in = heatmaps.data();
        float* o = out.mutable_data();
        {
          py::gil_scoped_release release;
          tfpose::topdown_decode(in, s[0], s[1], s[2], s[3], params, mp, o, tfpose::thread_parallel_for(threads));
        }
        return out;
      },
      py::arg("heatmaps"), py::arg("transforms"), py::arg("refinement"), py::arg("dark_kernel"), py::arg("threads") = 0,
      "heatmaps [N,H,W,C] float32, transforms [N,2,3] float64 or None -> [N,C,3] (x, y, score).");
  m.def(
      "crop_affine",
      [](const py::array_t<uint8_t, py::array::c_style>& images,
         const py::array_t<int32_t, py::array::c_style | py::array::forcecast>& image_index,
         const py::array_t<double, py::array::c_style | py::array::forcecast>& transforms, int64_t out_h, int64_t out_w,
         int threads) {
        if (images.ndim() != 4)
          throw tfpose::InvalidArgument(tfpose::expected_got("crop_affine: images", "rank 4 [N, H, W, C] uint8",
                                                             "rank " + std::to_string(images.ndim())));
        const int64_t b = image_index.ndim() == 1 ? image_index.shape(0) : -1;
        if (b < 0 || transforms.ndim() != 3 || transforms.shape(0) != b || transforms.shape(1) != 2 ||
            transforms.shape(2) != 3)
          throw tfpose::InvalidArgument(tfpose::expected_got(
              "crop_affine: image_index, transforms", "[B] and [B, 2, 3]",
              "ranks " + std::to_string(image_index.ndim()) + " and " + std::to_string(transforms.ndim()) +
                  (transforms.ndim() == 3 ? " with shape[0] " + std::to_string(transforms.shape(0)) : "")));
        const int64_t n = images.shape(0), h = images.shape(1), w = images.shape(2), c = images.shape(3);
        tfpose::check_crop_args(n, h, w, c, image_index.data(), b, out_h, out_w);
        py::array_t<float> out({b, out_h, out_w, c});
        const uint8_t* im = images.data();
        const int32_t* idx = image_index.data();
        const double* mp = transforms.data();
        float* o = out.mutable_data();
        {
          py::gil_scoped_release release;
          tfpose::crop_affine(im, n, h, w, c, idx, mp, b, out_h, out_w, o, tfpose::thread_parallel_for(threads));
        }
        return out;
      },
      py::arg("images"), py::arg("image_index"), py::arg("transforms"), py::arg("out_h"), py::arg("out_w"),
      py::arg("threads") = 0,
      "images [N,H,W,C] uint8, image_index [B], transforms [B,2,3] -> crops [B,out_h,out_w,C] float32.");
}

}  // namespace tfpose_py
