"""Reference of OpenPose's placement (docs/algorithms/body.md §2.2), written with TensorFlow graph ops: the
implementation tfpose used before the C++ op TfposeResizeFixedAspectRatio, kept as an independent
reference (whole-axis gathers and reduce_sum instead of the core's per-row tap loops). Both compute
OpenCV 5's warpAffine rule in float32, so the op must match it bit for bit.

OpenPose warps the uint8 BGR image with ``cv::warpAffine([[s,0,0],[0,s,0]])`` into a W_n x H_n
canvas, top-left anchored, constant border 0: bicubic (OpenCV's a = -0.75) when s > 1, otherwise
"INTER_AREA", which warpAffine silently treats as bilinear. Source x = x_net / s, 4 separable taps,
taps outside the image read 0, rounded to the nearest integer.
"""

from __future__ import annotations

import tensorflow as tf

__all__ = ["warp_top_left"]

_CUBIC_A = -0.75  # OpenCV's bicubic constant


def _taps(n_out, n_in, scale):
    """Source indices [n_out, 4] and weights [n_out, 4] along one axis (taps floor(u)-1 .. +2)."""
    u = tf.cast(tf.range(n_out), tf.float64) / scale
    i0 = tf.floor(u)
    t = tf.cast(u - i0, tf.float32)
    a = _CUBIC_A
    x = t + 1.0
    w0 = ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a
    w1 = ((a + 2.0) * t - (a + 3.0)) * t * t + 1.0
    x = 1.0 - t
    w2 = ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
    w3 = 1.0 - w0 - w1 - w2
    cubic = tf.stack([w0, w1, w2, w3], axis=-1)
    zero = tf.zeros_like(t)
    linear = tf.stack([zero, 1.0 - t, t, zero], axis=-1)
    w = tf.where(tf.broadcast_to(scale > 1.0, tf.shape(cubic)), cubic, linear)
    idx = tf.cast(i0, tf.int32)[:, None] + tf.constant([-1, 0, 1, 2], tf.int32)[None, :]
    inside = (idx >= 0) & (idx < n_in)
    w = tf.where(inside, w, tf.zeros_like(w))  # constant border 0
    return tf.clip_by_value(idx, 0, tf.maximum(n_in - 1, 0)), w


def _tap_lines(images, idx, n_in, axis):
    """Keeps, along ``axis`` of uint8 ``images``, only the source lines the taps read.

    idx: int32 [n_out, 4] tap indices into an axis of length n_in. When the taps name fewer lines
    than the axis has (a downscale), returns (the lines idx names, gathered in tap order, and the
    taps re-indexed into them: arange [n_out, 4]); otherwise (images, idx) unchanged. Gathering is
    exact, so the warp's arithmetic and result do not change."""
    n_taps = tf.size(idx)
    few = n_taps < n_in
    lines = tf.cond(few, lambda: tf.gather(images, tf.reshape(idx, [-1]), axis=axis), lambda: images)
    taps = tf.cond(few, lambda: tf.reshape(tf.range(n_taps), tf.shape(idx)), lambda: idx)
    return lines, taps


def warp_top_left(images, scale, out_hw):
    """OpenPose's placement: uint8 images [N, H, W, 3] -> float32 canvases [N, H_n, W_n, 3] holding
    rounded 0..255 values, image at the top-left scaled by ``scale`` (float64 scalar), black padding.
    out_hw: int32 [2] (H_n, W_n). Work and temporary memory are O(N H_n W_n) for a downscale (the
    image itself is only read where a tap falls), O(N H W_n) at most otherwise."""
    images = tf.convert_to_tensor(images)
    scale = tf.cast(scale, tf.float64)
    shape = tf.shape(images)
    h, w = shape[1], shape[2]
    ix, wx = _taps(out_hw[1], w, scale)
    iy, wy = _taps(out_hw[0], h, scale)
    # Only the rows and columns some tap reads are gathered (uint8, exact) before the float passes,
    # so time and memory follow the canvas (at most 4 H_n x 4 W_n source pixels), not the image.
    x, iy = _tap_lines(images, iy, h, axis=1)
    x, ix = _tap_lines(x, ix, w, axis=2)
    x = tf.cast(x, tf.float32)
    # horizontal pass: [N, H, W_n, 4, 3] -> [N, H, W_n, 3]
    x = tf.reduce_sum(tf.gather(x, ix, axis=2) * wx[None, None, :, :, None], axis=3)
    # vertical pass: [N, H_n, 4, W_n, 3] -> [N, H_n, W_n, 3]
    x = tf.reduce_sum(tf.gather(x, iy, axis=1) * wy[None, :, :, None, None], axis=2)
    return tf.clip_by_value(tf.round(x), 0.0, 255.0)
