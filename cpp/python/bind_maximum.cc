#include "bindings.hpp"
#include "tfpose/maximum.hpp"

namespace tfpose_py {

void bind_maximum(py::module_& m) {
  m.def(
      "maximum",
      [](const FloatArray& heatmaps, int threads) {
        auto s = checked_shape(heatmaps, 4, "maximum: heatmaps", "[N, H, W, C]");
        tfpose::check_maximum_args(s[0], s[1], s[2], s[3]);
        py::array_t<float> out({s[0], s[3], int64_t{3}});
        const float* in = heatmaps.data();
        float* o = out.mutable_data();
        without_gil([&] { tfpose::maximum(in, s[0], s[1], s[2], s[3], o, tfpose::thread_parallel_for(threads)); });
        return out;
      },
      py::arg("heatmaps"), py::arg("threads") = 0,
      "heatmaps [N,H,W,C] float32 -> [N,C,3] (x, y, value) of each channel's maximum.");
}

}  // namespace tfpose_py
