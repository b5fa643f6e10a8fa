"""LiteRT (.tflite) networks: tfpose.litert and tfpose export --format tflite."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap

import cv2
import numpy as np
import pytest

from tfpose.litert import LiteRTEstimator, is_tflite

PINTO = "models/pinto_mnv2_pose_dm10_368x432_weight_quant.tflite"
# What the CLI says to --precision P on PINTO's model (int8 weights; float32 is the default).
PRECISION_REFUSED = "--precision {}: a .tflite network runs in the precision it was exported in (this file, "
# Tests of the TensorFlow side (export, the TensorFlow loader, the CLI) skip only in CI's
# TensorFlow-free environment (.ci/run), where the rest of this file runs without TensorFlow.
try:
    import tensorflow  # noqa: F401

    HAVE_TF = True
except ImportError:
    HAVE_TF = False
needs_tf = pytest.mark.skipif(not HAVE_TF, reason="needs TensorFlow (the TensorFlow-free CI environment has none)")


@pytest.fixture(scope="module")
def pinto(data_dir):
    return str(data_dir / PINTO)


@pytest.fixture(scope="module")
def bundled_tflite(tmp_path_factory):
    from tfpose.export_tflite import export_tflite

    return export_tflite(None, tmp_path_factory.mktemp("tfl") / "mobilenet_thin.tflite", "float32")


def _person_image(data_dir):
    return cv2.imread(str(data_dir / "images/tf_pose_estimation/p1.jpg"))


def test_is_tflite():
    assert is_tflite("a/b.TFLITE") and not is_tflite("a.pb") and not is_tflite(None)


def test_fixed_model_places_the_image_by_openpose_rule(pinto, data_dir):
    est = LiteRTEstimator(pinto, num_threads=1)
    assert est.input_mode == "fixed" and est.fixed_hw == (368, 432) and est.pose_model == "COCO_18"
    people = est.estimate(_person_image(data_dir))
    assert people and max(p.score for p in people) > 0.3
    # a smaller scale goes top-left into the fixed input; the output is cropped to it
    two = LiteRTEstimator(pinto, scale_number=2, num_threads=1).estimate(_person_image(data_dir))
    assert two


def test_fixed_model_refuses_another_size(pinto):
    with pytest.raises(ValueError, match="fixed input of 432x368"):
        LiteRTEstimator(pinto, net_resolution=(656, 368))


def test_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="expected a .tflite file"):
        LiteRTEstimator(tmp_path / "missing.tflite")
    (tmp_path / "dir.tflite").mkdir()
    with pytest.raises(ValueError, match="a directory; expected a .tflite file"):
        LiteRTEstimator(tmp_path / "dir.tflite")
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"not a flatbuffer")
    with pytest.raises(ValueError, match="junk.tflite"):
        LiteRTEstimator(junk)


def test_bad_num_threads(pinto):
    for bad in (0, -5, 1.5, True):
        with pytest.raises(ValueError, match="num_threads: expected None"):
            LiteRTEstimator(pinto, num_threads=bad)


def test_bad_image(pinto):
    # the TensorFlow estimator's rule and words (tfpose.types.as_bgr)
    est = LiteRTEstimator(pinto, num_threads=1)
    with pytest.raises(TypeError, match="expected dtype uint8"):
        est.estimate(np.zeros((10, 10, 3), np.float32))
    with pytest.raises(ValueError, match=r"expected uint8 \[N, H, W, 3\]"):
        est.estimate_arrays(np.zeros((10, 10, 3), np.uint8))
    with pytest.raises(ValueError, match="at least one image"):
        est.estimate_arrays(np.zeros((0, 64, 64, 3), np.uint8))


@needs_tf
@pytest.mark.slow
def test_exported_float32_gives_tensorflows_people(bundled_tflite, data_dir):
    """The float32 .tflite of the bundled network, resized to OpenPose's sizing, finds the people the
    TensorFlow path finds (network outputs agree to ~1e-5, so keypoints to well under a pixel)."""
    import tfpose
    from tfpose.tf_estimator import TensorFlowEstimator

    est = tfpose.Estimator(bundled_tflite)  # a resizable .tflite through the public name
    assert isinstance(est, LiteRTEstimator) and est.input_mode == "resize" and est.precision == "float32"
    img = _person_image(data_dir)
    lite = est.estimate(img)
    with tfpose.Estimator(precision="float32") as tf_est:
        assert isinstance(tf_est, TensorFlowEstimator) and isinstance(tf_est, tfpose.Estimator)
        ref = tf_est.estimate(img)
    # closed by the with block: its graphs and network released, asking again says so
    with pytest.raises(ValueError, match="closed"):
        tf_est.estimate(img)
    assert len(lite) == len(ref) > 0
    for a, b in zip(sorted(lite, key=lambda p: -p.score), sorted(ref, key=lambda p: -p.score), strict=True):
        assert np.array_equal(a.keypoints[:, 2] > 0, b.keypoints[:, 2] > 0)
        assert np.abs(a.keypoints[:, :2] - b.keypoints[:, :2]).max() < 0.5
        assert abs(a.score - b.score) < 1e-3


@needs_tf
@pytest.mark.slow
def test_export_quantizations_and_errors(tmp_path):
    from tfpose.export_tflite import export_tflite

    with pytest.raises(ValueError, match="quantization: expected one of"):
        export_tflite(None, tmp_path / "x.tflite", "int4")
    with pytest.raises(ValueError, match="ending in .tflite"):
        export_tflite(None, tmp_path / "x.bin")
    f16 = export_tflite(None, tmp_path / "f16.tflite", "float16")
    i8 = export_tflite(None, tmp_path / "i8.tflite", "int8")
    # float16 halves the weights, dynamic-range int8 quarters them
    assert os.path.getsize(i8) < os.path.getsize(f16)
    for path, precision in ((f16, "float16"), (i8, "int8")):
        est = LiteRTEstimator(path, num_threads=1)
        assert est.input_mode == "resize" and est.precision == precision


# Run in a fresh interpreter where importing TensorFlow fails (as in CI's TensorFlow-free venv,
# and so in any venv): the code must neither need it nor import it.
_BLOCK_TENSORFLOW = """
import sys, importlib.abc
class NoTF(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "tensorflow" or name.startswith("tensorflow."):
            raise ImportError("TensorFlow blocked by the test")
sys.meta_path.insert(0, NoTF())
"""


def _without_tensorflow(code: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", _BLOCK_TENSORFLOW + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=cwd,
    )


def test_litert_path_without_tensorflow(pinto, data_dir):
    """tfpose's core and the LiteRT path run where TensorFlow cannot be imported, through
    tfpose.Estimator and tfpose.estimate as through LiteRTEstimator, with the same people."""
    image = str(data_dir / "images/tf_pose_estimation/p1.jpg")
    run = _without_tensorflow(
        f"""
        import cv2, numpy as np
        import tfpose
        from tfpose import Estimator
        from tfpose.litert import LiteRTEstimator
        image = cv2.imread({image!r})
        est = Estimator({pinto!r}, num_threads=1)
        assert type(est) is LiteRTEstimator and isinstance(est, Estimator), type(est)
        people = est.estimate(image)
        ref = LiteRTEstimator({pinto!r}, num_threads=1).estimate(image)
        once = tfpose.estimate(image, model={pinto!r})
        assert people and len(people) == len(ref) == len(once), (len(people), len(ref), len(once))
        for a, b, c in zip(people, ref, once):
            assert np.array_equal(a.keypoints, b.keypoints) and np.array_equal(a.keypoints, c.keypoints)
        assert "tensorflow" not in sys.modules
        print("ok", len(people))
        """
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.startswith("ok")


def test_cli_runs_a_tflite_network_without_tensorflow(pinto, data_dir, tmp_path):
    """tfpose estimate --model X.tflite writes JSON and drawings where TensorFlow cannot be imported
    (before: the command imported TensorFlow first, whatever the model)."""
    image = str(data_dir / "images/tf_pose_estimation/p1.jpg")
    args = ["estimate", "--model", pinto, image, "--no-progress"]
    args += ["--write-json", str(tmp_path / "json"), "--write-images", str(tmp_path / "img")]
    run = _without_tensorflow(
        f"""
        from tfpose.cli import main
        rc = main({args!r})
        assert "tensorflow" not in sys.modules
        print("rc", rc)
        """
    )
    assert run.returncode == 0 and run.stdout.strip().endswith("rc 0"), run.stdout + run.stderr[-2000:]
    (json_file,) = (tmp_path / "json").glob("*_keypoints.json")
    assert '"pose_keypoints_2d"' in json_file.read_text()
    (drawing,) = (tmp_path / "img").glob("*_rendered.png")
    assert cv2.imread(str(drawing)).shape == cv2.imread(image).shape


def test_cli_without_tensorflow_says_what_needs_it(tmp_path):
    """Without TensorFlow, export and a TensorFlow network end with one line naming what needs it,
    exit 2 (not a traceback)."""
    run = _without_tensorflow(
        f"""
        from tfpose.cli import main
        print("rc", main(["export", {str(tmp_path / "saved")!r}]), main(["estimate", "--sample"]))
        """
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip().endswith("rc 2 2"), run.stdout
    lines = [line for line in run.stderr.splitlines() if line.startswith("tfpose:")]
    assert len(lines) == 2 and "Traceback" not in run.stderr, run.stderr
    assert lines[0].startswith("tfpose: tfpose export needs TensorFlow, which cannot be imported here")
    assert lines[1].startswith("tfpose: a TensorFlow network (.pb, SavedModel, the bundled one) needs TensorFlow")
    assert not (tmp_path / "saved").exists()


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("flip", True),
        ("accuracy", "best"),  # its flip averaging
        ("input_name", "image:0"),
        ("output_name", "Openpose/concat_stage7:0"),
        ("hand_model", "hand.pb"),
        ("face_model", "face.pb"),
        ("hand_scale_number", 4),
        ("hand_scale_range", 0.2),
        ("hand_face_normalization", "none"),
        ("batch_size", 4),
        ("precision", "bfloat16"),
        ("precision", "float16"),  # PINTO's model holds int8 weights
    ],
)
def test_estimator_refuses_what_only_tensorflow_has(pinto, option, value):
    from tfpose import Estimator

    name = "flip" if option == "accuracy" else option
    with pytest.raises(ValueError, match=f"^{name}: "):
        Estimator(pinto, **{option: value})


def test_estimator_surface_on_a_tflite_network(pinto, data_dir):
    """What tfpose.Estimator offers, on a .tflite network: the file's precision, batched arrays,
    batches of any sizes, the stream, number_people_max / keypoint_scale, close and the context
    manager; estimate_details is refused with a ValueError."""
    from tfpose import Estimator
    from tfpose.base_estimator import MSG_CLOSED

    image = _person_image(data_dir)
    small = np.ascontiguousarray(image[: image.shape[0] // 2, : image.shape[1] // 2])
    with Estimator(pinto, num_threads=1, precision="int8") as est:
        assert est.precision == "int8" and est.batch_size == 1 and est.pose_model == "COCO_18"
        one = est.estimate(image)
        assert len(one) >= 2
        kp, scores, num = est.estimate_arrays(np.stack([image, image]))
        assert kp.shape[0] == scores.shape[0] == 2 and list(num) == [len(one)] * 2
        both = est.estimate_batch([image, small])
        assert [len(p) for p in both] == [len(one), len(est.estimate(small))]
        streamed = list(est.stream(iter([image, small, image])))
        for a, b in zip(streamed, [both[0], both[1], both[0]], strict=True):
            assert [p.keypoints.tolist() for p in a] == [p.keypoints.tolist() for p in b]
        with pytest.raises(ValueError, match="estimate_details: part candidates and heatmaps"):
            est.estimate_details(image)
    assert est.closed
    with pytest.raises(ValueError, match=MSG_CLOSED.split(" (")[0]):
        est.estimate(image)
    best = Estimator(pinto, num_threads=1, number_people_max=1, keypoint_scale=3).estimate(image)
    # OpenPose's --number_people_max ranking (score x sqrt(box area), tfpose.io.keep_top_people)
    from tfpose.io import keep_top_people

    (top,) = keep_top_people(np.stack([p.keypoints for p in one]), np.array([p.score for p in one]), 1)
    assert len(best) == 1 and best[0].score == one[top].score
    assert np.abs(best[0].keypoints[:, :2]).max() <= 1.0  # keypoint_scale 3: [-1, 1]


def test_accuracy_best_without_flip_runs_on_a_tflite_network(pinto, data_dir):
    from tfpose import Estimator

    est = Estimator(pinto, num_threads=1, accuracy="best", flip=False)
    assert (est.scale_number, est.peak_refinement, est.flip) == (3, "quadratic", False)
    assert est.estimate(_person_image(data_dir))


def test_estimator_is_not_subclassed():
    from tfpose import Estimator
    from tfpose.litert import LiteRTEstimator

    assert issubclass(LiteRTEstimator, Estimator) and issubclass(Estimator, Estimator)
    with pytest.raises(TypeError, match="picks its implementation"):
        type("Mine", (Estimator,), {})


@needs_tf
def test_tflite_given_to_the_tensorflow_loader_says_where_it_runs(pinto):
    from tfpose.network import load_network

    with pytest.raises(ValueError, match="LiteRTEstimator"):
        load_network(pinto)


@needs_tf
def test_saved_model_export_of_a_tflite_network_says_where_it_runs(pinto, tmp_path, capsys):
    # before: Estimator(x.tflite) became a LiteRTEstimator inside the export, an AttributeError traceback
    import tfpose
    from tfpose.cli import main

    with pytest.raises(ValueError, match="runs in tfpose.Estimator"):
        tfpose.export_saved_model(pinto, tmp_path / "a")
    assert main(["export", pinto, str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tfpose: export failed: ") and "runs in tfpose.Estimator" in err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_cli_runs_a_tflite_network(pinto, tmp_path):
    from tfpose.cli import main

    assert main(["estimate", "--model", pinto, "--sample", "--no-progress", "--write-json", str(tmp_path)]) == 0
    assert list(tmp_path.glob("*_keypoints.json"))
    # one image per interpreter call: a larger --batch-size is refused with a message, exit 2
    assert main(["estimate", "--model", pinto, "--sample", "--no-progress", "--batch-size", "4"]) == 2


@pytest.mark.parametrize("flag", [["--part-candidates"], ["--write-heatmaps", "HEATMAPS"]])
def test_cli_refuses_what_only_the_tensorflow_path_gives(pinto, tmp_path, capsys, flag):
    # Before: every image was skipped ("'LiteRTEstimator' object has no attribute 'estimate_details'")
    # and the run still exited 0 with no frame written.
    from tfpose.cli import main

    flag = [str(tmp_path / f) if f == "HEATMAPS" else f for f in flag]
    args = ["estimate", "--model", pinto, "--sample", "--no-progress", "--write-json", str(tmp_path / "j"), *flag]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"{flag[0]}: expected a TensorFlow network; a .tflite one gives people only" in err
    assert not list(tmp_path.rglob("*_keypoints.json"))


@pytest.mark.parametrize(
    ("flag", "says"),
    [
        (["--hand", "--hand-model", "hand.pb"], "--hand: expected a TensorFlow body network"),
        (["--hand-scale-number", "4"], "--hand-scale-number: sets the hands"),
        (["--flip"], "--flip: a .tflite network"),
        # the file's precision named, the default beside it; not the three a .tflite may hold
        (["--precision", "bfloat16"], PRECISION_REFUSED.format("bfloat16")),
        (["--precision", "float16"], PRECISION_REFUSED.format("float16")),
        (
            ["--precision", "float16"],
            "int8); tfpose export --format tflite --tflite-quantization writes another; "
            "expected --precision int8 or --precision float32",
        ),
        # CLI errors name CLI options (before: "(with accuracy='best': flip=False)", "batch_size: ...")
        (["--accuracy", "best"], "--flip: a .tflite network ("),
        (["--accuracy", "best"], "; expected --no-flip (--accuracy best turns it on)"),
        (
            ["--batch-size", "4"],
            "--batch-size 4: a .tflite network runs one image per interpreter call; expected --batch-size 1",
        ),
        (["--net-resolution", "656x368"], "--net-resolution 656x368: model "),
        (["--net-resolution", "656x368"], "expected --net-resolution 432x368 or --net-resolution left out"),
    ],
)
def test_cli_refuses_tensorflow_only_options_for_a_tflite_network(pinto, tmp_path, capsys, flag, says):
    from tfpose.cli import main

    out = tmp_path / "j"
    assert main(["estimate", "--model", pinto, "--sample", "--no-progress", "--write-json", str(out), *flag]) == 2
    err = capsys.readouterr().err
    assert says in err
    assert not re.search(r"\b(flip|batch_size|precision|net_resolution)=", err), err  # no Python keywords
    assert not out.exists()  # refused before any output folder stays behind


@needs_tf
def test_both_estimators_say_the_same_to_an_empty_batch():
    # one message, one owner: base_estimator (TensorFlow-free), imported by the graph
    from tfpose import base_estimator, graph

    assert base_estimator.MSG_EMPTY_BATCH is graph.MSG_EMPTY_BATCH


def _non_utf8_copy(src, folder) -> bytes:
    """A copy of ``src`` in ``folder`` under a name that is not UTF-8 (bytes path)."""
    dst = os.path.join(os.fsencode(folder), b"n\xff" + os.path.splitext(os.fsencode(src))[1])
    shutil.copyfile(os.fsencode(src), dst)
    return dst


def test_a_tflite_file_name_that_is_not_utf8_loads(pinto, tmp_path, data_dir, capsys):
    """Before: LiteRT's binding refused the name with "TypeError: CreateWrapperFromFile(): incompatible
    function arguments" and its signature list, in the Python API and the CLI."""
    from tfpose import Estimator
    from tfpose.cli import main

    image = _person_image(data_dir)
    ref = LiteRTEstimator(pinto, num_threads=1).estimate(image)
    odd = _non_utf8_copy(pinto, tmp_path)
    for model in (os.fsdecode(odd), odd):  # the str Python makes of such a name, and the bytes
        est = Estimator(model, num_threads=1)
        assert type(est) is LiteRTEstimator and est.source == os.fsdecode(odd)
        people = est.estimate(image)
        assert [p.keypoints.tolist() for p in people] == [p.keypoints.tolist() for p in ref]
    args = ["estimate", "--model", os.fsdecode(odd), "--sample", "--no-progress", "--write-json", str(tmp_path / "j")]
    assert main(args) == 0, capsys.readouterr().err
    assert list((tmp_path / "j").glob("*_keypoints.json"))


def test_a_folder_or_fifo_named_tflite_is_refused_whatever_its_name(tmp_path):
    # tfpose.sources.not_a_file's rule, also for names that are not UTF-8; a FIFO is never opened
    from tfpose import Estimator

    folder = os.path.join(os.fsencode(tmp_path), b"d\xff.tflite")
    os.mkdir(folder)
    with pytest.raises(ValueError, match="a directory; expected a .tflite file"):
        Estimator(os.fsdecode(folder))
    with pytest.raises(ValueError, match="a directory; expected a .tflite file"):
        Estimator(folder)
    if hasattr(os, "mkfifo"):
        fifo = os.path.join(os.fsencode(tmp_path), b"f\xff.tflite")
        os.mkfifo(fifo)
        for model in (os.fsdecode(fifo), fifo):
            with pytest.raises(ValueError, match=r"not a regular file \(a named pipe"):
                Estimator(model)


def test_bytes_tflite_path_runs_in_litert_without_tensorflow(pinto):
    """Before: a bytes path was not taken for a .tflite, so TensorFlow was imported, then "TypeError:
    endswith first arg must be bytes"."""
    run = _without_tensorflow(
        f"""
        from tfpose import Estimator
        from tfpose.litert import LiteRTEstimator, is_tflite
        assert is_tflite({os.fsencode(pinto)!r}) and is_tflite(b"M.TFLITE")
        est = Estimator({os.fsencode(pinto)!r}, num_threads=1)
        assert type(est) is LiteRTEstimator and est.source == {pinto!r}, (type(est), est.source)
        assert "tensorflow" not in sys.modules
        print("ok")
        """
    )
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr[-2000:]


@needs_tf
def test_bytes_path_on_the_tensorflow_path(tmp_path):
    """A bytes path reaches the TensorFlow loader as the str os.fsdecode makes (before: "TypeError:
    endswith first arg must be bytes"), so its errors name the file."""
    from tfpose import Estimator

    with pytest.raises(FileNotFoundError, match=r"model '.*s\.pb' not found"):
        Estimator(os.fsencode(tmp_path / "s.pb"))


@needs_tf
@pytest.mark.slow
def test_bytes_path_not_utf8_loads_on_the_tensorflow_path(tmp_path, data_dir):
    import tfpose
    from tfpose.tf_estimator import TensorFlowEstimator

    bundled = os.path.join(os.path.dirname(tfpose.__file__), "data", "mobilenet_thin.pb")
    with tfpose.Estimator(_non_utf8_copy(bundled, tmp_path)) as est:
        assert type(est) is TensorFlowEstimator
        assert est.estimate(_person_image(data_dir))


def test_num_threads_is_named_litert_only_on_the_tensorflow_path():
    """Before: "TypeError: unknown threshold(s) ['num_threads']", after importing TensorFlow. Refused
    by the picker, before TensorFlow is imported (so also where it is missing)."""
    run = _without_tensorflow(
        """
        from tfpose import Estimator
        from tfpose.base_estimator import OptionRefused
        try:
            Estimator("x.pb", num_threads=2)
        except OptionRefused as exc:
            assert isinstance(exc, ValueError) and (exc.option, exc.value) == ("num_threads", 2), exc
            print(exc)
        assert "tensorflow" not in sys.modules
        """
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.startswith("num_threads: only for a .tflite network (LiteRT); model 'x.pb' runs in TensorFlow")
    assert run.stdout.strip().endswith("expected None, got 2"), run.stdout


def test_precision_refusal_names_the_files_precision(pinto):
    # before: "... expected 'float32' or 'int8'", and for a float32 file "'float32' or 'float32'"
    from tfpose import Estimator

    with pytest.raises(ValueError) as caught:
        Estimator(pinto, precision="float16")
    msg = str(caught.value)
    assert msg.startswith("precision: a .tflite network runs in the precision it was exported in (this file, ")
    assert f"{PINTO.rsplit('/', 1)[1]}': int8)" in msg and msg.endswith("expected 'int8' or 'float32', got 'float16'")


@needs_tf
@pytest.mark.slow
def test_precision_refusal_on_a_float32_file_names_one_precision(bundled_tflite):
    from tfpose import Estimator

    with pytest.raises(ValueError, match=r": float32\); .*; expected 'float32', got 'float16'$"):
        Estimator(bundled_tflite, precision="float16")


def test_python_refusals_use_python_words(pinto):
    from tfpose import Estimator

    with pytest.raises(ValueError, match=r"got True \(accuracy='best' sets it: give flip=False\)$"):
        Estimator(pinto, accuracy="best")
    with pytest.raises(ValueError, match=r"^net_resolution: .*; expected \(432, 368\) or None, got \(656, 368\)$"):
        Estimator(pinto, net_resolution=(656, 368))


@pytest.mark.parametrize(
    "argv, named",
    [
        (["--tflite-quantization", "int8", "OUT"], "--tflite-quantization int8: only with --format tflite"),
        (
            ["--format", "tflite", "--accuracy", "best", "--scale-number", "3", "--net-resolution", "320x240", "OUT"],
            "--accuracy, --net-resolution, --scale-number: not applied by --format tflite",
        ),
        (["--format", "tflite", "--no-flip", "OUT"], "--no-flip: not applied by --format tflite"),
    ],
)
def test_export_refuses_options_its_format_would_ignore(tmp_path, capsys, argv, named):
    # Newcomer review: both exported something else than asked, exit 0 (a float32 SavedModel for
    # --tflite-quantization int8; the plain network for --accuracy best ...). Refused before
    # TensorFlow is imported or anything is written.
    from tfpose.cli import main

    out = tmp_path / "out"
    assert main(["export", *[str(out) if a == "OUT" else a for a in argv]]) == 2
    assert named in capsys.readouterr().err
    assert not out.exists()


def test_cli_without_the_litert_runtime_says_so_in_one_line(pinto, tmp_path):
    # Newcomer review: without ai-edge-litert, `tfpose estimate --model X.tflite` ended in a
    # 20-line traceback, exit 1; now one line naming what to install, exit 2, nothing written.
    out = tmp_path / "out"
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            _BLOCK_TENSORFLOW.replace(
                'name == "tensorflow" or name.startswith("tensorflow.")', 'name.startswith("ai_edge_litert")'
            )
            + "import sys\nfrom tfpose.cli import main\n"
            + f"sys.exit(main(['estimate', '--sample', '--model', {pinto!r}, '--write-json', {str(out)!r}]))",
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr and "ai-edge-litert" in run.stderr, run.stderr
    assert not out.exists()
