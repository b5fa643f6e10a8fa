"""The opt-in accuracy mode (accuracy="best" and its parts): flip tables, quadratic peak refinement,
the mode's settings, and the same people through the SavedModel as through the Estimator. The
default mode's exactness is the golden tests' business (test_pipeline, test_nms, test_estimator...)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import tfpose
from tfpose import models, numpy_ops, options

from helpers import DATA

MNV2S = DATA / "models" / "tfpose_mobilenet_v2_small_graph_opt.pb"
IMG = DATA / "images" / "tf_pose_estimation" / "apink2.jpg"


# ---- flip tables ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", models.names())
def test_flip_tables_mirror_names_and_limbs(name):
    m = models.get(name)
    assert len(m.flip_parts) == m.num_parts and len(m.flip_limbs) == m.num_limbs
    for p, q in enumerate(m.flip_parts):
        assert m.flip_parts[q] == p  # an involution
        a, b = m.part_names[p], m.part_names[q]
        if a[0] in "RL" and a[1].isupper():
            assert b == {"R": "L", "L": "R"}[a[0]] + a[1:]
        else:
            assert b == a
    for k, j in enumerate(m.flip_limbs):
        assert m.flip_limbs[j] == k
        assert m.pairs[j] == (m.flip_parts[m.pairs[k][0]], m.flip_parts[m.pairs[k][1]])


def test_flip_tables_coco_known_values():
    # Written out from OpenPose's COCO_18 part list (docs/algorithms/body.md §1.1): R/L shoulder, elbow, wrist, hip, knee,
    # ankle, eye, ear swap; nose and neck stay.
    m = models.get("COCO_18")
    assert m.flip_parts == (0, 1, 5, 6, 7, 2, 3, 4, 11, 12, 13, 8, 9, 10, 15, 14, 17, 16)
    source, sign = m.flip_channels()
    # limb 0 (Neck-RShoulder, PAF channels 31/32) becomes limb 1 (Neck-LShoulder, 39/40)
    assert (source[31], source[32], sign[31], sign[32]) == (39, 40, -1, 1)
    assert source[18] == 18 and sign[18] == 1  # background


def _render(kps: np.ndarray, h: int, w: int, model: str) -> np.ndarray:
    """Net output [h, w, C] of one person, keypoints [P, 2] (x, y) with the centre of cell j at j:
    a Gaussian per part, each limb's unit vector (part A -> B) in a band around it."""
    m = models.get(model)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    out = np.zeros((h, w, m.num_channels), np.float64)
    for p, (x, y) in enumerate(kps):
        out[..., p] = 0.9 * np.exp(-((xs - x) ** 2 + (ys - y) ** 2) / 2.0)
    for (a, b), (cx, cy) in zip(m.pairs, m.paf_channels, strict=True):
        d = kps[b] - kps[a]
        u = d / np.hypot(*d)
        t = np.clip(((xs - kps[a][0]) * d[0] + (ys - kps[a][1]) * d[1]) / (d @ d), 0, 1)
        band = np.hypot(xs - kps[a][0] - t * d[0], ys - kps[a][1] - t * d[1]) <= 1.0
        out[band, cx], out[band, cy] = u[0], u[1]
    out[..., m.num_parts] = 1 - out[..., : m.num_parts].max(-1)
    return out.astype(np.float32)


@pytest.mark.parametrize("name", models.names())
def test_mirrored_person_unmirrors_to_the_person(name):
    """The net output of a mirrored person, un-mirrored with flip_channels, is the person's own
    net output (the Estimator's flip averaging then averages two equal maps)."""
    m = models.get(name)
    rng = np.random.default_rng(3)
    h, w = 40, 48
    kps = rng.uniform([6, 6], [w - 7, h - 7], size=(m.num_parts, 2))
    mirrored = np.empty_like(kps)
    for p, q in enumerate(m.flip_parts):
        mirrored[q] = (w - 1 - kps[p, 0], kps[p, 1])
    source, sign = m.flip_channels()
    unmirrored = _render(mirrored, h, w, name)[:, ::-1][..., list(source)] * np.array(sign, np.float32)
    np.testing.assert_allclose(unmirrored, _render(kps, h, w, name), atol=1e-6)


def test_flip_average_of_mirrored_network_gives_mirrored_people():
    """A network that sees the person of a mirrored image as the mirror of the original (synthetic
    maps): Estimator(flip=True) finds the same person as without flip, at the same places, while a
    wrong un-mirroring (parts not swapped) would average a left arm into a right one."""
    import tensorflow as tf

    m = models.get("COCO_18")
    h, w = 46, 46  # the 368x368 image's net output: no padding, so the canvas mirrors onto itself
    kps = np.array(
        [
            (22, 6),
            (22, 11),
            (17, 11),
            (15, 17),
            (14, 23),
            (27, 11),
            (30, 17),
            (32, 23),
            (19, 24),
            (19, 32),
            (19, 40),
            (26, 24),
            (26, 32),
            (26, 40),
            (21, 5),
            (23.5, 5),
            (19.5, 6),
            (25, 6),
        ],
        np.float64,
    )
    # off the cell centres: a peak exactly on one upsamples to two equal pixels, which OpenPose's NMS
    # never reports
    kps += (0.13, 0.21)
    mirrored = np.empty_like(kps)
    for p, q in enumerate(m.flip_parts):
        mirrored[q] = (w - 1 - kps[p, 0], kps[p, 1])
    plain, flipped = tf.constant(_render(kps, h, w, "COCO_18")), tf.constant(_render(mirrored, h, w, "COCO_18"))

    def network(canvas):
        # The image carries a bright marker at its left edge; its mirror, at the right edge.
        left = tf.reduce_mean(tf.cast(canvas[:, :, :8], tf.float32), axis=[1, 2, 3])
        right = tf.reduce_mean(tf.cast(canvas[:, :, -8:], tf.float32), axis=[1, 2, 3])
        pick = tf.reshape(left > right, [-1, 1, 1, 1])
        n = tf.shape(canvas)[0]
        return tf.where(pick, tf.tile(plain[None], [n, 1, 1, 1]), tf.tile(flipped[None], [n, 1, 1, 1]))

    image = np.zeros((368, 368, 3), np.uint8)
    image[:, :8] = 255
    from tfpose.network import Network

    net = Network(fn=network, normalization="none", pose_model="COCO_18", channels=57, source="test")
    base = tfpose.Estimator(net).estimate(image)
    flip = tfpose.Estimator(net, flip=True).estimate(image)
    assert len(base) == len(flip) == 1
    np.testing.assert_allclose(flip[0].keypoints, base[0].keypoints, atol=1e-4)
    # the person is where it was drawn (cell centre j -> image pixel 8 j + 3.5, + 0.5 convention)
    np.testing.assert_allclose(base[0].keypoints[:, :2], kps * 8 + 4, atol=0.6)


# ---- quadratic peak refinement -------------------------------------------------------------------

_CENTRES = [(20.3, 17.8), (31.45, 9.05), (9.0, 30.45), (40.77, 28.21)]


def _gaussians(h=40, w=50, sigma=2.5):
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    maps = [np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * sigma**2)) for x, y in _CENTRES]
    return np.stack(maps, -1)[None].astype(np.float32)  # [1, H, W, P], one peak per part


@pytest.mark.parametrize("build", ["cpu", "cuda"])
def test_quadratic_refinement_finds_sub_pixel_centres(build):
    heat = _gaussians()
    peaks, counts = numpy_ops.nms(heat, openpose_build=build, peak_refinement="quadratic", offset=(0.25, -0.5))
    assert counts.tolist() == [[1, 1, 1, 1]]
    got = peaks[0, :, 0, :2] - np.array([0.25, -0.5], np.float32)
    np.testing.assert_allclose(got, np.array(_CENTRES), atol=2e-4)
    rows, cols = np.round(np.array(_CENTRES)[:, ::-1]).astype(int).T
    np.testing.assert_array_equal(peaks[0, :, 0, 2], heat[0, rows, cols, np.arange(len(_CENTRES))])
    # OpenPose's clipped centroid is pulled toward the integer pixel (why the option exists)
    centroid, _ = numpy_ops.nms(heat, openpose_build=build)
    assert np.abs(centroid[0, :, 0, :2] - np.array(_CENTRES)).max() > 0.05


def test_quadratic_refinement_same_in_tf_op_and_numpy():
    import tensorflow as tf

    from tfpose import ops

    heat = _gaussians()
    want = numpy_ops.nms(heat, peak_refinement="quadratic")
    got = ops.nms(heat, peak_refinement="quadratic")
    np.testing.assert_array_equal(got[0].numpy(), want[0])
    graph = tf.function(lambda x: ops.nms(x, peak_refinement="quadratic"))(tf.constant(heat))
    np.testing.assert_array_equal(graph[0].numpy(), want[0])


def test_quadratic_refinement_leaves_an_axis_without_usable_neighbours_unrefined():
    heat = np.zeros((1, 9, 9, 3), np.float32)
    # part 0: on the ring line y = 1 with neighbours on both sides in x, refined in x only when the
    # row above (y = 0) is positive, which it is not here
    heat[0, 1, 4, 0], heat[0, 1, 3, 0], heat[0, 1, 5, 0], heat[0, 2, 4, 0] = 0.9, 0.5, 0.3, 0.4
    # part 1: an interior peak whose left and upper neighbours are 0 (no logarithm)
    heat[0, 4, 4, 1], heat[0, 4, 5, 1], heat[0, 5, 4, 1] = 0.8, 0.2, 0.1
    # part 2: a NaN neighbour below
    heat[0, 4, 4, 2], heat[0, 3, 4, 2], heat[0, 4, 3, 2], heat[0, 4, 5, 2] = 0.8, 0.4, 0.4, 0.2
    heat[0, 5, 4, 2] = np.nan
    peaks, counts = numpy_ops.nms(heat, peak_refinement="quadratic")
    assert counts.tolist() == [[1, 1, 0]]  # a NaN neighbour suppresses the peak (OpenPose's rule)
    x0, y0 = peaks[0, 0, 0, :2]
    want_dx = 0.5 * (np.log(0.5) - np.log(0.3)) / (np.log(0.5) - 2 * np.log(0.9) + np.log(0.3))
    assert abs(x0 - (4 + want_dx)) < 1e-6 and y0 == 1.0
    assert tuple(peaks[0, 1, 0, :2]) == (4.0, 4.0)


def test_quadratic_refinement_in_the_fused_op_matches_dense_chain():
    from tfpose import _core

    rng = np.random.default_rng(0)
    net = np.abs(rng.normal(0, 0.3, (1, 23, 30, 57))).astype(np.float32)
    kw = dict(model="COCO_18", peak_refinement="quadratic")
    fast = numpy_ops.net_output_to_people(net, fast=True, **kw)
    dense = numpy_ops.net_output_to_people(net, fast=False, **kw)
    for a, b in zip(fast, dense, strict=True):
        np.testing.assert_array_equal(a, b)
    default = numpy_ops.net_output_to_people(net, model="COCO_18")
    assert default[0].shape[1] > 0 and not np.array_equal(default[0], fast[0])
    assert _core.NmsParams(peak_refinement="quadratic").peak_refinement == "quadratic"
    with pytest.raises(ValueError, match="peak_refinement"):
        numpy_ops.nms(net[..., :18], peak_refinement="parabola")


# ---- the mode's options --------------------------------------------------------------------------


def test_accuracy_settings_defaults_and_overrides():
    assert options.accuracy_settings() == options.ACCURACY_SETTINGS["openpose"]
    best = options.accuracy_settings("best", scale_number=1)
    assert best["flip"] is True and best["scale_number"] == 1
    with pytest.raises(ValueError, match="accuracy: expected one of"):
        options.accuracy_settings("fast")
    with pytest.raises(TypeError, match="flip"):
        options.check_estimator_options(flip="yes")
    with pytest.raises(ValueError, match="peak_refinement"):
        options.check_estimator_options(peak_refinement="dark")
    opts = options.check_estimator_options()
    assert (opts["flip"], opts["scale_number"], opts["scale_gap"], opts["peak_refinement"]) == (
        False,
        1,
        0.25,
        "centroid",
    )


# ---- the mode through the SavedModel ------------------------------------------------------------


@pytest.mark.slow
def test_best_mode_saved_model_equals_estimator(tmp_path):
    est = tfpose.Estimator(MNV2S, accuracy="best")
    image = cv2.imread(str(IMG))
    kp, sc, num = est.estimate_arrays(image[None])
    d = tfpose.export_saved_model(est, tmp_path / "sm")
    served = tfpose.load_saved_model(d).signatures["serving_default"](images=image[None])
    assert int(served["num_people"][0]) == int(num[0]) > 0
    np.testing.assert_array_equal(served["keypoints"].numpy(), kp)
    np.testing.assert_array_equal(served["scores"].numpy(), sc)
    # and the mode changes the result (it is not the default graph under another name)
    base = tfpose.Estimator(MNV2S).estimate_arrays(image[None])
    assert base[0].shape != kp.shape or not np.array_equal(base[0], kp)


# ---- command line and Beam -----------------------------------------------------------------------


def test_cli_help_states_the_cost_and_options_reach_the_estimator():
    from tfpose import cli

    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    text = sub.choices["estimate"].format_help()
    assert "--accuracy" in text and cli._ACCURACY_COST in " ".join(text.split())
    args = sub.choices["estimate"].parse_args(["x.jpg", "--accuracy", "best", "--scale-number", "1"])
    opts = cli._body_options(args)
    assert opts["accuracy"] == "best" and opts["scale_number"] == 1 and opts["flip"] is None
    checked = options.check_estimator_options(**opts)
    assert checked["flip"] is True and checked["scale_number"] == 1 and checked["peak_refinement"] == "quadratic"


def test_beam_passes_the_mode_to_the_estimator():
    pytest.importorskip("apache_beam")
    from tfpose import beam

    parser = beam.build_parser()
    args = parser.parse_args(["--input", "x", "--output", "y", "--accuracy", "best"])
    opts = beam._estimator_options(args, parser)
    assert opts == {"accuracy": "best"}
    est = beam.PoseModelHandler(MNV2S, **opts).load_model()
    assert (est.flip, est.scale_number, est.peak_refinement) == (True, 3, "quadratic")
    assert est.thresholds == options.ACCURACY_SETTINGS["best"]["thresholds"]


def test_flip_with_a_network_of_the_wrong_channel_count_names_the_channels():
    import tensorflow as tf

    from tfpose.network import Network

    # channels unknown before the graph runs: the graph's own check must fire before the
    # un-mirroring gathers channels that are not there
    kwargs = dict(normalization="none", pose_model="COCO_18", channels=None, source="test")
    net = Network(fn=lambda x: tf.zeros([tf.shape(x)[0], tf.shape(x)[1] // 8, tf.shape(x)[2] // 8, 50]), **kwargs)
    for shape in ([None, None, None, 50], [None, None, None, None]):  # known and unknown while tracing
        fn = tf.function(net.fn, input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32)])
        traced = Network(fn=lambda x, fn=fn, shape=shape: tf.ensure_shape(fn(x), shape), **kwargs)
        with pytest.raises(
            tf.errors.InvalidArgumentError, match="network output channels: pose model COCO_18 expects 57"
        ):
            tfpose.Estimator(traced, flip=True).estimate(np.zeros((64, 64, 3), np.uint8))
