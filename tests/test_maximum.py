"""maximum: golden parity, numpy reference, TF op == numpy entry point, edge cases and errors."""

import numpy as np
import pytest

from tfpose import numpy_ops

from helpers import GOLDEN_CASES, load_golden
from reference.maximum_ref import maximum_ref


@pytest.mark.parametrize("case", GOLDEN_CASES)
def test_golden_maximum_from_cpu_resize(case):
    import cv2

    g = load_golden(case)
    # maximum_cpu is taken on OpenPose's CPU-resized map: OpenCV's bicubic for one scale (docs/algorithms/body.md §4.1),
    # tfpose's golden-checked resize-and-merge for the multi-scale case.
    C, H, W = (int(v) for v in g["heat_shape"])
    p = g["maximum_cpu"].shape[0]
    if len(g["net_outputs"]) == 1:
        net = g["net_outputs"][0][0]
        heat = np.stack([cv2.resize(net[..., c], (W, H), interpolation=cv2.INTER_CUBIC) for c in range(p)], axis=-1)[
            None
        ]
    else:
        heat = numpy_ops.resize_and_merge(g["net_outputs"], g["meta"]["scale_ratios"], (H, W))[..., :p]
    got = numpy_ops.maximum(heat)[0]
    np.testing.assert_array_equal(got[:, :2], g["maximum_cpu"][:, :2])
    np.testing.assert_allclose(got[:, 2], g["maximum_cpu"][:, 2], atol=1e-5)


def test_random_matches_reference():
    rng = np.random.default_rng(0)
    for shape in [(1, 1, 1, 1), (3, 7, 5, 4), (2, 40, 33, 19)]:
        x = rng.random(shape, dtype=np.float32)
        np.testing.assert_array_equal(numpy_ops.maximum(x), maximum_ref(x))


def test_ties_first_in_raster_order():
    x = np.zeros((1, 4, 5, 1), np.float32)
    x[0, 2, 1, 0] = 1.0
    x[0, 1, 3, 0] = 1.0  # earlier in raster order (row 1)
    assert numpy_ops.maximum(x)[0, 0].tolist() == [3.0, 1.0, 1.0]


def test_nan_is_skipped_and_all_nan_defined():
    x = np.zeros((1, 3, 3, 2), np.float32)
    x[..., 0] = np.nan
    x[0, 1, 1, 1] = np.nan
    x[0, 2, 2, 1] = 0.5
    out = numpy_ops.maximum(x)[0]
    assert out[0, 0] == 0 and out[0, 1] == 0 and np.isnan(out[0, 2])
    assert out[1].tolist() == [2.0, 2.0, 0.5]


def test_tf_equals_numpy_entry_point():
    from tfpose import ops as tf_ops

    x = np.random.default_rng(1).random((3, 9, 11, 5), dtype=np.float32)
    np.testing.assert_array_equal(tf_ops.maximum(x).numpy(), numpy_ops.maximum(x))


@pytest.mark.parametrize(
    "bad, err",
    [
        (np.zeros((3, 3, 2), np.float32), ValueError),
        (np.zeros((1, 3, 3, 2), np.int32), TypeError),
        (np.zeros((1, 0, 3, 2), np.float32), ValueError),
        (np.zeros((1, 3, 3, 0), np.float32), ValueError),
    ],
)
def test_bad_input_numpy(bad, err):
    with pytest.raises(err, match="heatmaps"):
        numpy_ops.maximum(bad)


def test_empty_batch():
    assert numpy_ops.maximum(np.zeros((0, 3, 3, 2), np.float32)).shape == (0, 2, 3)


def test_all_minus_inf_channel_reports_its_first_pixel():
    x = np.full((1, 3, 4, 2), -np.inf, np.float32)
    x[0, :, :, 1] = np.nan
    x[0, 2, 3, 1] = -np.inf
    out = numpy_ops.maximum(x)[0]
    assert out[0].tolist() == [0.0, 0.0, -np.inf]
    assert out[1].tolist() == [3.0, 2.0, -np.inf]
