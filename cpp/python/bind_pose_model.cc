#include "bindings.hpp"

namespace tfpose_py {

// Filled in with the op's core implementation.
void bind_pose_model(py::module_& /*m*/) {}

}  // namespace tfpose_py
