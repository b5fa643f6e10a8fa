"""OpenPose's hand and face prototxts (shared/data/openpose_prototxt/{hand,face}_pose_deploy.prototxt)
converted with random weights match OpenCV's Caffe importer, as the body networks do in
test_convert.py (same helpers; reduced widths, output channels kept), and the converted graphs load as
hand / face networks of the estimator."""

from __future__ import annotations

import numpy as np
import pytest
from test_convert import PROTOTXT, RTOL, SIZES, FrozenGraph, _cv2_caffe, _images, opencv_forward, rel_err

from tfpose import models
from tfpose.convert import convert

from caffe_writer import random_layers, shrink_prototxt, write_caffemodel

PARTS = {"hand": ("hand_pose_deploy.prototxt", models.hand), "face": ("face_pose_deploy.prototxt", models.face)}


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    folder = tmp_path_factory.mktemp("small_hand_face")
    out = {}
    for i, (part, (name, table)) in enumerate(PARTS.items()):
        # widths >= 64 are divided by 8; the output layer (22 / 71 channels) keeps its width
        proto = shrink_prototxt(PROTOTXT / name, folder / name, keep_below=table().num_channels + 1)
        model = write_caffemodel(folder / f"{part}.caffemodel", random_layers(proto, seed=10 + i))
        out[part] = (proto, model)
    return out


@pytest.mark.parametrize("part", list(PARTS))
def test_frozen_matches_opencv(part, small, tmp_path):
    _cv2_caffe()
    proto, model = small[part]
    channels = PARTS[part][1]().num_channels
    summary = convert(proto, model, tmp_path / "net.pb", progress=False)
    assert summary.output_name == "Mconv7_stage6"  # the layer's name (its top blob is net_output)
    assert summary.output_channels == channels
    graph = FrozenGraph(tmp_path / "net.pb", "Mconv7_stage6")
    for shape in SIZES + [(2, 48, 48)]:
        images = _images(shape)
        ref = opencv_forward(proto, model, images)
        got = graph(images)
        assert got.shape == (shape[0], -(-shape[1] // 8), -(-shape[2] // 8), channels)
        assert rel_err(got, ref) < RTOL, (part, shape)


def test_converted_networks_load_as_hand_and_face(small, tmp_path):
    tf = pytest.importorskip("tensorflow")
    from tfpose import whole_body

    for part, (_, table) in PARTS.items():
        proto, model = small[part]
        convert(proto, model, tmp_path / f"{part}.pb", progress=False)
        net = whole_body.load_part_network(tmp_path / f"{part}.pb", table())
        assert net.channels == table().num_channels
        out = net(tf.zeros([1, 64, 64, 3]))
        assert out.shape == (1, 8, 8, table().num_channels)
    with pytest.raises(ValueError, match="expected 71 output channels.*got 22"):
        whole_body.load_part_network(tmp_path / "hand.pb", models.face())


def test_cli_runs_converted_hand_and_face_networks(small, tmp_path):
    """`tfpose estimate --hand --face` with converted (random-weight) OpenPose hand and face networks
    writes OpenPose JSON v1.3 with 63 / 63 / 210 numbers per person and keypoints inside each box."""
    pytest.importorskip("tensorflow")
    import json

    import cv2

    from tfpose import cli, numpy_ops

    from helpers import DATA

    for part in PARTS:
        proto, model = small[part]
        convert(proto, model, tmp_path / f"{part}.pb", progress=False)
    img = cv2.imread(str(DATA / "images" / "tf_pose_estimation" / "p2.jpg"))  # two people, hands and faces in view
    cv2.imwrite(str(tmp_path / "p2.png"), img)
    body = DATA / "models" / "tfpose_mobilenet_v2_small_graph_opt.pb"
    rc = cli.main(
        [
            "estimate",
            str(tmp_path / "p2.png"),
            "--model",
            str(body),
            "--hand",
            "--hand-model",
            str(tmp_path / "hand.pb"),
            "--face",
            "--face-model",
            str(tmp_path / "face.pb"),
            "--write-json",
            str(tmp_path / "out"),
            "--write-images",
            str(tmp_path / "img"),
            "--no-progress",
        ]
    )
    assert rc == 0
    doc = json.loads((tmp_path / "out" / "p2_keypoints.json").read_text())
    assert len(doc["people"]) >= 2
    filled = 0
    for p in doc["people"]:
        assert (len(p["hand_left_keypoints_2d"]), len(p["hand_right_keypoints_2d"]), len(p["face_keypoints_2d"])) == (
            63,
            63,
            210,
        )
        pose = np.asarray(p["pose_keypoints_2d"], np.float32).reshape(18, 3)
        boxes = list(numpy_ops.hand_boxes(pose, "COCO_18")) + [numpy_ops.face_boxes(pose, "COCO_18")]
        for key, box in zip(
            ("hand_left_keypoints_2d", "hand_right_keypoints_2d", "face_keypoints_2d"), boxes, strict=True
        ):
            kp = np.asarray(p[key]).reshape(-1, 3)
            if box[2] <= 40:
                continue
            x, y, w, _ = box
            assert (kp[:, 0] >= x - 1e-3).all() and (kp[:, 0] <= x + w).all()
            assert (kp[:, 1] >= y - 1e-3).all() and (kp[:, 1] <= y + w).all()
            filled += 1
    assert filled >= 3
    assert (tmp_path / "img" / "p2_rendered.png").exists()
