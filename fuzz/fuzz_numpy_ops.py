"""Fuzzes the numpy entry points with arbitrary float32 maps (NaN, +-Inf, denormals, huge values):
no crash, no exception for valid shapes, and answers checked against independent oracles (the slow
numpy NMS reference in tests/reference, numpy's nanargmax for the maximum) and fast == dense, bit for bit.

Input: 4 header bytes (op, height, width, build), the rest float32 map values (repeated to fill).
Run: python fuzz/fuzz_numpy_ops.py [libFuzzer options] CORPUS_DIR [SEED_DIR] (see fuzz/README.md).
Coverage is Python-level (the C++ core is not instrumented); the sanitizer builds of tests/cpp cover
the native side.
"""

from __future__ import annotations

import _harness  # noqa: F401  (paths)
import atheris
import numpy as np

with atheris.instrument_imports(include=["tfpose"]):
    from tfpose import numpy_ops

from reference.nms_ref import nms_ref


def _maps(data: bytes, shape) -> np.ndarray:
    # The bytes are repeated to fill the maps: short inputs (which libFuzzer prefers, the C++ core
    # giving it no coverage signal) still make varied maps rather than mostly zeros.
    count = int(np.prod(shape))
    raw = np.resize(np.frombuffer(data, np.uint8), 4 * count) if data else np.zeros(4 * count, np.uint8)
    return raw.view("<f4").astype(np.float32).reshape(shape)


def _bits(a):
    a = np.asarray(a)
    return a.view(np.uint32) if a.dtype == np.float32 else a


def test_one_input(data: bytes) -> None:
    if len(data) < 4:
        return
    op, h, w, flags = data[0] % 4, 1 + data[1] % 12, 1 + data[2] % 12, data[3]
    build = "cuda" if flags & 1 else "cpu"
    body = data[4:]
    if op == 0:  # maximum against numpy (the reference in tests/reference does not skip NaN)
        x = _maps(body, (1, h, w, 3))
        got = numpy_ops.maximum(x)
        for c in range(3):
            plane = x[0, :, :, c]
            if np.isnan(plane).all():
                assert got[0, c, :2].tolist() == [0.0, 0.0] and np.isnan(got[0, c, 2])
                continue
            i = int(np.nanargmax(plane))
            assert got[0, c].tolist() == [float(i % w), float(i // w), float(plane.flat[i])], (got[0, c], i)
    elif op == 1:  # NMS against the slow reference
        x = _maps(body, (1, h, w, 2))
        threshold = (flags >> 1) / 127.0
        got = numpy_ops.nms(x, threshold=threshold, max_peaks=5, offset=(0.5, 0.5), openpose_build=build)
        want = nms_ref(x, threshold=threshold, max_peaks=5, offset=(0.5, 0.5), openpose_build=build)
        assert np.array_equal(got[1], want[1]), (got[1], want[1])
        assert np.array_equal(_bits(got[0]), _bits(want[0]))
        assert np.isfinite(got[0]).all()
    else:  # the whole tail, fast against dense, one or two scales
        hh, ww = max(h, 2), max(w, 2)
        scales = [_maps(body, (1, hh, ww, 57))]
        if op == 3:
            scales.append(_maps(body[4 * hh * ww * 57 :], (1, max(2, hh // 2), max(2, ww // 2), 57)))
        ratios = [1.0, 0.5][: len(scales)]
        kw = dict(scale_ratios=ratios, openpose_build=build, nms_threshold=(flags >> 1) / 127.0)
        fast = numpy_ops.net_output_to_people(scales, fast=True, **kw)
        dense = numpy_ops.net_output_to_people(scales, fast=False, **kw)
        for a, b in zip(fast, dense, strict=True):
            assert np.array_equal(_bits(a), _bits(b)), "fast != dense"
        assert np.isfinite(fast[0]).all()


if __name__ == "__main__":
    _harness.run(test_one_input)
