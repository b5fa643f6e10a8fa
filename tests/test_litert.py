"""LiteRT (.tflite) networks: tfpose.litert and tfpose export --format tflite."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import cv2
import numpy as np
import pytest

from tfpose.litert import LiteRTEstimator, is_tflite

PINTO = "models/pinto_mnv2_pose_dm10_368x432_weight_quant.tflite"
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
    with pytest.raises(ValueError, match="got a directory"):
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
    est = LiteRTEstimator(pinto, num_threads=1)
    with pytest.raises(ValueError, match="expected uint8"):
        est.estimate(np.zeros((10, 10, 3), np.float32))


@needs_tf
@pytest.mark.slow
def test_exported_float32_gives_tensorflows_people(bundled_tflite, data_dir):
    """The float32 .tflite of the bundled network, resized to OpenPose's sizing, finds the people the
    TensorFlow path finds (network outputs agree to ~1e-5, so keypoints to well under a pixel)."""
    import tfpose

    est = LiteRTEstimator(bundled_tflite, num_threads=1)
    assert est.input_mode == "resize"
    img = _person_image(data_dir)
    lite = est.estimate(img)
    ref = tfpose.Estimator(precision="float32").estimate(img)
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
    for path in (f16, i8):
        assert LiteRTEstimator(path, num_threads=1).input_mode == "resize"


def test_litert_path_without_tensorflow(pinto, data_dir):
    """tfpose's core and the LiteRT path run where TensorFlow cannot be imported."""
    code = textwrap.dedent(
        f"""
        import sys, importlib.abc
        class NoTF(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name == "tensorflow" or name.startswith("tensorflow."):
                    raise ImportError("TensorFlow blocked by the test")
        sys.meta_path.insert(0, NoTF())
        import cv2
        from tfpose.litert import LiteRTEstimator
        est = LiteRTEstimator({pinto!r}, num_threads=1)
        people = est.estimate(cv2.imread({str(data_dir / "images/tf_pose_estimation/p1.jpg")!r}))
        assert people, "no people"
        assert "tensorflow" not in sys.modules
        print("ok", len(people))
        """
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.startswith("ok")


@needs_tf
def test_tflite_given_to_the_tensorflow_loader_says_where_it_runs(pinto):
    from tfpose.network import load_network

    with pytest.raises(ValueError, match="LiteRTEstimator"):
        load_network(pinto)


@needs_tf
def test_cli_runs_a_tflite_network(pinto, tmp_path):
    from tfpose.cli import main

    assert main(["estimate", "--model", pinto, "--sample", "--no-progress", "--write-json", str(tmp_path)]) == 0
    assert list(tmp_path.glob("*_keypoints.json"))
    # one image per interpreter call: a larger --batch-size is refused with a message, exit 2
    assert main(["estimate", "--model", pinto, "--sample", "--no-progress", "--batch-size", "4"]) == 2


@needs_tf
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
