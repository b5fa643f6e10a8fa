"""Fixtures and the report header; quiet TensorFlow logs. Shared test code lives in helpers.py."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest

from helpers import DATA


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The tests' data folder, tests/data/ in the repository (data_paths.py)."""
    if not DATA.is_dir():
        pytest.fail(f"test data folder not found at {DATA} (it is part of the repository: is the checkout whole?)")
    return DATA


def pytest_report_header(config):
    """Says up front which optional parts run, so skipped GPU tests are visible without -rs."""
    try:
        from tfpose import _core

        cuda = "built" if getattr(_core, "has_cuda", False) else "not built: tests/test_cuda.py GPU tests skip"
    except ImportError as exc:  # the package itself is missing: every test will say so
        cuda = f"unknown ({exc})"
    return [f"tfpose test data: {DATA}", f"tfpose CUDA kernels: {cuda}"]
