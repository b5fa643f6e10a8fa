"""Caffe readers on hostile files: every loop advances or fails, sizes are checked before anything is
allocated, nesting is capped, and every out-of-range layer parameter is a ConversionError naming the
layer, the parameter, the allowed range and the value.

Cases that used to hang run in a child process with a time and address-space limit, so that a
regression fails the test instead of hanging the suite.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import tracemalloc

import numpy as np
import pytest

from tfpose.convert import ConversionError, read_caffemodel
from tfpose.convert.caffe_proto import MAX_NESTING, parse_prototxt_text, parse_text
from tfpose.convert.caffe_to_tf import PARAM_RANGES, plan_network

import caffe_writer as cw

# A hang is a test failure, not a stuck suite: generous for a loaded machine, far below "forever".
HANG_SECONDS = 120


def _read_in_child(path, limit_mb=1024):
    """Reads a caffemodel in a child process limited to limit_mb of address space and HANG_SECONDS;
    returns (blob data of each layer as lists, error message or None)."""
    code = textwrap.dedent(f"""
        import resource, sys, json
        resource.setrlimit(resource.RLIMIT_AS, ({limit_mb} << 20, {limit_mb} << 20))
        from tfpose.convert import ConversionError, read_caffemodel
        try:
            with read_caffemodel({str(path)!r}) as m:
                out = {{n: [[list(b.shape), b.data.tolist()] for b in l.blobs] for n, l in m.layers.items()}}
            print(json.dumps({{"layers": out}}))
        except ConversionError as e:
            print(json.dumps({{"error": str(e)}}))
    """)
    import json

    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=HANG_SECONDS)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


def _layer_with_blob_body(body: bytes, name="c") -> bytes:
    layer = cw.length_delimited(cw.LAYER_NAME, name.encode()) + cw.length_delimited(cw.LAYER_TYPE, b"PReLU")
    layer += cw.length_delimited(cw.LAYER_BLOBS, body)
    return cw.length_delimited(cw.NET_LAYER, layer)


@pytest.mark.parametrize("double", [False, True])
def test_non_canonical_key_of_unpacked_value(tmp_path, double):
    """A field key written with a redundant continuation byte (valid protobuf) used to stop the
    reader advancing while it appended empty runs for ever."""
    value = np.float64(1.5) if double else np.float32(1.5)
    wire, field = (1, cw.BLOB_DOUBLE) if double else (5, cw.BLOB_DATA)
    key = bytes([(field << 3 | wire) | 0x80, 0x00])  # same key, two bytes
    body = key + value.astype("<f8" if double else "<f4").tobytes()
    body += cw.length_delimited(cw.BLOB_SHAPE, cw.length_delimited(cw.SHAPE_DIM, cw.varint(1)))
    path = tmp_path / "m.caffemodel"
    path.write_bytes(_layer_with_blob_body(body))
    got = _read_in_child(path)
    assert got == {"layers": {"c": [[[1], [1.5]]]}}


def test_mixed_canonical_and_non_canonical_runs(tmp_path):
    body = bytearray()
    expected = []
    rng = np.random.default_rng(0)
    for i in range(50):
        vals = rng.standard_normal(int(rng.integers(1, 9))).astype("<f4")
        expected.extend(vals.tolist())
        for v in vals:
            key = bytes([0x2D]) if i % 2 else bytes([0xAD, 0x80, 0x00])
            body += key + v.tobytes()
    path = tmp_path / "m.caffemodel"
    path.write_bytes(_layer_with_blob_body(bytes(body)))
    got = _read_in_child(path)["layers"]["c"][0]
    assert got[1] == expected


def _read_runs(tmp_path, runs: int) -> float:
    import time

    run = bytes([0x2D]) + np.float32(2.0).tobytes() + cw.key(cw.BLOB_NUM, 0) + cw.varint(1)
    path = tmp_path / f"runs{runs}.caffemodel"
    path.write_bytes(_layer_with_blob_body(run * runs))
    start = time.process_time()
    with read_caffemodel(path) as m:
        data = m.layers["c"].blobs[0].data
        assert data.size == runs and set(data.tolist()) == {2.0}
    return time.process_time() - start


def test_many_short_runs_read_in_linear_time(tmp_path):
    """Unpacked values interleaved with other fields: each run used to scan the rest of the blob
    (quadratic: hours for a few MB). A complexity check, not a speed limit: 8x the runs must cost
    far less than the 64x of a quadratic reader (CPU time of this process, median of 3)."""
    small = sorted(_read_runs(tmp_path, 4_000) for _ in range(3))[1]
    large = sorted(_read_runs(tmp_path, 32_000) for _ in range(3))[1]
    assert large < 24 * small, f"4k runs {small:.3f} s, 32k runs {large:.3f} s"


@pytest.mark.parametrize(
    "content, match",
    [
        # A length beyond the file.
        (cw.key(cw.NET_LAYER, 2) + cw.varint(1 << 40), "claims 1099511627776 bytes but only 0 remain"),
        # A varint beyond 64 bits.
        (cw.key(cw.NET_NAME, 0) + b"\xff" * 9 + b"\x7f", "exceeds 64 bits"),
        # A shape of more axes than Caffe allows, packed and unpacked.
        (
            _layer_with_blob_body(cw.length_delimited(cw.BLOB_SHAPE, cw.length_delimited(1, b"\x01" * 40))),
            "more than 32 packed values",
        ),
        (_layer_with_blob_body(cw.length_delimited(cw.BLOB_SHAPE, (cw.key(1, 0) + b"\x01") * 33)), "more than 32 axes"),
        # A dimension that is negative as Caffe's int64.
        (_layer_with_blob_body(cw.length_delimited(cw.BLOB_SHAPE, cw.key(1, 0) + cw.varint(1 << 63))), "beyond int64"),
        # Packed float data whose length is not a multiple of 4.
        (_layer_with_blob_body(cw.length_delimited(cw.BLOB_DATA, b"\x00" * 7)), "not a multiple of 4"),
    ],
)
def test_declared_sizes_checked_before_use(tmp_path, content, match):
    path = tmp_path / "bad.caffemodel"
    path.write_bytes(content)
    with pytest.raises(ConversionError, match=match):
        read_caffemodel(path)


def test_reader_memory_is_bounded_by_layers_kept(tmp_path):
    """Fields are read one at a time: a file of 200k top-level varint fields (ignored by the reader)
    must not be listed in memory (it used to cost ~100 bytes per 2-byte field)."""
    path = tmp_path / "m.caffemodel"
    path.write_bytes((cw.key(3, 0) + b"\x01") * 200_000 + _layer_with_blob_body(b""))
    tracemalloc.start()
    try:
        with read_caffemodel(path) as m:
            assert list(m.layers) == ["c"]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000, f"traced peak {peak} bytes for a 400 kB file of ignored fields"


# ---------------------------------------------------------------------------------------------
# Prototxt nesting
# ---------------------------------------------------------------------------------------------


def test_nesting_depth_is_capped():
    ok = "a { " * MAX_NESTING + "v: 1 " + "} " * MAX_NESTING
    msg = parse_text(ok)
    for _ in range(MAX_NESTING):
        msg = msg.message("a")
    assert msg.int("v") == 1 and msg.where == ".".join(["a"] * MAX_NESTING)
    deep = "a { " * (MAX_NESTING + 1) + "} " * (MAX_NESTING + 1)
    with pytest.raises(ConversionError, match=rf"nested too deeply.*at most {MAX_NESTING} levels"):
        parse_text(deep)


def test_deep_nesting_costs_little_memory():
    """Nested blocks used to cost O(depth^2) memory (a context string per level holding every
    parent's: 100 MB for these 10,000 levels, 1.6 GiB for 40,000)."""
    text = "a {\n" * 10_000 + "}\n" * 10_000
    tracemalloc.start()
    try:
        with pytest.raises(ConversionError, match="nested too deeply"):
            parse_prototxt_text(text)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20, f"traced peak {peak / 2**20:.0f} MiB for a {len(text) / 1e3:.0f} kB prototxt"


def test_error_paths_of_nested_fields_are_named():
    msg = parse_text("layer { convolution_param { num_output: x } }")
    with pytest.raises(ConversionError, match=r"field layer\.convolution_param\.num_output should be"):
        msg.message("layer").message("convolution_param").int("num_output")


# ---------------------------------------------------------------------------------------------
# Layer parameters
# ---------------------------------------------------------------------------------------------

NET = """
input: "data" input_dim: 1 input_dim: 3 input_dim: 16 input_dim: 16
layer {{ name: "conv" type: "Convolution" bottom: "data" top: "conv"
        convolution_param {{ num_output: 8 {conv} }} }}
layer {{ name: "relu" type: "ReLU" bottom: "conv" top: "conv" {relu} }}
layer {{ name: "pool" type: "Pooling" bottom: "conv" top: "pool" pooling_param {{ pool: MAX {pool} }} }}
"""
GOOD = dict(conv="kernel_size: 3 pad: 1", relu="", pool="kernel_size: 2 stride: 2")
BIG = 1 << 31


def _plan(**parts):
    return plan_network(parse_prototxt_text(NET.format(**{**GOOD, **parts})))


def test_good_parameters_plan():
    plan = _plan()
    assert [pl.layer.name for pl in plan.layers] == ["conv", "relu", "pool"]


@pytest.mark.parametrize(
    "layer, parts, param, value",
    [
        ("pool", dict(pool="kernel_size: 2 stride: 0"), "pooling_param.stride", "0"),
        ("pool", dict(pool="kernel_size: 2 stride: -1"), "pooling_param.stride", "-1"),
        ("pool", dict(pool=f"kernel_size: 2 stride: {BIG}"), "pooling_param.stride", str(BIG)),
        ("pool", dict(pool="kernel_size: 0"), "pooling_param.kernel_size", "0"),
        ("pool", dict(pool=f"kernel_size: {BIG}"), "pooling_param.kernel_size", str(BIG)),
        ("pool", dict(pool="kernel_h: 2 kernel_w: -3"), "pooling_param.kernel_size", r"\(2, -3\)"),
        ("pool", dict(pool="kernel_size: 2 pad: -1"), "pooling_param.pad", "-1"),
        ("conv", dict(conv=f"kernel_size: {BIG}"), "convolution_param.kernel_size", str(BIG)),
        ("conv", dict(conv="kernel_size: 3 stride: 0"), "convolution_param.stride", "0"),
        ("conv", dict(conv=f"kernel_size: 3 stride: {1 << 40}"), "convolution_param.stride", str(1 << 40)),
        ("conv", dict(conv="kernel_size: 3 pad: -2"), "convolution_param.pad", "-2"),
        ("conv", dict(conv="kernel_size: 3 pad: 100000000"), "convolution_param.pad", "100000000"),
        ("conv", dict(conv="kernel_size: 3 dilation: 0"), "convolution_param.dilation", "0"),
        ("conv", dict(conv="kernel_size: 3 dilation: 5000"), "convolution_param.dilation", "5000"),
        ("relu", dict(relu="relu_param { negative_slope: nan }"), "relu_param.negative_slope", "nan"),
        ("relu", dict(relu="relu_param { negative_slope: inf }"), "relu_param.negative_slope", "inf"),
        ("relu", dict(relu="relu_param { negative_slope: 1e999 }"), "relu_param.negative_slope", "inf"),
    ],
)
def test_out_of_range_parameters(layer, parts, param, value):
    with pytest.raises(ConversionError) as info:
        _plan(**parts)
    err = info.value
    assert err.layer == layer
    assert param in str(err), str(err)
    assert str(err).startswith(f"layer {layer!r}: {param} out of range: expected "), str(err)
    assert __import__("re").search(rf"got {value}$", str(err)), str(err)


def test_num_output_range():
    lo, hi = PARAM_RANGES["num_output"]
    for bad in (0, -3, hi + 1, BIG):
        text = NET.format(**GOOD).replace("num_output: 8", f"num_output: {bad}")
        with pytest.raises(
            ConversionError,
            match=rf"layer 'conv': convolution_param.num_output out of range: "
            rf"expected {lo}..{hi}, got {bad}$",
        ):
            plan_network(parse_prototxt_text(text))


def test_huge_integer_text_is_a_conversion_error():
    text = NET.format(**GOOD).replace("num_output: 8", "num_output: " + "9" * 5000)
    with pytest.raises(ConversionError, match="num_output should be a integer"):
        plan_network(parse_prototxt_text(text))
