"""The ``tfpose`` command line (run in-process through cli.main, and --help as a console script)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import cv2
import pytest

from tfpose import cli

from helpers import DATA

MNV2S = str(DATA / "models" / "tfpose_mobilenet_v2_small_graph_opt.pb")
IMAGES = DATA / "images" / "tf_pose_estimation"


@pytest.fixture()
def folder(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    shutil.copy(IMAGES / "p1.jpg", d / "a.jpg")
    shutil.copy(IMAGES / "apink2.jpg", d / "b.jpg")
    (d / "broken.jpg").write_text("not an image")
    (d / "notes.txt").write_text("not an image either: reported too")
    return d


def test_help_for_newcomers():
    out = subprocess.run([sys.executable, "-m", "tfpose.cli", "estimate", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    for word in ("--model", "--write-json", "--net-resolution", "OpenPose", "folder"):
        assert word in out.stdout


def test_folder_with_a_bad_file(folder, tmp_path, capsys):
    out = tmp_path / "json"
    rc = cli.main(["estimate", str(folder), "--model", MNV2S, "--write-json", str(out), "--no-progress"])
    cap = capsys.readouterr()
    assert rc == 1  # two bad inputs: each named with its reason, counted in the summary
    assert "broken.jpg: " in cap.err and "notes.txt: " in cap.err and "not an image or video" in cap.err
    assert sorted(p.name for p in out.iterdir()) == ["a_keypoints.json", "b_keypoints.json"]
    doc = json.loads((out / "b_keypoints.json").read_text())
    assert doc["version"] == 1.3 and len(doc["people"]) > 0
    assert "2 frames" in cap.out and "frames/s" in cap.out and "2 input(s) skipped" in cap.out


def test_video_json_images_and_video(tmp_path, capsys):
    src = cv2.imread(str(IMAGES / "p1.jpg"))
    video = tmp_path / "clip.avi"
    w = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 5.0, (src.shape[1], src.shape[0]))
    for _ in range(3):
        w.write(src)
    w.release()
    rc = cli.main(
        [
            "estimate",
            str(video),
            "--model",
            MNV2S,
            "--write-json",
            str(tmp_path / "j"),
            "--write-images",
            str(tmp_path / "i"),
            "--write-video",
            str(tmp_path / "o.avi"),
            "--batch-size",
            "2",
        ]
    )
    assert rc == 0, capsys.readouterr().err
    names = sorted(p.name for p in (tmp_path / "j").iterdir())
    assert names == [f"clip_{i:012d}_keypoints.json" for i in range(3)]
    assert len(list((tmp_path / "i").iterdir())) == 3
    cap = cv2.VideoCapture(str(tmp_path / "o.avi"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 3
    cap.release()


def test_missing_input_and_bad_model(tmp_path, capsys):
    rc = cli.main(["estimate", str(tmp_path / "none.jpg"), "--model", MNV2S])
    assert rc == 1 and "no such file" in capsys.readouterr().err
    rc = cli.main(["estimate", str(IMAGES / "p1.jpg"), "--model", str(tmp_path / "missing.pb")])
    assert rc == 2 and "cannot load the model" in capsys.readouterr().err


def test_export_command(tmp_path, capsys):
    rc = cli.main(["export", MNV2S, str(tmp_path / "sm")])
    assert rc == 0 and (tmp_path / "sm" / "saved_model.pb").exists()


@pytest.mark.smoke
@pytest.mark.parametrize("command", [["estimate", "--sample", "--write-json", "out"], ["export", "sm"]])
def test_op_library_for_another_tensorflow_is_one_message_not_a_traceback(tmp_path, command):
    # As with a wheel built for another TensorFlow minor: the build info names a TensorFlow that is
    # not the running one (a fresh process: this one has loaded the op library already).
    code = (
        "import sys, tfpose._build_info as b\n"
        "b.TF_VERSION = '2.18.0'\n"
        "from tfpose import cli\n"
        "sys.exit(cli.main(sys.argv[1:]))\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code, *command], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    assert "tfpose: tfpose's TensorFlow ops were compiled against TensorFlow 2.18.0 " in r.stderr
    assert "Install the tfpose wheel built for TensorFlow" in r.stderr
