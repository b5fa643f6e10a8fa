#include <pybind11/stl.h>

#include <string>
#include <utility>
#include <vector>

#include "bindings.hpp"
#include "tfpose/resize_and_merge.hpp"

namespace tfpose_py {

void bind_resize_and_merge(py::module_& m) {
  m.def(
      "resize_and_merge",
      [](const std::vector<FloatArray>& net_outputs, const std::vector<double>& ratios,
         std::pair<int64_t, int64_t> target_hw, const std::string& openpose_build, int threads) {
        const tfpose::OpenposeBuild build = tfpose::parse_openpose_build(openpose_build);
        int64_t n = 0, c = 0;
        const std::vector<tfpose::ScaleMaps> scales = scale_maps(net_outputs, ratios, "resize_and_merge", &n, &c);
        int64_t H = target_hw.first, W = target_hw.second;
        tfpose::resolve_target_size(scales, &H, &W);
        tfpose::check_resize_and_merge_args(scales, n, c, H, W, build);
        py::array_t<float> out({n, H, W, c});
        float* o = out.mutable_data();
        {
          py::gil_scoped_release release;
          tfpose::resize_and_merge(scales, n, c, H, W, build, o, tfpose::thread_parallel_for(threads));
        }
        return out;
      },
      py::arg("net_outputs"), py::arg("scale_ratios"), py::arg("target_hw"), py::arg("openpose_build") = "cpu",
      py::arg("threads") = 0,
      "net_outputs: list of S float32 [N, h_i, w_i, C]; scale_ratios: S floats; target_hw: (H, W), (0, 0) = 8x "
      "scale 0 -> [N, H, W, C] float32 resized and averaged over scales (OpenPose's resizeAndMerge).");
}

}  // namespace tfpose_py
