#include <pybind11/stl.h>

#include "bindings.hpp"
#include "tfpose/pose_model.hpp"

namespace tfpose_py {

void bind_pose_model(py::module_& m) {
  m.def("pose_model_names", &tfpose::pose_model_names, "Names of the pose models, OpenPose's enum order.");
  m.def(
      "pose_model",
      [](const std::string& name) {
        const tfpose::PoseModel& pm = tfpose::get_pose_model(name);
        py::dict d;
        d["name"] = pm.name;
        d["part_names"] = pm.part_names;
        d["pairs"] = pm.pairs;
        std::vector<std::array<int, 2>> paf;
        for (int k = 0; k < pm.num_limbs(); ++k) paf.push_back({pm.paf_channel(k, 0), pm.paf_channel(k, 1)});
        d["paf_channels"] = paf;
        d["num_parts"] = pm.num_parts();
        d["num_channels"] = pm.num_channels();
        d["background_channel"] = pm.background_channel();
        py::dict defaults;
        defaults["nms_threshold"] = pm.defaults.nms_threshold;
        defaults["inter_min_above_threshold"] = pm.defaults.inter_min_above_threshold;
        defaults["inter_threshold"] = pm.defaults.inter_threshold;
        defaults["min_subset_cnt"] = pm.defaults.min_subset_cnt;
        defaults["min_subset_score"] = pm.defaults.min_subset_score;
        defaults["max_peaks"] = pm.defaults.max_peaks;
        d["defaults"] = defaults;
        d["ear_limbs"] = pm.ear_limbs;
        d["foot_parts"] = pm.foot_parts;
        std::vector<std::array<int, 3>> colors;
        for (const auto& c : pm.part_colors) colors.push_back({c[0], c[1], c[2]});
        d["part_colors"] = colors;
        d["render_pairs"] = pm.render_pairs;
        d["flip_parts"] = pm.flip_parts;
        d["flip_limbs"] = pm.flip_limbs;
        return d;
      },
      py::arg("name"), "The C++ table of one pose model as a dict (see tfpose.models).");
}

}  // namespace tfpose_py
