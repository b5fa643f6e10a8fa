// Affine crops of uint8 images with OpenCV's warpAffine rule (INTER_LINEAR | WARP_INVERSE_MAP,
// BORDER_CONSTANT 0), computed in float: the crops OpenPose feeds its hand and face networks
// (docs/algorithms/hand-face.md §4.3).
#pragma once

#include <cstdint>

#include "tfpose/common.hpp"

namespace tfpose {

// images: [N, H, W, C] uint8; image_index: [B] int32 in [0, N); transforms: [B, 6] float64, crop pixel
// (j, i) (column, row) samples the image at (a j + b i + c, d j + e i + f), transforms[b] = [a, b, c, d,
// e, f]; pixel centres at integer coordinates, taps outside the image read 0. out: [B, out_h, out_w, C]
// float32, each value the bilinear sample rounded to the nearest integer (ties to even), 0..255.
// A non-finite sample position gives 0.
void crop_affine(const uint8_t* images, int64_t n, int64_t h, int64_t w, int64_t c, const int32_t* image_index,
                 const double* transforms, int64_t b, int64_t out_h, int64_t out_w, float* out,
                 const ParallelFor& pf = serial_for);

// Throws InvalidArgument unless the sizes are valid and every image_index is in [0, N).
void check_crop_args(int64_t n, int64_t h, int64_t w, int64_t c, const int32_t* image_index, int64_t b, int64_t out_h,
                     int64_t out_w);

}  // namespace tfpose
