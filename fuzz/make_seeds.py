"""Writes the fuzzing seed corpus: python fuzz/make_seeds.py OUT_DIR.

OUT_DIR/prototxt and OUT_DIR/caffemodel come from the tests' own Caffe writer (tests/caffe_writer.py:
a small network in every encoding the reader accepts, plus OpenPose's prototxts from tests/data);
OUT_DIR/numpy holds a few inputs of the numpy-ops harness.
"""

from __future__ import annotations

import sys
from pathlib import Path

import _harness

from caffe_writer import write_seed_corpus


def main(out: str) -> None:
    folder = Path(out)
    prototxts = sorted((_harness.REPO / "tests" / "data" / "openpose_prototxt").glob("*.prototxt"))
    if not prototxts:
        raise SystemExit(
            f"make_seeds: expected OpenPose's prototxts in {_harness.REPO / 'tests/data/openpose_prototxt'}"
        )
    write_seed_corpus(folder, prototxts)
    (folder / "numpy").mkdir(parents=True, exist_ok=True)
    # Header bytes pick op, sizes and build (see fuzz_numpy_ops.py); the rest become map values.
    for i, head in enumerate([b"\x00\x03\x04\x00", b"\x01\x05\x05\x01", b"\x02\x02\x07\x00", b"\x03\x04\x04\x01"]):
        body = bytes((j * 37 + i) % 256 for j in range(4096))
        (folder / "numpy" / f"seed{i}").write_bytes(head + body)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
