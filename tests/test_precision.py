"""Network precision (tfpose.precision): validation, clear errors where the machine lacks the
instructions, per-thread scope, and the post-processing staying float32 and exact."""

from __future__ import annotations

import threading

import cv2
import numpy as np
import pytest

import tfpose
from tfpose import numpy_ops, placement, precision, sizing

from helpers import DATA, THIN_MODEL

MNV2S = DATA / "models" / "tfpose_mobilenet_v2_small_graph_opt.pb"
THIN = THIN_MODEL
IMAGES = DATA / "images" / "tf_pose_estimation"
HAS_BF16 = bool(set(precision.BF16_CPU_FLAGS) & precision.cpu_flags())


def test_unknown_precision():
    with pytest.raises(ValueError, match="precision: expected one of"):
        tfpose.Estimator(MNV2S, precision="int8")
    with pytest.raises(ValueError, match="precision: expected one of"):
        precision.check_precision(None)


def test_bfloat16_without_the_instructions_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx2", "avx512f"}))
    with pytest.raises(ValueError, match="avx512_bf16 or amx_bf16"):
        tfpose.Estimator(MNV2S, precision="bfloat16")


def test_bfloat16_with_onednn_off_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx512_bf16"}))
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")
    with pytest.raises(ValueError, match="oneDNN"):
        precision.check_precision("bfloat16")


def test_float16_needs_a_gpu():
    import tensorflow as tf

    if tf.config.list_logical_devices("GPU"):
        assert precision.check_precision("float16") == "float16"
    else:
        with pytest.raises(ValueError, match="visible GPU"):
            precision.check_precision("float16")


def test_cli_reports_a_precision_error(monkeypatch, capsys):
    from tfpose import cli

    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset())
    rc = cli.main(["estimate", str(IMAGES / "p1.jpg"), "--model", str(MNV2S), "--precision", "bfloat16"])
    err = capsys.readouterr().err
    assert rc == 2 and "precision 'bfloat16'" in err and "avx512_bf16" in err


@pytest.mark.skipif(not HAS_BF16, reason="CPU without AVX-512 BF16 / AMX-BF16")
def test_bfloat16_changes_only_the_network_and_stays_scoped():
    import tensorflow as tf

    img = cv2.imread(str(IMAGES / "apink2.jpg"))
    f32 = tfpose.Estimator(THIN)
    bf16 = tfpose.Estimator(THIN, precision="bfloat16")

    def graph_of(est):
        def both(images):
            from tfpose import ops

            outs, sizes, ratios, (h, w) = est._net_outputs(images)
            kp, sc, n = ops.net_output_to_people(
                outs, scale_ratios=ratios, net_input_size=sizes[0], image_size=tf.stack([h, w])
            )
            canvas = placement.warp_top_left(images, ratios[0], sizes[0])
            return outs[0], canvas, kp, sc, n

        return tf.function(both)

    before = [p.keypoints.copy() for p in f32.estimate(img)]
    with precision.precision_scope("bfloat16"):
        out_b, canvas_b, kp, sc, n = (t.numpy() for t in graph_of(bf16)(img[None]))
    out_f, canvas_f, *_ = (t.numpy() for t in graph_of(f32)(img[None]))
    # the pass ran: the network's numbers moved, a little (bfloat16 keeps 8 bits of mantissa)
    assert not np.array_equal(out_b, out_f)
    diff = np.abs(out_b - out_f)
    assert diff.mean() < 0.01 and diff.max() < 1.0, (diff.mean(), diff.max())
    # the placement before the network is float32 and exact under the pass
    np.testing.assert_array_equal(canvas_b, canvas_f)
    # the people are exactly OpenPose's post-processing of what the network returned
    h, w = img.shape[:2]
    sz = sizing.compute_sizing((h, w))
    ref = numpy_ops.net_output_to_people(out_b, sz.scale_ratios, sz.net_input_hw, (h, w))
    np.testing.assert_array_equal(kp, ref[0])
    np.testing.assert_array_equal(sc, ref[1])
    np.testing.assert_array_equal(n, ref[2])
    # and the estimator's own call gives those people
    got = bf16.estimate(img)
    assert len(got) == int(n[0])
    # the float32 estimator, used before and after (and from another thread), is unaffected
    after = [p.keypoints for p in f32.estimate(img)]
    other = []
    t = threading.Thread(target=lambda: other.extend(p.keypoints for p in f32.estimate(img)))
    t.start()
    t.join()
    for a, b, c in zip(before, after, other, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
    assert len(before) == len(after) == len(other)


def test_round_bfloat16_is_tensorflows_cast():
    import tensorflow as tf

    rng = np.random.default_rng(0)
    a = (rng.standard_normal(20000) * np.exp(rng.uniform(-20, 20, 20000))).astype(np.float32)
    # exact ties (the low 16 bits 0x8000) on both parities of the kept bit: round half to even
    ties = (np.arange(64, dtype=np.uint32) << 16 | 0x3F800000 | 0x8000).view(np.float32)
    a = np.concatenate([a, ties, -ties, [0.0, -0.0, 1e-40]]).astype(np.float32)
    want = tf.cast(tf.cast(a, tf.bfloat16), tf.float32).numpy()
    np.testing.assert_array_equal(precision.round_bfloat16(a), want)


def _thin_graph_def():
    import tensorflow as tf

    gd = tf.compat.v1.GraphDef()
    gd.ParseFromString(THIN.read_bytes())
    return gd


def _run_graph(gd, img):
    import tensorflow as tf

    g = tf.Graph()
    with g.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [1, None, None, 3])
        (y,) = tf.graph_util.import_graph_def(
            gd, input_map={"image:0": x}, return_elements=["Openpose/concat_stage7:0"], name=""
        )
        with tf.compat.v1.Session(graph=g) as sess:
            return sess.run(y, {x: img[None].astype(np.float32)})


def test_bias_correction_rounds_kernels_and_removes_the_mean_shift():
    import tensorflow as tf
    from tensorflow.python.framework import tensor_util

    gd = _thin_graph_def()
    calib = [cv2.imread(str(IMAGES / n)) for n in ("apink1.jpg", "p1.jpg")]
    means = precision.conv_input_means(gd, calib, heights=(368,))
    corrected = precision.bias_corrected(gd, means)
    rounded_only = precision.bias_corrected(gd, {k: np.zeros_like(v) for k, v in means.items()})
    kernels = {n.input[1] for n in corrected.node if n.op in ("Conv2D", "DepthwiseConv2dNative")}
    for n in corrected.node:
        if n.name in kernels:
            k = tensor_util.MakeNdarray(n.attr["value"].tensor)
            np.testing.assert_array_equal(k, tf.cast(tf.cast(k, tf.bfloat16), tf.float32).numpy())
    # on an image not used for calibration, in float32 arithmetic (the kernels' rounding alone):
    # the per-channel mean error of the network's output shrinks
    img = cv2.resize(cv2.imread(str(IMAGES / "golf.jpg")), (368, 368))
    ref = _run_graph(gd, img)
    shift = {
        k: np.abs((_run_graph(g, img) - ref).mean((0, 1, 2))).mean()
        for k, g in (("rounded", rounded_only), ("corrected", corrected))
    }
    assert shift["rounded"] > 0
    assert shift["corrected"] < 0.5 * shift["rounded"], shift


def test_bias_correction_needs_a_bias_after_each_layer():
    import tensorflow as tf

    g = tf.Graph()
    with g.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [1, None, None, 3], name="image")
        k = tf.constant(np.ones((1, 1, 3, 2), np.float32) / 3)
        tf.nn.relu(tf.nn.conv2d(x, k, 1, "SAME", name="conv"), name="out")
    gd = g.as_graph_def()
    with pytest.raises(ValueError, match="conv: expected a BiasAdd with a constant bias after the layer, got Relu"):
        precision.bias_corrected(gd, {"image": np.zeros(3)})
    with pytest.raises(ValueError, match="expected a calibration mean for its input 'image'"):
        precision.bias_corrected(gd, {})
    with pytest.raises(ValueError, match="at least one calibration image"):
        precision.conv_input_means(gd, [])


def test_shipped_calibration_means_belong_to_the_bundled_network(tmp_path):
    from tfpose import data

    gd = _thin_graph_def()
    assert THIN.read_bytes() == data.DEFAULT_MODEL.read_bytes()
    means = precision.load_calibration_means(precision.CALIBRATION_MEANS, gd)
    assert means is not None, "the shipped means were not measured on the bundled network"
    convs = [n for n in gd.node if n.op in ("Conv2D", "DepthwiseConv2dNative")]
    assert set(means) == {c.input[0] for c in convs}
    with np.load(precision.CALIBRATION_MEANS) as f:
        assert not any("COCO" in str(name) for name in f["images"])  # never the evaluation set
    # they are the means of photos like these (the shipped set includes these six, at two heights)
    here = precision.conv_input_means(gd, [cv2.imread(str(IMAGES / "p1.jpg"))], heights=(368,))
    assert abs(np.mean(here["image"]) - np.mean(means["image"])) < 40  # grey levels, 0..255
    # a different graph does not take them: round trip through save/load keys on the graph
    path = tmp_path / "m.npz"
    precision.save_calibration_means(path, gd, means, ["x.jpg"])
    loaded = precision.load_calibration_means(path, gd)
    assert all(np.array_equal(loaded[k], means[k]) for k in means)
    other = precision.bias_corrected(gd, means)
    assert precision.load_calibration_means(path, other) is None


def test_graph_rewrite_per_precision():
    assert precision.graph_rewrite("float32") is None
    assert precision.graph_rewrite("float16") is None
    gd = _thin_graph_def()
    rewritten = precision.graph_rewrite("bfloat16")(gd)
    with np.load(precision.CALIBRATION_MEANS) as f:
        parts = np.split(f["values"], np.cumsum(f["sizes"])[:-1])
        means = dict(zip((str(n) for n in f["names"]), parts, strict=True))
    assert rewritten == precision.bias_corrected(gd, means)


def _tiny_graph(bias: bool):
    import tensorflow as tf

    g = tf.Graph()
    with g.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [1, None, None, 3], name="image")
        k = tf.constant(
            np.array([[[[0.1234567, -0.3333333], [0.7654321, 0.2222222], [-0.4444444, 0.9876543]]]], np.float32)
        )
        y = tf.nn.conv2d(x, k, 1, "SAME", name="conv")
        if bias:
            y = tf.nn.bias_add(y, tf.constant(np.array([0.5, -0.25], np.float32)), name="bias")
        tf.nn.relu(y, name="out")
    return g.as_graph_def()


def test_bfloat16_graph_def_leaves_graphs_it_cannot_correct():
    import tensorflow as tf

    mnv2 = tf.compat.v1.GraphDef()
    mnv2.ParseFromString(MNV2S.read_bytes())  # batch norms not folded into biases
    assert precision.bfloat16_graph_def(mnv2) is mnv2
    no_bias = _tiny_graph(bias=False)
    assert precision.bfloat16_graph_def(no_bias) is no_bias


def test_bfloat16_graph_def_corrects_only_the_graph_its_means_were_measured_on():
    # Means measured on raw BGR through image:0 would be wrong for a network with another input
    # convention (hostile review: a graph without convolutions failed with "expected at least one
    # calibration image"; input_name and normalization were ignored), so only the bundled
    # network, whose means are shipped, is corrected.
    gd = _tiny_graph(bias=True)
    assert precision.bfloat16_graph_def(gd) is gd
    thin = _thin_graph_def()
    assert precision.bfloat16_graph_def(thin) != thin


@pytest.mark.skipif(not HAS_BF16, reason="CPU without AVX-512 BF16 / AMX-BF16")
def test_estimator_bfloat16_runs_the_bias_corrected_graph():
    import tensorflow as tf

    from tfpose.network import Network

    gd = _thin_graph_def()
    wrapped = tf.compat.v1.wrap_function(
        lambda x: tf.graph_util.import_graph_def(
            precision.bfloat16_graph_def(gd),
            input_map={"image:0": x},
            return_elements=["Openpose/concat_stage7:0"],
            name="net",
        )[0],
        [tf.TensorSpec([None, None, None, 3], tf.float32)],
    )
    net = Network(fn=wrapped, normalization="none", pose_model="COCO_18", channels=57, source="corrected")
    img = cv2.imread(str(IMAGES / "p1.jpg"))
    got = tfpose.Estimator(THIN, precision="bfloat16").estimate_details(img).heatmaps
    want = tfpose.Estimator(net, precision="bfloat16").estimate_details(img).heatmaps
    plain = tfpose.Estimator(THIN, precision="float32").estimate_details(img).heatmaps
    np.testing.assert_array_equal(got, want)
    assert not np.array_equal(got, plain)
