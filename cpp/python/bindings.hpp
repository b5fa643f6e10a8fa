// Helpers shared by the pybind11 binding files (one file per op, bind_<op>.cc).
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <exception>
#include <string>
#include <vector>

#include "tfpose/common.hpp"
#include "tfpose/detail/denormals.hpp"
#include "tfpose/nms.hpp"
#include "tfpose/people.hpp"
#include "tfpose/resize_and_merge.hpp"

namespace tfpose_py {

namespace py = pybind11;
// C-contiguous float32 input; numpy converts other float dtypes, the wrappers reject the rest.
using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;

// Checks rank and returns the shape, or throws tfpose::InvalidArgument naming what came.
std::vector<int64_t> checked_shape(const FloatArray& a, int rank, const std::string& what, const std::string& layout);

// S host arrays [N, h_i, w_i, C] + S ratios -> the core's ScaleMaps (pointing into the arrays,
// which must outlive them); checks count, rank and equal N and C. n, c receive N and C.
std::vector<tfpose::ScaleMaps> scale_maps(const std::vector<FloatArray>& net_outputs, const std::vector<double>& ratios,
                                          const std::string& op, int64_t* n, int64_t* c);

// People of N images -> (keypoints [N, M, P, 3], scores [N, M], num_people [N]) numpy arrays
// (tfpose::pack_people; defined in bind_connector.cc).
py::tuple people_to_arrays(const std::vector<tfpose::People>& people, int64_t n, int64_t p);

// Takes back the GIL released by PyEval_SaveThread. While the interpreter finalises, CPython ends
// any thread that asks for the GIL (pthread_exit, a forced unwind); this thread then parks until the
// process exits instead of unwinding through pybind11 and Python objects without the GIL.
void retake_gil(PyThreadState* state);

// Runs body() with the GIL released, then takes it back; body's exception is rethrown after that.
// Used instead of py::gil_scoped_release, whose destructor takes the GIL back inside a noexcept
// function: a daemon thread still computing when Python exits then aborts the whole process
// ("terminate called without an active exception"). Also sets IEEE denormals for the whole call.
template <typename Body>
void without_gil(Body&& body) {
  std::exception_ptr err;
  PyThreadState* state = PyEval_SaveThread();
  try {
    tfpose::detail::ScopedKeepDenormals keep_denormals;
    body();
  } catch (...) {
    err = std::current_exception();
  }
  retake_gil(state);
  if (err) std::rethrow_exception(err);
}

void bind_common(py::module_& m);
void bind_maximum(py::module_& m);
void bind_resize_and_merge(py::module_& m);
void bind_nms(py::module_& m);
void bind_pose_model(py::module_& m);
void bind_connector(py::module_& m);
void bind_pipeline(py::module_& m);
void bind_paf_scores(py::module_& m);
void bind_cuda(py::module_& m);
void bind_hand_face(py::module_& m);
void bind_topdown(py::module_& m);
void bind_crop(py::module_& m);
void bind_sizing(py::module_& m);
void bind_placement(py::module_& m);

}  // namespace tfpose_py
