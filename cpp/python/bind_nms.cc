#include "bindings.hpp"
#include "tfpose/nms.hpp"

namespace tfpose_py {

void bind_nms(py::module_& m) {
  m.def(
      "nms",
      [](const FloatArray& heatmaps, float threshold, int64_t max_peaks, float offset_x, float offset_y,
         const std::string& openpose_build, int threads) {
        auto s = checked_shape(heatmaps, 4, "nms: heatmaps", "[N, H, W, P]");
        const tfpose::NmsParams params =
            nms_params(threshold, max_peaks, offset_x, offset_y, tfpose::parse_openpose_build(openpose_build));
        tfpose::check_nms_args(s[0], s[1], s[2], s[3], params);
        py::array_t<float> peaks({s[0], s[3], params.max_peaks, int64_t{3}});
        py::array_t<int32_t> counts({s[0], s[3]});
        const float* in = heatmaps.data();
        float* pk = peaks.mutable_data();
        int32_t* cn = counts.mutable_data();
        {
          py::gil_scoped_release release;
          tfpose::nms(in, s[0], s[1], s[2], s[3], params, pk, cn, tfpose::thread_parallel_for(threads));
        }
        return py::make_tuple(peaks, counts);
      },
      py::arg("heatmaps"), py::arg("threshold"), py::arg("max_peaks"), py::arg("offset_x"), py::arg("offset_y"),
      py::arg("openpose_build"), py::arg("threads") = 0,
      "heatmaps [N,H,W,P] float32 -> (peaks [N,P,K,3] float32 (x, y, score), counts [N,P] int32).");
}

}  // namespace tfpose_py
