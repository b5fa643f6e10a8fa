"""Apache Beam: the RunInference handler and the pipeline give exactly Estimator.estimate's people
(real images and video.avi frames, several worker processes); bad inputs become dead letters or
clear messages and never cost the other results."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import cv2
import numpy as np
import pytest

import damaged_video
from helpers import DATA

beam = pytest.importorskip(
    "apache_beam", reason="apache-beam is not installed: pip install 'tfpose[beam]' (install.sh --test installs it)"
)

import tfpose  # noqa: E402
from tfpose import io as tio  # noqa: E402
from tfpose.beam import InferenceError, PoseModelHandler, _Decode, build_pipeline, plan_inputs, reconcile  # noqa: E402

MODEL = DATA / "models" / "tfpose_mobilenet_v2_small_graph_opt.pb"
IMAGES = [
    DATA / "images" / "tf_pose_estimation" / "apink2.jpg",
    DATA / "images" / "tf_pose_estimation" / "p1.jpg",
    DATA / "images" / "openpose_media" / "COCO_val2014_000000000192.jpg",
]
VIDEO = DATA / "images" / "openpose_media" / "video.avi"
# A small network input keeps the 205 video frames fast; the comparison is exact at any size.
NET = "-1x208"
TESTS = Path(__file__).resolve().parent


def _env(**extra) -> dict:
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", **extra)


def _run_cli(*args, env=None, timeout=600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tfpose.cli", *map(str, args)],
        capture_output=True,
        text=True,
        env=env or _env(),
        timeout=timeout,
    )


def _video_frames(path):
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, img = cap.read()
        if not ok:
            break
        frames.append(img)
    cap.release()
    return frames


def _inputs(folder: Path, bad=True) -> Path:
    folder.mkdir()
    for src in IMAGES + [VIDEO]:
        (folder / src.name).symlink_to(src)
    if bad:
        (folder / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a JPEG")
        (folder / "corrupt.avi").write_bytes(b"RIFF\x00\x00\x00\x00AVI garbage")
        (folder / "empty.png").write_bytes(b"")
    return folder


class _SaveArrays(beam.DoFn):
    """Test-only sink: full-precision people of each element, one .npz per key."""

    def __init__(self, folder: str):
        self.folder = folder

    def process(self, element):
        (path, _, frame), people = element
        name = f"{Path(os.fsdecode(path)).name}_{-1 if frame is None else frame}.npz"
        kp = np.stack([p.keypoints for p in people]) if people else np.zeros((0, 18, 3), np.float32)
        np.savez(os.path.join(self.folder, name), keypoints=kp, scores=np.array([p.score for p in people], np.float64))
        yield name


@pytest.mark.slow
def test_multiprocess_pipeline_gives_estimator_people(tmp_path, monkeypatch):
    from apache_beam.metrics.metric import MetricsFilter
    from apache_beam.options.pipeline_options import PipelineOptions

    inputs = _inputs(tmp_path / "in")
    out, arrays = tmp_path / "json", tmp_path / "arrays"
    arrays.mkdir()
    # Worker processes unpickle _SaveArrays by reference: they must find this module.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]))
    handler = PoseModelHandler(MODEL, max_batch_size=4, on_error="record", net_resolution=NET)
    options = PipelineOptions(["--direct_num_workers=2", "--direct_running_mode=multi_processing"])
    with beam.Pipeline(options=options) as p:
        outs = build_pipeline(p, [str(inputs / "*")], str(out), handler, frames_per_range=48)
        outs["people"] | beam.ParDo(_SaveArrays(str(arrays)))
    counters = {
        m.key.metric.name: m.committed
        for m in p.result.metrics().query(MetricsFilter().with_namespace("tfpose"))["counters"]
    }

    est = tfpose.Estimator(MODEL, net_resolution=NET)
    expected = {(src.name, -1): est.estimate(cv2.imread(str(src))) for src in IMAGES}
    frames = _video_frames(VIDEO)
    assert len(frames) == 205
    expected.update({(VIDEO.name, i): people for i, people in enumerate(est.estimate_batch(frames))})

    got = sorted(f.name for f in arrays.iterdir())
    assert got == sorted(f"{n}_{i}.npz" for n, i in expected)
    total = 0
    for (name, i), people in expected.items():
        with np.load(arrays / f"{name}_{i}.npz") as z:
            assert len(z["keypoints"]) == len(people), (name, i)
            for k, person in enumerate(people):
                np.testing.assert_array_equal(z["keypoints"][k], person.keypoints, err_msg=f"{name} {i} {k}")
                assert z["scores"][k] == person.score
        total += len(people)
        json_file = out / tio.json_name(name, None if i == -1 else i)
        assert json_file.read_text() == tio.dumps(tio.people_json(people)) + "\n"
    assert total > 100  # the video has people in most frames
    assert counters["images"] == len(expected) and counters["people"] == total and counters["failures"] == 3
    plan = outs["plan"]
    assert len([u for u in plan.units if u[2] is not None]) == 5  # 205 frames in ranges of 48
    check = reconcile(plan, str(out))
    assert check.ok and (check.expected, check.written, check.failed) == (len(expected) + 3, len(expected), 3)

    dead = [json.loads(line) for line in (out / "tfpose_failed.jsonl").read_text().splitlines()]
    # Inputs are recognised by content (tfpose estimate's rule): corrupt.jpg has a JPEG signature and
    # fails to decode; the other two are neither image nor video.
    assert sorted((Path(d["input"]).name, d["error"]) for d in dead) == [
        ("corrupt.avi", "not an image or video that OpenCV can read"),
        ("corrupt.jpg", "not a readable image"),
        ("empty.png", "not an image or video that OpenCV can read"),
    ]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    d = tmp_path_factory.mktemp("sm") / "model"
    tfpose.export_saved_model(MODEL, d)
    return d


@pytest.mark.slow
def test_cli_with_tfpose_saved_model_names_coco_and_dead_letters(tmp_path, exported):
    inputs = tmp_path / "in"
    (inputs / "sub").mkdir(parents=True)
    for src in IMAGES[:2]:
        (inputs / src.name).symlink_to(src)
    (inputs / "sub" / IMAGES[0].name).write_bytes(IMAGES[0].read_bytes())  # same file name in another folder
    (inputs / "truncated.jpg").write_bytes(IMAGES[0].read_bytes()[:200])
    out, coco = tmp_path / "out", tmp_path / "coco" / "results.json"
    r = _run_cli(
        "beam",
        "--input",
        inputs / "*.jpg",
        "--input",
        inputs / "sub" / "*.jpg",
        "--output",
        out,
        "--model",
        exported,
        "--write-coco-json",
        coco,
    )
    assert r.returncode == 1, r.stderr[-3000:]
    assert "tfpose beam: 3 images/frames" in r.stdout and ", 1 failed: see " in r.stdout
    est = tfpose.Estimator(MODEL)
    people = {src: est.estimate(cv2.imread(str(src))) for src in IMAGES[:2]}
    # The output-name rule of tfpose estimate: same stems get the extension, then _2 (path order).
    expected = {
        "apink2_jpg_keypoints.json": people[IMAGES[0]],
        "apink2_jpg_2_keypoints.json": people[IMAGES[0]],
        "p1_keypoints.json": people[IMAGES[1]],
    }
    assert sorted(f.name for f in out.glob("*_keypoints.json")) == sorted(expected)
    for name, ps in expected.items():
        assert (out / name).read_text() == tio.dumps(tio.people_json(ps)) + "\n"
    (dead,) = (out / "tfpose_failed.jsonl").read_text().splitlines()
    assert json.loads(dead)["input"] == str(inputs / "truncated.jpg")
    # One COCO results file: every image in path order, people in OpenPose's order, image ids unique
    # by the CLI's rule (issue 21): the second apink2 does not share the first one's id 2.
    expected_coco = (
        tio.coco_results(2, people[IMAGES[0]])
        + tio.coco_results(1, people[IMAGES[1]])
        + tio.coco_results(3, people[IMAGES[0]])
    )
    assert json.loads(coco.read_text()) == json.loads(json.dumps(expected_coco)) and expected_coco
    mapping = json.loads((coco.parent / "results_image_ids.json").read_text())
    assert [(m["file"], m["frame"], m["image_id"]) for m in mapping] == [
        (str(inputs / IMAGES[0].name), None, 2),
        (str(inputs / IMAGES[1].name), None, 1),
        (str(inputs / "sub" / IMAGES[0].name), None, 3),
    ]


def test_cli_empty_pattern_is_refused_before_any_work(tmp_path):
    (tmp_path / "a.jpg").symlink_to(IMAGES[1])
    r = _run_cli(
        "beam",
        "--input",
        tmp_path / "*.jpg",
        "--input",
        tmp_path / "nothing*.png",
        "--output",
        tmp_path / "out",
        "--model",
        MODEL,
    )
    assert r.returncode == 2
    assert "nothing*.png" in r.stderr and "matched none" in r.stderr
    assert not (tmp_path / "out").exists()


def _foreign_saved_model(path: Path, with_tfpose_op: bool) -> Path:
    import tensorflow as tf

    module = tf.Module()
    if with_tfpose_op:
        from tfpose import ops

        fn = tf.function(
            lambda x: {"maxima": ops.maximum(x)},
            input_signature=[tf.TensorSpec([None, None, None, 4], tf.float32, name="x")],
        )
    else:
        fn = tf.function(lambda x: {"y": x * 2.0}, input_signature=[tf.TensorSpec([None], tf.float32, name="x")])
    module.f = fn
    tf.saved_model.save(module, str(path), signatures={"serving_default": fn})
    return path


@pytest.mark.slow
def test_saved_model_that_is_not_tfposes(tmp_path):
    # A SavedModel with tfpose ops but another signature: refused when loaded, naming both.
    other = _foreign_saved_model(tmp_path / "other", with_tfpose_op=True)
    with pytest.raises(ValueError, match=r"expected tfpose's signature serving_default\(images\).*got inputs \['x'\]"):
        PoseModelHandler(other).load_model()
    # A SavedModel without tfpose ops is taken as a network; one that is not a pose network is
    # refused by the command before any pipeline starts.
    plain = _foreign_saved_model(tmp_path / "plain", with_tfpose_op=False)
    (tmp_path / "a.jpg").symlink_to(IMAGES[1])
    r = _run_cli("beam", "--input", tmp_path / "*.jpg", "--output", tmp_path / "out", "--model", plain)
    assert r.returncode == 2, r.stderr[-3000:]
    assert "tfpose beam: cannot use the model" in r.stderr
    assert not (tmp_path / "out").exists()  # a run refused before work removes the folder it created


def test_handler_records_a_bad_element_and_keeps_the_rest():
    handler = PoseModelHandler(MODEL, on_error="record", net_resolution=NET)
    model = handler.load_model()
    good = [cv2.imread(str(p)) for p in IMAGES[:2]]
    batch = [good[0], np.zeros((0, 5, 3), np.uint8), good[1], np.zeros((8, 8, 3), np.float32)]
    results = list(handler.run_inference(batch, model))
    assert [r.example is b for r, b in zip(results, batch, strict=True)] == [True] * 4
    assert isinstance(results[1].inference, InferenceError) and "non-empty" in results[1].inference.message
    assert isinstance(results[3].inference, InferenceError) and "uint8" in results[3].inference.message
    est = tfpose.Estimator(MODEL, net_resolution=NET)
    for r, img in ((results[0], good[0]), (results[2], good[1])):
        expected = est.estimate(img)
        assert len(r.inference) == len(expected) > 0
        for a, b in zip(r.inference, expected, strict=True):
            np.testing.assert_array_equal(a.keypoints, b.keypoints)
    raising = PoseModelHandler(MODEL, net_resolution=NET)
    with pytest.raises(ValueError, match="non-empty"):
        raising.run_inference(batch, model)


def test_graph_batch_is_the_estimators_default_unless_given():
    # Beam's max_batch_size bounds its element batches; graph calls take DEFAULT_BATCH_SIZE images
    from tfpose.estimator import DEFAULT_BATCH_SIZE

    assert PoseModelHandler(MODEL, max_batch_size=8)._graph_batch_size == DEFAULT_BATCH_SIZE
    assert PoseModelHandler(MODEL, max_batch_size=8, batch_size=3)._graph_batch_size == 3
    with pytest.raises(ValueError, match="batch_size"):
        PoseModelHandler(MODEL, batch_size=0)


def test_handler_argument_errors(exported):
    with pytest.raises(ValueError, match="on_error"):
        PoseModelHandler(MODEL, on_error="ignore")
    with pytest.raises(ValueError, match="max_batch_size"):
        PoseModelHandler(MODEL, max_batch_size=0)
    with pytest.raises(ValueError, match="min_batch_size"):
        PoseModelHandler(MODEL, min_batch_size=5, max_batch_size=4)
    with pytest.raises(ValueError, match="fixed at export"):
        PoseModelHandler(exported, net_resolution=NET).load_model()
    with pytest.raises(FileNotFoundError):
        PoseModelHandler("/nonexistent/model.pb").load_model()
    handler = PoseModelHandler(MODEL, max_batch_size=3)
    assert handler.batch_elements_kwargs() == {"min_batch_size": 1, "max_batch_size": 3}
    assert handler.get_num_bytes([np.zeros((2, 3, 3), np.uint8)] * 2) == 36
    with pytest.raises(ValueError, match="inference_args"):
        handler.run_inference([], None, {"x": 1})


# A sitecustomize that hides tfpose from Beam's worker processes only (the launcher keeps it): a
# worker machine on which tfpose was never installed.
_HIDE_TFPOSE = textwrap.dedent("""
    import sys
    if any("sdk_worker_main" in a for a in sys.orig_argv):
        class _NoTfpose:
            def find_spec(self, name, path=None, target=None):
                if name == "tfpose" or name.startswith("tfpose."):
                    raise ModuleNotFoundError("No module named 'tfpose'", name="tfpose")
                return None
        sys.meta_path.insert(0, _NoTfpose())
""")


@pytest.mark.slow
def test_worker_without_tfpose_gives_a_clear_message(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(_HIDE_TFPOSE)
    (tmp_path / "a.jpg").symlink_to(IMAGES[1])
    env = _env(PYTHONPATH=os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]))
    r = _run_cli(
        "beam",
        "--input",
        tmp_path / "*.jpg",
        "--output",
        tmp_path / "out",
        "--model",
        MODEL,
        "--direct_num_workers=1",
        "--direct_running_mode=multi_processing",
        env=env,
        timeout=300,
    )
    assert r.returncode == 1, r.stderr[-3000:]
    assert "No module named 'tfpose'" in r.stderr and "Every worker needs tfpose" in r.stderr


def _plan_and_decode(path: Path, frames_per_range: int):
    """The pipeline's plan and decode steps run directly: (plan, frames by index, dead-letter records)."""
    plan = plan_inputs([str(path)], frames_per_range)
    frames, failed = {}, list(plan.failures)
    for unit in plan.units:
        for tag, value in _Decode(batch_size=4).process(unit):
            if tag == "failed":
                failed.append(value)
                continue
            keys, images = value
            assert len(keys) == len(images) <= 4
            for (_, _, i), img in zip(keys, images, strict=True):
                assert i not in frames
                frames[i] = img
    return plan, frames, failed


def _small_video(path: Path, frames: int = 10) -> Path:
    """An MJPG AVI of the first ``frames`` frames of video.avi at 320x180 (people in them)."""
    cap = cv2.VideoCapture(str(VIDEO))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (320, 180))
    for _ in range(frames):
        writer.write(cv2.resize(cap.read()[1], (320, 180), interpolation=cv2.INTER_AREA))
    writer.release()
    cap.release()
    return path


@pytest.mark.slow
def test_video_ranges_cover_every_frame_exactly_once():
    plan, frames, failed = _plan_and_decode(VIDEO, 37)
    expected = _video_frames(VIDEO)
    assert failed == [] and sorted(frames) == list(range(len(expected)))
    assert plan.inputs == [(str(VIDEO), "video", "video", 205)]
    assert [u[2:] for u in plan.units] == [(s, min(s + 37, 205), s > 0) for s in range(0, 205, 37)]
    for i, img in enumerate(expected):
        np.testing.assert_array_equal(frames[i], img)


def test_video_ranges_are_bounded_by_frames_that_decode(tmp_path):
    # A 10-frame AVI whose header claims 2^31 - 1 frames: today's main built 33.5 million frame
    # ranges (2.5 GB, 40 s) from the header; the plan decodes the file and makes one range of 10.
    liar = damaged_video.write_avi(tmp_path / "liar.avi", 10, header_frames=2**31 - 1)
    cap = cv2.VideoCapture(str(liar))
    assert cap.get(cv2.CAP_PROP_FRAME_COUNT) > 1e9  # the header does claim it
    cap.release()
    plan, frames, failed = _plan_and_decode(liar, 64)
    assert plan.units == [(bytes(liar), b"liar", 0, 10, False)] and plan.expected == 10
    assert sorted(frames) == list(range(10)) and failed == []
    # A video cut in half: the plan counts the frames that are there; nothing is promised beyond them.
    data = VIDEO.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: len(data) // 2])
    plan, frames, failed = _plan_and_decode(cut, 64)
    n = plan.expected
    # The file is H.264 with reordered frames: the cut takes the B-frames shown just before the last
    # P-frame that made it, so the file's frames are the packets it holds, in presentation order:
    # frames 0 .. n-2 are the intact file's, the last is a picture the intact file shows a little
    # later (a62e036 reported frame 107 undecodable and named 108 and 109 one off).
    bad = [f[2] for f in failed]
    assert 0 < n < 205 and sorted([*frames, *bad]) == list(range(n)) and len(bad) <= 1
    full = _video_frames(VIDEO)
    for i, img in frames.items():
        if i < min(bad, default=n - 1):
            np.testing.assert_array_equal(img, full[i])
    if n - 1 in frames:
        assert any(np.array_equal(frames[n - 1], full[j]) for j in range(n - 1, min(n + 4, len(full))))


def test_undecodable_frame_is_a_dead_letter_and_the_rest_is_read(tmp_path):
    # Frame 4 of 10 damaged: today's main read frames 0-3 and stopped, with no dead letter.
    video = damaged_video.write_avi(tmp_path / "damaged.avi", 10, damaged={4})
    plan, frames, failed = _plan_and_decode(video, 3)
    # A video with an undecodable frame is never entered by seeking (OpenCV's position skips it).
    assert plan.expected == 10 and [u[2:] for u in plan.units] == [
        (0, 3, False),
        (3, 6, False),
        (6, 9, False),
        (9, 10, False),
    ]
    assert sorted(frames) == [0, 1, 2, 3, 5, 6, 7, 8, 9]
    assert failed == [(bytes(video), "this frame could not be decoded", 4, None)]
    assert all(damaged_video.level(img) == i for i, img in frames.items())  # each frame shows its index


def test_inputs_matched_twice_are_one_input(tmp_path):
    # `--input 'in/*.jpg' --input in/a.jpg` (and a link to a.jpg): today's main counted 3 images and
    # wrote two of them to one name.
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(IMAGES[1].read_bytes())
    (folder / "b.jpg").write_bytes(IMAGES[0].read_bytes())
    (folder / "link.jpg").symlink_to(folder / "a.jpg")
    os.mkfifo(folder / "pipe.jpg")  # never opened: the content check would block on it
    plan = plan_inputs([str(folder / "*.jpg"), str(folder / "a.jpg"), str(folder / "link.jpg")])
    assert [(Path(p).name, stem) for p, _, stem, _ in plan.inputs] == [("a.jpg", "a"), ("b.jpg", "b")]
    # tfpose estimate's reason, word for word
    assert plan.failures == [{"input": str(folder / "pipe.jpg"), "error": "not a regular file (a named pipe (FIFO))"}]
    assert [(Path(d).name, Path(k).name) for d, k in plan.repeated] == [("link.jpg", "a.jpg")]
    assert plan.expected == 2


def test_broken_links_and_relative_paths_are_planned_as_tfpose_estimate_reads_them(tmp_path, monkeypatch):
    # Beam's local match leaves out a broken symbolic link and a link loop without a word; a relative
    # path would be resolved by each worker in its own working folder.
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(IMAGES[1].read_bytes())
    (folder / "gone.jpg").symlink_to(folder / "missing.jpg")
    (folder / "loop1.jpg").symlink_to(folder / "loop2.jpg")
    (folder / "loop2.jpg").symlink_to(folder / "loop1.jpg")
    monkeypatch.chdir(tmp_path)
    plan = plan_inputs(["in/*.jpg"])
    assert [p for p, _, _, _ in plan.inputs] == [str(folder / "a.jpg")]
    assert plan.failures == [
        {"input": str(folder / "gone.jpg"), "error": "broken symbolic link (its target does not exist)"},
        {"input": str(folder / "loop1.jpg"), "error": "symbolic link loop"},
        {"input": str(folder / "loop2.jpg"), "error": "symbolic link loop"},
    ]
    assert plan.expected == 1


def test_a_misspelt_tfpose_option_is_refused_not_left_to_beam(tmp_path):
    # Beam drops arguments it does not know with a warning its quiet log hides: the job ran without them.
    from tfpose.beam import main

    for typo, _meant in (("--net-resolutoin", "--net-resolution"), ("--batch_size", "--batch-size")):
        assert main(["--input", str(IMAGES[1]), "--output", str(tmp_path / "o"), typo, "2"]) == 2
    r = _run_cli("beam", "--input", IMAGES[1], "--output", tmp_path / "o", "--net-resolutoin", "320x240", timeout=120)
    assert (
        r.returncode == 2
        and "--net-resolutoin: not an option of tfpose beam (did you mean --net-resolution?)" in r.stderr
    )
    assert not (tmp_path / "o").exists()


def test_reconciliation_counts_and_names_what_is_missing(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(IMAGES[1].read_bytes())
    (folder / "notes.txt").write_text("not an image")
    _small_video(folder / "clip.avi", 4)
    plan = plan_inputs([str(folder / "*")], 2)
    out = tmp_path / "out[1]"  # glob characters in the folder's name: listed, not matched as a pattern
    out.mkdir()
    import time

    since = time.time()
    check = reconcile(plan, str(out), since=since)
    assert not check.ok and "dead-letter file" in check.describe()
    assert check.expected == 6 and check.written == 0 and len(check.missing) == 6
    for stem, frame in [("a", None), ("clip", 0), ("clip", 1), ("clip", 3)]:
        tio.write_json(out / tio.output_file_name(stem, frame), [])
    (out / "tfpose_failed.jsonl").write_text(json.dumps({"input": str(folder / "notes.txt"), "error": "x"}) + "\n")
    check = reconcile(plan, str(out), since=since)
    assert (check.written, check.failed) == (4, 1) and not check.ok
    assert check.missing == [f"{out / 'clip_000000000002_keypoints.json'} ({folder / 'clip.avi'} frame 2)"]
    assert "expected 6 images/frames, 4 written, 1 in dead letters, 1 missing: " in check.describe()
    (out / "tfpose_failed.jsonl").write_text(
        json.dumps({"input": str(folder / "notes.txt"), "error": "x"})
        + "\n"
        + json.dumps({"input": str(folder / "clip.avi"), "frame_range": [2, 3], "error": "y"})
        + "\n"
    )
    check = reconcile(plan, str(out), since=since)
    assert check.ok and (check.written, check.failed) == (4, 2)
    # A file left by an earlier run is not this run's output.
    check = reconcile(plan, str(out), since=time.time() + 10)
    assert check.written == 0 and not check.ok


def test_first_cause_is_reported():
    from tfpose.beam import _summarise_failure

    try:
        try:
            int("i")
        except ValueError as first:
            raise TypeError("'NoneType' object is not subscriptable [while running 'Route']") from first
    except TypeError as exc:
        line = _summarise_failure(exc)
    assert line.startswith("ValueError: invalid literal for int() with base 10: 'i'"), line
    assert "(in step 'Route')" in line
    relayed = RuntimeError(
        "Pipeline failed\nTraceback (most recent call last):\n  File x\nKeyError: 'frame'\n\nDuring handling...\n"
        "Traceback (most recent call last):\nRuntimeError: KeyError: 'frame' [while running 'Decode']"
    )
    assert _summarise_failure(relayed) == "KeyError: 'frame' (in step 'Decode')"


def _expected_json(images: dict) -> dict:
    """Output file name -> the text the Python API's people give (Estimator.estimate per image)."""
    est = tfpose.Estimator(MODEL, net_resolution=NET)
    return {name: tio.dumps(tio.people_json(est.estimate(img))) + "\n" for name, img in images.items()}


def _beam_log_lines(stderr: str) -> list[str]:
    """Lines of Beam's (and Dask's) Python loggers; TensorFlow's C++ notices are not Beam's."""
    return [
        ln
        for ln in stderr.splitlines()
        if ln.startswith(("INFO:", "WARNING:", "ERROR:", "DEBUG:"))
        and not ln.startswith("WARNING: All log messages before absl")
    ]


@pytest.fixture(scope="module")
def mixed_job(tmp_path_factory) -> tuple[Path, dict]:
    """Two photos and a 12-frame video in a folder; returns it and the expected JSON text per output."""
    folder = tmp_path_factory.mktemp("mixed") / "in"
    folder.mkdir()
    images = {}
    for src in IMAGES[:2]:
        (folder / src.name).write_bytes(src.read_bytes())
        images[tio.output_file_name(src.stem)] = cv2.imread(str(src))
    video = _small_video(folder / "clip.avi", 12)
    for i, img in enumerate(_video_frames(video)):
        images[tio.output_file_name("clip", i)] = img
    assert len(images) == 14
    return folder, _expected_json(images)


@pytest.mark.slow
@pytest.mark.parametrize("runner", ["in-memory", "multi_processing", "dask"])
def test_mixed_job_on_every_runner_gives_the_python_apis_outputs(tmp_path, runner, monkeypatch, mixed_job):
    # Ranges of 5 frames in batches of 2: every range ends with a short batch, the one Beam 2.77's
    # DaskRunner dropped (BatchElements emits it from finish_bundle); its tagged outputs reached the
    # decoder as frame ranges ("invalid literal for int() with base 10: 'i'") on today's main.
    folder, expected = mixed_job
    out = tmp_path / "out"
    args = ["beam", "--input", folder / "*", "--output", out, "--model", MODEL]
    args += [f"--net-resolution={NET}", "--frames-per-range", "5", "--batch-size", "2"]
    if runner == "multi_processing":
        r = _run_cli(*args, "--direct_num_workers=2", "--direct_running_mode=multi_processing")
    elif runner == "in-memory":
        r = _run_cli(*args)
    else:
        distributed = pytest.importorskip(
            "dask.distributed", reason="dask is not installed: pip install 'apache-beam[dask]==2.77.*' (the beam extra)"
        )
        LocalCluster = distributed.LocalCluster  # noqa: N806

        monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")  # the workers inherit it
        with LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            timeout=120,
            silence_logs=40,
        ) as cluster:
            r = _run_cli(
                *args, "--runner", "DaskRunner", f"--dask_client_address={cluster.scheduler_address}", timeout=480
            )
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.startswith("tfpose beam: 14 images/frames"), r.stdout
    got = {f.name: f.read_text() for f in out.glob("*_keypoints.json")}
    assert sorted(got) == sorted(expected)
    assert got == expected
    assert (out / "tfpose_failed.jsonl").read_text() == ""
    # Beam's log at the default level: today's main printed dozens of INFO/WARNING lines (worker
    # channels, bundle sizes); left are the two bootstrap lines a worker process logs before it reads
    # its options.
    beam_lines = _beam_log_lines(r.stderr)
    assert len(beam_lines) <= (4 if runner == "multi_processing" else 0), beam_lines


@pytest.mark.slow
def test_hostile_inputs_each_accounted_for(tmp_path):
    # One run, every hostile case of the issue on the DirectRunner: a file matched twice and a link to
    # it (one input), a name that is not UTF-8 (OpenCV's bindings crash on it), a video with one
    # undecodable frame (today: 4 of 10 frames, no dead letter, exit 0), and one whose header claims
    # 2^31 - 1 frames (today: 33.5 million frame ranges).
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(IMAGES[1].read_bytes())
    latin1 = folder / os.fsdecode(b"caf\xe9.jpg")
    latin1.write_bytes(IMAGES[0].read_bytes())
    (folder / "link.jpg").symlink_to(folder / "a.jpg")
    damaged_video.write_avi(folder / "damaged.avi", 10, damaged={4})
    damaged_video.write_avi(folder / "liar.avi", 10, header_frames=2**31 - 1)
    out = tmp_path / "out"
    r = _run_cli(
        "beam",
        "--input",
        folder / "*",
        "--input",
        folder / "a.jpg",
        "--output",
        out,
        "--model",
        MODEL,
        f"--net-resolution={NET}",
        "--frames-per-range",
        "3",
        "--batch-size",
        "2",
    )
    assert r.returncode == 1, r.stderr[-3000:]
    assert r.stdout.startswith("tfpose beam: 21 images/frames") and ", 1 failed: see " in r.stdout, r.stdout
    assert "matched again under another name, counted once" in r.stderr and "link.jpg" in r.stderr
    dead = [json.loads(line) for line in (out / "tfpose_failed.jsonl").read_text().splitlines()]
    assert dead == [{"input": str(folder / "damaged.avi"), "frame": 4, "error": "this frame could not be decoded"}]
    images = {
        "a_keypoints.json": cv2.imread(str(folder / "a.jpg")),
        "caf\udce9_keypoints.json": cv2.imread(str(IMAGES[0])),
    }
    for name in ("damaged", "liar"):
        cap = cv2.VideoCapture(str(folder / f"{name}.avi"))
        for _ in range(11):  # OpenCV's own reads: a failed read is the damaged frame, the next goes on
            ok, img = cap.read()
            if ok:
                images[tio.output_file_name(name, damaged_video.level(img))] = img
        cap.release()
    assert len(images) == 21
    expected = _expected_json(images)
    got = {os.fsdecode(f.name): f.read_text() for f in out.glob("*_keypoints.json")}
    assert got == expected


def test_a_lost_output_ends_the_job_non_zero_naming_it(tmp_path, monkeypatch, capsys):
    # A runner that loses an output and reports success (as Beam 2.77's DaskRunner did): the job
    # reconciles what it planned with what was written and dead-lettered.
    from tfpose import beam as tbeam

    folder = tmp_path / "in"
    folder.mkdir()
    damaged_video.write_avi(folder / "clip.avi", 6)
    write = tbeam._WriteOpenPoseJson.process

    def losing(self, element):
        if element[0][2] != 2:  # frame 2 vanishes without a word
            yield from write(self, element)

    monkeypatch.setattr(tbeam._WriteOpenPoseJson, "process", losing)
    out = tmp_path / "out"
    rc = tbeam.main(
        [
            "--input",
            str(folder / "*"),
            "--output",
            str(out),
            "--model",
            str(MODEL),
            f"--net-resolution={NET}",
            "--frames-per-range",
            "4",
        ]
    )
    captured = capsys.readouterr()
    assert rc == 1
    assert captured.out.startswith("tfpose beam: 5 images/frames")
    assert (
        f"the run is incomplete: expected 6 images/frames, 5 written, 0 in dead letters, 1 missing: "
        f"{out / 'clip_000000000002_keypoints.json'} ({folder / 'clip.avi'} frame 2)"
    ) in captured.err


def test_ranges_that_seek_give_the_frames_of_a_sequential_read(tmp_path, monkeypatch):
    # Ranges of an intact video start by seeking (n decodes, not ~n^2 / 2r); every frame is still
    # the one a read from the start gives: each frame of this file shows its own index.
    from tfpose import sources

    video = damaged_video.write_avi(tmp_path / "clean.avi", 12)
    calls = []
    original = sources.read_frames
    monkeypatch.setattr(
        sources, "read_frames", lambda *a, **k: calls.append((a[1:], k.get("seek", False))) or original(*a, **k)
    )
    plan, frames, failed = _plan_and_decode(video, 3)
    # planning reads it all; range 1 reads from the start, ranges 2-4 seek
    assert [a for a, seek in calls if a and not seek] == [(0, 3)]
    assert sorted(a for a, seek in calls if seek) == [(3, 6), (6, 9), (9, 12)]
    assert [u[4] for u in plan.units] == [False, True, True, True] and failed == []
    assert sorted(frames) == list(range(12))
    assert all(damaged_video.level(img) == i for i, img in frames.items())


@pytest.mark.slow
@pytest.mark.parametrize("signum", [15, 2])
def test_a_stopped_job_ends_with_one_line_and_the_signals_exit_status(tmp_path, monkeypatch, capsys, caplog, signum):
    # A runner re-raises SIGTERM (tfpose's _Terminated) or Ctrl-C wrapped in its own error, naming
    # the step it interrupted; the job says it stopped, how much it wrote, and exits 128 + signal.
    from tfpose import beam as tbeam
    from tfpose.cli import _Terminated

    def stopped(pipeline):
        try:
            raise _Terminated() if signum == 15 else KeyboardInterrupt()
        except KeyboardInterrupt as exc:
            # as Beam's DoFn runner does: the error with its traceback in the log, then re-raised
            logging.getLogger("apache_beam.runners.common").exception("%r [while running 'RunInference']", exc)
            raise RuntimeError("KeyboardInterrupt [while running 'RunInference/BeamMLRun']") from exc

    monkeypatch.setattr(tbeam.command, "_run", stopped)
    out = tmp_path / "out"
    rc = tbeam.main(["--input", str(IMAGES[1]), "--output", str(out), "--model", str(MODEL), f"--net-resolution={NET}"])
    err = capsys.readouterr().err
    assert rc == 128 + signum
    name = "SIGTERM" if signum == 15 else "Ctrl-C"
    assert f"tfpose beam: stopped by {name}; 0 images/frames written, the job is incomplete" in err
    assert "pipeline failed" not in err and "Traceback" not in err
    assert not [r for r in caplog.records if r.name == "apache_beam.runners.common"]


def test_a_job_refused_before_work_leaves_no_folder(tmp_path):
    from tfpose import beam as tbeam

    out = tmp_path / "new" / "out"
    coco = tmp_path / "coco" / "c.json"
    rc = tbeam.main(
        ["--input", str(IMAGES[1]), "--output", str(out), "--write-coco-json", str(coco), "--accuracy", "worst"]
    )
    assert rc == 2
    assert not (tmp_path / "new").exists() and not (tmp_path / "coco").exists()
    kept = tmp_path / "kept"
    kept.mkdir()
    assert tbeam.main(["--input", str(IMAGES[1]), "--output", str(kept), "--accuracy", "worst"]) == 2
    assert kept.is_dir()  # not this run's to remove


def test_an_unreachable_dask_scheduler_is_refused_in_one_line(tmp_path, capsys):
    import socket

    from tfpose import beam as tbeam

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "out"
    rc = tbeam.main(
        [
            "--input",
            str(IMAGES[1]),
            "--output",
            str(out),
            "--model",
            str(MODEL),
            f"--net-resolution={NET}",
            "--runner",
            "DaskRunner",
            f"--dask_client_address=tcp://127.0.0.1:{port}",
        ]
    )
    err = capsys.readouterr().err
    assert rc == 2
    assert f"could not start: the Dask scheduler at tcp://127.0.0.1:{port} cannot be reached" in err
    assert not out.exists()


def test_an_unknown_runner_is_refused_before_the_model_loads(tmp_path):
    # Beam raised its "Unexpected pipeline runner" only when the pipeline was built: a traceback, exit 1.
    r = _run_cli("beam", "--input", IMAGES[1], "--output", tmp_path / "o", "--runner", "Frob", timeout=120)
    assert r.returncode == 2, r.stderr
    assert "--runner Frob: Unexpected pipeline runner: Frob" in r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "o").exists()
