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
