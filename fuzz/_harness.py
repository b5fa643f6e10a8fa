"""Shared start-up of the fuzz harnesses: import paths, and atheris' libFuzzer main loop."""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # caffe_writer (seeds) lives with the tests
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def run(test_one_input) -> None:
    """libFuzzer's command line (corpus folders, -max_total_time=, -runs=, -rss_limit_mb=, ...)."""
    import atheris

    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
