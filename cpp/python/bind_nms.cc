#include "bindings.hpp"
#include "tfpose/nms.hpp"

namespace tfpose_py {

void bind_nms(py::module_& m) {
  m.attr("PEAK_REFINEMENTS") = py::make_tuple(tfpose::peak_refinement_name(tfpose::PeakRefinement::kCentroid),
                                              tfpose::peak_refinement_name(tfpose::PeakRefinement::kQuadratic));
  m.def("check_max_peaks", &tfpose::check_max_peaks, py::arg("max_peaks"),
        "The core's max_peaks rule (an int in [1, MAX_PEAKS_LIMIT]); ValueError outside it.");
  py::class_<tfpose::NmsParams>(m, "NmsParams",
                                "OpenPose's NMS parameters as one object (the bindings take it instead of "
                                "positional numbers). Fields: threshold (in [0, 1]), max_peaks (K), offset_x, "
                                "offset_y (OpenPose's nmsOffset), openpose_build ('cpu' or 'cuda'), peak_refinement "
                                "('centroid', OpenPose's, or 'quadratic'). Built by the "
                                "core's one NMS-parameter rule (make_nms_params): ValueError outside it.")
      .def(py::init(&tfpose::make_nms_params), py::kw_only(),
           py::arg("threshold") = static_cast<double>(tfpose::kPoseDefaults.nms_threshold),
           py::arg("max_peaks") = tfpose::kPoseDefaults.max_peaks, py::arg("offset_x") = 0.0, py::arg("offset_y") = 0.0,
           py::arg("openpose_build") = "cpu", py::arg("peak_refinement") = "centroid")
      .def_readonly("threshold", &tfpose::NmsParams::threshold)
      .def_readonly("max_peaks", &tfpose::NmsParams::max_peaks)
      .def_readonly("offset_x", &tfpose::NmsParams::offset_x)
      .def_readonly("offset_y", &tfpose::NmsParams::offset_y)
      .def_property_readonly("openpose_build",
                             [](const tfpose::NmsParams& p) { return tfpose::openpose_build_name(p.build); })
      .def_property_readonly("peak_refinement",
                             [](const tfpose::NmsParams& p) { return tfpose::peak_refinement_name(p.refinement); });
  m.def(
      "nms",
      [](const FloatArray& heatmaps, const tfpose::NmsParams& params, int threads) {
        auto s = checked_shape(heatmaps, 4, "nms: heatmaps", "[N, H, W, P]");
        tfpose::check_nms_args(s[0], s[1], s[2], s[3], params);
        py::array_t<float> peaks({s[0], s[3], params.max_peaks, int64_t{3}});
        py::array_t<int32_t> counts({s[0], s[3]});
        const float* in = heatmaps.data();
        float* pk = peaks.mutable_data();
        int32_t* cn = counts.mutable_data();
        without_gil(
            [&] { tfpose::nms(in, s[0], s[1], s[2], s[3], params, pk, cn, tfpose::thread_parallel_for(threads)); });
        return py::make_tuple(peaks, counts);
      },
      py::arg("heatmaps"), py::arg("params"), py::arg("threads") = 0,
      "heatmaps [N,H,W,P] float32, NmsParams -> (peaks [N,P,K,3] float32 (x, y, score), counts [N,P] int32).");
}

}  // namespace tfpose_py
