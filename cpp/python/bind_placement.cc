// _core.resize_fixed_aspect_ratio: OpenPose's placement of the image on the net canvas (placement.hpp);
// the numpy entry is tfpose.numpy_ops.resize_fixed_aspect_ratio, the TF op TfposeResizeFixedAspectRatio.
#include <pybind11/stl.h>

#include <array>
#include <string>

#include "bindings.hpp"
#include "tfpose/placement.hpp"

namespace tfpose_py {

void bind_placement(py::module_& m) {
  m.def(
      "resize_fixed_aspect_ratio",
      [](const py::array_t<uint8_t, py::array::c_style>& images, double scale, const std::array<int64_t, 2>& size_hw,
         int threads) {
        if (images.ndim() != 4)
          throw tfpose::InvalidArgument(tfpose::expected_got("resize_fixed_aspect_ratio: images",
                                                             "rank 4 [N, H, W, C] uint8",
                                                             "rank " + std::to_string(images.ndim())));
        const int64_t n = images.shape(0), h = images.shape(1), w = images.shape(2), c = images.shape(3);
        tfpose::check_resize_fixed_aspect_ratio_args(n, h, w, c, scale, size_hw[0], size_hw[1]);
        py::array_t<float> out({n, size_hw[0], size_hw[1], c});
        const uint8_t* in = images.data();
        float* o = out.mutable_data();
        without_gil([&] {
          tfpose::resize_fixed_aspect_ratio(in, n, h, w, c, scale, size_hw[0], size_hw[1], o,
                                            tfpose::thread_parallel_for(threads));
        });
        return out;
      },
      py::arg("images"), py::arg("scale"), py::arg("size_hw"), py::arg("threads") = 0,
      "OpenPose's placement: images [N, H, W, C] uint8, scaleInputToNet, canvas (H, W) -> float32 "
      "[N, H_n, W_n, C] (integers 0..255), see include/tfpose/placement.hpp.");
}

}  // namespace tfpose_py
