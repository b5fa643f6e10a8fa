// tfpose._core.paf_scores: the connector's CPU pair-score table, in every build (the CUDA pair-score
// kernel, bound in bind_cuda.cc, is tested against it).
#include <string>

#include "bindings.hpp"
#include "tfpose/connector.hpp"
#include "tfpose/paf_scores.hpp"
#include "tfpose/pose_model.hpp"

namespace tfpose_py {

// The CPU pair-score table: the reference the CUDA pair-score kernel is tested against, available in
// every build.
void bind_paf_scores(py::module_& m) {
  m.def(
      "paf_scores",
      [](const FloatArray& maps, const FloatArray& peaks, const py::array_t<int32_t, py::array::c_style>& counts,
         const std::string& model, const std::string& openpose_build, const tfpose::ConnectThresholds& thresholds,
         int threads) {
        const tfpose::PoseModel& pm = tfpose::get_pose_model(model);
        const tfpose::OpenposeBuild build = tfpose::parse_openpose_build(openpose_build);
        auto ms = checked_shape(maps, 4, "paf_scores: maps", "[N, H, W, C]");
        auto ps = checked_shape(peaks, 4, "paf_scores: peaks", "[N, P, K, 3]");
        if (counts.ndim() != 2)
          throw tfpose::InvalidArgument(
              tfpose::expected_got("paf_scores: counts", "rank 2 [N, P]", "rank " + std::to_string(counts.ndim())));
        tfpose::check_connect_shapes(ms[0], ms[1], ms[2], ms[3], ps[0], ps[1], ps[2], counts.shape(0), counts.shape(1),
                                     1, pm);
        const auto limbs = tfpose::paf_limbs(pm);
        const auto params =
            tfpose::paf_score_params(tfpose::resolve_thresholds(pm, thresholds), build, ms[2], ms[1]);  // (W, H)
        const int64_t L = static_cast<int64_t>(limbs.size());
        py::array_t<float> out({ms[0], L, ps[2], ps[2]});
        const float* mp = maps.data();
        const float* pk = peaks.data();
        const int32_t* cn = counts.data();
        float* o = out.mutable_data();
        {
          py::gil_scoped_release release;
          tfpose::paf_score_table(mp, ms[0], ms[1], ms[2], ms[3], pk, cn, ps[1], ps[2], limbs, params, o,
                                  tfpose::thread_parallel_for(threads));
        }
        return out;
      },
      py::arg("maps"), py::arg("peaks"), py::arg("counts"), py::arg("model") = "COCO_18",
      py::arg("openpose_build") = "cuda", py::arg("thresholds") = tfpose::ConnectThresholds(), py::arg("threads") = 0,
      "maps [N,H,W,C], peaks [N,P,K,3], counts [N,P] int32 -> [N,L,K,K] PAF pair scores (spec 7.3 step 1; "
      "-1 past the counts; a failing pair scores 0 for 'cpu', -1 for 'cuda'). thresholds: ConnectThresholds "
      "(negative = model default).");
}

}  // namespace tfpose_py
