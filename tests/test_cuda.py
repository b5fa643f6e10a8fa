"""CUDA kernels (tfpose.cuda): GPU results equal the CPU core's on every golden case (both OpenPose
builds), on random maps (ties, plateaus, NaN/Inf), big batches and sizes that are no multiple of the
block size; plus the errors. Everything except the first two tests needs a tfpose build with CUDA
kernels, a visible GPU and CuPy or PyTorch, and is skipped with the reason otherwise.

Tolerances (golden README): coordinates 1e-3, values 1e-5. The kernels are designed to be
bit-identical to the CPU core (same detail/ functions, no FMA contraction), so a failure here is a
real difference, never noise. Whether bit-identity holds is recorded per op for every GPU-vs-CPU
comparison and written as JSON to ``$TFPOSE_CUDA_EQUALITY_REPORT`` when that is set.

``$TFPOSE_TEST_ARRAY_LIB`` (cupy or torch) restricts the GPU tests to one array library (the
compute-sanitizer runs of tools/gpu/gpu_check.sh use it).
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import zlib

import numpy as np
import pytest

from tfpose import _core, numpy_ops

from helpers import GOLDEN, GOLDEN_CASES, load_golden

# ------------------------------------------------------------------------------- always run


def test_golden_cases_present():
    """Without golden cases every golden GPU test would vanish from the run instead of failing."""
    assert GOLDEN_CASES, (
        f"no golden cases at {GOLDEN} (expected index.json and the .npz files): "
        "they are part of the repository (tests/data/golden): is the checkout whole?"
    )


def test_cpu_only_build_raises_clear_error():
    import tfpose.cuda as tcuda

    if _core.has_cuda:
        # A CUDA build: a host array is rejected with a TypeError naming what was expected.
        with pytest.raises(TypeError, match="cupy.ndarray or a torch CUDA tensor"):
            tcuda.maximum(np.zeros((1, 4, 4, 2), np.float32))
        with pytest.raises(ValueError, match="CUDA device array"):
            _core.cuda_maximum(np.zeros((1, 4, 4, 2), np.float32), np.zeros((1, 2, 3), np.float32))
        return
    assert not hasattr(_core, "cuda_nms")
    assert tcuda.available() is False
    for call in (
        lambda: tcuda.maximum(None),
        lambda: tcuda.nms(None),
        lambda: tcuda.resize_and_merge(None),
        lambda: tcuda.paf_scores(None, None, None),
    ):
        with pytest.raises(tcuda.CudaUnavailableError, match=r"_core.has_cuda is False"):
            call()


def test_cpu_paf_score_table_matches_connector_scores():
    """The CPU pair-score table (the GPU kernel's reference) on a synthetic two-person field: the
    true limbs score high, -1 past the counts, and 'cpu' fails with 0 where 'cuda' fails with -1."""
    g = load_golden("syn_coco_single")
    maps = numpy_ops.resize_and_merge(g["net_outputs"], [1.0], None, "cpu")
    peaks, counts = numpy_ops.nms(maps[..., :18], 0.05, 8, (0.5, 0.5), "cpu")
    s_cuda = _core.paf_scores(maps, peaks, counts, "COCO_18", "cuda")
    s_cpu = _core.paf_scores(maps, peaks, counts, "COCO_18", "cpu")
    pairs = _core.pose_model("COCO_18")["pairs"]
    assert s_cuda.shape == (1, len(pairs), 8, 8)
    for l, (a, b) in enumerate(pairs):
        na, nb = counts[0, a], counts[0, b]
        assert (s_cuda[0, l, na:, :] == -1).all() and (s_cuda[0, l, :, nb:] == -1).all()
        valid_cuda, valid_cpu = s_cuda[0, l, :na, :nb], s_cpu[0, l, :na, :nb]
        passing = valid_cuda != -1
        np.testing.assert_array_equal(valid_cpu[passing], valid_cuda[passing])
        assert (valid_cpu[~passing] == 0).all()
    # One person: every limb whose parts were both found connects them with a high score.
    found = [l for l, (a, b) in enumerate(pairs) if counts[0, a] == 1 and counts[0, b] == 1]
    assert found and all(s_cuda[0, l, 0, 0] > 0.5 for l in found)


# ------------------------------------------------------------------------------- GPU tests


def _gpu_skip_reason() -> str | None:
    if not _core.has_cuda:
        return "tfpose was built without CUDA kernels (_core.has_cuda is False)"
    if _core.cuda_device_count() == 0:
        return "no CUDA GPU visible to tfpose's CUDA runtime (cuda_device_count() == 0)"
    if not any(importlib.util.find_spec(m) for m in ("cupy", "torch")):
        return "neither cupy nor torch is installed (needed to hold device arrays)"
    return None


_REASON = _gpu_skip_reason()
gpu = pytest.mark.skipif(_REASON is not None, reason=str(_REASON))


def _libs():
    out = []
    wanted = os.environ.get("TFPOSE_TEST_ARRAY_LIB")
    if wanted not in (None, "", "cupy", "torch"):
        raise ValueError(f"TFPOSE_TEST_ARRAY_LIB: expected cupy or torch, got {wanted!r}")
    for name in ("cupy", "torch"):
        if wanted and name != wanted:
            continue
        if importlib.util.find_spec(name) is None:
            continue
        if name == "torch":
            import torch

            if not torch.cuda.is_available():
                continue
        out.append(name)
    return out or ["none"]


LIBS = _libs() if _REASON is None else ["none"]


class Dev:
    """Upload/download for one array library."""

    def __init__(self, name):
        if name == "none":
            pytest.skip(str(_REASON or "no GPU array library usable"))
        self.name = name
        self.mod = importlib.import_module(name)

    def up(self, a):
        a = np.ascontiguousarray(a)
        if self.name == "cupy":
            return self.mod.asarray(a)
        return self.mod.from_numpy(a).cuda()

    def down(self, x):
        if self.name == "cupy":
            return self.mod.asnumpy(x)
        return x.cpu().numpy()


@pytest.fixture(params=LIBS)
def dev(request):
    return Dev(request.param)


def tcuda():
    import tfpose.cuda

    return tfpose.cuda


# op -> [GPU-vs-CPU comparisons, of which bit-identical, largest |difference| at finite places]
_EQUALITY: dict[str, list] = {}


def _record(op, got, want):
    got, want = np.ascontiguousarray(got), np.ascontiguousarray(want)
    if got.shape != want.shape or got.dtype != want.dtype:
        return  # the assertion that follows names the mismatch
    e = _EQUALITY.setdefault(op, [0, 0, 0.0])
    e[0] += 1
    e[1] += got.tobytes() == want.tobytes()
    if got.dtype.kind == "f":
        fin = np.isfinite(got) & np.isfinite(want)
        diff = np.abs(got[fin].astype(np.float64) - want[fin])
    else:
        diff = np.abs(got.astype(np.int64) - want.astype(np.int64))
    if diff.size:
        e[2] = max(e[2], float(diff.max()))


@pytest.fixture(scope="module", autouse=True)
def _equality_report():
    yield
    path = os.environ.get("TFPOSE_CUDA_EQUALITY_REPORT")
    if path and _EQUALITY:
        report = {op: dict(comparisons=n, bit_identical=b, max_abs_diff=d) for op, (n, b, d) in _EQUALITY.items()}
        with open(path, "w") as f:
            json.dump(report, f, indent=1)


def assert_values(got, want, op):
    """Values within 1e-5 absolute; NaN, +Inf and -Inf at the same places."""
    _record(op, got, want)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(np.isposinf(got), np.isposinf(want))
    np.testing.assert_array_equal(np.isneginf(got), np.isneginf(want))
    fin = np.isfinite(want)
    np.testing.assert_allclose(got[fin], want[fin], rtol=0, atol=1e-5)


def assert_peaks(got_peaks, got_counts, want_peaks, want_counts):
    _record("nms counts", got_counts, want_counts)
    np.testing.assert_array_equal(got_counts, want_counts)
    _record("nms coordinates", got_peaks[..., :2], want_peaks[..., :2])
    np.testing.assert_allclose(got_peaks[..., :2], want_peaks[..., :2], rtol=0, atol=1e-3)
    assert_values(got_peaks[..., 2], want_peaks[..., 2], "nms scores")


def assert_equal(got, want, op):
    _record(op, got, want)
    np.testing.assert_array_equal(got, want)


def assert_scores(got, want):
    _record("paf_scores", got, want)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)


@functools.lru_cache(maxsize=4)
def _golden(case):
    return load_golden(case)


GOLDEN_RESIZE_KEY = {"cpu": "heat_sample_cpu", "cuda": "heat_sample_gpu_emul"}


@gpu
@pytest.mark.parametrize("build", ["cpu", "cuda"])
@pytest.mark.parametrize("case", GOLDEN_CASES)
def test_golden_resize_and_merge(case, build, dev):
    g = _golden(case)
    C, H, W = (int(v) for v in g["heat_shape"])
    ratios = g["meta"]["scale_ratios"]
    want = numpy_ops.resize_and_merge(g["net_outputs"], ratios, (H, W), openpose_build=build)
    got = dev.down(tcuda().resize_and_merge([dev.up(x) for x in g["net_outputs"]], ratios, (H, W), build))
    assert got.shape == want.shape and got.dtype == np.float32
    assert_values(got, want, "resize_and_merge")
    idx = g["heat_sample_index"]
    np.testing.assert_allclose(got[0][idx[:, 1], idx[:, 2], idx[:, 0]], g[GOLDEN_RESIZE_KEY[build]], rtol=0, atol=1e-5)


GOLDEN_NMS = {"peaks_cpu": ("cpu", True), "peaks_cpu_offset0": ("cpu", False), "peaks_gpu_emul": ("cuda", True)}


@gpu
@pytest.mark.parametrize("key", sorted(GOLDEN_NMS))
@pytest.mark.parametrize("case", GOLDEN_CASES)
def test_golden_nms_and_maximum(case, key, dev):
    g = _golden(case)
    meta = g["meta"]
    C, H, W = (int(v) for v in g["heat_shape"])
    p = g["peaks_cpu"].shape[0]
    maps = numpy_ops.resize_and_merge(g["net_outputs"], meta["scale_ratios"], (H, W), "cpu")
    heat = np.ascontiguousarray(maps[..., :p])
    build, with_offset = GOLDEN_NMS[key]
    off = meta["nms_offset"] if with_offset else 0.0
    kw = dict(
        threshold=meta["defaults"]["nms_threshold"],
        max_peaks=meta["max_peaks"],
        offset=(off, off),
        openpose_build=build,
    )
    want_pk, want_cn = numpy_ops.nms(heat, **kw)
    d_heat = dev.up(heat)
    pk, cn = tcuda().nms(d_heat, **kw)
    pk, cn = dev.down(pk), dev.down(cn)
    assert pk.dtype == np.float32 and cn.dtype == np.int32
    assert_peaks(pk, cn, want_pk, want_cn)
    golden = g[key]
    np.testing.assert_array_equal(cn[0], golden[:, 0, 0].astype(np.int32))
    for part, c in enumerate(cn[0]):
        np.testing.assert_allclose(pk[0, part, :c, :2], golden[part, 1 : c + 1, :2], rtol=0, atol=1e-3)
        np.testing.assert_allclose(pk[0, part, :c, 2], golden[part, 1 : c + 1, 2], rtol=0, atol=1e-5)
    if key == "peaks_cpu":
        got_max = dev.down(tcuda().maximum(d_heat))
        assert_equal(got_max, numpy_ops.maximum(heat), "maximum")
        np.testing.assert_allclose(got_max[0], g["maximum_cpu"], rtol=0, atol=1e-5)


@gpu
@pytest.mark.parametrize("build", ["cpu", "cuda"])
@pytest.mark.parametrize("case", GOLDEN_CASES)
def test_golden_paf_scores(case, build, dev):
    g = _golden(case)
    meta = g["meta"]
    C, H, W = (int(v) for v in g["heat_shape"])
    p = g["peaks_cpu"].shape[0]
    maps = numpy_ops.resize_and_merge(g["net_outputs"], meta["scale_ratios"], (H, W), "cpu")
    peaks, counts = numpy_ops.nms(
        np.ascontiguousarray(maps[..., :p]),
        meta["defaults"]["nms_threshold"],
        meta["max_peaks"],
        (meta["nms_offset"],) * 2,
        "cpu",
    )
    want = _core.paf_scores(maps, peaks, counts, meta["model"], build)
    got = dev.down(tcuda().paf_scores(dev.up(maps), dev.up(peaks), dev.up(counts), meta["model"], build))
    assert got.shape == want.shape
    assert_scores(got, want)


def _random_maps(rng, shape, kind):
    if kind == "uniform":
        return rng.random(shape, dtype=np.float32)
    if kind == "plateaus":  # exact ties between neighbours: the >= ring rule and raster order matter
        return (rng.integers(0, 4, shape) / 4).astype(np.float32)
    a = rng.standard_normal(shape).astype(np.float32)
    a.flat[rng.integers(0, a.size, max(1, a.size // 500))] = np.nan
    a.flat[rng.integers(0, a.size, max(1, a.size // 500))] = np.inf
    a.flat[rng.integers(0, a.size, max(1, a.size // 500))] = -np.inf
    return a


# Odd sizes (no multiple of 32 or 256), a 1-pixel map, a 2x2 map, a plane larger than one NMS tile.
NMS_SHAPES = [(1, 1, 1, 1), (2, 2, 2, 3), (3, 7, 5, 2), (2, 37, 53, 5), (1, 61, 300, 3), (5, 17, 19, 19)]


@gpu
@pytest.mark.parametrize("shape", NMS_SHAPES)
@pytest.mark.parametrize("kind", ["uniform", "plateaus", "nonfinite"])
@pytest.mark.parametrize("build", ["cpu", "cuda"])
def test_random_nms_and_maximum(shape, kind, build, dev):
    rng = np.random.default_rng(zlib.crc32(repr((shape, kind, build)).encode()))
    heat = _random_maps(rng, shape, kind)
    for k, thr, off in ((127, 0.05, (0.0, 0.0)), (3, 0.0, (0.5, -1.25)), (1, 0.5, (0.0, 0.0))):
        kw = dict(threshold=thr, max_peaks=k, offset=off, openpose_build=build)
        want_pk, want_cn = numpy_ops.nms(heat, **kw)
        pk, cn = tcuda().nms(dev.up(heat), **kw)
        assert_peaks(dev.down(pk), dev.down(cn), want_pk, want_cn)
    assert_equal(dev.down(tcuda().maximum(dev.up(heat))), numpy_ops.maximum(heat), "maximum")


RESIZE_CASES = [  # scales [(h, w, ratio)], target (H, W), builds
    ([(5, 7, 1.0)], (40, 56), ("cpu", "cuda")),
    ([(3, 3, 1.0)], (3, 3), ("cpu", "cuda")),  # same size: copy
    ([(1, 1, 1.0)], (8, 8), ("cpu", "cuda")),
    ([(9, 13, 1.0)], (31, 17), ("cpu",)),  # arbitrary ratio, down and up
    ([(23, 41, 1.0), (17, 31, 0.75), (12, 21, 0.5)], (184, 328), ("cpu", "cuda")),
    ([(10, 12, 1.0), (10, 12, 1.0)], (10, 12), ("cpu", "cuda")),  # merged same-size scales
    ([(4 + i, 5 + i, 1.0 - 0.05 * i) for i in range(10)], (33, 45), ("cpu",)),  # > 8 scales: chained launches
    ([(4 + i, 5 + i, 1.0 - 0.1 * i) for i in range(8)], (33, 45), ("cuda",)),
]


@gpu
@pytest.mark.parametrize("case", range(len(RESIZE_CASES)))
@pytest.mark.parametrize("kind", ["uniform", "nonfinite"])
def test_random_resize_and_merge(case, kind, dev):
    scales, target, builds = RESIZE_CASES[case]
    rng = np.random.default_rng(case)
    nets = [_random_maps(rng, (3, h, w, 5), kind) for h, w, _ in scales]
    ratios = [r for _, _, r in scales]
    for build in builds:
        want = numpy_ops.resize_and_merge(nets, ratios, target, build)
        got = dev.down(tcuda().resize_and_merge([dev.up(x) for x in nets], ratios, target, build))
        assert_values(got, want, "resize_and_merge")


@gpu
def test_big_batch(dev):
    """Batch 32 at a real net-output size: grid-stride loops and n * P blocks."""
    rng = np.random.default_rng(7)
    net = rng.random((32, 23, 41, 57), dtype=np.float32)
    d_net = dev.up(net)
    for build in ("cpu", "cuda"):
        want = numpy_ops.resize_and_merge(net, [1.0], None, build)
        got = tcuda().resize_and_merge(d_net, [1.0], None, build)
        assert_values(dev.down(got), want, "resize_and_merge")
        heat_np = np.ascontiguousarray(want[..., :18])
        heat = dev.up(heat_np)
        want_pk, want_cn = numpy_ops.nms(heat_np, 0.3, 16, (0.5, 0.5), build)
        pk, cn = tcuda().nms(heat, 0.3, 16, (0.5, 0.5), build)
        assert_peaks(dev.down(pk), dev.down(cn), want_pk, want_cn)
        assert_equal(dev.down(tcuda().maximum(heat)), numpy_ops.maximum(heat_np), "maximum")
        pk_np = dev.down(pk)
        cn_np = dev.down(cn)
        want_s = _core.paf_scores(want, pk_np, cn_np, "COCO_18", build)
        got_s = tcuda().paf_scores(dev.up(want), pk, cn, "COCO_18", build)
        assert_scores(dev.down(got_s), want_s)


@gpu
def test_empty_batch(dev):
    z = np.zeros((0, 6, 7, 3), np.float32)
    assert tuple(tcuda().resize_and_merge(dev.up(z), [1.0], (48, 56), "cuda").shape) == (0, 48, 56, 3)
    pk, cn = tcuda().nms(dev.up(z), max_peaks=4)
    assert tuple(pk.shape) == (0, 3, 4, 3) and tuple(cn.shape) == (0, 3)
    assert tuple(tcuda().maximum(dev.up(z)).shape) == (0, 3, 3)


@gpu
def test_explicit_stream_and_float64_input(dev):
    rng = np.random.default_rng(3)
    heat = rng.random((2, 30, 40, 4))  # float64: converted on the device
    want_pk, want_cn = numpy_ops.nms(heat, 0.2, 20)
    if dev.name == "cupy":
        stream = dev.mod.cuda.Stream(non_blocking=True)
        with stream:
            pk, cn = tcuda().nms(dev.up(heat), 0.2, 20)
        stream.synchronize()
    else:
        stream = dev.mod.cuda.Stream()
        with dev.mod.cuda.stream(stream):
            pk, cn = tcuda().nms(dev.up(heat), 0.2, 20)
        stream.synchronize()
    assert_peaks(dev.down(pk), dev.down(cn), want_pk, want_cn)


@gpu
def test_errors(dev):
    t = tcuda()
    x = dev.up(np.zeros((1, 8, 8, 3), np.float32))
    with pytest.raises(TypeError, match="cupy.ndarray or a torch CUDA tensor"):
        t.nms(np.zeros((1, 8, 8, 3), np.float32))
    with pytest.raises(ValueError, match="expected rank 4"):
        t.maximum(dev.up(np.zeros((8, 8, 3), np.float32)))
    with pytest.raises(TypeError, match="float32"):
        t.maximum(dev.up(np.zeros((1, 8, 8, 3), np.int32)))
    with pytest.raises(ValueError, match="threshold"):
        t.nms(x, threshold=2.0)
    with pytest.raises(ValueError, match="max_peaks"):
        t.nms(x, max_peaks=0)
    with pytest.raises(ValueError, match="8x the net output"):
        t.resize_and_merge(x, [1.0], (20, 20), "cuda")
    with pytest.raises(ValueError, match="at most 8"):
        t.resize_and_merge([x] * 9, [1.0] * 9, (8, 8), "cuda")
    # The raw bindings: wrong output shape, read-only output, host memory behind the interface.
    with pytest.raises(ValueError, match=r"cuda_maximum: out shape: expected \[1, 3, 3\]"):
        _core.cuda_maximum(x, dev.up(np.zeros((1, 3, 2), np.float32)))

    class HostBehindInterface:
        def __init__(self, a):
            self.a = a
            self.__cuda_array_interface__ = dict(
                shape=a.shape, typestr="<f4", data=(a.ctypes.data, False), version=3, strides=None
            )

    host = np.zeros((1, 8, 8, 3), np.float32)
    with pytest.raises(ValueError, match="expected device memory, got host memory"):
        _core.cuda_maximum(HostBehindInterface(host), dev.up(np.zeros((1, 3, 3), np.float32)))
