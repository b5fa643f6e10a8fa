"""OpenPose's sizing and image placement as TensorFlow graph ops (spec §2), so that a whole
image-to-people pipeline, SavedModels included, is one graph.

Both are C++ ops on the core: ``TfposeSizing`` computes what :func:`tfpose.sizing.compute_sizing`
computes (the same function, include/tfpose/sizing.hpp), ``TfposeResizeFixedAspectRatio`` places the
image as OpenPose's resizeFixedAspectRatio does: ``cv::warpAffine([[s,0,0],[0,s,0]])`` into a
W_n x H_n canvas, top-left anchored, black border, bicubic (OpenCV's a = -0.75) when s > 1, else
bilinear (the "INTER_AREA" OpenPose asks for, which warpAffine treats as bilinear), computed in float
like OpenCV 5's warpAffine. OpenCV 4.x computes the same warp in fixed point (coordinates quantised to
1/32 pixel, 15-bit weights), which moves some canvas pixels by one grey level; the golden cases'
network outputs (made with OpenCV 5) are reproduced to float16 storage precision, while OpenCV 4.14's
fixed-point canvas changes them by up to ~0.045 (tests/test_network.py).
"""

from __future__ import annotations

import tensorflow as tf

from tfpose import sizing as _sizing
from tfpose.ops import _float64, _lib

__all__ = ["tf_sizing", "warp_top_left"]


def tf_sizing(image_h, image_w, net_resolution=(-1, 368), scale_number=1, scale_gap=0.25, dynamic=1.0):
    """In-graph :func:`tfpose.sizing.compute_sizing` for an image of size (image_h, image_w) (int32
    scalars or ints); net_resolution, scale_number, scale_gap and dynamic are Python values, checked
    here by the same rules (ValueError).

    Returns (sizes, ratios): sizes = list of S int32 [2] tensors (H_n, W_n), ratios = float64 [S]
    (scaleInputToNet). The op raises InvalidArgumentError, in tfpose.sizing's words, for an image that
    is empty or too small or thin for the settings.
    """
    wr, hr = _sizing.parse_net_resolution(net_resolution)
    _sizing.check_scale_settings((wr, hr), scale_number, scale_gap)
    sizes, ratios, _ = _lib.tfpose_sizing(
        image_size=tf.stack([tf.cast(image_h, tf.int32), tf.cast(image_w, tf.int32)]),
        scale_gap=tf.constant(float(scale_gap), tf.float64),
        net_resolution_dynamic=tf.constant(float(dynamic), tf.float64),
        net_resolution=[wr, hr],
        scale_number=int(scale_number),
    )
    return tf.unstack(sizes, num=int(scale_number)), ratios


def warp_top_left(images, scale, out_hw):
    """OpenPose's placement: uint8 images [N, H, W, C] -> float32 canvases [N, H_n, W_n, C] holding
    integers 0..255, the image at the top-left scaled by ``scale`` (scaleInputToNet, cast to float64),
    black padding. out_hw: (H_n, W_n), int32 [2]. Time and temporary memory follow the canvas, not the
    image (only the source rows a tap reads are interpolated). TypeError for non-uint8 images;
    InvalidArgumentError for a non-positive scale or empty sizes."""
    images = tf.convert_to_tensor(images)
    if images.dtype != tf.uint8:
        raise TypeError(f"images: expected uint8 [N, H, W, C], got dtype {images.dtype.name}")
    return _lib.tfpose_resize_fixed_aspect_ratio(images=images, scale=_float64(scale), size=tf.cast(out_hw, tf.int32))
