// _core.topdown_decode: top-down keypoint decoding of per-person heatmaps (topdown.hpp); the numpy
// entry is tfpose.numpy_ops.topdown_decode, the TF op TfposeTopDownDecode.
#include <pybind11/stl.h>

#include <string>

#include "bindings.hpp"
#include "tfpose/topdown.hpp"

namespace tfpose_py {

void bind_topdown(py::module_& m) {
  m.def(
      "topdown_decode",
      [](const FloatArray& heatmaps, py::object transforms, const std::string& refinement, int dark_kernel,
         int threads) {
        auto s = checked_shape(heatmaps, 4, "topdown_decode: heatmaps", "[N, H, W, C]");
        tfpose::TopDownParams params;
        params.refinement = tfpose::parse_refinement(refinement);
        params.dark_kernel = dark_kernel;
        tfpose::check_topdown_args(s[0], s[1], s[2], s[3], params);
        py::array_t<double, py::array::c_style | py::array::forcecast> m;
        const double* mp = nullptr;
        if (!transforms.is_none()) {
          m = transforms.cast<py::array_t<double, py::array::c_style | py::array::forcecast>>();
          if (m.ndim() != 3 || m.shape(0) != s[0] || m.shape(1) != 2 || m.shape(2) != 3) {
            std::string got = "[";
            for (py::ssize_t i = 0; i < m.ndim(); ++i) got += (i ? ", " : "") + std::to_string(m.shape(i));
            throw tfpose::InvalidArgument(tfpose::expected_got(
                "topdown_decode: transforms", "shape [N = " + std::to_string(s[0]) + ", 2, 3]", got + "]"));
          }
          mp = m.data();
        }
        py::array_t<float> out({s[0], s[3], int64_t{3}});
        const float* in = heatmaps.data();
        float* o = out.mutable_data();
        {
          py::gil_scoped_release release;
          tfpose::topdown_decode(in, s[0], s[1], s[2], s[3], params, mp, o, tfpose::thread_parallel_for(threads));
        }
        return out;
      },
      py::arg("heatmaps"), py::arg("transforms"), py::arg("refinement"), py::arg("dark_kernel"), py::arg("threads") = 0,
      "heatmaps [N,H,W,C] float32, transforms [N,2,3] float64 or None -> [N,C,3] (x, y, score).");
}

}  // namespace tfpose_py
