"""Placement of large images: the warp reads only the source lines its taps need, so its memory
follows the network input; the canvas still matches OpenCV's warpAffine."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import tensorflow as tf

from tfpose import placement


def _canvas(img, net_hw):
    h, w = img.shape[:2]
    s = min((net_hw[1] - 1) / (w - 1), (net_hw[0] - 1) / (h - 1))
    out = placement.warp_top_left(img[None], tf.constant(s, tf.float64), tf.constant(net_hw, tf.int32))
    m = np.array([[s, 0, 0], [0, s, 0]], np.float64)
    flags = cv2.INTER_CUBIC if s > 1 else cv2.INTER_AREA
    ref = cv2.warpAffine(img, m, (net_hw[1], net_hw[0]), flags=flags, borderMode=cv2.BORDER_CONSTANT)
    return out.numpy()[0], ref.astype(np.float32)


def test_downscales_match_opencv():
    rng = np.random.default_rng(3)
    # smooth content, so that OpenCV 4's fixed-point bilinear warp differs by at most one grey level
    # (enlarging uses every source line, as before; the golden cases cover it)
    for shape, net_hw in [((3000, 4000), (368, 496)), ((720, 1280), (368, 656)), ((900, 500), (368, 208))]:
        small = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
        img = cv2.resize(small, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
        got, ref = _canvas(img, net_hw)
        assert got.shape == ref.shape
        assert np.abs(got - ref).max() <= 1.0, shape
        assert (got != ref).mean() < 0.05, shape  # a few percent differ by one level (fixed point)


def _hwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def test_memory_follows_the_canvas_not_the_image():
    img = np.zeros((1, 6000, 8000, 3), np.uint8)  # 137 MB; float32 copies of it would be 549 MB
    img[:, ::7, ::5] = 200
    image_mb = img.nbytes / 2**20
    fn = tf.function(
        lambda x: placement.warp_top_left(x, tf.constant(367 / 5999, tf.float64), tf.constant([368, 480], tf.int32))
    )
    fn(img[:, :64, :64]).numpy()
    tensor = tf.constant(img)  # the input copy TensorFlow makes is not the placement's
    fn(tensor).numpy()
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak to the current RSS
    before = _hwm_mb()
    fn(tensor).numpy()
    grown = _hwm_mb() - before
    assert grown < 0.5 * image_mb, f"placement of a {image_mb:.0f} MB image raised the peak RSS by {grown:.0f} MB"


def test_op_matches_the_tf_graph_reference_bit_for_bit():
    # The C++ op against the graph-op implementation it replaced (tests/reference/placement_ref.py):
    # up- and downscales, thin images, canvases wider than the image, 1 and 3 scales of real sizings.
    from tfpose import sizing

    from reference import placement_ref

    rng = np.random.default_rng(5)
    compared = 0
    for trial in range(40):
        h, w = (int(v) for v in rng.integers(2, 1200, 2))
        if trial % 2:
            img = cv2.resize(rng.integers(0, 256, (6, 6, 3), dtype=np.uint8), (w, h), interpolation=cv2.INTER_CUBIC)
        else:
            img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        resolution = [(-1, 368), (656, 368), (368, 368), (-1, 160)][trial % 4]
        try:
            g = sizing.compute_sizing((h, w), resolution, scale_number=3, scale_gap=0.3)
        except ValueError:
            continue
        for ratio, (wn, hn) in zip(g.scale_ratios, g.net_wh, strict=True):
            got = placement.warp_top_left(img[None], ratio, [hn, wn]).numpy()
            ref = placement_ref.warp_top_left(
                img[None], tf.constant(ratio, tf.float64), tf.constant([hn, wn], tf.int32)
            ).numpy()
            np.testing.assert_array_equal(got, ref, err_msg=f"image {h}x{w}, canvas {hn}x{wn}, scale {ratio}")
            compared += 1
    assert compared >= 60


def test_bad_placement_arguments():
    img = np.zeros((1, 8, 8, 3), np.uint8)
    with pytest.raises(TypeError, match="expected uint8"):
        placement.warp_top_left(img.astype(np.float32), 1.0, [16, 16])
    for scale, size, words in [
        (0.0, [16, 16], "finite positive"),
        (float("nan"), [16, 16], "finite positive"),
        (1.0, [0, 16], "canvas size"),
    ]:
        with pytest.raises(tf.errors.InvalidArgumentError, match=words):
            placement.warp_top_left(img, scale, size)
    with pytest.raises(tf.errors.InvalidArgumentError, match="rank 4"):
        placement.warp_top_left(img[0], 1.0, [16, 16])


def test_python_float_scale_keeps_float64():
    # tf.cast(python_float, tf.float64) passes through float32; the scale must not (see ops._float64)
    rng = np.random.default_rng(5)
    img = rng.integers(0, 256, (1, 805, 966, 3), dtype=np.uint8)
    s = 367 / 804
    a = placement.warp_top_left(img, s, [368, 448]).numpy()
    b = placement.warp_top_left(img, tf.constant(s, tf.float64), tf.constant([368, 448], tf.int32)).numpy()
    np.testing.assert_array_equal(a, b)


def test_numpy_entry_equals_the_op_and_checks_its_input():
    from tfpose import numpy_ops

    rng = np.random.default_rng(9)
    img = rng.integers(0, 256, (2, 300, 500, 3), dtype=np.uint8)
    for s, size in [(367 / 299, (368, 656)), (0.37, (112, 200)), (1.0, (300, 500))]:
        want = placement.warp_top_left(img, s, size).numpy()
        for threads in (1, 2):
            np.testing.assert_array_equal(numpy_ops.resize_fixed_aspect_ratio(img, s, size, threads), want)
    with pytest.raises(ValueError, match="expected uint8"):
        numpy_ops.resize_fixed_aspect_ratio(img.astype(np.float32), 1.0, (16, 16))
    with pytest.raises(ValueError, match="expected uint8"):
        numpy_ops.resize_fixed_aspect_ratio(img[0], 1.0, (16, 16))
    with pytest.raises(ValueError, match="finite positive"):
        numpy_ops.resize_fixed_aspect_ratio(img, float("inf"), (16, 16))
    with pytest.raises(ValueError, match="size"):
        numpy_ops.resize_fixed_aspect_ratio(img, 1.0, (0, 16))


def test_canvas_sizes_are_checked_never_wrapped_or_crashing():
    # A canvas whose element count overflows must be an error, not TensorFlow's shape abort; sizes
    # beyond int32 must not wrap into small valid ones; non-integer sizes are refused.
    from tfpose import numpy_ops

    img = np.zeros((1, 4, 4, 3), np.uint8)
    for size in [(2**31 - 1, 2**31 - 1), (2**32 + 16, 16), (65536, 65536), (-5, 48)]:
        with pytest.raises(tf.errors.InvalidArgumentError, match="canvas"):
            placement.warp_top_left(img, 1.0, size)
        with pytest.raises(ValueError, match="canvas|size"):
            numpy_ops.resize_fixed_aspect_ratio(img, 1.0, size)
    with pytest.raises(tf.errors.InvalidArgumentError, match="canvas"):
        placement.warp_top_left(img, 1.0, tf.constant([2**32 + 16, 16], tf.int64))
    fn = tf.function(lambda x: placement.warp_top_left(x, 1.0, (-5, 48)))
    with pytest.raises(tf.errors.InvalidArgumentError, match="canvas size"):
        fn(img)
    for size in [(16.7, 48.2), ("16", "48"), (True, 16)]:
        with pytest.raises(TypeError, match="out_hw"):
            placement.warp_top_left(img, 1.0, size)
    with pytest.raises(TypeError, match="integer"):
        placement.warp_top_left(img, 1.0, tf.constant([16.0, 48.0]))
