"""Every option checked once, up front, with one rule and one message in the Estimator, the CLI and
export_saved_model; image-size rules shared by Python and the graph; the pose model read off the
network."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

import tfpose
from tfpose import cli, options, sizing
from tfpose.estimator import MSG_EMPTY_BATCH

from helpers import DATA

MNV2S = str(DATA / "models" / "tfpose_mobilenet_v2_small_graph_opt.pb")

# option -> (bad value, words the message must hold)
BAD = {
    "net_resolution": ("-1x370", "multiple of 16"),
    "scale_number": (0, "scale_number: expected an int >= 1"),
    "scale_gap": (-0.5, "scale_gap"),
    "openpose_build": ("gpu", "openpose_build"),
    "max_peaks": (0, "max_peaks"),
    "batch_size": (0, "batch_size: expected an int >= 1"),
    "keypoint_scale": (5, "keypoint_scale: expected an int in 0..4"),
    "number_people_max": (0, "number_people_max: expected -1 (no limit) or an int >= 1"),
    "nms_threshold": (1.5, "nms_threshold: expected a number in [0, 1]"),
    "pose_model": ("COCO_19", "pose_model: expected one of"),
}
# scale settings that make a degenerate network input (a scale of 0 or a few pixels)
DEGENERATE = [
    dict(scale_number=5, scale_gap=0.25),
    dict(scale_number=2, scale_gap=0.99, net_resolution="656x368"),
    dict(scale_number=3, scale_gap=0.48, net_resolution="-1x32"),
]


def _message(fn):
    with pytest.raises((ValueError, TypeError)) as info:
        fn()
    return str(info.value)


@pytest.mark.parametrize("name", sorted(BAD))
def test_same_rule_and_message_in_every_entry_point(name, tmp_path, capsys):
    value, words = BAD[name]
    direct = _message(lambda: options.check_estimator_options(**{name: value}))
    assert words in direct
    # the Estimator checks before loading anything: a missing model file is never reached
    assert _message(lambda: tfpose.Estimator(tmp_path / "missing.pb", **{name: value})) == direct
    assert (
        _message(lambda: tfpose.export_saved_model(tmp_path / "missing.pb", tmp_path / "sm", **{name: value})) == direct
    )
    flag = {"nms_threshold": None, "max_peaks": None}.get(name, "--" + name.replace("_", "-"))
    if flag is not None:
        rc = cli.main(
            ["estimate", "--sample", "--model", str(tmp_path / "missing.pb"), flag, str(value), "--no-progress"]
        )
        err = capsys.readouterr().err
        assert rc == 2 and direct in err and "Traceback" not in err


@pytest.mark.parametrize("opts", DEGENERATE)
def test_degenerate_scales_are_refused_up_front(opts, tmp_path):
    msg = _message(lambda: options.check_estimator_options(**opts))
    assert sizing.MSG_NET_SIZE in msg or "scale factor" in msg
    assert _message(lambda: tfpose.Estimator(tmp_path / "missing.pb", **opts)) == msg


def test_too_many_scales_for_the_cuda_build_matches_the_op():
    import tfpose.ops as ops

    msg = _message(
        lambda: options.check_estimator_options(
            scale_number=options.MAX_CUDA_SCALES + 1, scale_gap=0.01, openpose_build="cuda"
        )
    )
    assert f"at most {options.MAX_CUDA_SCALES}" in msg
    options.check_estimator_options(scale_number=options.MAX_CUDA_SCALES, scale_gap=0.01, openpose_build="cuda")
    x = [np.zeros((1, 4, 4, 3), np.float32)] * options.MAX_CUDA_SCALES
    ops.resize_and_merge(x, [1.0] * len(x), openpose_build="cuda")  # the op takes the limit ...
    with pytest.raises(tf.errors.InvalidArgumentError, match=f"at most {options.MAX_CUDA_SCALES}"):
        ops.resize_and_merge(x + x[:1], [1.0] * (len(x) + 1), openpose_build="cuda")  # ... and no more


@pytest.fixture(scope="module")
def est():
    return tfpose.Estimator(MNV2S)


@pytest.mark.parametrize(
    "shape,words",
    [
        ((1, 1, 3), sizing.MSG_SCALE_FACTOR),
        ((3, 2000, 3), sizing.MSG_CONTENT),  # a 1-row content: the C++ pipeline's own rule
        ((10000, 3, 3), sizing.MSG_NET_SIZE),  # the -1 side rounds to 0
    ],
)
def test_image_too_small_same_words_from_python_and_graph(est, shape, words):
    img = np.zeros(shape, np.uint8)
    with pytest.raises(ValueError) as info:
        est.estimate(img)
    assert words in str(info.value)
    with pytest.raises(tf.errors.InvalidArgumentError) as graph:
        est._function(img[None])  # the graph alone, as in a SavedModel
    assert words in str(graph.value)


def test_empty_batch_same_words_from_python_and_graph(est):
    empty = np.zeros((0, 64, 64, 3), np.uint8)
    with pytest.raises(ValueError, match=r"expected at least one image"):
        est.estimate_arrays(empty)
    with pytest.raises(tf.errors.InvalidArgumentError) as graph:
        est._function(empty)
    assert MSG_EMPTY_BATCH in str(graph.value)
    assert est.estimate_batch([]) == []


def test_pose_model_from_the_network(est, tmp_path):
    from tfpose import network

    assert est.pose_model == "COCO_18"  # 57 channels, no pose_model given
    assert network.infer_pose_model(78) == "BODY_25" and network.infer_pose_model(44) == "MPI_15"
    with pytest.raises(ValueError, match="cannot tell the pose model from 50 output channels"):
        network.infer_pose_model(50)

    class Net(tf.Module):  # a real SavedModel whose signature hides the channel count until run
        def __init__(self, c):
            self.c = c

        @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32)])
        def __call__(self, x):
            y = tf.nn.avg_pool2d(x, 8, 8, "SAME")[..., :1]
            return tf.tile(y * 0.0, tf.stack([1, 1, 1, self.c]))

    for c, expected in ((78, "BODY_25"), (44, "MPI_15")):
        path = tmp_path / f"net{c}"
        tf.saved_model.save(Net(c), str(path))
        assert tfpose.Estimator(path).pose_model == expected
    assert tfpose.Estimator(tmp_path / "net44", pose_model="MPI_15_4").pose_model == "MPI_15_4"
    path = tmp_path / "net50"
    tf.saved_model.save(Net(50), str(path))
    with pytest.raises(ValueError, match="50 output channels"):
        tfpose.Estimator(path)
