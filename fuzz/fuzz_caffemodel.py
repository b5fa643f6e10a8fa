"""Fuzzes the caffemodel reader and the weight checks against a small network: any input must read,
or raise ConversionError; weights that pass check_weights must convert to TensorFlow's layout.

Run: python fuzz/fuzz_caffemodel.py [libFuzzer options] CORPUS_DIR [SEED_DIR] (see fuzz/README.md).
"""

from __future__ import annotations

import os

import _harness  # noqa: F401  (paths)
import atheris

with atheris.instrument_imports(include=["tfpose"]):
    from tfpose.convert.caffe_proto import ConversionError, parse_prototxt_text, read_caffemodel
    from tfpose.convert.caffe_to_tf import check_weights, plan_network, tf_weights

from caffe_writer import SMALL_NET

PLAN = plan_network(parse_prototxt_text(SMALL_NET))
# The reader maps a file by path: an anonymous in-memory file, rewritten for every input (nothing to
# clean up: libFuzzer ends the process without running Python's exit handlers).
_FD = os.memfd_create("fuzz.caffemodel")
PATH = f"/proc/self/fd/{_FD}"


def test_one_input(data: bytes) -> None:
    os.ftruncate(_FD, 0)
    os.pwrite(_FD, data, 0)
    try:
        with read_caffemodel(PATH) as model:
            for layer in model.layers.values():
                for blob in layer.blobs:
                    assert blob.data.dtype.name == "float32"
            check_weights(PLAN, model)
            for pl in PLAN.layers:
                if pl.blob_shapes:
                    tf_weights(pl, model)
    except ConversionError:
        return


if __name__ == "__main__":
    _harness.run(test_one_input)
