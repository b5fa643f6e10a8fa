"""`python -m tfpose.saved_model_cli` runs TensorFlow's saved_model_cli on a `tfpose export`
(TensorFlow's own tool stops with "Op type not registered 'TfposeSizing'"): the documented command
of docs/serving.md on an export of the bundled model gives the Estimator's people."""

from __future__ import annotations

import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

import tfpose


def _env() -> dict[str, str]:
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    d = tmp_path_factory.mktemp("smcli") / "exported"
    tfpose.export_saved_model(None, d)  # the bundled model
    return d


def _cli(*args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tfpose.saved_model_cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        env=_env(),
        cwd=cwd,
    )


@pytest.mark.slow
def test_run_gives_the_estimators_people(exported, tmp_path):
    image = cv2.imread(str(tfpose.data.sample_image()))
    np.save(tmp_path / "image.npy", image[None])
    out = tmp_path / "out"
    r = _cli(
        "run",
        "--dir",
        exported,
        "--tag_set",
        "serve",
        "--signature_def",
        "serving_default",
        "--inputs",
        f"images={tmp_path / 'image.npy'}",
        "--outdir",
        out,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    keypoints, scores, num_people = (np.load(out / f"{k}.npy") for k in ("keypoints", "scores", "num_people"))
    people = tfpose.Estimator(None).estimate(image)
    assert int(num_people[0]) == len(people) == 3
    for m, person in enumerate(people):
        np.testing.assert_array_equal(keypoints[0, m], person.keypoints)
        assert np.float32(scores[0, m]) == np.float32(person.score)


@pytest.mark.slow
def test_show_lists_the_signature(exported):
    r = _cli("show", "--dir", exported, "--tag_set", "serve", "--signature_def", "serving_default")
    assert r.returncode == 0, r.stderr[-3000:]
    assert "inputs['images']" in r.stdout and "outputs['keypoints']" in r.stdout


def test_bad_arguments_exit_non_zero(tmp_path):
    r = _cli("run", "--dir", tmp_path / "missing", "--tag_set", "serve", "--inputs", "images=x.npy")
    assert r.returncode != 0
    r = _cli()
    assert r.returncode != 0 and "Too few arguments" in r.stderr
