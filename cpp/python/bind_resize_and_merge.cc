#include "bindings.hpp"

namespace tfpose_py {

// Filled in with the op's core implementation.
void bind_resize_and_merge(py::module_& /*m*/) {}

}  // namespace tfpose_py
