"""Short bounded runs of the fuzz harnesses in fuzz/ (the long runs are documented in fuzz/README.md):
each replays its seed corpus (written by tests/caffe_writer.py) and mutates it for a few hundred
inputs, with libFuzzer's per-input timeout and memory limit. A harness failure (an exception other
than the allowed ones, a hang, memory growth) fails the test with libFuzzer's report."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from helpers import REPO

pytest.importorskip("atheris")

RUNS = {
    "fuzz_prototxt.py": ("prototxt", 300),
    "fuzz_caffemodel.py": ("caffemodel", 1500),
    "fuzz_numpy_ops.py": ("numpy", 150),
}


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    folder = tmp_path_factory.mktemp("seeds")
    subprocess.run([sys.executable, str(REPO / "fuzz" / "make_seeds.py"), str(folder)], check=True)
    return folder


# libFuzzer's -rss_limit_mb reads getrusage's ru_maxrss, and Linux carries the peak RSS of the
# process that forked a child across the child's exec: started from a pytest process of 3 GB, the
# harness "used" 3 GB before its first input. A small intermediate Python that forks the harness
# gives it a peak of its own (measured: 1.5 GB parent -> 13 MB child, against 1.5 GB direct).
_FRESH_MAXRSS = (sys.executable, "-c", "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:]))")


@pytest.mark.parametrize("harness", sorted(RUNS))
def test_short_fuzz_run(harness, seeds, tmp_path):
    kind, runs = RUNS[harness]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    proc = subprocess.run(
        [
            *_FRESH_MAXRSS,
            sys.executable,
            str(REPO / "fuzz" / harness),
            f"-runs={runs}",
            "-seed=1",
            "-timeout=30",
            "-rss_limit_mb=2048",
            "-max_len=4096",
            f"-artifact_prefix={tmp_path}/",
            str(corpus),
            str(seeds / kind),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = proc.stderr[-3000:]
    assert proc.returncode == 0, report
    assert f"Done {runs} runs" in proc.stderr, report
    assert not list(Path(tmp_path).glob("crash-*")) and not list(Path(tmp_path).glob("timeout-*"))
