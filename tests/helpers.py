"""Code shared by the test modules (imported as ``helpers``; pytest puts tests/ on sys.path):
paths to ../shared (read-only data), the golden cases, and matching of people as sets."""

from __future__ import annotations

import json

import numpy as np

from data_paths import REPO, locate_shared

__all__ = ["REPO", "SHARED", "GOLDEN", "DATA", "GOLDEN_CASES", "golden_index", "load_golden", "match_people"]

# Tests and benchmarks read data from ../shared beside the checkout (never copied into the repo),
# or from gpu_data/ on a machine that got a copy of the repository without it (data_paths.py).
SHARED = locate_shared()
GOLDEN = SHARED / "golden"
DATA = SHARED / "data"


def golden_index() -> list[dict]:
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
