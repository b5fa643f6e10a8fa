#include "tfpose/sizing.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>

#include "tfpose/common.hpp"

namespace tfpose {

const char* const kMsgNetSize = "expected a network input of at least 16 pixels per side at every scale";
const char* const kMsgScaleFactor =
    "expected a finite positive scale factor (images need at least 2 pixels along each side)";
const char* const kMsgImageSize = "expected positive (H, W)";
const char* const kMsgContent = "expected an image covering at least 2 net pixels along each axis";

namespace {

static_assert(kMinNetSide == 16, "kMsgNetSize states the minimum");

std::string wxh(int64_t w, int64_t h) {
  return std::to_string(w) + "x" + std::to_string(h);
}

std::string hw(int64_t h, int64_t w) {
  return "(" + std::to_string(h) + ", " + std::to_string(w) + ")";
}

// OpenPose's "-1" ratios divide by size - 1: a 1-pixel side gives x/0, and the other side decides.
double ratio(double num, double den) {
  return den != 0.0 ? num / den : std::numeric_limits<double>::infinity();
}

void check_image_size(int64_t image_w, int64_t image_h) {
  if (image_w <= 0 || image_h <= 0)
    throw InvalidArgument(std::string("image size: ") + kMsgImageSize + ", got (H, W) = " + hw(image_h, image_w));
  if (image_w > kMaxImageSide || image_h > kMaxImageSide)
    throw InvalidArgument("image size: expected sides below 2^31, got (H, W) = " + hw(image_h, image_w));
}

// A side of net_input_sizes: round(n * f) down to a multiple of 16, at least 1, at most n.
int64_t scaled_side(int64_t n, double f) {
  const int64_t v = positive_int_round(static_cast<double>(n) * f) / kNetSizeMultiple * kNetSizeMultiple;
  return std::min(std::max<int64_t>(v, 1), n);
}

void check_scale_number_and_gap(int64_t scale_number, double scale_gap) {
  if (scale_number < 1)
    throw InvalidArgument("scale_number: expected an int >= 1, got " + std::to_string(scale_number));
  if (!std::isfinite(scale_gap) || scale_gap < 0)
    throw InvalidArgument("scale_gap: expected a number >= 0, got " + number_str(scale_gap));
}

std::string settings_str(int64_t scale_number, double scale_gap) {
  return "scale_number " + std::to_string(scale_number) + " with scale_gap " + number_str(scale_gap);
}

// Factor of scale s; throws unless in [0, 1].
double scale_factor(int64_t s, int64_t scale_number, double scale_gap) {
  const double f = 1.0 - static_cast<double>(s) * scale_gap;
  if (!(f >= 0.0 && f <= 1.0))
    throw InvalidArgument(settings_str(scale_number, scale_gap) +
                          ": expected every scale factor 1 - s*gap in [0, 1], got " + number_str(f) + " for scale " +
                          std::to_string(s));
  return f;
}

std::string factor_str(double f) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", f);  // Python's :g
  return buf;
}

}  // namespace

void check_net_resolution(NetSize r) {
  if (r.w <= 0 && r.h <= 0)
    throw InvalidArgument("net_resolution: at most one of W, H may be <= 0, got " + wxh(r.w, r.h));
  if (r.w > 0 && r.w % kNetSizeMultiple)
    throw InvalidArgument("net_resolution: expected W to be a multiple of 16 or -1, got " + wxh(r.w, r.h));
  if (r.h > 0 && r.h % kNetSizeMultiple)
    throw InvalidArgument("net_resolution: expected H to be a multiple of 16 or -1, got " + wxh(r.w, r.h));
  if (r.w > kMaxNetSide || r.h > kMaxNetSide)
    throw InvalidArgument("net_resolution: expected sides of at most " + std::to_string(kMaxNetSide) + ", got " +
                          wxh(r.w, r.h));
}

void check_scale_settings(NetSize r, int64_t scale_number, double scale_gap) {
  check_net_resolution(r);
  check_scale_number_and_gap(scale_number, scale_gap);
  for (int64_t s = 0; s < scale_number; ++s) {
    const double f = scale_factor(s, scale_number, scale_gap);
    for (int64_t side : {r.w, r.h}) {
      if (side <= 0) continue;  // from the image: checked per image by net_input_sizes
      const int64_t v = scaled_side(side, f);
      if (v < kMinNetSide)
        throw InvalidArgument(settings_str(scale_number, scale_gap) + " at net resolution " + wxh(r.w, r.h) + ": " +
                              kMsgNetSize + ", got a side of " + std::to_string(v) + " at scale " + std::to_string(s) +
                              " (factor " + factor_str(f) + ")");
    }
  }
}

NetSize net_resolution_for_image(NetSize r, int64_t image_w, int64_t image_h, double dynamic) {
  check_net_resolution(r);
  check_image_size(image_w, image_h);
  if (std::isnan(dynamic)) throw InvalidArgument("net_resolution_dynamic: expected a number, got nan");
  const float dyn = static_cast<float>(dynamic);
  // float like OpenPose: the integer product of one side by the other's image size, over a float.
  if (r.w <= 0) {
    const float by_ratio = static_cast<float>(r.h * image_w) / static_cast<float>(image_h);
    const float v = dynamic > 0 ? std::min(static_cast<float>(r.h) * dyn * 16.f / 9.f, by_ratio) : by_ratio;
    r.w = kNetSizeMultiple * positive_int_round(static_cast<double>((1.f / 16.f) * v));
  } else if (r.h <= 0) {
    const float by_ratio = static_cast<float>(r.w * image_h) / static_cast<float>(image_w);
    const float v = dynamic > 0 ? std::min(static_cast<float>(r.w) * dyn * 9.f / 16.f, by_ratio) : by_ratio;
    r.h = kNetSizeMultiple * positive_int_round(static_cast<double>((1.f / 16.f) * v));
  }
  if (r.w < kMinNetSide || r.h < kMinNetSide)
    throw InvalidArgument("image size " + wxh(image_w, image_h) + ": " + kMsgNetSize + ", got a net resolution of " +
                          wxh(r.w, r.h) + " (below 16 pixels: the image is too thin for these settings)");
  if (r.w > kMaxNetSide || r.h > kMaxNetSide)
    throw InvalidArgument("image size " + wxh(image_w, image_h) + ": expected a net resolution of at most " +
                          std::to_string(kMaxNetSide) + " per side, got " + wxh(r.w, r.h) +
                          " (the image is too elongated for these settings; cap it with net_resolution_dynamic)");
  return r;
}

std::vector<NetSize> net_input_sizes(NetSize base, int64_t scale_number, double scale_gap) {
  check_scale_number_and_gap(scale_number, scale_gap);
  std::vector<NetSize> sizes;
  for (int64_t s = 0; s < scale_number; ++s) {
    const double f = scale_factor(s, scale_number, scale_gap);
    const NetSize sz{scaled_side(base.w, f), scaled_side(base.h, f)};
    if (sz.w < kMinNetSide || sz.h < kMinNetSide)
      throw InvalidArgument(settings_str(scale_number, scale_gap) + " at net resolution " + wxh(base.w, base.h) + ": " +
                            kMsgNetSize + ", got " + wxh(sz.w, sz.h) + " at scale " + std::to_string(s) + " (factor " +
                            factor_str(f) + ")");
    sizes.push_back(sz);
  }
  return sizes;
}

double scale_input_to_net(NetSize net, int64_t image_w, int64_t image_h) {
  check_image_size(image_w, image_h);
  const double s = std::min(ratio(static_cast<double>(net.w - 1), static_cast<double>(image_w - 1)),
                            ratio(static_cast<double>(net.h - 1), static_cast<double>(image_h - 1)));
  if (!std::isfinite(s) || s <= 0)
    throw InvalidArgument("image size " + wxh(image_w, image_h) + " with net size " + wxh(net.w, net.h) + ": " +
                          kMsgScaleFactor + ", got " + number_str(s));
  return s;
}

OutputScaling net_to_output(NetSize net, int64_t image_w, int64_t image_h) {
  const double s_in = scale_input_to_net(net, image_w, image_h);
  if (image_w < 2 || image_h < 2)  // the other side decided s_in; mapping back divides by size - 1
    throw InvalidArgument("image size " + wxh(image_w, image_h) + ": " + kMsgScaleFactor + ", got a side of 1 pixel");
  const int64_t content_w = positive_int_round(s_in * static_cast<double>(image_w));
  const int64_t content_h = positive_int_round(s_in * static_cast<double>(image_h));
  if (content_w < 2 || content_h < 2)
    throw InvalidArgument("image_size " + hw(image_h, image_w) + " for net input " + hw(net.h, net.w) + ": " +
                          kMsgContent + ", got content " + hw(content_h, content_w) +
                          " (no finite positive scaleNetToOutput maps so thin an image back)");
  const float scale = static_cast<float>(std::min(ratio(static_cast<double>(image_w - 1), double(content_w - 1)),
                                                  ratio(static_cast<double>(image_h - 1), double(content_h - 1))));
  if (!std::isfinite(scale) || scale <= 0.f)
    throw InvalidArgument("image size " + wxh(image_w, image_h) +
                          ": expected a finite positive scaleNetToOutput, got " + number_str(scale) +
                          " (the image scaled to the net is " + wxh(content_w, content_h) + " pixels: too thin)");
  return {scale, static_cast<float>(0.5 / static_cast<double>(scale))};
}

OutputScaling output_scaling(int64_t net_h, int64_t net_w, int64_t image_h, int64_t image_w) {
  if (net_h < 2 || net_w < 2)
    throw InvalidArgument(expected_got("net_input_size", "(H, W) both >= 2", hw(net_h, net_w)));
  if (image_h < 2 || image_w < 2)
    throw InvalidArgument(expected_got("image_size", "(H, W) both >= 2", hw(image_h, image_w)));
  return net_to_output({net_w, net_h}, image_w, image_h);
}

Sizing compute_sizing(int64_t image_h, int64_t image_w, NetSize resolution, int64_t scale_number, double scale_gap,
                      double dynamic) {
  check_image_size(image_w, image_h);
  Sizing out;
  out.image_w = image_w;
  out.image_h = image_h;
  out.net = net_input_sizes(net_resolution_for_image(resolution, image_w, image_h, dynamic), scale_number, scale_gap);
  for (const NetSize& n : out.net) out.scale_ratios.push_back(scale_input_to_net(n, image_w, image_h));
  out.output = net_to_output(out.net[0], image_w, image_h);
  return out;
}

}  // namespace tfpose
