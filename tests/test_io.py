"""OpenPose JSON v1.3 writer and file naming, checked against real OpenPose output files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tfpose import io

from helpers import DATA

SIGN = DATA / "openpose_outputs" / "sign_language_sample"
COCO_EX = DATA / "openpose_outputs" / "coco_val2014_examples"


def test_schema_matches_real_openpose_v13(tmp_path):
    real = json.loads((SIGN / "video_000000000000_keypoints.json").read_text())
    kp = np.arange(25 * 3, dtype=np.float32).reshape(25, 3)
    path = io.write_json(tmp_path / "x_keypoints.json", [kp])
    ours = json.loads(path.read_text())
    assert list(ours) == list(real)  # version, people
    assert ours["version"] == real["version"] == 1.3
    # same fields in the same order as OpenPose writes them
    assert list(ours["people"][0]) == list(real["people"][0])
    assert ours["people"][0]["person_id"] == real["people"][0]["person_id"] == [-1]
    assert len(ours["people"][0]["pose_keypoints_2d"]) == len(real["people"][0]["pose_keypoints_2d"])
    assert all(ours["people"][0][k] == [] for k in ours["people"][0] if k not in ("person_id", "pose_keypoints_2d"))


def test_round_trip_and_precision(tmp_path):
    kp = np.array([[422.018, 305.919, 0.916581], [0, 0, 0], [1234.5678, 0.25, 1.0001]], np.float32)
    path = io.write_json(tmp_path / "a_keypoints.json", [kp, kp * 0])
    doc = io.read_json(path)
    assert len(doc["people"]) == 2
    np.testing.assert_allclose(doc["people"][0]["pose"], kp, rtol=1e-5)
    assert doc["people"][1]["pose"].shape == (3, 3)
    assert not path.with_name(path.name + ".tmp").exists()


def test_empty_people(tmp_path):
    doc = json.loads(io.write_json(tmp_path / "e.json", []).read_text())
    assert doc == {"version": 1.3, "people": []}


def test_reads_real_v10_and_v13_files():
    old = io.read_json(COCO_EX / "COCO_val2014_000000000192_keypoints.json")
    assert old["version"] == 1.0 and all(p["pose"].shape == (18, 3) for p in old["people"])
    new = io.read_json(SIGN / "video_000000000003_keypoints.json")
    assert all(p["pose"].shape == (25, 3) for p in new["people"])


def test_nonfinite_keypoint_is_written_as_missing_not_as_a_confident_point(tmp_path):
    # a NaN/Inf anywhere in (x, y, score) makes the whole keypoint missing (0, 0, 0): never a point
    # at the origin with its score kept; finite neighbours are untouched
    kp = np.array([[np.nan, 5.0, 0.5], [3.0, np.inf, 0.7], [1.0, 2.0, np.nan], [4.0, 6.0, 0.25]], np.float32)
    doc = json.loads(io.write_json(tmp_path / "n.json", [kp]).read_text())
    assert doc["people"][0]["pose_keypoints_2d"] == [0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 6, 0.25]
    assert io.person_dict(kp)["pose_keypoints_2d"][:3] == [0.0, 0.0, 0.0]
    coco = io.coco_results(1, [np.concatenate([kp, np.tile([[10.0, 20.0, 0.9]], (14, 1))]).astype(np.float32)])
    order = io.coco_keypoint_order("COCO_18")
    got = np.array(coco[0]["keypoints"]).reshape(17, 3)
    for j, part in enumerate(order):
        if part < 3:
            assert list(got[j]) == [0, 0, 0]
    cands = io.part_candidates_dict([np.array([[np.nan, 1, 0.9], [2, 3, 0.8]], np.float32)])
    assert cands == {"0": [2.0, 3.0, pytest.approx(0.8)]}


def test_names_match_openpose():
    # real OpenPose names: image stem + _keypoints, video stem + 12-digit frame + _keypoints
    assert io.json_name("/x/COCO_val2014_000000000192.jpg") == "COCO_val2014_000000000192_keypoints.json"
    assert (COCO_EX / io.json_name("COCO_val2014_000000000192.jpg")).exists()
    assert io.json_name("/v/video.mp4", 3) == "video_000000000003_keypoints.json"
    assert (SIGN / io.json_name(SIGN / "video.mp4", 3)).exists()
    with pytest.raises(ValueError, match="frame"):
        io.json_name("v.mp4", -1)


def test_bad_keypoints_shape():
    with pytest.raises(ValueError, match=r"\[P, 3\]"):
        io.person_dict(np.zeros((5, 2)))
