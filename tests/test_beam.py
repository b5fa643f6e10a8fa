"""Apache Beam: the RunInference handler and the pipeline give exactly Estimator.estimate's people
(real images and video.avi frames, several worker processes); bad inputs become dead letters or
clear messages and never cost the other results."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import cv2
import numpy as np
import pytest

from helpers import DATA

beam = pytest.importorskip(
    "apache_beam", reason="apache-beam is not installed: pip install 'tfpose[beam]' (install.sh --test installs it)"
)

import tfpose  # noqa: E402
from tfpose import io as tio  # noqa: E402
from tfpose.beam import InferenceError, PoseModelHandler, _Decode, _Split, build_pipeline  # noqa: E402  # noqa: E402

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
        (path, frame), people = element
        name = f"{Path(path).name}_{-1 if frame is None else frame}.npz"
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
    assert counters["images"] == len(expected) and counters["people"] == total
    assert counters["failures"] == 3 and counters["videos"] == 1 and counters["frame_ranges"] == 5

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
    (inputs / "sub" / IMAGES[0].name).symlink_to(IMAGES[0])  # same file name in another folder
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
    assert "tfpose beam: 3 images/frames" in r.stdout and "1 input(s) failed" in r.stdout
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
    # One COCO results file: every image in path order, people in OpenPose's order.
    expected_coco = (
        tio.coco_results(2, people[IMAGES[0]])
        + tio.coco_results(1, people[IMAGES[1]])
        + tio.coco_results(2, people[IMAGES[0]])
    )
    assert json.loads(coco.read_text()) == json.loads(json.dumps(expected_coco)) and expected_coco


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
    assert not list((tmp_path / "out").iterdir())  # checked and created, nothing written


def test_handler_records_a_bad_element_and_keeps_the_rest():
    handler = PoseModelHandler(MODEL, on_error="record", net_resolution=NET)
    model = handler.load_model()
    good = [cv2.imread(str(p)) for p in IMAGES[:2]]
    batch = [good[0], np.zeros((0, 5, 3), np.uint8), good[1], np.zeros((8, 8, 3), np.float32)]
    results = list(handler.run_inference(batch, model))
    assert [r.example is b for r, b in zip(results, batch)] == [True] * 4
    assert isinstance(results[1].inference, InferenceError) and "non-empty" in results[1].inference.message
    assert isinstance(results[3].inference, InferenceError) and "uint8" in results[3].inference.message
    est = tfpose.Estimator(MODEL, net_resolution=NET)
    for r, img in ((results[0], good[0]), (results[2], good[1])):
        expected = est.estimate(img)
        assert len(r.inference) == len(expected) > 0
        for a, b in zip(r.inference, expected):
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


def _split_and_decode(path: Path, frames_per_range: int):
    """The pipeline's split and decode steps run directly: (frames by index, dead-letter records)."""
    from apache_beam.pvalue import TaggedOutput

    frames, failed = {}, []
    for unit in _Split(frames_per_range).process(str(path)):
        if isinstance(unit, TaggedOutput):
            if unit.tag == _Split.FAILED:
                failed.append(unit.value)
            continue
        for out in _Decode().process(unit):
            if isinstance(out, TaggedOutput):
                failed.append(out.value)
            else:
                (_, i), img = out
                assert i not in frames
                frames[i] = img
    return frames, failed


@pytest.mark.slow
def test_video_ranges_cover_every_frame_exactly_once():
    frames, failed = _split_and_decode(VIDEO, 37)
    expected = _video_frames(VIDEO)
    assert failed == [] and sorted(frames) == list(range(len(expected)))
    for i, img in enumerate(expected):
        np.testing.assert_array_equal(frames[i], img)


@pytest.mark.slow
def test_truncated_video_keeps_its_frames_and_reports_the_rest(tmp_path):
    data = VIDEO.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: len(data) // 2])
    frames, failed = _split_and_decode(cut, 64)
    assert 0 < len(frames) < 205 and sorted(frames) == list(range(len(frames)))
    full = _video_frames(VIDEO)
    for i, img in frames.items():
        np.testing.assert_array_equal(img, full[i])
    # Every frame the header promised but that did not decode is in a dead-letter record.
    assert failed, "frames lost without a dead-letter record"
    covered = set(frames)
    for rec in failed:
        assert rec["input"] == str(cut) and "could not be decoded" in rec["error"]
        start, stop = rec["frame_range"]
        covered.update(range(start, stop if stop is not None else 205))
    assert covered >= set(range(205))
