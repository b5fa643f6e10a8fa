// OpenPose's input sizing and size bookkeeping (docs/algorithms/body.md §2.1 and §3): the network input size of each
// scale from --net_resolution and the image, the factor that places the image on each net canvas
// (scaleInputToNet) and the factors that map peaks back to the image (scaleNetToOutput, nmsOffset).
//
// The one owner of these rounding rules: the Python module tfpose.sizing, the TF op TfposeSizing (the
// SavedModel's in-graph sizing) and the pipeline's output scaling all call the functions below. The
// arithmetic types follow OpenPose (float for the resolution, double for the scale factors, results
// stored as float): another rounding would change net sizes at aspect-ratio boundaries and peak
// offsets in the last bit.
//
// Sizes are (W, H) in NetSize, as OpenPose's Point<int>; function arguments are named for their axis.
#pragma once

#include <cstdint>
#include <vector>

namespace tfpose {

// Net input sides must be multiples of 16 (OpenPose's rule for --net_resolution and every scale).
constexpr int64_t kNetSizeMultiple = 16;
// Smallest net input side tfpose accepts at any scale (one multiple of 16; a thinner image would
// round a computed side to 0, and OpenPose would fail inside the network).
constexpr int64_t kMinNetSide = 16;
// Largest net input (and placement canvas) side: far above any network input (OpenPose's largest
// documented -1x736 on a 16:9 image is 1312 wide), and small enough that every product of sizes
// stays in int64 and every side in the int32 the TF ops use.
constexpr int64_t kMaxNetSide = 65536;
// Largest image side (TensorFlow and OpenCV index pixels with int32).
constexpr int64_t kMaxImageSide = (int64_t{1} << 31) - 1;

// The rules an image or a setting can break, worded once: the Python checks, the TF op and the
// pipeline all raise these words, so a SavedModel and the Estimator say the same thing.
extern const char* const kMsgNetSize;      // a scale's net input below kMinNetSide
extern const char* const kMsgScaleFactor;  // an image side of 1 pixel: no factor maps back
extern const char* const kMsgImageSize;    // an image side <= 0
extern const char* const kMsgContent;      // the image covers fewer than 2 net pixels on an axis

struct NetSize {
  int64_t w;
  int64_t h;
};

// OpenPose's positiveIntRound: int(v + 0.5), truncated toward zero.
inline int64_t positive_int_round(double v) {
  return static_cast<int64_t>(v + 0.5);
}

// Throws InvalidArgument unless resolution.w and resolution.h are each a positive multiple of 16 up
// to kMaxNetSide or <= 0 (from the aspect ratio), not both <= 0.
void check_net_resolution(NetSize resolution);

// The rules of net_input_sizes that do not depend on the image, for settings checked before any
// image comes: scale_number >= 1, a finite scale_gap >= 0, every factor in [0, 1], every scale of the
// resolution's fixed sides at least kMinNetSide (a side <= 0 comes from the image, checked per image).
// Messages name the resolution as given ("-1x368").
void check_scale_settings(NetSize resolution, int64_t scale_number, double scale_gap);

// docs/algorithms/body.md §2.1 step 1: scale 0's net input for an image of image_w x image_h. A side <= 0 of resolution
// is computed from the aspect ratio in float, capped at 16/9 of the other side times `dynamic`
// (OpenPose's --net_resolution_dynamic; <= 0: no cap; NaN is refused). Throws InvalidArgument
// (kMsgImageSize, kMsgNetSize) for an empty image, a side above kMaxImageSide, or a result below
// kMinNetSide or above kMaxNetSide.
NetSize net_resolution_for_image(NetSize resolution, int64_t image_w, int64_t image_h, double dynamic);

// docs/algorithms/body.md §2.1 step 2: the net input of each of scale_number scales, scale s at factor 1 - s*scale_gap
// (double), rounded down to a multiple of 16 and never above scale 0. Throws InvalidArgument for
// scale_number < 1, a negative or non-finite gap, a factor outside [0, 1] or a side below kMinNetSide.
std::vector<NetSize> net_input_sizes(NetSize base, int64_t scale_number, double scale_gap);

// docs/algorithms/body.md §2.1 step 3 (double): scaleInputToNet = min((W_n - 1)/(W_i - 1), (H_n - 1)/(H_i - 1)), x/0 =
// inf. Throws InvalidArgument (kMsgScaleFactor) unless the result is finite and positive.
double scale_input_to_net(NetSize net, int64_t image_w, int64_t image_h);

// docs/algorithms/body.md §3, computed in double like OpenPose, stored as float.
struct OutputScaling {
  float scale_net_to_output;  // keypoint = (peak + nms_offset) * scale_net_to_output
  float nms_offset;           // 0.5 / scale_net_to_output, added to x and y of every peak
};

// docs/algorithms/body.md §3 for an image of image_w x image_h on scale 0's net input `net`: scale_input_to_net, the
// image's extent on the net (content) and the factors mapping back. Throws InvalidArgument with
// kMsgScaleFactor for an image side of 1 pixel (OpenPose's (size - 1) ratios cannot map back onto
// it) and kMsgContent for an image that covers fewer than 2 net pixels along an axis.
OutputScaling net_to_output(NetSize net, int64_t image_w, int64_t image_h);

// net_to_output for callers that give the sizes as (H, W) (the pipeline ops): every size must be >= 2 (the "-1" ratios
// divide by size - 1); throws InvalidArgument otherwise, or (kMsgContent) when the image is so elongated that it covers
// fewer than 2 net pixels along one axis.
OutputScaling output_scaling(int64_t net_h, int64_t net_w, int64_t image_h, int64_t image_w);

// Everything OpenPose derives from the image size for one image.
struct Sizing {
  int64_t image_w = 0, image_h = 0;
  std::vector<NetSize> net;          // per scale, scale 0 first
  std::vector<double> scale_ratios;  // scaleInputToNet per scale
  OutputScaling output{0.f, 0.f};    // scale 0's keypoint mapping
};

// The whole of docs/algorithms/body.md §2.1 and §3 for an image of image_h x image_w. Throws InvalidArgument with the
// words above; images need at least 2 pixels along each side.
Sizing compute_sizing(int64_t image_h, int64_t image_w, NetSize resolution, int64_t scale_number, double scale_gap,
                      double dynamic);

}  // namespace tfpose
