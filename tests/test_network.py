"""Network loading and OpenPose's placement, against the golden cases' real network outputs."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import tensorflow as tf

from tfpose import network, placement, sizing

from helpers import DATA, THIN_MODEL, golden_source_image, load_golden

MNV2S = DATA / "models" / "tfpose_mobilenet_v2_small_graph_opt.pb"


@pytest.fixture(scope="module")
def net():
    return network.load_network(MNV2S)


def _source(case):
    return cv2.imread(str(golden_source_image(case["meta"])))


@pytest.mark.parametrize("case_name", ["real_p1_mnv2s", "real_apink2_mnv2s"])
def test_placement_and_network_reproduce_golden_net_output(net, case_name):
    # p1 is up-scaled (bicubic), apink2 down-scaled (warpAffine's bilinear)
    case = load_golden(case_name)
    img = _source(case)
    sizes, ratios = placement.tf_sizing(img.shape[0], img.shape[1])
    assert tuple(sizes[0].numpy()) == tuple(case["meta"]["net_input_wh"][::-1])
    out = net(placement.warp_top_left(img[None], ratios[0], sizes[0])).numpy()
    ref = case["net_outputs"][0]
    assert out.shape == ref.shape
    # Stored as float16 (half an ulp is <= 1e-3 for |v| < 2); a canvas off by one grey level in a
    # few pixels (OpenCV 4's fixed-point warpAffine) already moves outputs by 0.02-0.045.
    np.testing.assert_allclose(out, ref, rtol=0, atol=1e-3)
    # OpenCV 4.x's fixed-point warp (1/32-pixel coordinates) moves a few pixels by some grey levels
    s = float(ratios[0])
    cv = cv2.warpAffine(
        img,
        np.array([[s, 0, 0], [0, s, 0]]),
        tuple(case["meta"]["net_input_wh"]),
        flags=cv2.INTER_CUBIC if s > 1 else cv2.INTER_AREA,
        borderMode=cv2.BORDER_CONSTANT,
    )
    ours = placement.warp_top_left(img[None], ratios[0], sizes[0]).numpy()[0]
    diff = np.abs(ours - cv)
    print(case_name, "vs cv2", cv2.__version__, "max", diff.max(), "share > 1:", np.mean(diff > 1))
    assert diff.max() <= 8 and np.mean(diff > 1) < 0.01


def test_placement_top_left_black_padding():
    img = np.full((100, 50, 3), 200, np.uint8)
    sz = sizing.compute_sizing(img.shape, net_resolution="368x368")
    canvas = placement.warp_top_left(img[None], sz.scale_ratios[0], [368, 368]).numpy()[0]
    # s = 367/99: the image spans columns 0..~185; the rest is black
    assert canvas[:, :180].min() == 200 and canvas[:, 190:].max() == 0
    # identity when the image already has the net size
    img = np.random.default_rng(0).integers(0, 256, (368, 496, 3), dtype=np.uint8)
    same = placement.warp_top_left(img[None], 1.0, [368, 496]).numpy()[0]
    np.testing.assert_array_equal(same, img)


def test_tf_sizing_matches_python_sizing():
    rng = np.random.default_rng(1)
    for h, w in list(rng.integers(2, 3000, (40, 2))) + [(720, 1280), (1080, 1920), (232, 217), (368, 3000)]:
        for sn in (1, 2, 4):
            try:
                ref = sizing.compute_sizing((h, w), scale_number=sn)
            except ValueError:
                continue
            sizes, ratios = placement.tf_sizing(int(h), int(w), scale_number=sn)
            assert [tuple(s.numpy()[::-1]) for s in sizes] == list(ref.net_wh)
            assert list(ratios.numpy()) == list(ref.scale_ratios)


def test_sizing_op_output_scaling_matches_python():
    # the op's third output: (scaleNetToOutput, nmsOffset) of scale 0, as compute_sizing gives them
    from tfpose.ops import _lib

    for h, w in [(720, 1280), (232, 217), (368, 3000), (1080, 1920)]:
        ref = sizing.compute_sizing((h, w), scale_number=2)
        _, _, scaling = _lib.tfpose_sizing(
            image_size=tf.constant([h, w], tf.int64),
            scale_gap=tf.constant(0.25, tf.float64),
            net_resolution_dynamic=tf.constant(1.0, tf.float64),
            net_resolution=[-1, 368],
            scale_number=2,
        )
        assert list(scaling.numpy()) == [np.float32(ref.scale_net_to_output), np.float32(ref.nms_offset)]


def test_tf_sizing_rejects_empty_image():
    with pytest.raises(tf.errors.InvalidArgumentError, match="expected positive"):
        placement.tf_sizing(0, 0)


def test_caffe_normalization(net):
    caffe = network.load_network(MNV2S, normalization="caffe")
    x = tf.fill([1, 64, 64, 3], 128.0)
    # 128/256 - 0.5 = 0: a caffe-normalised net sees zeros
    np.testing.assert_allclose(caffe(x).numpy(), net(tf.zeros([1, 64, 64, 3])).numpy(), atol=1e-6)


def test_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        network.load_network(tmp_path / "missing.pb")
    with pytest.raises(ValueError, match="not a GraphDef|no graph nodes"):
        network.load_network(DATA / "images" / "tf_pose_estimation" / "p1.jpg")
    with pytest.raises(ValueError, match="no saved_model.pb"):
        network.load_network(tmp_path)
    with pytest.raises(ValueError, match=r"not found in the graph.*Candidate inputs: \['image:0'\]"):
        network.load_network(MNV2S, output_name="Openpose/nope")
    with pytest.raises(ValueError, match="expects 78 output channels.*got 57.*COCO_18"):
        network.load_network(MNV2S, pose_model="BODY_25")
    with pytest.raises(ValueError, match="pose_model"):
        network.load_network(MNV2S, pose_model="HAND")
    with pytest.raises(ValueError, match="normalization"):
        network.load_network(MNV2S, normalization="imagenet")


def test_saved_model_network(net, tmp_path):
    module = tf.Module()
    module.f = tf.function(
        lambda image: {"out": net.fn(image)},
        input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32, name="image")],
    )
    tf.saved_model.save(module, str(tmp_path / "sm"), signatures={"serving_default": module.f})
    loaded = network.load_network(tmp_path / "sm")
    assert loaded.channels == 57
    x = tf.random.uniform([1, 64, 80, 3], 0, 255, seed=3)
    np.testing.assert_allclose(loaded(x).numpy(), net(x).numpy(), atol=1e-5)


def test_batch_statistics_graph_runs_each_image_alone(net):
    """mobilenet_v2_small normalises with the statistics of its input batch (FusedBatchNorm,
    is_training=True): batched, each image must still get its own output."""
    thin = network.load_network(THIN_MODEL)
    assert net.per_image and not thin.per_image
    rng = np.random.default_rng(0)
    a, b = (tf.constant(rng.uniform(0, 255, (1, 64, 80, 3)).astype(np.float32)) for _ in range(2))
    alone = net(a).numpy()
    batched = net(tf.concat([a, b], 0)).numpy()
    np.testing.assert_allclose(batched[:1], alone, atol=1e-4)
    # Without the per-image rule the batch statistics would mix the two images:
    raw = net._run(tf.concat([a, b], 0)).numpy()
    assert np.abs(raw[:1] - alone).max() > 1e-3


def test_output_name_found_for_converted_caffe_names():
    assert network.OUTPUT_CANDIDATES[0] == network.DEFAULT_OUTPUT
    assert {"concat_stage7:0", "net_output:0"} <= set(network.OUTPUT_CANDIDATES)
