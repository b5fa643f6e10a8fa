"""OpenPose's output options in the Python API (tfpose.io, tfpose.draw, Estimator): output names,
COCO results JSON, --keypoint_scale, --number_people_max, part candidates, heatmaps, ControlNet-style
drawing. Expected values are OpenPose's own tables and rules (cited per test) or worked by hand."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tfpose import io

# ---------------------------------------------------------------------------------------------
# Output names


def test_single_inputs_keep_openpose_names():
    assert io.output_stems(["/a/x.jpg", "/b/y.png", "/c/clip.mp4"], [False, False, True]) == ["x", "y", "clip"]
    assert io.output_file_name("clip", 3, "keypoints", "json") == "clip_000000000003_keypoints.json"
    assert io.output_file_name("x", None, "rendered", "jpg") == "x_rendered.jpg"
    assert io.json_name("/v/video.mp4", 3) == "video_000000000003_keypoints.json"


def test_same_stem_inputs_get_distinct_predictable_names():
    inputs = ["a/x.jpg", "a/x.png", "b/x.jpg", "a/y.jpg"]
    assert io.output_stems(inputs) == ["x_jpg", "x_png", "x_jpg_2", "y"]
    # case-insensitive file systems would merge X and x
    assert io.output_stems(["X.jpg", "x.png"]) == ["X_jpg", "x_png"]
    # a numbered name never takes a name another input owns
    assert io.output_stems(["a/x.jpg", "b/x.jpg", "c/x_jpg_2.jpg"]) == ["x_jpg", "x_jpg_3", "x_jpg_2"]
    # no extension: the counter alone
    assert io.output_stems(["a/x", "b/x"]) == ["x", "x_2"]


def test_image_named_like_a_video_frame_is_distinct_from_the_frame():
    stems = io.output_stems(["clip.avi", "clip_000000000000.jpg"], [True, False])
    assert stems == ["clip_avi", "clip_000000000000_jpg"]
    frames = {io.frame_stem(stems[0], i) for i in range(3)}
    assert stems[1] not in frames
    # the same image name without such a video keeps its name
    assert io.output_stems(["clip_000000000000.jpg"]) == ["clip_000000000000"]


def test_every_output_name_is_distinct_over_many_clashes():
    rng = np.random.default_rng(0)
    names = [
        f"{d}/{s}.{e}"
        for d, s, e in zip(
            rng.choice(list("abc"), 300),
            rng.choice(["x", "X", "y", "x_jpg"], 300),
            rng.choice(["jpg", "png", "JPG"], 300),
            strict=True,
        )
    ]
    videos = list(rng.random(300) < 0.2)
    stems = io.output_stems(names, videos)
    outputs = []
    for s, v in zip(stems, videos, strict=True):
        outputs += [io.frame_stem(s, i).casefold() for i in range(3)] if v else [s.casefold()]
    assert len(outputs) == len(set(outputs))
    assert stems == io.output_stems(names, videos)  # deterministic
    with pytest.raises(ValueError, match="one per input"):
        io.output_stems(["a.jpg"], [True, False])
    with pytest.raises(ValueError, match="frame"):
        io.frame_stem("x", -1)


# ---------------------------------------------------------------------------------------------
# COCO results JSON

# OpenPose's cocoJsonSaver.cpp index lists (18 and 25 body parts)
OPENPOSE_COCO18 = (0, 15, 14, 17, 16, 5, 2, 6, 3, 7, 4, 11, 8, 12, 9, 13, 10)
OPENPOSE_BODY25 = (0, 16, 15, 18, 17, 5, 2, 6, 3, 7, 4, 12, 9, 13, 10, 14, 11)


def test_coco_order_matches_openpose_and_mpi_is_refused():
    assert io.coco_keypoint_order("COCO_18") == OPENPOSE_COCO18
    assert io.coco_keypoint_order("BODY_25") == OPENPOSE_BODY25
    with pytest.raises(ValueError, match="MPI_15.*no"):
        io.coco_keypoint_order("MPI_15")


def test_coco_results_format_and_pixel_conventions(tmp_path):
    kp = np.zeros((18, 3), np.float32)
    kp[0] = (10.5, 20.5, 0.9)  # nose
    kp[2] = (30.25, 40.0, 0.4)  # right shoulder
    person = type("P", (), {"keypoints": kp, "score": 0.75})()
    (res,) = io.coco_results(139, [person])
    assert res["image_id"] == 139 and res["category_id"] == 1 and res["score"] == 0.75
    got = np.array(res["keypoints"]).reshape(17, 3)
    assert list(got[0]) == [10.5, 20.5, 1] and list(got[6]) == [30.25, 40.0, 1]  # right_shoulder is COCO's 6
    assert (got[[1, 2, 3, 4, 5] + list(range(7, 17))] == 0).all()
    (shifted,) = io.coco_results(139, [person], pixel_convention="coco")
    assert shifted["keypoints"][:3] == [10.0, 20.0, 1]
    # a person with none of COCO's 17 keypoints (only the neck) is left out, as OpenPose does
    neck_only = np.zeros((18, 3), np.float32)
    neck_only[1] = (5, 5, 0.9)
    assert io.coco_results(1, [neck_only]) == []
    with pytest.raises(ValueError, match="pixel_convention"):
        io.coco_results(1, [kp], pixel_convention="centre")
    doc = json.loads(io.write_coco_json(tmp_path / "r.json", [res]).read_text())
    assert doc == [res]


def test_coco_image_id():
    assert io.coco_image_id("val2017/000000000139.jpg") == 139
    assert io.coco_image_id("COCO_val2014_000000000192.jpg") == 192
    assert io.coco_image_id("clip.mp4", 7) == 7
    with pytest.raises(ValueError, match="ends with"):
        io.coco_image_id("photo.jpg")


# ---------------------------------------------------------------------------------------------
# --keypoint_scale, --number_people_max


def test_keypoint_scale_by_hand():
    kp = np.array([[0.0, 0.0, 0.0], [50.0, 25.0, 0.5], [100.0, 50.0, 0.9]], np.float32)
    wh = (101, 51)  # (W - 1, H - 1) = (100, 50)
    np.testing.assert_array_equal(io.scale_keypoints(kp, 0, wh), kp)
    np.testing.assert_array_equal(io.scale_keypoints(kp, 2, wh), kp)
    np.testing.assert_allclose(io.scale_keypoints(kp, 3, wh), [[0, 0, 0], [0.5, 0.5, 0.5], [1, 1, 0.9]], rtol=1e-6)
    np.testing.assert_allclose(io.scale_keypoints(kp, 4, wh), [[0, 0, 0], [0, 0, 0.5], [1, 1, 0.9]], atol=1e-6)
    np.testing.assert_allclose(
        io.scale_keypoints(kp, 1, wh, scale_net_to_output=2.0), [[0, 0, 0], [25, 12.5, 0.5], [50, 25, 0.9]]
    )
    with pytest.raises(ValueError, match="keypoint_scale"):
        io.scale_keypoints(kp, 5, wh)


def _box_person(x0, y0, size, score=0.9):
    kp = np.zeros((18, 3), np.float32)
    kp[0] = (x0, y0, score)
    kp[1] = (x0 + size, y0 + size, score)
    return kp


def test_keep_top_people_follows_openpose_ranking():
    # keepTopNPeople.cpp's own example: scores [0, 0.5, 0.5, 0.5, 1.0], N = 2 -> keep the first 0.5
    # and the 1.0 (equal boxes, so the ranking is the score's), in the original order
    kps = np.stack([_box_person(0, 0, 10) for _ in range(5)])
    np.testing.assert_array_equal(io.keep_top_people(kps, np.array([0, 0.5, 0.5, 0.5, 1.0]), 2), [1, 4])
    # score x sqrt(area): a large person with a lower score beats a small one
    kps = np.stack([_box_person(0, 0, 2), _box_person(0, 0, 100)])
    np.testing.assert_array_equal(io.keep_top_people(kps, np.array([0.9, 0.3]), 1), [1])
    # parts at or below 0.05 do not count for the box
    low = _box_person(0, 0, 100, score=0.05)
    np.testing.assert_array_equal(
        io.keep_top_people(np.stack([low, _box_person(0, 0, 3)]), np.array([1.0, 0.1]), 1), [1]
    )
    np.testing.assert_array_equal(io.keep_top_people(kps, np.array([0.9, 0.3]), -1), [0, 1])


# ---------------------------------------------------------------------------------------------
# ControlNet-style drawing


def test_controlnet_drawing_colours_and_shapes():
    from tfpose.draw import draw, draw_controlnet

    kp = np.zeros((18, 3), np.float32)
    kp[1] = (50.5, 40.5, 0.9)  # neck (pixel 50, 40)
    kp[2] = (50.5, 80.5, 0.9)  # right shoulder straight below
    img = np.full((120, 100, 3), 200, np.uint8)
    out = draw(img, [kp], "COCO_18", style="controlnet")
    assert out.shape == img.shape and out.dtype == np.uint8
    rgb = out[:, :, ::-1].astype(int)
    # limb 0 (neck -> right shoulder) in ControlNet's first colour (255, 0, 0) dimmed by 0.6
    assert list(rgb[60, 50]) == [153, 0, 0]
    assert list(rgb[60, 53]) == [153, 0, 0] and list(rgb[60, 56]) == [0, 0, 0]  # stick half-width 4
    # joints drawn after dimming, radius 4, in the part's own colour (neck: colour 1, shoulder: 2)
    assert list(rgb[40, 50]) == [255, 85, 0] and list(rgb[80, 50]) == [255, 170, 0]
    assert list(rgb[40, 54]) == [255, 85, 0] and list(rgb[40, 56]) == [0, 0, 0]
    assert rgb[:20].max() == 0  # black canvas, not the image
    np.testing.assert_array_equal(draw_controlnet(img.shape, [kp]), out)
    # BODY_25 people are drawn with their 18 COCO_18 parts; MPI has no such parts
    b25 = np.zeros((25, 3), np.float32)
    b25[1], b25[2] = kp[1], kp[2]
    np.testing.assert_array_equal(draw_controlnet(img.shape, [b25], "BODY_25"), out)
    with pytest.raises(ValueError, match="COCO_18"):
        draw_controlnet(img.shape, [np.zeros((15, 3), np.float32)], "MPI_15")
    with pytest.raises(ValueError, match="style"):
        draw(img, [kp], style="sketch")
    with pytest.raises(ValueError, match="render_threshold"):
        draw(img, [kp], render_threshold=2.0)


def test_drawings_skip_non_finite_keypoints():
    from tfpose.draw import draw

    kp = np.zeros((18, 3), np.float32)
    kp[1] = (np.nan, 40.5, 0.9)
    kp[2] = (50.5, np.inf, 0.9)
    img = np.zeros((100, 100, 3), np.uint8)
    for style in ("openpose", "controlnet"):
        assert draw(img, [kp], style=style).max() == 0


def test_tfpose_draw_stays_the_function_whatever_was_imported(tmp_path):
    import subprocess
    import sys

    for first in ("import tfpose.draw", "from tfpose.draw import draw_controlnet", "import tfpose"):
        code = (
            f"{first}\nimport tfpose, types\nimport tfpose.draw\n"
            "assert isinstance(tfpose.draw, types.FunctionType) and tfpose.draw.__name__ == 'draw', tfpose.draw\n"
            "from tfpose.draw import RENDER_THRESHOLD\nprint('ok')"
        )
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert r.returncode == 0 and r.stdout.strip() == "ok", (first, r.stderr)
