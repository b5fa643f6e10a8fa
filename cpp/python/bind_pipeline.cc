#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "bindings.hpp"
#include "tfpose/pipeline.hpp"

namespace tfpose_py {

py::tuple people_to_arrays(const std::vector<tfpose::People>& people, int64_t n, int64_t p);
tfpose::ConnectParams connect_params(const std::string& build, float nms_threshold,
                                     float inter_min_above_threshold, float inter_threshold, int min_subset_cnt,
                                     float min_subset_score);

void bind_pipeline(py::module_& m) {
  m.def(
      "output_scaling",
      [](std::array<int64_t, 2> net_input_hw, std::array<int64_t, 2> image_hw) {
        const tfpose::OutputScaling s =
            tfpose::output_scaling(net_input_hw[0], net_input_hw[1], image_hw[0], image_hw[1]);
        return py::make_tuple(s.scale_net_to_output, s.nms_offset);
      },
      py::arg("net_input_hw"), py::arg("image_hw"),
      "(H, W) of the net input and of the image -> (scale_net_to_output, nms_offset), OpenPose's "
      "size bookkeeping (spec section 3).");
  m.def(
      "net_output_to_people",
      [](const std::vector<FloatArray>& net_outputs, const std::vector<double>& scale_ratios,
         std::array<int64_t, 2> net_input_hw, std::array<int64_t, 2> image_hw, const std::string& model,
         const std::string& build, int64_t max_peaks, float nms_threshold, float inter_min_above_threshold,
         float inter_threshold, int min_subset_cnt, float min_subset_score, int threads) {
        const tfpose::PoseModel& pm = tfpose::get_pose_model(model);
        tfpose::PipelineParams params;
        params.connect = connect_params(build, nms_threshold, inter_min_above_threshold, inter_threshold,
                                        min_subset_cnt, min_subset_score);
        params.max_peaks = max_peaks;
        if (net_outputs.empty())
          throw tfpose::InvalidArgument("net_outputs: expected at least one scale, got an empty list");
        if (scale_ratios.size() != net_outputs.size())
          throw tfpose::InvalidArgument(tfpose::expected_got("scale_ratios", std::to_string(net_outputs.size()) +
                                                                                 " values (one per scale)",
                                                             std::to_string(scale_ratios.size())));
        std::vector<tfpose::ScaleMaps> scales;
        int64_t n = 0, c = 0;
        for (size_t i = 0; i < net_outputs.size(); ++i) {
          auto s = checked_shape(net_outputs[i], 4, "net_outputs[" + std::to_string(i) + "]", "[N, h, w, C]");
          if (i == 0) {
            n = s[0];
            c = s[3];
          } else if (s[0] != n || s[3] != c) {
            throw tfpose::InvalidArgument(tfpose::expected_got(
                "net_outputs[" + std::to_string(i) + "] shape", "N = " + std::to_string(n) + " and C = " +
                    std::to_string(c) + " as net_outputs[0]", tfpose::shape_str({s[0], s[1], s[2], s[3]})));
          }
          scales.push_back({net_outputs[i].data(), s[1], s[2], scale_ratios[i]});
        }
        std::vector<tfpose::People> people;
        {
          py::gil_scoped_release release;
          people = tfpose::net_output_to_people(scales, n, c, net_input_hw[0], net_input_hw[1], image_hw[0],
                                                image_hw[1], pm, params, tfpose::thread_parallel_for(threads));
        }
        return people_to_arrays(people, n, pm.num_parts());
      },
      py::arg("net_outputs"), py::arg("scale_ratios"), py::arg("net_input_hw"), py::arg("image_hw"),
      py::arg("model"), py::arg("openpose_build"), py::arg("max_peaks"), py::arg("nms_threshold"),
      py::arg("inter_min_above_threshold"), py::arg("inter_threshold"), py::arg("min_subset_cnt"),
      py::arg("min_subset_score"), py::arg("threads") = 0,
      "S net outputs [N,h,w,C] -> (keypoints [N,M,P,3] in image pixels, scores [N,M], num_people [N]); "
      "sizes (0, 0) take the defaults, thresholds < 0 the model's.");
}

}  // namespace tfpose_py
