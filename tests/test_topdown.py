"""Top-down decoding (maximum + refinement + affine): the independent numpy reference
(tests/reference/hand_face_ref.py), known answers, the spec's back-mapping example
(docs/algorithms/hand-face.md §6.4), TF = numpy, and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from tfpose import numpy_ops

from reference.hand_face_ref import topdown_decode_ref


def gaussian_maps(centres, h, w, sigma=2.0):
    """[N, H, W, C] Gaussians at sub-pixel centres [N, C, 2] (x, y), pixel centres at integers."""
    centres = np.asarray(centres, np.float64)
    yy, xx = np.mgrid[0:h, 0:w]
    d2 = (xx[None, :, :, None] - centres[:, None, None, :, 0]) ** 2 + (
        yy[None, :, :, None] - centres[:, None, None, :, 1]
    ) ** 2
    return np.exp(-d2 / (2 * sigma * sigma)).astype(np.float32)


@pytest.mark.parametrize("refinement", ["none", "quarter", "dark"])
def test_matches_reference(refinement):
    rng = np.random.default_rng(7)
    centres = rng.uniform(-3, 50, (3, 5, 2))  # some peaks near or beyond the border
    maps = gaussian_maps(centres, 46, 40) + rng.uniform(0, 0.02, (3, 46, 40, 5)).astype(np.float32)
    maps[0, :, :, 4] = rng.uniform(0, 1, (46, 40))
    m = rng.uniform(-2, 2, (3, 2, 3))
    for transforms in (None, m):
        got = numpy_ops.topdown_decode(maps, transforms, refinement)
        ref = topdown_decode_ref(maps, transforms, refinement)
        np.testing.assert_array_equal(got[..., 2], ref[..., 2])
        np.testing.assert_allclose(got[..., :2], ref[..., :2], rtol=0, atol=1e-3 if refinement == "dark" else 1e-5)


def test_refinements_move_toward_the_true_centre():
    rng = np.random.default_rng(0)
    centres = rng.uniform(8, 38, (4, 6, 2))
    maps = gaussian_maps(centres, 46, 46)
    err = {
        r: np.abs(numpy_ops.topdown_decode(maps, refinement=r)[..., :2] - centres).max()
        for r in ("none", "quarter", "dark")
    }
    assert err["none"] <= 0.5 + 1e-6
    assert err["quarter"] <= 0.5 and np.mean(
        np.abs(numpy_ops.topdown_decode(maps, refinement="quarter")[..., :2] - centres)
    ) < np.mean(np.abs(numpy_ops.topdown_decode(maps)[..., :2] - centres))
    assert err["dark"] < 0.02  # DARK recovers a Gaussian's centre nearly exactly


def test_quarter_rule_and_border():
    m = np.zeros((1, 5, 5, 3), np.float32)
    m[0, 2, 2, 0], m[0, 2, 3, 0], m[0, 1, 2, 0] = 1.0, 0.5, 0.2  # right and up higher
    m[0, 0, 0, 1] = 1.0  # corner: no neighbours on either side, unrefined
    m[0, 2, 2, 2], m[0, 2, 1, 2], m[0, 2, 3, 2] = 1.0, 0.3, 0.3  # tie: no shift
    out = numpy_ops.topdown_decode(m, refinement="quarter")[0]
    assert out[0].tolist() == [2.25, 1.75, 1.0]
    assert out[1].tolist() == [0.0, 0.0, 1.0]
    assert out[2].tolist() == [2.0, 2.0, 1.0]


def test_spec_back_mapping_example():
    """docs/algorithms/hand-face.md §6.4: crop pixel (j, i) -> image through the crop matrix of the worked example's boxes."""
    n = 368
    hm = np.zeros((3, 8, 8, 1), np.float32)
    # maps smaller than the crop: put the peak at (j, i) by using the matrix on heatmap pixels directly
    s_r = np.float32(np.float32(164.23459) / np.float32(n))
    s_l = np.float32(np.float32(145.39944) / np.float32(n))
    x_w = float(np.float32(740.5003) + np.float32(145.39944))
    m = np.array(
        [
            [[s_r, 0, 444.5827], [0, s_r, 470.8827]],
            [[-s_l, 0, x_w], [0, s_l, 433.70026]],
            [[160 / n, 0, 560], [0, 160 / n, 137.5]],
        ],
        np.float64,
    )
    big = np.zeros((3, n, n, 1), np.float32)
    big[0, 200, 100, 0] = big[1, 200, 100, 0] = big[2, 184, 184, 0] = 1
    out = numpy_ops.topdown_decode(big, m)
    np.testing.assert_allclose(out[0, 0, :2], [489.21167, 560.1406], atol=1e-4)
    np.testing.assert_allclose(out[1, 0, :2], [846.38904, 512.7217], atol=1e-4)
    np.testing.assert_allclose(out[2, 0, :2], [640, 217.5], atol=1e-4)
    assert hm.shape  # the small map is unused; the crop-size map above is what OpenPose decodes


def test_nan_and_ties():
    m = np.full((1, 4, 4, 2), np.nan, np.float32)
    m[0, 1, 1, 0] = m[0, 2, 3, 0] = 5.0  # tie: first in raster order
    for r in ("none", "quarter", "dark"):
        out = numpy_ops.topdown_decode(m, refinement=r)[0]
        assert out[0].tolist() == [1.0, 1.0, 5.0]
        assert out[1, :2].tolist() == [0.0, 0.0] and np.isnan(out[1, 2])


def test_tf_equals_numpy():
    tf = pytest.importorskip("tensorflow")
    from tfpose import ops

    rng = np.random.default_rng(2)
    maps = gaussian_maps(rng.uniform(5, 40, (2, 4, 2)), 46, 46)
    m = rng.uniform(-1, 1, (2, 2, 3))
    for r in ("none", "quarter", "dark"):
        np.testing.assert_array_equal(ops.topdown_decode(maps, m, r).numpy(), numpy_ops.topdown_decode(maps, m, r))
    np.testing.assert_array_equal(ops.topdown_decode(maps).numpy(), numpy_ops.topdown_decode(maps))

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 4], tf.float32)])
    def f(x):
        return ops.topdown_decode(x, refinement="quarter")

    assert f.get_concrete_function().structured_outputs.shape.as_list() == [None, 4, 3]
    np.testing.assert_array_equal(f(maps).numpy(), numpy_ops.topdown_decode(maps, refinement="quarter"))
    assert ops.topdown_decode(np.zeros((0, 3, 3, 2), np.float32)).shape == (0, 2, 3)


def test_bad_input():
    maps = np.zeros((2, 4, 4, 3), np.float32)
    with pytest.raises(ValueError, match="refinement"):
        numpy_ops.topdown_decode(maps, refinement="subpixel")
    with pytest.raises(ValueError, match="dark_kernel"):
        numpy_ops.topdown_decode(maps, refinement="dark", dark_kernel=4)
    with pytest.raises(ValueError, match=r"transforms.*\[N = 2, 2, 3\].*\[1, 2, 3\]"):
        numpy_ops.topdown_decode(maps, np.zeros((1, 2, 3)))
    with pytest.raises(ValueError, match="rank 4"):
        numpy_ops.topdown_decode(maps[0])
    with pytest.raises(ValueError, match="H >= 1"):
        numpy_ops.topdown_decode(np.zeros((1, 0, 4, 3), np.float32))
    tf = pytest.importorskip("tensorflow")
    from tfpose import ops

    with pytest.raises(tf.errors.InvalidArgumentError, match=r"\[N = 2, 2, 3\]"):
        ops.topdown_decode(maps, np.zeros((3, 2, 3)))
    with pytest.raises(ValueError, match="refinement"):
        ops.topdown_decode(maps, refinement="x")
