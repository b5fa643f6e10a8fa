"""Fuzzes the prototxt reader and the converter's planning (no TensorFlow): any input must parse and
plan, or raise ConversionError; nothing else may escape, hang or grow memory.

Run: python fuzz/fuzz_prototxt.py [libFuzzer options] CORPUS_DIR [SEED_DIR] (see fuzz/README.md).
"""

from __future__ import annotations

import _harness  # noqa: F401  (paths)
import atheris

with atheris.instrument_imports(include=["tfpose"]):
    from tfpose.convert.caffe_proto import ConversionError, parse_prototxt_text
    from tfpose.convert.caffe_to_tf import plan_network


def test_one_input(data: bytes) -> None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return  # parse_prototxt turns undecodable files into ConversionError before parsing
    try:
        plan = plan_network(parse_prototxt_text(text, "<fuzz>"))
    except ConversionError:
        return
    assert plan.layers, "a plan without layers"
    _ = plan.parameters


if __name__ == "__main__":
    _harness.run(test_one_input)
