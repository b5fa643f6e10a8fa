// tfpose._core: the C++ core on numpy arrays, without TensorFlow. Each op binds itself in its own
// bind_<op>.cc; compute runs with the GIL released.
#include "bindings.hpp"

#include <cxxabi.h>
#include <unistd.h>

#include <sstream>

namespace tfpose_py {

std::vector<int64_t> checked_shape(const FloatArray& a, int rank, const std::string& what, const std::string& layout) {
  std::vector<int64_t> shape(a.shape(), a.shape() + a.ndim());
  if (a.ndim() != rank) {
    std::ostringstream got;
    got << "rank " << a.ndim() << " shape [";
    for (size_t i = 0; i < shape.size(); ++i) got << (i ? ", " : "") << shape[i];
    got << "]";
    throw tfpose::InvalidArgument(tfpose::expected_got(what, "rank " + std::to_string(rank) + " " + layout, got.str()));
  }
  return shape;
}

std::vector<tfpose::ScaleMaps> scale_maps(const std::vector<FloatArray>& net_outputs, const std::vector<double>& ratios,
                                          const std::string& op, int64_t* n, int64_t* c) {
  if (net_outputs.empty())
    throw tfpose::InvalidArgument(tfpose::expected_got(op + ": net_outputs", "at least one scale", "none"));
  const size_t num_scales = net_outputs.size();
  if (ratios.size() != num_scales)
    throw tfpose::InvalidArgument(tfpose::expected_got(
        op + ": scale_ratios", std::to_string(num_scales) + " values (one per scale)", std::to_string(ratios.size())));
  std::vector<tfpose::ScaleMaps> scales(num_scales);
  for (size_t i = 0; i < num_scales; ++i) {
    const std::string what = op + ": net_outputs[" + std::to_string(i) + "]";
    auto s = checked_shape(net_outputs[i], 4, what, "[N, h, w, C]");
    if (i == 0) {
      *n = s[0];
      *c = s[3];
    } else if (s[0] != *n || s[3] != *c) {
      throw tfpose::InvalidArgument(tfpose::expected_got(
          what + " shape", "N = " + std::to_string(*n) + " and C = " + std::to_string(*c) + " like net_outputs[0]",
          tfpose::shape_str({s[0], s[1], s[2], s[3]})));
    }
    scales[i] = {net_outputs[i].data(), s[1], s[2], ratios[i]};
  }
  return scales;
}

void retake_gil(PyThreadState* state) {
  try {
    PyEval_RestoreThread(state);
  } catch (abi::__forced_unwind&) {
    // The interpreter is finalising and CPython is ending this thread. Rethrowing would unwind
    // through frames that release Python objects without the GIL (and, on some paths, through
    // noexcept ones: std::terminate). This thread has nothing left to do: it sleeps until exit.
    for (;;) pause();
  }
}

void bind_tracking(py::module_& m);  // bind_tracking.cc (PoseTracker's per-frame arithmetic)

void bind_common(py::module_& m) {
  py::register_exception<tfpose::InvalidArgument>(m, "InvalidArgument", PyExc_ValueError);
  m.attr("MAX_THREADS") = tfpose::kMaxThreads;
  m.attr("POOL_IDLE_SECONDS") = tfpose::kPoolIdleSeconds;
  m.attr("POOL_MAX_BYTES") = tfpose::kPoolMaxBytes;
  // Limits and names the Python argument checks (tfpose/_args.py) read instead of restating.
  m.attr("MAX_PEAKS_LIMIT") = tfpose::kMaxPeaksLimit;
  m.attr("MAX_CUDA_SCALES") = tfpose::kMaxCudaScales;
  m.attr("OPENPOSE_BUILDS") = py::make_tuple(tfpose::openpose_build_name(tfpose::OpenposeBuild::kCpu),
                                             tfpose::openpose_build_name(tfpose::OpenposeBuild::kCuda));
}

}  // namespace tfpose_py

PYBIND11_MODULE(_core, m) {
  m.doc() = "tfpose C++ core bound to numpy (no TensorFlow)";
  tfpose_py::bind_common(m);
  tfpose_py::bind_maximum(m);
  tfpose_py::bind_resize_and_merge(m);
  tfpose_py::bind_nms(m);
  tfpose_py::bind_pose_model(m);
  tfpose_py::bind_connector(m);
  tfpose_py::bind_pipeline(m);
  tfpose_py::bind_paf_scores(m);
  tfpose_py::bind_cuda(m);
  tfpose_py::bind_hand_face(m);
  tfpose_py::bind_topdown(m);
  tfpose_py::bind_crop(m);
  tfpose_py::bind_sizing(m);
  tfpose_py::bind_placement(m);
  tfpose_py::bind_tracking(m);
}
