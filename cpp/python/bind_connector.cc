#include <iterator>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "tfpose/connector.hpp"

namespace tfpose_py {

py::tuple people_to_arrays(const std::vector<tfpose::People>& people, int64_t n, int64_t p) {
  const int64_t m = tfpose::max_people(people);
  py::array_t<float> kp({n, m, p, int64_t{3}});
  py::array_t<float> scores({n, m});
  py::array_t<int32_t> num({n});
  tfpose::pack_people(people, p, m, kp.mutable_data(), scores.mutable_data(), num.mutable_data());
  return py::make_tuple(kp, scores, num);
}

void bind_connector(py::module_& m) {
  py::tuple names(std::size(tfpose::kThresholdNames));
  for (size_t i = 0; i < std::size(tfpose::kThresholdNames); ++i) names[i] = tfpose::kThresholdNames[i];
  m.attr("THRESHOLD_NAMES") = names;
  py::class_<tfpose::ConnectThresholds>(m, "ConnectThresholds",
                                        "The connector's thresholds (OpenPose's names); negative = the model's "
                                        "default. Fields: "
                                        "nms_threshold, inter_min_above_threshold, "
                                        "inter_threshold, min_subset_cnt, min_subset_score.")
      .def(py::init([](float nms_threshold, float inter_min_above_threshold, float inter_threshold, int min_subset_cnt,
                       float min_subset_score) {
             return tfpose::ConnectThresholds{nms_threshold, inter_min_above_threshold, inter_threshold, min_subset_cnt,
                                              min_subset_score};
           }),
           py::kw_only(), py::arg("nms_threshold") = -1.f, py::arg("inter_min_above_threshold") = -1.f,
           py::arg("inter_threshold") = -1.f, py::arg("min_subset_cnt") = -1, py::arg("min_subset_score") = -1.f)
      .def_readwrite("nms_threshold", &tfpose::ConnectThresholds::nms_threshold)
      .def_readwrite("inter_min_above_threshold", &tfpose::ConnectThresholds::inter_min_above_threshold)
      .def_readwrite("inter_threshold", &tfpose::ConnectThresholds::inter_threshold)
      .def_readwrite("min_subset_cnt", &tfpose::ConnectThresholds::min_subset_cnt)
      .def_readwrite("min_subset_score", &tfpose::ConnectThresholds::min_subset_score);
  m.def(
      "connect",
      [](const FloatArray& maps, const FloatArray& peaks, const py::array_t<int32_t, py::array::c_style>& counts,
         const FloatArray& scale, const std::string& model, const std::string& openpose_build,
         const tfpose::ConnectThresholds& thresholds, int threads) {
        const tfpose::PoseModel& pm = tfpose::get_pose_model(model);
        const tfpose::OpenposeBuild build = tfpose::parse_openpose_build(openpose_build);
        auto ms = checked_shape(maps, 4, "connect: maps", "[N, H, W, C]");
        auto ps = checked_shape(peaks, 4, "connect: peaks", "[N, P, K, 3]");
        if (ps[3] != 3)
          throw tfpose::InvalidArgument(
              tfpose::expected_got("connect: peaks last dimension", "3 (x, y, score)", std::to_string(ps[3])));
        if (counts.ndim() != 2)
          throw tfpose::InvalidArgument(
              tfpose::expected_got("connect: counts", "rank 2 [N, P]", "rank " + std::to_string(counts.ndim())));
        if (scale.ndim() > 1)
          throw tfpose::InvalidArgument(
              tfpose::expected_got("connect: scale", "a scalar or [N]", "rank " + std::to_string(scale.ndim())));
        tfpose::check_connect_shapes(ms[0], ms[1], ms[2], ms[3], ps[0], ps[1], ps[2], counts.shape(0), counts.shape(1),
                                     scale.size(), pm);
        std::vector<tfpose::People> people;
        {
          py::gil_scoped_release release;
          people =
              tfpose::connect(maps.data(), ms[0], ms[1], ms[2], ms[3], peaks.data(), counts.data(), ps[1], ps[2],
                              scale.data(), scale.size(), pm, thresholds, build, tfpose::thread_parallel_for(threads));
        }
        return people_to_arrays(people, ms[0], ps[1]);
      },
      py::arg("maps"), py::arg("peaks"), py::arg("counts"), py::arg("scale"), py::arg("model"),
      py::arg("openpose_build"), py::arg("thresholds") = tfpose::ConnectThresholds(), py::arg("threads") = 0,
      "maps [N,H,W,C], peaks [N,P,K,3], counts [N,P] int32, scale scalar or [N] -> (keypoints [N,M,P,3], "
      "scores [N,M], num_people [N]). thresholds: ConnectThresholds (negative = the model default).");
}

}  // namespace tfpose_py
