// tfpose._core: the C++ core on numpy arrays, without TensorFlow. Each op binds itself in its own
// bind_<op>.cc; compute runs with the GIL released.
#include "bindings.hpp"

#include <sstream>

namespace tfpose_py {

std::vector<int64_t> checked_shape(const FloatArray& a, int rank, const std::string& what,
                                   const std::string& layout) {
  std::vector<int64_t> shape(a.shape(), a.shape() + a.ndim());
  if (a.ndim() != rank) {
    std::ostringstream got;
    got << "rank " << a.ndim() << " shape [";
    for (size_t i = 0; i < shape.size(); ++i) got << (i ? ", " : "") << shape[i];
    got << "]";
    throw tfpose::InvalidArgument(
        tfpose::expected_got(what, "rank " + std::to_string(rank) + " " + layout, got.str()));
  }
  return shape;
}

void bind_common(py::module_& m) {
  py::register_exception<tfpose::InvalidArgument>(m, "InvalidArgument", PyExc_ValueError);
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
  tfpose_py::bind_cuda(m);
}
