#include <pybind11/stl.h>

#include "bindings.hpp"
#include "tfpose/common.hpp"
#include "tfpose/pose_model.hpp"

namespace tfpose_py {

namespace {

// PoseDefaults as a dict keyed by field name; to_py converts the float fields.
template <typename ToPy>
py::dict defaults_dict(const tfpose::PoseDefaults& d, ToPy to_py) {
  py::dict out;
  out["nms_threshold"] = to_py(d.nms_threshold);
  out["inter_min_above_threshold"] = to_py(d.inter_min_above_threshold);
  out["inter_threshold"] = to_py(d.inter_threshold);
  out["min_subset_cnt"] = d.min_subset_cnt;
  out["min_subset_score"] = to_py(d.min_subset_score);
  out["max_peaks"] = d.max_peaks;
  return out;
}

}  // namespace

void bind_pose_model(py::module_& m) {
  // The core's defaults (pose_defaults.hpp), read by tfpose/_args.py (DEFAULT_*). Floats as the
  // decimal they are written as (0.05, not float32's 0.05000000074505806): number_str(float) is the
  // shortest text that reads back as the float, so Python's default passes the same float32 on.
  m.attr("POSE_DEFAULTS") =
      defaults_dict(tfpose::kPoseDefaults, [](float v) { return std::stod(tfpose::number_str(v)); });
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
        d["defaults"] = defaults_dict(pm.defaults, [](float v) { return v; });
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
