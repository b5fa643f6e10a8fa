"""Serving outside Python: examples/serving/tfpose_serve.c, built by CMake against the TensorFlow
wheel's C API with the command docs/serving.md gives (a relative -DPython_EXECUTABLE included), loads
tfpose's op library and a tfpose SavedModel and gives the Estimator's people."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest

import tfpose

from helpers import DATA, REPO

MODEL = DATA / "models" / "tfpose_mobilenet_v2_small_graph_opt.pb"
IMG = DATA / "images" / "tf_pose_estimation" / "apink2.jpg"
SOURCE = REPO / "examples" / "serving"
SERVING_DOC = REPO / "docs" / "serving.md"

pytestmark = [
    pytest.mark.skipif(
        shutil.which("cmake") is None or shutil.which("cc") is None,
        reason="examples/serving needs cmake and a C compiler (apt-get install cmake gcc)",
    ),
    pytest.mark.slow,
]


def _documented_build_commands(build) -> list[list[str]]:
    """docs/serving.md's `cmake ... && cmake --build ...` line, run from the repository root as a
    reader would: its build folder replaced by `build`, its `.venv/bin/python` by this interpreter's
    path relative to the repository (still a relative path, the form CMake 4's FindPython misread)."""
    (line,) = [ln for ln in SERVING_DOC.read_text().splitlines() if ln.startswith("cmake -S examples/serving")]
    python = os.path.relpath(sys.executable, REPO)
    commands = []
    for part in line.split("&&"):
        args = shlex.split(part)
        args = [str(build) if a == "build/serving" else a for a in args]
        args = [a.replace("=.venv/bin/python", f"={python}") for a in args]
        commands.append(args)
    assert [c[:2] for c in commands] == [["cmake", "-S"], ["cmake", "--build"]], commands
    assert any(a.startswith("-DPython_EXECUTABLE=") and not os.path.isabs(a.split("=", 1)[1]) for a in commands[0])
    return commands


@pytest.fixture(scope="module")
def program(tmp_path_factory):
    build = tmp_path_factory.mktemp("serving_build")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    for cmd in _documented_build_commands(build):
        r = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=env, timeout=600)
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return build / "tfpose_serve"


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    d = tmp_path_factory.mktemp("sm") / "model"
    tfpose.export_saved_model(MODEL, d)
    return d


def _op_library() -> str:
    from tfpose import _loader

    return _loader._find_library("_tfpose_ops.so")


def _signature_tensors(path) -> list[str]:
    from tensorflow.core.protobuf import saved_model_pb2

    sm = saved_model_pb2.SavedModel()
    sm.ParseFromString((path / "saved_model.pb").read_bytes())
    sig = sm.meta_graphs[0].signature_def["serving_default"]
    return [sig.inputs["images"].name] + [sig.outputs[k].name for k in ("keypoints", "scores", "num_people")]


def _serve(program, *args):
    return subprocess.run(
        [str(program), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
    )


def test_c_program_gives_the_estimators_people(program, exported, tmp_path):
    img = cv2.imread(str(IMG))
    ppm = tmp_path / "image.ppm"
    assert cv2.imwrite(str(ppm), img)
    names = _signature_tensors(exported)
    # The program's default names are what `tfpose export` writes with this TensorFlow.
    assert names == [
        "serving_default_images:0",
        "StatefulPartitionedCall:0",
        "StatefulPartitionedCall:2",
        "StatefulPartitionedCall:1",
    ]
    r = _serve(program, _op_library(), exported, ppm, *names)
    assert r.returncode == 0, r.stderr[-3000:]
    lines = r.stdout.splitlines()
    head = lines[0].split()
    people = tfpose.Estimator(MODEL).estimate(img)
    assert head == ["people", str(len(people)), "parts", "18"] and len(people) > 0
    for m, person in enumerate(people):
        block = lines[1 + m * 19 : 1 + (m + 1) * 19]
        assert block[0].split()[:3] == ["person", str(m), "score"]
        assert np.float32(block[0].split()[3]) == np.float32(person.score)
        kp = np.array([[np.float32(v) for v in ln.split()] for ln in block[1:]], np.float32)
        np.testing.assert_array_equal(kp, person.keypoints)
    # Default tensor names: the same output.
    assert _serve(program, _op_library(), exported, ppm).stdout == r.stdout


def test_c_program_errors_name_the_problem(program, exported, tmp_path):
    ppm = tmp_path / "image.ppm"
    cv2.imwrite(str(ppm), np.zeros((16, 16, 3), np.uint8))
    r = _serve(program, tmp_path / "missing_ops.so", exported, ppm)
    assert r.returncode == 1 and "loading tfpose's op library" in r.stderr
    bad = tmp_path / "bad.ppm"
    bad.write_bytes(b"P3\n2 2\n255\n")
    r = _serve(program, _op_library(), exported, bad)
    assert r.returncode == 1 and "expected a binary PPM" in r.stderr
    r = _serve(
        program,
        _op_library(),
        exported,
        ppm,
        "nope:0",
        "StatefulPartitionedCall:0",
        "StatefulPartitionedCall:2",
        "StatefulPartitionedCall:1",
    )
    assert r.returncode == 1 and "has no tensor nope:0" in r.stderr
