// GPU entry points of tfpose._core on device arrays (any object with __cuda_array_interface__:
// CuPy arrays, PyTorch CUDA tensors, Numba device arrays), so the CUDA kernels can be used and
// tested without TensorFlow. Outputs are caller-allocated device arrays; launches are enqueued on
// `stream` (0 = the legacy default stream) and not synchronised.
#include "bindings.hpp"

#ifdef TFPOSE_WITH_CUDA
#include <pybind11/stl.h>

#include "tfpose/cuda_launch.hpp"
#include "tfpose/maximum.hpp"

namespace tfpose_py {
namespace {

struct DeviceArray {
  void* ptr = nullptr;
  std::vector<int64_t> shape;
};

std::string shape_text(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

// Reads a C-contiguous device array of the given typestr ("<f4", "<i4") and rank.
DeviceArray device_array(const py::object& obj, const char* what, const char* typestr, int rank,
                         bool writable) {
  if (!py::hasattr(obj, "__cuda_array_interface__"))
    throw tfpose::InvalidArgument(tfpose::expected_got(
        what, "a CUDA device array (__cuda_array_interface__, e.g. cupy.ndarray or a torch CUDA tensor)",
        std::string(py::str(obj.get_type().attr("__name__")))));
  py::dict d = obj.attr("__cuda_array_interface__");
  DeviceArray a;
  for (auto v : d["shape"].cast<py::tuple>()) a.shape.push_back(v.cast<int64_t>());
  std::string ts = d["typestr"].cast<std::string>();
  if (ts != typestr) throw tfpose::InvalidArgument(tfpose::expected_got(what, std::string("dtype ") + typestr, ts));
  if (static_cast<int>(a.shape.size()) != rank)
    throw tfpose::InvalidArgument(tfpose::expected_got(what, "rank " + std::to_string(rank), shape_text(a.shape)));
  if (d.contains("strides") && !d["strides"].is_none()) {
    auto strides = d["strides"].cast<std::vector<int64_t>>();
    int64_t expect = 4;
    for (int i = rank - 1; i >= 0; --i) {
      if (a.shape[i] > 1 && strides[i] != expect)
        throw tfpose::InvalidArgument(tfpose::expected_got(what, "a C-contiguous array", "strided data"));
      expect *= a.shape[i];
    }
  }
  auto data = d["data"].cast<py::tuple>();
  a.ptr = reinterpret_cast<void*>(data[0].cast<uintptr_t>());
  if (writable && data[1].cast<bool>())
    throw tfpose::InvalidArgument(tfpose::expected_got(what, "a writable array", "a read-only one"));
  return a;
}

void check_launch(int code, const char* what) {
  if (code != 0) throw std::runtime_error(std::string(what) + ": CUDA error: " + tfpose::cuda::error_string(code));
}

}  // namespace

void bind_cuda(py::module_& m) {
  m.attr("has_cuda") = true;
  m.def(
      "cuda_maximum",
      [](const py::object& heatmaps, const py::object& out, uintptr_t stream) {
        auto in = device_array(heatmaps, "cuda_maximum: heatmaps", "<f4", 4, false);
        auto o = device_array(out, "cuda_maximum: out", "<f4", 3, true);
        const auto& s = in.shape;
        if (o.shape != std::vector<int64_t>{s[0], s[3], 3})
          throw tfpose::InvalidArgument(tfpose::expected_got("cuda_maximum: out shape",
                                                             shape_text({s[0], s[3], 3}), shape_text(o.shape)));
        tfpose::check_maximum_args(s[0], s[1], s[2], s[3]);
        py::gil_scoped_release release;
        check_launch(tfpose::cuda::maximum(static_cast<const float*>(in.ptr), s[0], s[1], s[2], s[3],
                                           static_cast<float*>(o.ptr), reinterpret_cast<void*>(stream)),
                     "cuda_maximum");
      },
      py::arg("heatmaps"), py::arg("out"), py::arg("stream") = 0,
      "heatmaps [N,H,W,C] float32 device array -> out [N,C,3] (caller-allocated device array).");
}

}  // namespace tfpose_py
#else
namespace tfpose_py {
void bind_cuda(py::module_& m) { m.attr("has_cuda") = false; }
}  // namespace tfpose_py
#endif
