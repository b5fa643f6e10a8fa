"""Shared fixtures: paths to ../shared (read-only data), golden cases, and quiet TensorFlow logs."""
from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

from data_paths import REPO, locate_shared

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


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.exists():
        pytest.fail(f"shared data folder not found at {SHARED} (set TFPOSE_SHARED)")
    return SHARED


def pytest_report_header(config):
    """Says up front which optional parts run, so skipped GPU tests are visible without -rs."""
    try:
        from tfpose import _core

        cuda = "built" if getattr(_core, "has_cuda", False) else "not built: tests/test_cuda.py GPU tests skip"
    except ImportError as exc:  # the package itself is missing: every test will say so
        cuda = f"unknown ({exc})"
    return [f"tfpose shared data: {SHARED}", f"tfpose CUDA kernels: {cuda}"]
