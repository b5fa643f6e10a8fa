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
        if (net_outputs.empty())
          throw tfpose::InvalidArgument(
              tfpose::expected_got("resize_and_merge: net_outputs", "at least one scale", "none"));
        const size_t num_scales = net_outputs.size();
        if (ratios.size() != num_scales)
          throw tfpose::InvalidArgument(tfpose::expected_got(
              "resize_and_merge: scale_ratios", std::to_string(num_scales) + " values (one per scale)",
              std::to_string(ratios.size())));
        std::vector<tfpose::ScaleMaps> scales(num_scales);
        int64_t n = 0, c = 0;
        for (size_t i = 0; i < num_scales; ++i) {
          const std::string what = "resize_and_merge: net_outputs[" + std::to_string(i) + "]";
          auto s = checked_shape(net_outputs[i], 4, what, "[N, h, w, C]");
          if (i == 0) {
            n = s[0];
            c = s[3];
          } else if (s[0] != n || s[3] != c) {
            throw tfpose::InvalidArgument(tfpose::expected_got(
                what + " shape", "N = " + std::to_string(n) + " and C = " + std::to_string(c) +
                                     " like net_outputs[0]",
                tfpose::shape_str({s[0], s[1], s[2], s[3]})));
          }
          scales[i] = {net_outputs[i].data(), s[1], s[2], ratios[i]};
        }
        int64_t H = target_hw.first, W = target_hw.second;
        if (H == 0 && W == 0) {  // 8x the size of scale 0, as in the TF op
          H = 8 * scales[0].h;
          W = 8 * scales[0].w;
        }
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
