"""Where the test and benchmark data lives: one rule, used by tests/conftest.py and benchmarks/.

The data is ``../shared`` beside the checkout (read-only, never copied into the repository). A GPU
machine gets a copy of the repository without ``../shared``; for it, ``cpp/cuda/prepare_gpu_data.py``
copies the golden cases into the git-ignored ``gpu_data/`` folder, which travels with the copy.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Made by cpp/cuda/prepare_gpu_data.py: gpu_data/golden/ only (no models, images or COCO data).
CARRIED = REPO / "gpu_data"


def locate_shared() -> Path:
    """The shared data folder, in this order: ``$TFPOSE_SHARED`` when set; ``../shared`` beside the
    checkout when it exists; ``gpu_data/`` in the checkout when it holds golden cases (a partial
    copy: tests that need models, images or COCO data fail there with a missing-file error); else
    ``../shared`` (missing: the tests that need it say so)."""
    env = os.environ.get("TFPOSE_SHARED")
    if env:
        return Path(env).resolve()
    beside = (REPO.parent / "shared").resolve()
    if beside.exists():
        return beside
    if (CARRIED / "golden" / "index.json").exists():
        return CARRIED
    return beside
