"""Dense net_output_to_people chain (resize-and-merge -> NMS with nmsOffset -> connect) and
OpenPose's size bookkeeping (docs/algorithms/body.md §3)."""

from __future__ import annotations

import numpy as np
import pytest

from tfpose import _core, numpy_ops

from helpers import GOLDEN_CASES, load_golden, match_people


@pytest.mark.parametrize("case", GOLDEN_CASES)
def test_output_scaling_matches_golden_meta(case):
    meta = load_golden(case)["meta"]
    w, h = meta["net_input_wh"]
    scale, offset = numpy_ops.output_scaling((h, w), meta["image_hw"])
    assert np.float32(scale) == np.float32(meta["scale_net_to_output"])
    assert np.float32(offset) == np.float32(meta["nms_offset"])


@pytest.mark.parametrize(
    "net_hw, image_hw, scale, offset",
    [
        ((368, 656), (720, 1280), 1.959128, 0.255216),
        ((368, 656), (1080, 1920), 2.943252, 0.169880),
        ((368, 656), (627, 1200), 1.830409, 0.273163),
        ((368, 352), (232, 217), 0.627717, 0.796537),
        ((368, 496), (368, 496), 1.0, 0.5),
    ],
)
def test_output_scaling_spec_worked_values(net_hw, image_hw, scale, offset):
    s, o = _core.output_scaling(net_hw, image_hw)
    assert s == pytest.approx(scale, abs=1e-6) and o == pytest.approx(offset, abs=1e-6)


def test_output_scaling_defaults_and_errors():
    assert numpy_ops.output_scaling((368, 656)) == (1.0, 0.5)
    with pytest.raises(ValueError, match="image_size: expected \\(H, W\\) both >= 2"):
        _core.output_scaling((368, 656), (1, 100))
    with pytest.raises(ValueError, match="net_input_size"):
        _core.output_scaling((0, 656), (100, 100))
    with pytest.raises(ValueError, match="at least 2 net pixels"):
        _core.output_scaling((16, 16), (2, 5000))


def _run(g, build="cpu", **kw):
    meta = g["meta"]
    w, h = meta["net_input_wh"]
    return numpy_ops.net_output_to_people(
        g["net_outputs"],
        scale_ratios=meta["scale_ratios"],
        net_input_size=(h, w),
        image_size=meta["image_hw"],
        model=meta["model"],
        openpose_build=build,
        **kw,
    )


@pytest.mark.parametrize("case", GOLDEN_CASES)
def test_golden_cpu_chain(case):
    g = load_golden(case)
    kp, sc, num = _run(g)
    assert num.tolist() == [len(g["keypoints_cpu"])]
    assert match_people(kp[0], sc[0], g["keypoints_cpu"], g["scores_cpu"]) == list(range(num[0]))


@pytest.mark.parametrize("case", GOLDEN_CASES)
def test_golden_cuda_chain(case):
    g = load_golden(case)
    kp, sc, num = _run(g, "cuda")
    assert num.tolist() == [len(g["full_gpu_emul_keypoints"])]
    match_people(kp[0], sc[0], g["full_gpu_emul_keypoints"], g["full_gpu_emul_scores"])


def test_batch_defaults_and_tf_equals_numpy():
    g = load_golden("syn_coco_three_people")
    net = g["net_outputs"][0]
    batch = np.concatenate([net, np.zeros_like(net), net[:, :, ::-1]], axis=0)
    kp, sc, num = numpy_ops.net_output_to_people(batch)
    assert num[0] == 3 and num[1] == 0 and kp.shape[0] == 3
    # default net input = 8x blob and image = net input: scale 1, offset 0.5
    meta = g["meta"]
    kp1, _, _ = numpy_ops.net_output_to_people(net, image_size=meta["image_hw"])
    np.testing.assert_allclose(kp1[0], g["keypoints_cpu"], atol=1e-3)
    from tfpose import ops as tf_ops

    got = tf_ops.net_output_to_people(batch, fast=False)
    for a, b in zip(got, (kp, sc, num), strict=True):
        np.testing.assert_array_equal(a.numpy(), b)
    got1 = tf_ops.net_output_to_people([net], scale_ratios=[1.0], image_size=meta["image_hw"])
    np.testing.assert_array_equal(got1[0].numpy(), kp1)


def test_empty_batch():
    out = numpy_ops.net_output_to_people(np.zeros((0, 10, 12, 57), np.float32))
    assert out[0].shape == (0, 0, 18, 3) and out[2].shape == (0,)


@pytest.mark.parametrize(
    "kw, msg",
    [
        ({"model": "BODY_25"}, "net_outputs channels for model BODY_25: expected 78"),
        ({"model": "XYZ"}, "model: expected one of"),
        ({"image_size": (1, 50)}, "image_size"),
        ({"net_input_size": (0, 50)}, "net_input_size"),
        ({"scale_ratios": [1.0, 2.0]}, "scale_ratios"),
        ({"max_peaks": 0}, "max_peaks"),
        ({"nms_threshold": 3.0}, "nms_threshold"),
    ],
)
def test_errors(kw, msg):
    x = np.zeros((1, 10, 12, 57), np.float32)
    with pytest.raises(ValueError, match=msg):
        numpy_ops.net_output_to_people(x, **kw)
    import tensorflow as tf

    from tfpose import ops as tf_ops

    with pytest.raises((ValueError, tf.errors.InvalidArgumentError), match=msg):
        tf_ops.net_output_to_people(x, **kw)


def test_raw_op_size_errors():
    import tensorflow as tf

    from tfpose import ops as tf_ops

    lib = tf_ops.op_library()
    x = np.zeros((1, 10, 12, 57), np.float32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="image_size"):
        lib.tfpose_net_output_to_people(net_outputs=[x], scale_ratios=[1.0], net_input_size=[0, 0], image_size=[-5, 10])
    with pytest.raises(tf.errors.InvalidArgumentError, match="scale_ratios: expected shape \\[1\\]"):
        lib.tfpose_net_output_to_people(
            net_outputs=[x], scale_ratios=[1.0, 1.0], net_input_size=[0, 0], image_size=[0, 0]
        )
