// _core.crop_affine: affine crops of images (crop.hpp); the numpy entry is
// tfpose.numpy_ops.crop_affine, the TF op TfposeCropAffine.
#include <pybind11/stl.h>

#include <string>

#include "bindings.hpp"
#include "tfpose/crop.hpp"

namespace tfpose_py {

void bind_crop(py::module_& m) {
  m.def(
      "crop_affine",
      [](const py::array_t<uint8_t, py::array::c_style>& images,
         const py::array_t<int32_t, py::array::c_style | py::array::forcecast>& image_index,
         const py::array_t<double, py::array::c_style | py::array::forcecast>& transforms, int64_t out_h, int64_t out_w,
         int threads) {
        if (images.ndim() != 4)
          throw tfpose::InvalidArgument(tfpose::expected_got("crop_affine: images", "rank 4 [N, H, W, C] uint8",
                                                             "rank " + std::to_string(images.ndim())));
        const int64_t b = image_index.ndim() == 1 ? image_index.shape(0) : -1;
        if (b < 0 || transforms.ndim() != 3 || transforms.shape(0) != b || transforms.shape(1) != 2 ||
            transforms.shape(2) != 3)
          throw tfpose::InvalidArgument(tfpose::expected_got(
              "crop_affine: image_index, transforms", "[B] and [B, 2, 3]",
              "ranks " + std::to_string(image_index.ndim()) + " and " + std::to_string(transforms.ndim()) +
                  (transforms.ndim() == 3 ? " with shape[0] " + std::to_string(transforms.shape(0)) : "")));
        const int64_t n = images.shape(0), h = images.shape(1), w = images.shape(2), c = images.shape(3);
        tfpose::check_crop_args(n, h, w, c, image_index.data(), b, out_h, out_w);
        py::array_t<float> out({b, out_h, out_w, c});
        const uint8_t* im = images.data();
        const int32_t* idx = image_index.data();
        const double* mp = transforms.data();
        float* o = out.mutable_data();
        {
          py::gil_scoped_release release;
          tfpose::crop_affine(im, n, h, w, c, idx, mp, b, out_h, out_w, o, tfpose::thread_parallel_for(threads));
        }
        return out;
      },
      py::arg("images"), py::arg("image_index"), py::arg("transforms"), py::arg("out_h"), py::arg("out_w"),
      py::arg("threads") = 0,
      "images [N,H,W,C] uint8, image_index [B], transforms [B,2,3] -> crops [B,out_h,out_w,C] float32.");
}

}  // namespace tfpose_py
