#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "bindings.hpp"
#include "tfpose/fast_path.hpp"
#include "tfpose/pipeline.hpp"

namespace tfpose_py {

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
         const std::string& openpose_build, int64_t max_peaks, const tfpose::ConnectThresholds& thresholds, bool fast,
         int threads, const std::string& peak_refinement) {
        const tfpose::PoseModel& pm = tfpose::get_pose_model(model);
        tfpose::PipelineParams params;
        params.build = tfpose::parse_openpose_build(openpose_build);
        params.thresholds = thresholds;
        params.max_peaks = max_peaks;
        params.fast = fast;
        params.peak_refinement = tfpose::parse_peak_refinement(peak_refinement);
        int64_t n = 0, c = 0;
        const std::vector<tfpose::ScaleMaps> scales =
            scale_maps(net_outputs, scale_ratios, "net_output_to_people", &n, &c);
        std::vector<tfpose::People> people;
        without_gil([&] {
          people = tfpose::net_output_to_people(scales, n, c, net_input_hw[0], net_input_hw[1], image_hw[0],
                                                image_hw[1], pm, params, tfpose::thread_parallel_for(threads));
        });
        return people_to_arrays(people, n, pm.num_parts());
      },
      py::arg("net_outputs"), py::arg("scale_ratios"), py::arg("net_input_hw"), py::arg("image_hw"), py::arg("model"),
      py::arg("openpose_build"), py::arg("max_peaks"), py::arg("thresholds") = tfpose::ConnectThresholds(),
      py::arg("fast") = true, py::arg("threads") = 0, py::arg("peak_refinement") = "centroid",
      "S net outputs [N,h,w,C] -> (keypoints [N,M,P,3] in image pixels, scores [N,M], num_people [N]); "
      "sizes (0, 0) take the defaults, thresholds (ConnectThresholds) < 0 the model's; fast: skip the dense "
      "maps (same people); peak_refinement: 'centroid' (OpenPose's) or 'quadratic'.");
  m.def(
      "fast_peaks",
      [](const std::vector<FloatArray>& net_outputs, const std::vector<double>& scale_ratios,
         std::array<int64_t, 2> target_hw, int64_t parts, const tfpose::NmsParams& params, int threads) {
        int64_t n = 0, c = 0;
        const std::vector<tfpose::ScaleMaps> scales = scale_maps(net_outputs, scale_ratios, "fast_peaks", &n, &c);
        int64_t H = target_hw[0], W = target_hw[1];
        tfpose::resolve_target_size(scales, &H, &W);
        tfpose::check_resize_and_merge_args(scales, n, c, H, W, params.build);
        tfpose::check_nms_args(n, H, W, parts, params);
        py::array_t<float> peaks({n, parts, params.max_peaks, int64_t{3}});
        py::array_t<int32_t> counts({n, parts});
        float* pk = peaks.mutable_data();
        int32_t* cn = counts.mutable_data();
        without_gil(
            [&] { tfpose::fast_nms(scales, n, c, H, W, parts, params, pk, cn, tfpose::thread_parallel_for(threads)); });
        return py::make_tuple(peaks, counts);
      },
      py::arg("net_outputs"), py::arg("scale_ratios"), py::arg("target_hw"), py::arg("parts"), py::arg("params"),
      py::arg("threads") = 0,
      "Fast NMS (no dense map): equals nms(resize_and_merge(net_outputs, ..., params.openpose_build)[..., :parts], "
      "params) bit for bit; target_hw (0, 0) = 8x scale 0. "
      "-> (peaks [N,P,K,3] float32, counts [N,P] int32).");
}

}  // namespace tfpose_py
