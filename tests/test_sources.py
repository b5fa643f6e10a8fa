"""Frame sources: OpenPose's frame selection on a real video file, sources that cannot be opened,
and a live HTTP stream served by ffmpeg on 127.0.0.1 read through the CLI (server killed mid-way,
and Ctrl-C). Every wait is bounded."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from tfpose.sources import SourceError, VideoSource, check_frame_range, is_stream_url

from helpers import DATA

VIDEO = DATA / "images" / "openpose_media" / "video.avi"
MNV2S = str(DATA / "models" / "tfpose_mobilenet_v2_small_graph_opt.pb")
FFMPEG = shutil.which("ffmpeg")
needs_ffmpeg = pytest.mark.skipif(
    FFMPEG is None,
    reason="ffmpeg not installed (Debian: apt-get install ffmpeg; "
    ".ci/run installs it): no server for the live-stream test",
)


@pytest.fixture(scope="module")
def numbered_video(tmp_path_factory):
    """12 frames whose grey level is 20 * frame number (MJPG keeps that within a few levels)."""
    path = tmp_path_factory.mktemp("v") / "numbers.avi"
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (64, 48))
    for i in range(12):
        w.write(np.full((48, 64, 3), 20 * i, np.uint8))
    w.release()
    return path


def test_frame_selection_as_openpose(numbered_video):
    def frames(**kw):
        src = VideoSource(numbered_video, **kw)
        got = [(f.index, int(round(f.image.mean() / 20))) for f in src]
        assert all(i == level for i, level in got)  # the index names the frame actually decoded
        return [i for i, _ in got], src

    assert frames()[0] == list(range(12))
    idx, src = frames(frame_first=2, frame_step=3, frame_last=9)
    assert idx == [2, 5, 8] and src.end_reason == "frame_last reached"
    assert src.frame_count() == 3
    idx, src = frames(frame_first=10)
    assert idx == [10, 11] and src.end_reason == "end of video" and src.frame_count() == 2
    assert frames(frame_last=0)[0] == [0]
    f = next(iter(VideoSource(numbered_video, frame_first=5)))
    assert f.timestamp == pytest.approx(0.5) and f.fps == pytest.approx(10.0)


def test_frame_range_errors():
    for kw, msg in (
        ({"frame_first": -1}, "frame_first"),
        ({"frame_step": 0}, "frame_step"),
        ({"frame_last": -2}, "frame_last"),
        ({"frame_first": 5, "frame_last": 4}, "frame_last"),
        ({"frame_step": 1.5}, "frame_step"),
    ):
        with pytest.raises(ValueError, match=msg):
            check_frame_range(**kw)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_sources_that_cannot_be_opened(tmp_path):
    assert is_stream_url("rtsp://h/x") and is_stream_url("http://h") and not is_stream_url("clip.mp4")
    with pytest.raises(SourceError, match="no such file"):
        list(VideoSource(tmp_path / "missing.mp4"))
    (tmp_path / "junk.mp4").write_bytes(b"not a video")
    with pytest.raises(SourceError, match="not a readable video"):
        list(VideoSource(tmp_path / "junk.mp4"))
    with pytest.raises(SourceError, match="cannot open camera 99"):
        list(VideoSource(99))
    t0 = time.monotonic()
    url = f"http://127.0.0.1:{_free_port()}/none"  # nobody listens there
    with pytest.raises(SourceError, match=r"cannot open stream http://127\.0\.0\.1"):
        list(VideoSource(url, timeout=2.0))
    assert time.monotonic() - t0 < 30


@pytest.mark.slow
def test_cli_refuses_a_stream_it_cannot_open(capsys):
    from tfpose import cli

    url = f"tcp://127.0.0.1:{_free_port()}"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "tfpose.cli",
            "estimate",
            url,
            "--model",
            MNV2S,
            "--stream-timeout",
            "2",
        ],  # with the progress bar a user gets: no bar fragments around the one line (splitlines cuts at \r)
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 1
    lines = [
        ln for ln in out.stderr.splitlines() if ln.strip() and "oneDNN" not in ln and "absl::InitializeLog" not in ln
    ]  # TensorFlow's start-up notes
    assert lines == [
        cli._NO_OUTPUT_HINT,  # no output option: the newcomer is told nothing will be written
        f"tfpose: cannot open stream {url}: no answer within 2 s, or not a stream OpenCV's FFmpeg can read",
    ], lines  # one line about the stream: OpenCV's and FFmpeg's own are silenced
    assert "0 frames" in out.stdout and "1 input(s) skipped" in out.stdout
    rc = cli.main(["estimate", "--camera", "99", "--model", MNV2S, "--no-progress"])
    assert rc == 1 and "cannot open camera 99: no such camera or it is busy" in capsys.readouterr().err
    rc = cli.main(["estimate", str(VIDEO), "--model", MNV2S, "--frame-step", "0"])
    assert rc == 2 and "frame_step: expected an int >= 1, got 0" in capsys.readouterr().err
    rc = cli.main(["estimate", "--model", MNV2S])
    assert rc == 2 and "no input: expected images, folders, videos or stream URLs" in capsys.readouterr().err


def _listening(port: int) -> bool:
    # read the kernel's socket table: connecting would use up ffmpeg's single HTTP client slot
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            if f[1].endswith(f":{port:04X}") and f[3] == "0A":
                return True
    return False


def _serve(port: int) -> subprocess.Popen:
    """video.avi as a live MJPEG-over-HTTP stream at its real frame rate (ffmpeg's -re), looped so
    that it is still running whenever the test stops it."""
    server = subprocess.Popen(
        [
            FFMPEG,
            "-hide_banner",
            "-loglevel",
            "error",
            "-re",
            "-stream_loop",
            "-1",
            "-i",
            str(VIDEO),
            "-c:v",
            "mjpeg",
            "-q:v",
            "5",
            "-f",
            "mpjpeg",
            "-listen",
            "1",
            f"http://127.0.0.1:{port}/live.mjpg",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while not _listening(port):
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.fail("ffmpeg did not start serving on 127.0.0.1")
        time.sleep(0.05)
    return server


def _default_signals():
    # The child gets the default handling of the signals a test sends it, whatever this process
    # inherited (SIGINT is ignored under nohup and some CI runners: Python then installs no
    # KeyboardInterrupt handler in the child, and Ctrl-C would never reach it).
    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, signal.SIG_DFL)


def _run_live(tmp_path, stop):
    """Reads the served stream through the CLI; once 4 frames are written, `stop(server, cli)`.
    Returns (return code, stdout, stderr, json files)."""
    port = _free_port()
    server = _serve(port)
    out = tmp_path / "json"
    url = f"http://127.0.0.1:{port}/live.mjpg"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tfpose.cli",
            "estimate",
            url,
            "--model",
            MNV2S,
            "--net-resolution=-1x160",
            "--write-json",
            str(out),
            "--tracking",
            "--stream-timeout",
            "5",
            "--no-progress",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=_default_signals,
    )
    try:
        deadline = time.monotonic() + 240
        while not (out.exists() and len(list(out.glob("*.json"))) >= 4):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"the CLI wrote no frames: {proc.poll()} {proc.stderr.read() if proc.poll() is not None else ''}"
                )
            time.sleep(0.1)
        stop(server, proc)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        for p in (server, proc):
            if p.poll() is None:
                p.kill()
                p.wait()
    return proc.returncode, stdout, stderr, sorted(out.glob("*.json")), url


def _check_outputs(stdout, files):
    frames = int(stdout.split("tfpose: ")[1].split(" frames")[0])
    assert frames >= 4
    assert [f.name for f in files] == [f"stream_{i:012d}_keypoints.json" for i in range(frames)]
    # --tracking: every person has an id, but a fragment of a person of the same frame (-1)
    for f in files:
        ids = [p["person_id"][0] for p in json.loads(f.read_text())["people"]]
        assert all(i >= 0 for i in ids) or (min(ids) == -1 and max(ids) >= 0), (f.name, ids)


@needs_ffmpeg
@pytest.mark.slow
def test_live_stream_server_killed_midway(tmp_path):
    rc, stdout, stderr, files, url = _run_live(tmp_path, lambda server, cli: server.kill())
    assert rc == 0, stderr
    assert f"stream {url}: stream ended after" in stdout
    _check_outputs(stdout, files)


@needs_ffmpeg
@pytest.mark.slow
def test_live_stream_ctrl_c(tmp_path):
    rc, stdout, stderr, files, url = _run_live(tmp_path, lambda server, cli: cli.send_signal(signal.SIGINT))
    assert rc == 130, stderr
    assert "stopped by Ctrl-C" in stdout and "tfpose: interrupted" in stderr
    _check_outputs(stdout, files)


# ---------------------------------------------------------------------------------------------
# Video files read to their real end; names that are not UTF-8; files that are not regular


@pytest.mark.parametrize(
    "damaged",
    [(3,), (3, 4, 5), (0,), (9,), (7, 8, 9), (2, 6)],
    ids=["one", "three-in-a-row", "first", "last", "last-three", "two"],
)
def test_read_frames_goes_past_undecodable_frames_to_the_real_end(tmp_path, damaged):
    from tfpose.sources import read_frames, video_frames

    from damaged_video import level, write_avi

    path = write_avi(tmp_path / "v.avi", 10, damaged)
    got = list(read_frames(path))
    assert [i for i, _ in got] == list(range(10))
    assert [i for i, im in got if im is None] == list(damaged)
    assert all(level(im) == i for i, im in got if im is not None)  # each index names its own frame
    assert video_frames(path) == (10 - len(damaged), tuple(damaged))
    # start / stop / step select by the file's own frame numbers, damaged ones included
    assert [i for i, _ in read_frames(path, start=2, stop=7, step=2)] == [2, 4, 6]
    src = VideoSource(path, frame_first=1)
    assert [f.index for f in src] == [i for i in range(1, 10) if i not in damaged]
    assert src.undecodable == [i for i in damaged if i >= 1] and src.end_reason == "end of video"
    # a seek that does not land on its frame (OpenCV's, in a damaged AVI) changes nothing
    seeked = [(i, None if im is None else level(im)) for i, im in read_frames(path, start=5, seek=True)]
    assert seeked == [(i, None if i in damaged else i) for i in range(5, 10)]


def test_without_raw_mode_a_failed_read_is_one_frame(tmp_path, monkeypatch):
    """Where OpenCV's FFmpeg offers no raw mode (another backend), the packets' times are unknown:
    a failed read is one frame (MJPG's rule) and MAX_CONSECUTIVE_FAILURES failures in a row are the
    end, so damaged frames at the very end cannot be told from it (and are not invented)."""
    from tfpose import sources

    from damaged_video import level, write_avi

    monkeypatch.setattr(sources, "_packet_times", lambda path: None)
    path = write_avi(tmp_path / "v.avi", 10, (3, 4, 9))
    got = [(i, None if im is None else level(im)) for i, im in sources.read_frames(path)]
    assert got == [(i, None if i in (3, 4) else i) for i in range(9)]


def _true_frames(got) -> list[int]:
    """Check that every decoded frame of ``got`` ((index, image or None) of a damaged copy of VIDEO,
    in order) is VIDEO's own frame of that index, bit for bit (ground truth: OpenCV's plain reads of
    the intact file, where the n-th read is frame n); returns the indices yielded without an image."""
    cap = cv2.VideoCapture(str(VIDEO))
    at, ref, missing = -1, None, []
    try:
        for index, image in got:
            while at < index:
                ok, ref = cap.read()
                at += 1
                assert ok, f"the intact video has no frame {at}"
            if image is None:
                missing.append(index)
            else:
                assert np.array_equal(image, ref), f"the frame named {index} is not the intact video's frame {index}"
    finally:
        cap.release()
    return missing


def test_h264_frames_after_a_cut_keep_their_index(tmp_path):
    """VIDEO (H.264 with B-frames: the decoder gives frames late) cut inside its 49th frame: the read
    that meets the cut fails while the decoder still owes frames 46 and 47; they were named 47, 48 and
    frame 46 reported undecodable. The cut frame itself is not counted: OpenCV's demuxer never returns
    it (ffprobe counts it as a partial packet)."""
    from tfpose.sources import container_frames, read_frames, video_frames

    from damaged_video import damage_mp4

    cut = damage_mp4(VIDEO, tmp_path / "cut.mp4", keep=300_000)
    got = list(read_frames(cut))
    assert [i for i, _ in got] == list(range(48)) and _true_frames(got) == []
    assert video_frames(cut) == (48, ()) and container_frames(cut) == 48
    src = VideoSource(cut, frame_first=40)
    frames = list(src)
    assert [f.index for f in frames] == list(range(40, 48)) and _true_frames((f.index, f.image) for f in frames) == []
    assert src.undecodable == [] and src.end_reason == "end of video"
    assert [i for i, _ in read_frames(cut, 44, step=2)] == [44, 46]
    seeked = list(read_frames(cut, 40, 48, seek=True))  # Beam's ranges of a video planned clean
    assert [i for i, _ in seeked] == list(range(40, 48)) and _true_frames(seeked) == []


def test_damaged_h264_frames_leave_the_others_their_index(tmp_path):
    """Samples 7 and 10 (decode order) of VIDEO overwritten: frames 6 and 8 (B-frames no other frame
    refers to, so every other frame decodes exactly). Was: frame 6's image named 7 and, as raw mode's
    demuxing stopped at the first damaged packet, 196 frames never read (7 decoded + (5,))."""
    from tfpose.sources import container_frames, read_frames, video_frames

    from damaged_video import damage_mp4

    damaged = damage_mp4(VIDEO, tmp_path / "damaged.mp4", samples=(7, 10))
    got = list(read_frames(damaged))
    assert [i for i, _ in got] == list(range(205)) and _true_frames(got) == [6, 8]
    assert video_frames(damaged) == (203, (6, 8)) and container_frames(damaged) == 205


def test_mpeg4_part2_avi_frames_keep_their_index(tmp_path):
    """The damaged-AVI cases with MPEG-4 part 2 (XVID) instead of MJPG, and a seek into them."""
    from tfpose.sources import read_frames, video_frames

    from damaged_video import level, write_avi

    path = write_avi(tmp_path / "x.avi", 10, (3, 9), fourcc="XVID")
    got = [(i, None if im is None else level(im)) for i, im in read_frames(path)]
    assert got == [(i, None if i in (3, 9) else i) for i in range(10)]
    assert video_frames(path) == (8, (3, 9))
    seeked = [(i, None if im is None else level(im)) for i, im in read_frames(path, start=4, seek=True)]
    assert seeked == [(i, None if i == 9 else i) for i in range(4, 10)]


@pytest.mark.parametrize("header", [2**31 - 1, 4, 0])
def test_the_header_frame_count_changes_nothing(tmp_path, header):
    from tfpose.sources import container_frames, read_frames

    from damaged_video import write_avi

    path = write_avi(tmp_path / "v.avi", 10, (4,), header_frames=header)
    assert cv2.VideoCapture(str(path)).get(cv2.CAP_PROP_FRAME_COUNT) == header  # the lie is in place
    assert [(i, im is None) for i, im in read_frames(path)] == [(i, i == 4) for i in range(10)]
    assert container_frames(path) == 10
    assert VideoSource(path).frame_count() == 10


def test_names_that_are_not_utf8(tmp_path):
    """A Latin-1 name (caf\\xe9) crashed OpenCV's bindings (SIGSEGV) when passed as a str."""
    from tfpose.sources import display_name, read_frames, read_image

    from damaged_video import write_avi

    img = os.fsdecode(os.fsencode(tmp_path) + b"/caf\xe9.png")
    cv2.imwrite(str(tmp_path / "x.png"), np.full((8, 9, 3), 7, np.uint8))
    os.rename(tmp_path / "x.png", img)
    assert read_image(img).shape == (8, 9, 3)
    vid = os.fsdecode(os.fsencode(tmp_path) + b"/caf\xe9.avi")
    write_avi(vid, 5)
    assert [i for i, im in read_frames(vid) if im is not None] == list(range(5))
    assert [f.index for f in VideoSource(vid)] == list(range(5))
    assert display_name(vid).endswith("caf\\xe9.avi")
    print(display_name(vid))  # printable: no UnicodeEncodeError


def test_special_files_are_never_opened(tmp_path):
    """A FIFO blocks whoever opens it for reading; /dev/zero never ends."""
    from tfpose.sources import container_frames, read_frames, read_image

    fifo = tmp_path / "pipe.avi"
    os.mkfifo(fifo)
    for call in (
        lambda: read_image(fifo),
        lambda: list(read_frames(fifo)),
        lambda: container_frames(fifo),
        lambda: list(VideoSource(fifo)),
        lambda: read_image("/dev/zero"),
    ):
        with pytest.raises(SourceError, match="not a regular file"):
            call()


def test_inputs_counted_twice(tmp_path):
    from tfpose.io import distinct_inputs

    (tmp_path / "d").mkdir()
    a = tmp_path / "d" / "a.jpg"
    a.write_bytes(b"x")
    (tmp_path / "b.jpg").write_bytes(b"x")  # same bytes, another file: kept
    os.symlink(a, tmp_path / "link.jpg")
    os.link(a, tmp_path / "hard.jpg")
    paths = [
        a,
        tmp_path / "b.jpg",
        tmp_path / "link.jpg",
        str(tmp_path / "d" / ".." / "d" / "a.jpg"),
        tmp_path / "hard.jpg",
    ]
    kept, dropped = distinct_inputs(paths + ["rtsp://h/x", "rtsp://h/x", tmp_path / "missing.jpg"])
    assert kept == [a, tmp_path / "b.jpg", "rtsp://h/x", tmp_path / "missing.jpg"]
    assert dropped == [(p, a) for p in paths[2:]] + [("rtsp://h/x", "rtsp://h/x")]
