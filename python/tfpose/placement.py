"""OpenPose's sizing and image placement as TensorFlow graph ops (docs/algorithms/body.md §2), so that a whole
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

import numpy as np
import tensorflow as tf

from tfpose import _args
from tfpose import sizing as _sizing
from tfpose._tensors import float64_tensor
from tfpose.ops import op_library

__all__ = ["tf_sizing", "warp_top_left"]


def _int64_pair(value, what: str) -> tf.Tensor:
    """(H, W) as an int64 [2] tensor: tensors must have an integer dtype (cast to int64, which never
    wraps); Python values must be two integers (sizing's rule), else TypeError."""
    if tf.is_tensor(value):
        if not value.dtype.is_integer:
            raise TypeError(f"{what}: expected an integer tensor (H, W), got dtype {value.dtype.name}")
        return tf.cast(value, tf.int64)
    return tf.constant(_args.check_int_pair(value, what), tf.int64)


def _int64_scalar(value, what: str) -> tf.Tensor:
    """An integer (Python, numpy or tensor) as an int64 scalar tensor, never wrapped; else TypeError."""
    if tf.is_tensor(value):
        if not value.dtype.is_integer:
            raise TypeError(f"{what}: expected an integer, got dtype {value.dtype.name}")
        return tf.cast(value, tf.int64)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{what}: expected an integer, got {value!r}")
    return tf.constant(int(value), tf.int64)


def tf_sizing(image_h, image_w, net_resolution=(-1, 368), scale_number=1, scale_gap=0.25, dynamic=1.0):
    """In-graph :func:`tfpose.sizing.compute_sizing` for an image of size (image_h, image_w) (integer
    scalars: Python ints or integer tensors); net_resolution, scale_number, scale_gap and dynamic are
    Python values, checked here, when the graph is built, by sizing's rules (ValueError/TypeError).

    Returns (sizes, ratios): sizes = list of S int32 [2] tensors (H_n, W_n), ratios = float64 [S]
    (scaleInputToNet); the op's third output (scaleNetToOutput, nmsOffset) is not needed by the
    graph, whose post-processing op computes it from the same function. At run time the op raises
    InvalidArgumentError in tfpose.sizing's words for an image that is empty, has a 1-pixel side, or
    is too small or elongated for the settings (the same rules and words as compute_sizing).
    """
    wr, hr = _sizing.parse_net_resolution(net_resolution)
    _sizing.check_scale_settings((wr, hr), scale_number, scale_gap)
    size = tf.stack([_int64_scalar(image_h, "image_h"), _int64_scalar(image_w, "image_w")])
    sizes, ratios, _ = op_library().tfpose_sizing(
        image_size=size,
        scale_gap=tf.constant(_args.check_real(scale_gap, "scale_gap"), tf.float64),
        net_resolution_dynamic=tf.constant(_args.check_real(dynamic, "dynamic"), tf.float64),
        net_resolution=[wr, hr],
        scale_number=int(scale_number),
    )
    return tf.unstack(sizes, num=int(scale_number)), ratios


def warp_top_left(images, scale, out_hw):
    """OpenPose's placement: uint8 images [N, H, W, C] -> float32 canvases [N, H_n, W_n, C] holding
    integers 0..255, the image at the top-left scaled by ``scale`` (scaleInputToNet, float64; a
    Python float is not rounded through float32), black padding. out_hw: (H_n, W_n), two integers or
    an integer tensor [2] (``Sizing.net_hw[s]``, not OpenPose's (W, H) ``net_wh``). Time and temporary
    memory follow the canvas, not the image (only the source rows a tap reads are interpolated).

    Raises TypeError for non-uint8 images or non-integer sizes; InvalidArgumentError (at run time in
    a graph) for images that are not [N, H, W, C] with H, W, C >= 1, a scale that is not finite and
    positive, canvas sides outside [1, tfpose.sizing.MAX_NET_SIDE], or a canvas above 2^31 values."""
    images = tf.convert_to_tensor(images)
    if images.dtype != tf.uint8:
        raise TypeError(f"images: expected uint8 [N, H, W, C], got dtype {images.dtype.name}")
    return op_library().tfpose_resize_fixed_aspect_ratio(
        images=images, scale=float64_tensor(scale), size=_int64_pair(out_hw, "out_hw")
    )
