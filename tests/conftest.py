"""Fixtures and the report header; quiet TensorFlow logs. Shared test code lives in helpers.py."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest

from helpers import SHARED


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
