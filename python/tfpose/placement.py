"""OpenPose's sizing and image placement as TensorFlow graph ops (spec §2), so that a whole
image-to-people pipeline, SavedModels included, is one graph.

Placement: OpenPose warps the uint8 BGR image with ``cv::warpAffine([[s,0,0],[0,s,0]])`` into a
W_n x H_n canvas, top-left anchored, constant border 0: bicubic (OpenCV's a = -0.75) when s > 1,
otherwise "INTER_AREA", which warpAffine silently treats as bilinear (checked: identical output).
This module computes that warp in float (source x = x_net / s, 4 separable taps, taps outside the
image read 0) and rounds to the nearest integer, like OpenCV 5's warpAffine. OpenCV 4.x computes the
same warp in fixed point (coordinates quantised to 1/32 pixel, 15-bit weights), which moves some
canvas pixels by one grey level; the golden cases' network outputs (made with OpenCV 5) are
reproduced by this module to float16 storage precision, while OpenCV 4.14's fixed-point canvas
changes them by up to ~0.045. See tests/test_estimator.py and the benchmarks README.
"""

from __future__ import annotations

import tensorflow as tf

from tfpose import sizing as _sizing

__all__ = ["tf_sizing", "warp_top_left"]

_CUBIC_A = -0.75  # OpenCV's bicubic constant


def _pir(v):
    """OpenPose's positiveIntRound on a float tensor -> int32 (int(v + 0.5), truncation)."""
    return tf.cast(tf.cast(v, tf.float64) + 0.5, tf.int32)


def _safe_div(num, den):
    num = tf.cast(num, tf.float64)
    den = tf.cast(den, tf.float64)
    zero = tf.equal(den, 0.0)
    return tf.where(
        zero,
        tf.fill(tf.shape(den), tf.constant(float("inf"), tf.float64)),
        num / tf.where(zero, tf.ones_like(den), den),
    )


def tf_sizing(image_h, image_w, net_resolution=(-1, 368), scale_number=1, scale_gap=0.25, dynamic=1.0):
    """In-graph :func:`tfpose.sizing.compute_sizing` for an image of size (image_h, image_w) (int32
    scalars). net_resolution, scale_number, scale_gap and dynamic are Python constants.

    Returns (sizes, ratios): sizes = list of S int32 [2] tensors (H_n, W_n), ratios = float64 [S]
    (scaleInputToNet). Raises InvalidArgumentError in the graph for an empty image.
    """
    wr, hr = _sizing.parse_net_resolution(net_resolution)
    _sizing.check_scale_settings((wr, hr), scale_number, scale_gap)  # same rules as in Python
    hi = tf.convert_to_tensor(image_h, tf.int32)
    wi = tf.convert_to_tensor(image_w, tf.int32)
    check = tf.debugging.assert_positive(tf.stack([hi, wi]), message=f"image size: {_sizing.MSG_IMAGE_SIZE}")
    with tf.control_dependencies([check]):
        hi = tf.identity(hi)
    f32 = tf.float32
    if wr <= 0:
        by_ratio = tf.cast(hr * wi, f32) / tf.cast(hi, f32)
        v = (
            tf.minimum(tf.constant(hr, f32) * tf.constant(dynamic, f32) * 16.0 / 9.0, by_ratio)
            if dynamic > 0
            else by_ratio
        )
        wr_t = 16 * _pir(tf.constant(1.0 / 16, f32) * v)
        hr_t = tf.constant(hr, tf.int32)
    elif hr <= 0:
        by_ratio = tf.cast(wr * hi, f32) / tf.cast(wi, f32)
        v = (
            tf.minimum(tf.constant(wr, f32) * tf.constant(dynamic, f32) * 9.0 / 16.0, by_ratio)
            if dynamic > 0
            else by_ratio
        )
        hr_t = 16 * _pir(tf.constant(1.0 / 16, f32) * v)
        wr_t = tf.constant(wr, tf.int32)
    else:
        wr_t, hr_t = tf.constant(wr, tf.int32), tf.constant(hr, tf.int32)
    check = tf.debugging.assert_greater_equal(
        tf.minimum(wr_t, hr_t), _sizing.MIN_NET_SIDE, message=f"image size: {_sizing.MSG_NET_SIZE}"
    )
    with tf.control_dependencies([check]):
        wr_t = tf.identity(wr_t)
    sizes, ratios = [], []
    for s in range(int(scale_number)):
        f = 1.0 - s * float(scale_gap)
        wn = tf.clip_by_value((_pir(tf.cast(wr_t, tf.float64) * f) // 16) * 16, 1, wr_t)
        hn = tf.clip_by_value((_pir(tf.cast(hr_t, tf.float64) * f) // 16) * 16, 1, hr_t)
        if s > 0:  # a smaller scale of a thin image can round a side below the minimum
            check = tf.debugging.assert_greater_equal(
                tf.minimum(wn, hn), _sizing.MIN_NET_SIDE, message=f"image size: {_sizing.MSG_NET_SIZE}"
            )
            with tf.control_dependencies([check]):
                wn = tf.identity(wn)
        r = tf.minimum(_safe_div(wn - 1, wi - 1), _safe_div(hn - 1, hi - 1))
        sizes.append(tf.stack([hn, wn]))
        ratios.append(r)
    ratios = tf.stack(ratios)
    check = tf.debugging.assert_equal(
        tf.reduce_all(tf.math.is_finite(ratios) & (ratios > 0)), True, message=f"image size: {_sizing.MSG_SCALE_FACTOR}"
    )
    with tf.control_dependencies([check]):
        ratios = tf.identity(ratios)
    return sizes, ratios


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
