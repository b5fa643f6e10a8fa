#include <pybind11/stl.h>

#include <array>
#include <vector>

#include "bindings.hpp"
#include "tfpose/sizing.hpp"

namespace tfpose_py {

namespace {

using WH = std::array<int64_t, 2>;

tfpose::NetSize net_size(const WH& wh) {
  return {wh[0], wh[1]};
}

py::tuple wh_tuple(const tfpose::NetSize& s) {
  return py::make_tuple(s.w, s.h);
}

}  // namespace

void bind_sizing(py::module_& m) {
  m.attr("NET_STRIDE") = tfpose::kNetStride;
  m.attr("MIN_NET_SIDE") = tfpose::kMinNetSide;
  m.attr("MAX_NET_SIDE") = tfpose::kMaxNetSide;
  m.attr("MSG_NET_SIZE") = tfpose::kMsgNetSize;
  m.attr("MSG_SCALE_FACTOR") = tfpose::kMsgScaleFactor;
  m.attr("MSG_IMAGE_SIZE") = tfpose::kMsgImageSize;
  m.attr("MSG_CONTENT") = tfpose::kMsgContent;
  m.def(
      "check_net_resolution", [](const WH& resolution) { tfpose::check_net_resolution(net_size(resolution)); },
      py::arg("resolution_wh"), "Raises ValueError unless each side is a multiple of 16 or <= 0, not both <= 0.");
  m.def(
      "check_scale_settings",
      [](const WH& resolution, int64_t scale_number, double scale_gap) {
        tfpose::check_scale_settings(net_size(resolution), scale_number, scale_gap);
      },
      py::arg("resolution_wh"), py::arg("scale_number"), py::arg("scale_gap"),
      "The image-independent rules of net_input_sizes (a side <= 0 is checked per image).");
  m.def(
      "net_resolution_for_image",
      [](const WH& resolution, const WH& image, double dynamic) {
        return wh_tuple(tfpose::net_resolution_for_image(net_size(resolution), image[0], image[1], dynamic));
      },
      py::arg("resolution_wh"), py::arg("image_wh"), py::arg("dynamic"),
      "Spec 2.1 step 1: scale 0's net input (W, H) for an image (W, H).");
  m.def(
      "net_input_sizes",
      [](const WH& base, int64_t scale_number, double scale_gap) {
        py::list out;
        for (const auto& s : tfpose::net_input_sizes(net_size(base), scale_number, scale_gap)) out.append(wh_tuple(s));
        return out;
      },
      py::arg("base_wh"), py::arg("scale_number"), py::arg("scale_gap"),
      "Spec 2.1 step 2: the net input (W, H) of each scale.");
  m.def(
      "scale_input_to_net",
      [](const WH& net, const WH& image) { return tfpose::scale_input_to_net(net_size(net), image[0], image[1]); },
      py::arg("net_wh"), py::arg("image_wh"), "Spec 2.1 step 3: scaleInputToNet (double).");
  m.def(
      "net_to_output",
      [](const WH& net, const WH& image) {
        const tfpose::OutputScaling s = tfpose::net_to_output(net_size(net), image[0], image[1]);
        return py::make_tuple(s.scale_net_to_output, s.nms_offset);
      },
      py::arg("net_wh"), py::arg("image_wh"), "Spec 3: (scaleNetToOutput, nmsOffset), float32 values.");
  m.def(
      "compute_sizing",
      [](const std::array<int64_t, 2>& image_hw, const WH& resolution, int64_t scale_number, double scale_gap,
         double dynamic) {
        const tfpose::Sizing s =
            tfpose::compute_sizing(image_hw[0], image_hw[1], net_size(resolution), scale_number, scale_gap, dynamic);
        py::list net;
        for (const auto& n : s.net) net.append(wh_tuple(n));
        return py::make_tuple(net, s.scale_ratios, s.output.scale_net_to_output, s.output.nms_offset);
      },
      py::arg("image_hw"), py::arg("resolution_wh"), py::arg("scale_number"), py::arg("scale_gap"), py::arg("dynamic"),
      "Spec 2.1 and 3 for an image (H, W) -> ([(W, H) per scale], [scaleInputToNet per scale], "
      "scaleNetToOutput, nmsOffset).");
}

}  // namespace tfpose_py
