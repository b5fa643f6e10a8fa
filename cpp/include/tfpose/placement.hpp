// OpenPose's placement of the input image on the network canvas (docs/algorithms/body.md §2.2; OpenPose's
// resizeFixedAspectRatio in utilities/openCv.cpp): cv::warpAffine with [[s, 0, 0], [0, s, 0]] into an
// out_w x out_h canvas, image at the top-left, constant border 0; bicubic (OpenCV's a = -0.75) when
// s > 1, otherwise INTER_AREA, which warpAffine treats as bilinear.
//
// Computed in floating point like OpenCV 5's warpAffine (OpenCV 4.x quantises coordinates to 1/32
// pixel and weights to 15 bits, which moves some canvas pixels by one grey level): source coordinate
// u = d / s in double, t = u - floor(u) in float, four separable taps floor(u) - 1 .. floor(u) + 2
// (weights of detail/interp.hpp; bilinear is {0, 1 - t, t, 0}), taps outside the image weigh 0, a
// horizontal pass then a vertical pass summed left to right in float, rounded to the nearest integer
// (ties to even) and clamped to 0..255.
#pragma once

#include <cstdint>

#include "tfpose/common.hpp"

namespace tfpose {

// Throws InvalidArgument unless N >= 0, H, W, C >= 1 and below 2^31, scale finite and > 0, canvas
// sides in [1, kMaxNetSide] (sizing.hpp) and the canvas at most 2^31 values.
void check_resize_fixed_aspect_ratio_args(int64_t n, int64_t h, int64_t w, int64_t c, double scale, int64_t out_h,
                                          int64_t out_w);

// images: [N, H, W, C] uint8 (OpenPose: BGR); scale: OpenPose's scaleInputToNet (double);
// out: [N, out_h, out_w, C] float32 holding integers 0..255. Time and temporary memory follow the
// canvas: only the source rows some vertical tap reads are interpolated (at most 4 out_h rows of
// out_w x C floats per image), whatever the image size. Deterministic for any ParallelFor.
void resize_fixed_aspect_ratio(const uint8_t* images, int64_t n, int64_t h, int64_t w, int64_t c, double scale,
                               int64_t out_h, int64_t out_w, float* out, const ParallelFor& pf = serial_for);

}  // namespace tfpose
