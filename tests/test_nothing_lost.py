"""Nothing lost, nothing hung (issue 21): real folders (FIFOs, broken links, names that are not
UTF-8, a file reached twice), real videos (a damaged frame, a header that lies, two videos, other
sizes), real process control (SIGTERM, a file-size limit standing in for a full disk), and the
outputs (atomic, checked, unique COCO ids). One test per kind; each fails on 42fad21."""

from __future__ import annotations

import errno
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from tfpose import cli

import damaged_video
from helpers import DATA

MNV2S = str(DATA / "models" / "tfpose_mobilenet_v2_small_graph_opt.pb")
IMAGES = DATA / "images" / "tf_pose_estimation"
FAST = ["--model", MNV2S, "--net-resolution=-1x160", "--no-progress"]
LATIN1 = b"caf\xe9"


def _person_video(path, frames: int, size=(320, 342), fps=25.0, damaged=(), header_frames=None) -> Path:
    """A video of p1.jpg (one person) drifting sideways; MJPG in AVI; damaged frames destroyed."""
    src = cv2.resize(cv2.imread(str(IMAGES / "p1.jpg")), size)
    # OpenCV's writer is given an ASCII name (a name that is not UTF-8 would crash its bindings)
    tmp = Path(tempfile.mkdtemp(prefix="tfpose-test-")) / "video.avi"
    w = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    for i in range(frames):
        w.write(np.roll(src, 3 * i, axis=1))
    w.release()
    damaged_video.damage(tmp, frames, damaged, header_frames)
    shutil.move(tmp, path)
    tmp.parent.rmdir()
    return Path(path)


def _child_env():
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")


def _default_signals():
    # the child's signal handling is set here, whatever the test runner's (nohup ignores SIGINT)
    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, signal.SIG_DFL)


def _cli(args, timeout=300, preexec=_default_signals):
    return subprocess.run(
        [sys.executable, "-m", "tfpose.cli", "estimate", *args],
        capture_output=True,
        timeout=timeout,
        env=_child_env(),
        preexec_fn=preexec,
    )


def _frames_in(video) -> int:
    cap = cv2.VideoCapture(str(video))
    n = 0
    while cap.read()[0]:
        n += 1
    cap.release()
    return n


# ---------------------------------------------------------------------------------------------
# Special files


@pytest.mark.timeout(300)
def test_special_files_are_skipped_with_their_reason_never_opened(tmp_path, capsys):
    """A FIFO in a folder hung the run for ever; a FIFO or /dev/zero named on the command line was
    "no such file or folder"; broken links and link loops were "permission denied"."""
    d = tmp_path / "in"
    d.mkdir()
    shutil.copy(IMAGES / "p1.jpg", d / "a.jpg")
    os.mkfifo(d / "pipe.jpg")
    os.symlink(d / "nowhere.jpg", d / "broken.jpg")
    os.symlink(d / "loop1", d / "loop2")
    os.symlink(d / "loop2", d / "loop1")
    os.mkfifo(tmp_path / "named.avi")
    rc = cli.main(["estimate", str(d), str(tmp_path / "named.avi"), "/dev/zero", *FAST])
    cap = capsys.readouterr()
    assert rc == 1, cap.err
    assert "pipe.jpg: not a regular file (a named pipe (FIFO))" in cap.err
    assert "named.avi: not a regular file (a named pipe (FIFO))" in cap.err
    assert "/dev/zero: not a regular file (a character device)" in cap.err
    assert "broken.jpg: broken symbolic link" in cap.err
    assert "loop1: symbolic link loop" in cap.err and "loop2: symbolic link loop" in cap.err
    assert "permission denied" not in cap.err and "no such file" not in cap.err
    assert "1 frame written" in cap.out and "6 input(s) skipped" in cap.out
    assert cli._NO_OUTPUT_HINT in cap.err  # no output option: the newcomer is told


@pytest.mark.timeout(300)
def test_a_special_file_as_the_model_is_refused_never_opened(tmp_path):
    """--model /dev/zero was read until the OOM killer; a FIFO as --model (or as a SavedModel's
    saved_model.pb) hung the run: refused with the input files' reason, exit 2."""
    os.mkfifo(tmp_path / "net.pb")
    (tmp_path / "sm").mkdir()
    os.mkfifo(tmp_path / "sm" / "saved_model.pb")
    # in a child with its memory capped, so that the old endless read of /dev/zero or hang on a FIFO
    # is bounded
    script = (
        "import sys\n"
        "from tfpose.network import load_network\n"
        "for m in sys.argv[1:]:\n"
        "    try:\n"
        "        load_network(m)\n"
        "    except ValueError as e:\n"
        "        print(e)\n"
    )

    def capped():
        _default_signals()
        resource.setrlimit(resource.RLIMIT_DATA, (6 << 30, 6 << 30))

    try:
        r = subprocess.run(
            [sys.executable, "-c", script, "/dev/zero", str(tmp_path / "sm")],
            capture_output=True,
            timeout=120,
            env=_child_env(),
            preexec_fn=capped,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("load_network hung on a special file")
    assert b"/dev/zero': not a regular file (a character device)" in r.stdout, r.stderr[-2000:]
    assert b"saved_model.pb: not a regular file (a named pipe (FIFO))" in r.stdout, r.stderr[-2000:]
    # the CLI in a child, so that the old hang on the FIFO is bounded
    try:
        r = _cli(["--sample", "--model", str(tmp_path / "net.pb"), "--no-progress"], timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail("tfpose estimate --model FIFO hung")
    assert r.returncode == 2, r.stderr
    assert b"net.pb': not a regular file (a named pipe (FIFO))" in r.stderr


# ---------------------------------------------------------------------------------------------
# Names that are not UTF-8


@pytest.mark.slow
def test_names_that_are_not_utf8_through_the_cli(tmp_path):
    """A Latin-1 caf\\xe9.jpg in a folder killed the run with SIGSEGV before anything was written."""
    root = os.fsencode(tmp_path)
    d = root + b"/in-" + LATIN1
    os.mkdir(d)
    shutil.copy(IMAGES / "p1.jpg", os.fsdecode(d + b"/" + LATIN1 + b".jpg"))
    _person_video(os.fsdecode(d + b"/" + LATIN1 + b".avi"), 3, size=(160, 171))
    out = os.fsdecode(root + b"/out-" + LATIN1)
    r = _cli(
        [
            os.fsdecode(d),
            *FAST,
            "--write-json",
            out + "/json",
            "--write-images",
            out + "/img",
            "--write-video",
            out + "/" + os.fsdecode(LATIN1 + b".avi"),
            "--write-coco-json",
            out + "/coco.json",
        ]
    )
    err = r.stderr.decode("utf-8", "replace")
    assert r.returncode == 0, err
    json_names = sorted(os.listdir(os.fsencode(out) + b"/json"))
    assert json_names == [LATIN1 + b"_avi_%012d_keypoints.json" % i for i in range(3)] + [
        LATIN1 + b"_jpg_keypoints.json"
    ]
    assert sorted(os.listdir(os.fsencode(out) + b"/img"))[-1] == LATIN1 + b"_jpg_rendered.png"
    from tfpose.sources import read_frames

    assert sum(im is not None for _, im in read_frames(out + "/" + os.fsdecode(LATIN1 + b".avi"))) == 4
    mapping = json.loads(Path(out, "coco_image_ids.json").read_text())
    assert {m["file"].rsplit("/", 1)[1] for m in mapping} == {"caf\\xe9.avi", "caf\\xe9.jpg"}
    assert "Traceback" not in err


# ---------------------------------------------------------------------------------------------
# Damaged frames, a header that lies, two videos, other sizes, tracking, COCO ids, inputs twice


def _mixed_inputs(tmp):
    """A folder of two videos of one size (the first with frame 4 of 10 damaged and a header claiming
    2**31 - 1 frames, 25 fps; the second 50 fps) and a photo of another size and aspect named with a
    COCO number; the photo again on the command line and through a symbolic link; cat.jpg (a name
    without a number). Returns the command-line inputs."""
    d = tmp / "in"
    d.mkdir()
    _person_video(d / "v1.avi", 10, size=(320, 342), fps=25.0, damaged=(4,), header_frames=2**31 - 1)
    _person_video(d / "v2.avi", 4, size=(320, 342), fps=50.0)  # same size: only its time restarts
    photo = cv2.imread(str(IMAGES / "p1.jpg"))
    wide = np.full((280, 400, 3), 128, np.uint8)  # another size and aspect, grey around the person
    wide[24 : 24 + photo.shape[0], 90 : 90 + photo.shape[1]] = photo
    cv2.imwrite(str(d / "x_000000000001.jpg"), wide)  # sorted after the videos
    cv2.imwrite(str(tmp / "cat.jpg"), cv2.imread(str(IMAGES / "p1.jpg")))  # the same photo, another file
    os.symlink(d / "x_000000000001.jpg", tmp / "link.jpg")
    return [str(d), str(d / "x_000000000001.jpg"), str(tmp / "link.jpg"), str(tmp / "cat.jpg")]


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory):
    """One CLI run (a child process) as a new user makes it over :func:`_mixed_inputs`: tracking,
    JSON and one video."""
    tmp = tmp_path_factory.mktemp("mixed")
    out = tmp / "out"
    r = _cli(
        [
            *_mixed_inputs(tmp),
            *FAST,
            "--tracking",
            "--write-json",
            str(out / "json"),
            "--write-video",
            str(out / "all.avi"),
        ]
    )
    return r.returncode, r.stdout.decode(), r.stderr.decode(), out


@pytest.fixture(scope="module")
def coco_run(tmp_path_factory):
    """The same inputs with --write-coco-json (and JSON, to name what was written)."""
    tmp = tmp_path_factory.mktemp("coco")
    out = tmp / "out"
    r = _cli(
        [*_mixed_inputs(tmp), *FAST, "--write-json", str(out / "json"), "--write-coco-json", str(out / "coco.json")]
    )
    return r.returncode, r.stdout.decode(), r.stderr.decode(), out


def test_a_damaged_frame_does_not_end_the_video(mixed_run):
    """Frame 4 of 10 damaged: frames 5-9 were never processed and the run exited 0 with a note."""
    rc, stdout, stderr, out = mixed_run
    names = sorted(p.name for p in (out / "json").glob("v1_*"))
    assert names == [f"v1_{i:012d}_keypoints.json" for i in range(10) if i != 4], stderr
    assert "v1.avi: 1 frame could not be decoded (frame 4)" in stderr
    assert "1 frame undecodable" in stdout and rc == 1


def test_the_summary_reconciles_expected_written_failed(mixed_run):
    """Expected: 10 + 4 video frames (the header's 2**31 - 1 changes nothing) + 2 photos."""
    rc, stdout, stderr, out = mixed_run
    assert "15 frames written" in stdout and "16 expected" in stdout, stdout
    assert "unaccounted" not in stderr and rc == 1  # 1: the damaged frame


def test_inputs_counted_twice_are_read_once(mixed_run):
    rc, stdout, stderr, out = mixed_run
    photos = sorted(p.name for p in (out / "json").glob("x_*"))
    assert photos == ["x_000000000001_keypoints.json"], photos  # once, not _2 and _3 copies
    assert "x_000000000001.jpg is given twice: read once" in stderr
    assert "link.jpg is the same file as" in stderr


def test_tracking_restarts_per_video_with_ids_unique(mixed_run):
    """--tracking over two videos died in the writer thread (the second video's time restarts)."""
    rc, stdout, stderr, out = mixed_run
    assert "never decreasing" not in stderr and "Traceback" not in stderr

    def ids(prefix):
        return {
            pid
            for p in (out / "json").glob(prefix + "*")
            for person in json.loads(p.read_text())["people"]
            for pid in person["person_id"]
        }

    v1, v2, photo, cat = ids("v1_"), ids("v2_"), ids("x_"), ids("cat")
    assert v1 and v2 and photo and cat and -1 not in v1 | v2 | photo | cat
    assert not (v1 & v2) and not ((v1 | v2) & (photo | cat)) and not (photo & cat)  # never reused


def test_mixed_sizes_are_letterboxed_at_the_first_videos_rate(mixed_run):
    """All frames were squashed to the first input's size and written at 10 fps."""
    rc, stdout, stderr, out = mixed_run
    cap = cv2.VideoCapture(str(out / "all.avi"))
    assert cap.get(cv2.CAP_PROP_FPS) == pytest.approx(25.0)
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(f)
    assert len(frames) == 15
    h, w = frames[0].shape[:2]
    assert (w, h) == (320, 342)  # the first frame's size (v1)
    wide = frames[13]  # the photo (400x280), after v1's 9 frames and v2's 4: letterboxed, bars above and below
    assert wide.shape[:2] == (h, w)
    bar = int(round((h - 280 * 320 / 400) / 2))
    assert wide[: bar - 2].max() <= 16 and wide[h - bar + 2 :].max() <= 16  # black bars (MJPG noise)
    assert wide[h // 2].mean() > 40  # the picture between them


def test_coco_ids_unique_with_a_mapping(coco_run):
    """cat.jpg (no number) stopped the run; 000000000001.jpg and frame 1 of a video shared id 1."""
    rc, stdout, stderr, out = coco_run
    assert rc == 1, stderr  # 1: the damaged frame
    results = json.loads((out / "coco.json").read_text())
    mapping = json.loads((out / "coco_image_ids.json").read_text())
    assert len(mapping) == 15 and len({m["image_id"] for m in mapping}) == 15
    by_name = {(Path(m["file"]).name, m["frame"]): m["image_id"] for m in mapping}
    assert by_name[("x_000000000001.jpg", None)] == 1  # COCO's number kept
    assert by_name[("v1.avi", 0)] == 0 and by_name[("v1.avi", 1)] != 1  # frame 1's index is taken
    assert ("cat.jpg", None) in by_name
    assert {r["image_id"] for r in results} <= set(by_name.values())


# ---------------------------------------------------------------------------------------------
# Stopping


@pytest.mark.slow
def test_sigterm_stops_like_ctrl_c(tmp_path):
    """SIGTERM left an mp4 without its index (0 readable frames) and no COCO file."""
    video = _person_video(tmp_path / "long.avi", 200, size=(320, 342))
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tfpose.cli",
            "estimate",
            str(video),
            *FAST,
            "--write-json",
            str(out / "j"),
            "--write-video",
            str(out / "v.mp4"),
            "--write-coco-json",
            str(out / "c.json"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_child_env(),
        preexec_fn=_default_signals,
    )
    try:
        deadline = time.monotonic() + 240
        while not ((out / "j").exists() and len(list((out / "j").glob("*.json"))) >= 3):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 143, stderr
    written = len(list((out / "j").glob("*.json")))
    assert 3 <= written < 200
    assert _frames_in(out / "v.mp4") == written  # finalised: it plays, every frame written is in it
    assert len(json.loads((out / "c_image_ids.json").read_text())) == written
    assert json.loads((out / "c.json").read_text()) is not None
    assert "stopped by SIGTERM" in stdout and "Traceback" not in stderr
    assert not [p for p in out.rglob("*") if "tfpose-tmp" in p.name]


# ---------------------------------------------------------------------------------------------
# Write failures: a file-size limit (RLIMIT_FSIZE, as `ulimit -f`) in the child stands in for a full disk


def _limit_file_size(n_bytes):
    def preexec():
        _default_signals()
        resource.setrlimit(resource.RLIMIT_FSIZE, (n_bytes, n_bytes))

    return preexec


@pytest.mark.slow
def test_write_failures_name_the_file_and_cause_and_leave_nothing(tmp_path):
    """Heatmaps on a full disk: numpy's "requested and written", a 5 MB *.npy.tmp.npy left behind;
    a video that outgrew the disk: 17 of 40 frames, exit 0, no message."""
    video = _person_video(tmp_path / "clip.avi", 40, size=(320, 342))
    heat = tmp_path / "heat"
    r = _cli([str(video), *FAST, "--write-heatmaps", str(heat)], preexec=_limit_file_size(2_000_000))
    err = r.stderr.decode()
    assert r.returncode == 2, err
    assert "cannot write" in err and "clip_000000000000_pose_heatmaps.npy: file too large" in err
    assert "Traceback" not in err and "requested" not in err
    assert not [p for p in heat.iterdir() if "tmp" in p.name or p.suffix == ".npy"]
    r = _cli([str(video), *FAST, "--write-video", str(tmp_path / "o.avi")], preexec=_limit_file_size(300_000))
    err = r.stderr.decode()
    assert r.returncode == 2, err
    assert "o.avi: the video holds" in err and "of the 40 frames written (file too large)" in err
    assert not (tmp_path / "o.avi").exists() and not list(tmp_path.glob(".o.avi*"))


@pytest.mark.timeout(300)
def test_a_video_cut_inside_its_last_frame_is_an_error(tmp_path):
    """A limit (``ulimit -f``, a full disk) that cut the AVI inside its last frame or its index let
    every packet demux: the truncated file was kept, exit 0. Now: OutputError, the temporary removed."""
    script = (
        "import sys, resource, numpy as np\n"
        "from tfpose.outputs import VideoOutput, OutputError\n"
        "lim = int(sys.argv[1])\n"
        "if lim: resource.setrlimit(resource.RLIMIT_FSIZE, (lim, lim))\n"
        "rng = np.random.default_rng(0)\n"
        "v = VideoOutput(sys.argv[2], 'MJPG', 25)\n"
        "for i in range(10):\n"
        "    v.write(rng.integers(0, 255, (120, 160, 3), np.uint8))\n"
        "try:\n"
        "    print('ok', v.close())\n"
        "except OutputError as e:\n"
        "    print('error', e)\n"
    )

    def run(limit, out):
        return subprocess.run(
            [sys.executable, "-c", script, str(limit), str(out)], capture_output=True, timeout=120, env=_child_env()
        ).stdout.decode()

    whole = tmp_path / "whole.avi"
    assert run(0, whole).startswith("ok 10")
    for short in (10, 3000):  # in the index, in the last frame
        out = tmp_path / f"cut{short}.avi"
        said = run(whole.stat().st_size - short, out)
        assert said.startswith("error") and "cut short" in said and "file too large" in said, said
        assert not out.exists() and not list(tmp_path.glob(f".cut{short}*"))
    # a full disk leaves no limit to see: the AVI's RIFF header tells the size it should have
    from tfpose.outputs import _cut_short

    cut = tmp_path / "disk_full.avi"
    cut.write_bytes(whole.read_bytes()[:-3000])
    assert _cut_short(whole) is None
    assert f"{cut.stat().st_size} of {whole.stat().st_size} bytes written" in _cut_short(cut)


def test_no_two_outputs_share_a_path(tmp_path, capsys):
    """--write-coco-json sj/golf_keypoints.json --write-json sj: the COCO file silently replaced the
    OpenPose JSON of golf.jpg (or of a video's frame). Now refused before any work, both named."""
    shutil.copy(IMAGES / "p1.jpg", tmp_path / "golf.jpg")
    video = _person_video(tmp_path / "clip.avi", 3, size=(64, 64))
    sj = tmp_path / "sj"
    for coco, folder_flag in (
        (sj / "golf_keypoints.json", "--write-json"),
        (sj / "clip_000000000002_keypoints.json", "--write-json"),
        (sj / "golf_pose_heatmaps.npy", "--write-heatmaps"),
    ):
        rc = cli.main(
            [
                "estimate",
                str(tmp_path / "golf.jpg"),
                str(video),
                *FAST,
                "--write-coco-json",
                str(coco),
                folder_flag,
                str(sj),
            ]
        )
        err = capsys.readouterr().err
        assert rc == 2, err
        assert f"--write-coco-json {coco} and {folder_flag} {sj}: both would write {coco}" in err
        assert not coco.exists()
    # names that only look alike are fine
    rc = cli.main(
        [
            "estimate",
            str(tmp_path / "golf.jpg"),
            *FAST,
            "--write-coco-json",
            str(sj / "other_keypoints.json"),
            "--write-json",
            str(sj),
        ]
    )
    assert rc == 0, capsys.readouterr().err
    assert (sj / "golf_keypoints.json").exists() and (sj / "other_keypoints.json").exists()


def test_image_and_video_formats_are_proved_before_any_work(tmp_path, capsys):
    """--write-images-format exr raised cv2.error (traceback, rc 1); pbm passed the check and failed at
    the first drawing; --write-video a.gif / out.jpg kept one frame. All refused before any work."""
    img = str(IMAGES / "p1.jpg")
    for fmt in ("exr", "pbm", ".pgm"):
        rc = cli.main(["estimate", img, *FAST, "--write-images", str(tmp_path / "d"), "--write-images-format", fmt])
        err = capsys.readouterr().err
        assert rc == 2, err
        assert f"--write-images-format: expected an image format OpenCV writes (png, jpg, bmp, ...), got {fmt!r}" in err
    for name in ("a.gif", "out.jpg"):
        rc = cli.main(["estimate", img, *FAST, "--write-video", str(tmp_path / name)])
        err = capsys.readouterr().err
        assert rc == 2, err
        assert f"--write-video {tmp_path / name}: OpenCV's VideoWriter cannot write" in err
        assert not list(tmp_path.glob("*" + Path(name).suffix))


def test_the_summary_counts_by_one_rule(tmp_path, capsys, monkeypatch):
    """A 1x1 image was both "1 input(s) skipped" and "1 frame skipped"; a FIFO reached through its
    folder and by name was skipped (and counted) twice; a run stopped by a write failure printed a
    summary of a complete run."""
    odd = tmp_path / "odd"
    odd.mkdir()
    cv2.imwrite(str(odd / "one.png"), np.zeros((1, 1, 3), np.uint8))
    os.mkfifo(odd / "pipe.jpg")
    img = str(IMAGES / "p1.jpg")
    rc = cli.main(["estimate", str(odd / "one.png"), img, *FAST])
    cap = capsys.readouterr()
    assert rc == 1, cap.err
    assert "1 frame written" in cap.out and "2 expected, 1 input(s) skipped" in cap.out
    assert "frame skipped" not in cap.out
    rc = cli.main(["estimate", str(odd), str(odd / "pipe.jpg"), img, *FAST])
    cap = capsys.readouterr()
    assert rc == 1, cap.err
    assert cap.err.count("pipe.jpg: not a regular file") == 1, cap.err
    assert "2 input(s) skipped" in cap.out, cap.out  # one.png, pipe.jpg

    from tfpose import outputs

    real_close, calls = outputs.VideoOutput.close, []

    def full(self):  # the probe before the run closes fine; the run's video does not
        calls.append(self.path)
        if len(calls) == 1:
            return real_close(self)
        self.abort()
        raise outputs.OutputError(self.path, "disk full")

    monkeypatch.setattr(outputs.VideoOutput, "close", full)
    rc = cli.main(["estimate", img, *FAST, "--write-video", str(tmp_path / "v.avi")])
    cap = capsys.readouterr()
    assert rc == 2, cap.err
    summary = [line for line in cap.out.splitlines() if "frames/s" in line]
    assert len(summary) == 1 and "stopped: cannot write" in summary[0] and "disk full" in summary[0], cap.out


def test_a_refused_run_leaves_no_folder_it_made(tmp_path, capsys):
    """--write-json new/json --write-video ro/v.mp4 (a read-only folder) stopped with exit 2 but left
    new/json behind; so did a model that could not be loaded."""
    ro = tmp_path / "ro"
    ro.mkdir()
    (ro / "v.mp4").mkdir()  # a folder in the way of the video: refused after new/json was made
    img = str(IMAGES / "p1.jpg")
    rc = cli.main(
        ["estimate", img, *FAST, "--write-json", str(tmp_path / "new" / "json"), "--write-video", str(ro / "v.mp4")]
    )
    assert rc == 2, capsys.readouterr().err
    assert not (tmp_path / "new").exists()
    rc = cli.main(["estimate", img, "--model", "/dev/zero", "--write-images", str(tmp_path / "a" / "b")])
    assert rc == 2, capsys.readouterr().err
    assert not (tmp_path / "a").exists()


def test_a_failed_coco_write_is_one_message_exit_2(tmp_path, capsys, monkeypatch):
    """The final COCO file's failure was an OSError traceback with exit 1."""
    from tfpose import outputs

    real_open = open

    class Full:
        def __init__(self, f):
            self.f = f

        def write(self, data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def __enter__(self):
            return self

        def __exit__(self, *a):
            self.f.close()

    def fake_open(path, mode="r", *a, **k):
        f = real_open(path, mode, *a, **k)
        return Full(f) if "c.json" in str(path) and "w" in mode else f

    monkeypatch.setattr(outputs, "open", fake_open, raising=False)
    rc = cli.main(["estimate", str(IMAGES / "p1.jpg"), *FAST, "--write-coco-json", str(tmp_path / "c.json")])
    cap = capsys.readouterr()
    assert rc == 2 and "c.json: disk full" in cap.err and "Traceback" not in cap.err
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # neither the file nor its temporary


def test_atomic_outputs_remove_their_temporary_and_name_the_cause(tmp_path):
    from tfpose import outputs

    target = tmp_path / "x.png"
    with pytest.raises(RuntimeError), outputs.atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("killed mid-write")
    assert not any(tmp_path.iterdir())
    with pytest.raises(outputs.OutputError, match=r"cannot write .*x\.png: disk full"), outputs.atomic_path(target):
        raise OSError(errno.ENOSPC, "No space left on device")
    assert not any(tmp_path.iterdir())
    outputs.write_image(target, np.zeros((4, 5, 3), np.uint8))
    assert cv2.imread(str(target)).shape == (4, 5, 3) and [p.name for p in tmp_path.iterdir()] == ["x.png"]
    with pytest.raises(outputs.OutputError, match="cannot encode"):
        outputs.write_image(tmp_path / "y.nope", np.zeros((4, 5, 3), np.uint8))


def test_video_output_letterboxes_and_checks_what_was_written(tmp_path):
    from tfpose.outputs import VideoOutput, letterbox

    box = letterbox(np.full((10, 40, 3), 200, np.uint8), (40, 40))  # wide into square: bars above/below
    assert box.shape == (40, 40, 3) and box[:14].max() == 0 and box[26:].max() == 0 and box[20].min() == 200
    v = VideoOutput(tmp_path / "v.avi", "MJPG", 7.0)
    v.write(np.zeros((48, 64, 3), np.uint8))
    v.write(np.zeros((100, 30, 3), np.uint8))
    assert not (tmp_path / "v.avi").exists()  # nothing under the final name before close
    assert v.close() == 2 and _frames_in(tmp_path / "v.avi") == 2
    assert [p.name for p in tmp_path.iterdir()] == ["v.avi"]


# ---------------------------------------------------------------------------------------------
# The Python API: Estimator.stream over a video with a damaged frame


def test_estimator_stream_goes_past_a_damaged_frame(tmp_path):
    from tfpose import Estimator
    from tfpose.sources import VideoSource

    video = _person_video(tmp_path / "d.avi", 8, size=(160, 171), damaged=(2,))
    src = VideoSource(video)
    est = Estimator(MNV2S, net_resolution="-1x160")
    results = list(est.stream(f.image for f in src))
    assert len(results) == 7 and src.undecodable == [2] and src.end_reason == "end of video"


# ---------------------------------------------------------------------------------------------
# Export never writes over its inputs


def test_export_refuses_to_write_over_its_inputs(tmp_path, capsys):
    """`tfpose export net net` and `tfpose export net` replaced the user's SavedModel, exit 0."""
    net = tmp_path / "net"
    net.mkdir()
    (net / "saved_model.pb").write_bytes(b"the user's network")
    for argv in (["export", str(net), str(net)], ["export", str(net)], ["export", str(net), str(net / "inner")]):
        assert cli.main(argv) == 2
        err = capsys.readouterr().err
        assert "export failed" in err and ("never writes over its inputs" in err or "not empty" in err), err
    assert [p.name for p in net.iterdir()] == ["saved_model.pb"]
    assert (net / "saved_model.pb").read_bytes() == b"the user's network"
    from tfpose.export import check_export_dir

    with pytest.raises(FileExistsError, match="never writes over its inputs"):
        check_export_dir(tmp_path, [net])  # a folder holding an input


# ---------------------------------------------------------------------------------------------
# Drawing far-off points


def test_draw_far_off_finite_points():
    """A finite keypoint at (3e9, 3e9) raised OpenCV's "Overload resolution failed"."""
    from tfpose.draw import draw

    img = np.zeros((100, 120, 3), np.uint8)
    kp = np.zeros((18, 3), np.float32)
    kp[:, 2] = 0.9
    kp[:, :2] = (60, 50)
    kp[0, :2] = (20, 30)
    kp[1, :2] = (3e9, 3e9)
    kp[2, :2] = (-3e9, 40)
    kp[3, :2] = (1e30, -1e30)
    for style in ("openpose", "controlnet"):
        out = draw(img, [kp], "COCO_18", style=style)
        assert out.shape == img.shape and out.any()
    # a limb to a far-off point is drawn where it crosses the canvas: along its line to the edge
    far = np.zeros((18, 3), np.float32)
    far[[1, 2], 2] = 0.9  # neck -> right shoulder only
    far[1, :2] = (60, 50)
    far[2, :2] = (60 + 3e9, 50 + 3e9)  # down-right at 45 degrees, far off
    out = draw(img, [far], "COCO_18")
    assert out[94, 104].any() and out[70, 80].any()  # on the line y = x - 10, up to the canvas edge
    assert not out[95, 5].any() and not out[5, 110].any()  # nothing elsewhere


# ---------------------------------------------------------------------------------------------
# A test suite that cannot hang; small misses


def test_every_test_has_a_time_limit():
    import tomllib

    cfg = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
    opts = cfg["tool"]["pytest"]["ini_options"]
    assert int(opts["timeout"]) > 0
    import pytest_timeout  # noqa: F401  (installed by install.sh --test)


@pytest.mark.slow
def test_the_ctrl_c_test_passes_with_sigint_ignored():
    """Run in the background (SIGINT ignored, as under nohup) it waited for ever."""
    here = Path(__file__).resolve().parent

    def ignore_sigint():
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            str(here / "test_stream.py::test_runner_ctrl_c_finishes_what_is_decoded_then_stops"),
            "--timeout",
            "120",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=ignore_sigint,
        cwd=here.parent,
    )
    assert r.returncode == 0, r.stdout[-2000:]


@pytest.mark.slow
def test_newcomer_misses(tmp_path):
    d = tmp_path / "photos"
    d.mkdir()
    shutil.copy(IMAGES / "p1.jpg", d / "golf.jpg")
    r = _cli([str(d / "golf.jpg"), *FAST])
    err = r.stderr.decode()
    assert r.returncode == 0 and cli._NO_OUTPUT_HINT in err
    assert "1 frame written" in r.stdout.decode() and "1 frames written" not in r.stdout.decode()
    assert err.count("oneDNN custom operations are on") <= 1  # TensorFlow's notice, once
    r = _cli([str(d), *FAST, "--write-images", str(d)])
    assert r.returncode == 0
    assert f"--write-images {d} holds inputs of this run" in r.stderr.decode()


def test_coco_image_id_rule():
    from tfpose.io import CocoImageIds

    ids = CocoImageIds(["a/000000000139.jpg", "b/139.png", "cat.jpg", "x7.jpg"])
    got = [
        ids.assign("a/000000000139.jpg"),
        ids.assign("b/139.png"),  # 139 taken by the first: the next free id
        ids.assign("cat.jpg"),
        ids.assign("clip.mp4", 0),
        ids.assign("clip.mp4", 7),  # 7 belongs to x7.jpg
        ids.assign("clip.mp4", 139),
        ids.assign("x7.jpg"),
    ]
    assert got == [139, 140, 141, 0, 142, 143, 7]
    assert [m["image_id"] for m in ids.mapping] == got and ids.mapping[3] == {
        "file": "clip.mp4",
        "frame": 0,
        "image_id": 0,
    }


def test_write_video_fps_is_checked_first(tmp_path, capsys):
    base = ["estimate", str(IMAGES / "p1.jpg"), "--model", "/nonexistent/model.pb", "--no-progress"]
    for extra, words in (
        (["--write-video", str(tmp_path / "v.avi"), "--write-video-fps", "0"], "--write-video-fps: expected"),
        (["--write-video-fps", "30"], "expected --write-video too"),
    ):
        assert cli.main(base + extra) == 2
        err = capsys.readouterr().err
        assert words in err and "cannot load the model" not in err, err


# ---------------------------------------------------------------------------------------------
# H.264 (a decoder that gives frames late): the frames after a cut keep their names


@pytest.mark.timeout(300)
def test_h264_frames_after_a_cut_are_written_under_their_own_index(tmp_path):
    """openpose_media/video.avi (an MP4, H.264 with B-frames) cut inside its 49th frame: frames 46
    and 47 were written as 47 and 48 (frame 47's drawing under 48's name), frame 46 reported
    undecodable, exit 1. Ground truth: the same frames of the intact file in the same run."""
    import damaged_video

    video = DATA / "images" / "openpose_media" / "video.avi"
    cut = damaged_video.damage_mp4(video, tmp_path / "cut.mp4", keep=300_000)
    shutil.copyfile(video, tmp_path / "whole.mp4")
    out = tmp_path / "out"
    r = _cli(
        [str(cut), str(tmp_path / "whole.mp4"), *FAST, "--frame-first", "40", "--frame-last", "47"]
        + ["--write-images", str(out), "--write-images-format", "png"]
    )
    stderr = r.stderr.decode()
    assert sorted(p.name for p in out.glob("cut_*")) == [f"cut_{i:012d}_rendered.png" for i in range(40, 48)], stderr
    for i in range(40, 48):
        got, truth = (cv2.imread(str(out / f"{stem}_{i:012d}_rendered.png")) for stem in ("cut", "whole"))
        assert np.array_equal(got, truth), f"the drawing of frame {i} is not the intact video's frame {i}"
    assert r.returncode == 0 and "undecodable" not in r.stdout.decode(), stderr
