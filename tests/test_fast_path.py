"""Fast path of net_output_to_people: the same people as the dense chain, bit for bit.

The fast path never builds the [N, H, W, C] maps: it bounds the bicubic values per output tile,
evaluates exact values only where a peak may lie and at the connector's PAF samples. Every test here
compares with the dense chain (resize_and_merge -> nms -> connect) by exact equality, never a
tolerance: golden cases of both builds (multi-scale included), randomised maps built to make the
tile bounds tight (thresholds at values present in the maps, plateaus, tiny and odd sizes, 1-3
scales, NaN/Inf), the NMS stage alone (`_core.fast_peaks`), and the TF op against the numpy entry.
"""

from __future__ import annotations

import numpy as np
import pytest

from tfpose import _core, numpy_ops

from helpers import GOLDEN_CASES, load_golden


def _same(a, b):
    """Exact equality of two (keypoints, scores, num_people) results (NaN never appears in them)."""
    return all(x.shape == y.shape and x.dtype == y.dtype and np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def _both(net_outputs, **kw):
    """(fast, dense) results; a path that raises ValueError gives its message instead."""
    out = []
    for fast in (True, False):
        try:
            out.append(numpy_ops.net_output_to_people(net_outputs, fast=fast, **kw))
        except ValueError as e:
            out.append(str(e))
    return out


def _assert_fast_equals_dense(net_outputs, **kw):
    fast, dense = _both(net_outputs, **kw)
    if isinstance(fast, str) or isinstance(dense, str):
        assert fast == dense, f"fast {fast!r} vs dense {dense!r}"
        return None
    assert _same(fast, dense), f"fast {fast[2]} people vs dense {dense[2]}"
    return fast


@pytest.mark.parametrize("build", ["cpu", "cuda"])
@pytest.mark.parametrize("case", GOLDEN_CASES)
def test_golden_fast_equals_dense(case, build):
    g = load_golden(case)
    meta = g["meta"]
    w, h = meta["net_input_wh"]
    got = _assert_fast_equals_dense(
        g["net_outputs"],
        scale_ratios=meta["scale_ratios"],
        net_input_size=(h, w),
        image_size=meta["image_hw"],
        model=meta["model"],
        openpose_build=build,
    )
    assert got is not None
    if f"keypoints_{build}" in g:  # golden people of that build, where the case has them
        assert got[2].tolist() == [len(g[f"keypoints_{build}"])]


# ---------------------------------------------------------------- random maps


def _blobs(rng, n, h, w, c, count, plateau=False):
    """[n, h, w, c] smooth maps: Gaussian blobs of random height (0..1.2) and width on a faint,
    slightly negative-to-positive background; plateau=True quantises them into flat steps."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    out = rng.normal(0, 0.01, (n, h, w, c)).astype(np.float32)
    for i in range(n):
        for ch in range(c):
            for _ in range(rng.integers(0, count + 1)):
                cy, cx = rng.uniform(-1, h), rng.uniform(-1, w)
                s = rng.uniform(0.4, 2.5)
                out[i, :, :, ch] += rng.uniform(0, 1.2) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * s * s))
    if plateau:
        out = np.round(out * 8) / 8
    return out.astype(np.float32)


def _coco_maps(rng, n, h, w, count=3, plateau=False):
    """COCO_18 layout [n, h, w, 57]: 18 part blobs, background, 38 PAF channels in [-1, 1]."""
    parts = _blobs(rng, n, h, w, 18, count, plateau)
    pafs = np.tanh(_blobs(rng, n, h, w, 38, 2) * rng.choice([-3.0, 3.0], size=(1, 1, 1, 38)))
    bg = np.zeros((n, h, w, 1), np.float32)
    return np.concatenate([parts, bg, pafs.astype(np.float32)], axis=3)


def _scales(rng, base, count, n=1, blob_count=3, plateau=False):
    h, w = base
    outs, ratios = [], [1.0]
    outs.append(_coco_maps(rng, n, h, w, blob_count, plateau))
    for _ in range(count - 1):
        r = float(rng.uniform(0.4, 1.3))
        outs.append(_coco_maps(rng, n, max(1, int(round(h * r))), max(1, int(round(w * r))), blob_count, plateau))
        ratios.append(r)
    return outs, ratios


def _value_threshold(rng, maps):
    """A threshold equal to a value present in the part channels (in [0.01, 1]): tight bounds."""
    v = maps[..., :18].ravel()
    v = v[(v > 0.01) & (v < 1.0)]
    return float(rng.choice(v)) if v.size else 0.05


@pytest.mark.parametrize("seed", range(10))
def test_random_chain_fast_equals_dense(seed):
    rng = np.random.default_rng(seed)
    num_scales = [1, 1, 2, 3][seed % 4]
    h, w = int(rng.integers(3, 14)), int(rng.integers(3, 17))
    outs, ratios = _scales(rng, (h, w), num_scales, n=int(rng.integers(1, 3)), plateau=seed % 3 == 0)
    for build in ("cpu", "cuda"):
        th = _value_threshold(rng, outs[0])
        _assert_fast_equals_dense(
            outs,
            scale_ratios=ratios,
            openpose_build=build,
            nms_threshold=th,
            inter_threshold=float(rng.uniform(0, 0.2)),
            image_size=(int(rng.integers(2, 300)), int(rng.integers(2, 300))),
            max_peaks=int(rng.choice([1, 3, 127])),
            min_subset_cnt=int(rng.integers(1, 4)),
            min_subset_score=float(rng.uniform(0, 0.3)),
        )


@pytest.mark.parametrize("hw", [(1, 1), (2, 2), (1, 5), (3, 1), (2, 7)])
def test_tiny_maps(hw):
    rng = np.random.default_rng(sum(hw))
    x = _coco_maps(rng, 2, *hw, count=2)
    for build in ("cpu", "cuda"):
        for th in (0.0, 0.02, _value_threshold(rng, x)):
            _assert_fast_equals_dense(x, openpose_build=build, nms_threshold=th)


def test_nan_inf_inputs_fast_equals_dense_or_both_raise():
    rng = np.random.default_rng(7)
    for _trial in range(12):
        x = _coco_maps(rng, 1, 9, 11)
        k = int(rng.integers(1, 6))
        idx = (0, rng.integers(0, 9, k), rng.integers(0, 11, k), rng.integers(0, 57, k))
        x[idx] = rng.choice([np.nan, np.inf, -np.inf], size=k)
        for build in ("cpu", "cuda"):
            _assert_fast_equals_dense(x, openpose_build=build, nms_threshold=0.05)


def test_batch_equals_per_image():
    rng = np.random.default_rng(3)
    x = _coco_maps(rng, 3, 10, 13)
    got = _assert_fast_equals_dense(x, nms_threshold=0.08)
    for i in range(3):
        one = numpy_ops.net_output_to_people(x[i : i + 1], nms_threshold=0.08)
        m = one[2][0]
        assert got[2][i] == m
        assert np.array_equal(got[0][i, :m], one[0][0, :m]) and np.array_equal(got[1][i, :m], one[1][0, :m])


def test_threads_do_not_change_the_result():
    rng = np.random.default_rng(4)
    x = _coco_maps(rng, 2, 12, 15)
    ref = numpy_ops.net_output_to_people(x, threads=1)
    for t in (2, 3):
        assert _same(numpy_ops.net_output_to_people(x, threads=t), ref)


# ---------------------------------------------------------------- NMS stage alone


def _dense_peaks(outs, ratios, build, parts, th, k, off):
    maps = numpy_ops.resize_and_merge(outs, ratios, openpose_build=build)
    return numpy_ops.nms(np.ascontiguousarray(maps[..., :parts]), th, k, off, build)


def _nms(threshold, max_peaks, offset_x=0.0, offset_y=0.0, build="cpu"):
    # unchecked on purpose: the core's own checks are under test
    return _core.NmsParams(
        threshold=threshold, max_peaks=max_peaks, offset_x=offset_x, offset_y=offset_y, openpose_build=build
    )


@pytest.mark.parametrize("seed", range(8))
def test_fast_peaks_equal_dense_nms(seed):
    rng = np.random.default_rng(100 + seed)
    num_scales = 1 + seed % 3
    h, w = int(rng.integers(1, 16)), int(rng.integers(1, 16))
    outs, ratios = _scales(rng, (h, w), num_scales, n=2, blob_count=4, plateau=seed % 4 == 1)
    builds = ["cpu", "cuda"]
    for build in builds:
        values = np.unique(outs[0][..., :18])
        values = values[(values >= 0) & (values <= 1)]
        ths = [0.0, 1.0, 0.05] + [float(v) for v in rng.choice(values, 6)] if values.size else [0.0, 0.05]
        for th in ths:
            k = int(rng.choice([1, 2, 5, 127]))
            off = (float(rng.uniform(-1, 1)), float(rng.uniform(-1, 1)))
            pk, cnt = _core.fast_peaks(outs, ratios, (0, 0), 18, _nms(th, k, off[0], off[1], build), 2)
            dpk, dcnt = _dense_peaks(outs, ratios, build, 18, th, k, off)
            assert np.array_equal(cnt, dcnt), (build, th)
            assert np.array_equal(pk, dpk, equal_nan=True), (build, th)


def test_fast_peaks_nan_inf_and_explicit_target():
    rng = np.random.default_rng(9)
    for _trial in range(6):
        x = _blobs(rng, 1, 7, 9, 4, 3)
        x[0, rng.integers(0, 7), rng.integers(0, 9), rng.integers(0, 4)] = rng.choice([np.nan, np.inf, -np.inf])
        target = (int(rng.integers(1, 40)), int(rng.integers(1, 40)))  # cpu build: any target size
        pk, cnt = _core.fast_peaks([x], [1.0], target, 3, _nms(0.1, 20, 0.5, 0.5), 1)
        maps = numpy_ops.resize_and_merge(x, target_size=target)
        dpk, dcnt = numpy_ops.nms(np.ascontiguousarray(maps[..., :3]), 0.1, 20, (0.5, 0.5), "cpu")
        assert np.array_equal(cnt, dcnt) and np.array_equal(pk, dpk)


def test_fast_peaks_errors():
    x = np.zeros((1, 4, 5, 3), np.float32)
    with pytest.raises(ValueError, match="part channels: expected 1 <= P <= C = 3, got 4"):
        _core.fast_peaks([x], [1.0], (0, 0), 4, _nms(0.1, 5), 1)
    with pytest.raises(ValueError, match="threshold"):
        _core.fast_peaks([x], [1.0], (0, 0), 3, _nms(1.5, 5), 1)
    with pytest.raises(ValueError, match="scale_ratios"):
        _core.fast_peaks([x], [1.0, 2.0], (0, 0), 3, _nms(0.1, 5), 1)
    with pytest.raises(ValueError, match="8x the net output"):
        _core.fast_peaks([x], [1.0], (30, 40), 3, _nms(0.1, 5, build="cuda"), 1)


# ---------------------------------------------------------------- TF op


def test_tf_op_fast_equals_numpy():
    import tensorflow as tf

    from tfpose import ops as tf_ops

    rng = np.random.default_rng(11)
    outs, ratios = _scales(rng, (9, 12), 2, n=2)
    for build in ("cpu", "cuda"):
        for fast in (True, False):
            want = numpy_ops.net_output_to_people(
                outs, ratios, image_size=(100, 140), openpose_build=build, nms_threshold=0.07, fast=fast
            )
            got = tf_ops.net_output_to_people(
                [tf.constant(o) for o in outs],
                scale_ratios=ratios,
                image_size=(100, 140),
                openpose_build=build,
                nms_threshold=0.07,
                fast=fast,
            )
            assert _same(tuple(np.asarray(t) for t in got), want)
    g = load_golden("real_golf_thin_3scales")
    meta = g["meta"]
    w, h = meta["net_input_wh"]
    kw = dict(
        scale_ratios=meta["scale_ratios"], net_input_size=(h, w), image_size=meta["image_hw"], openpose_build="cuda"
    )
    got = tf_ops.net_output_to_people(g["net_outputs"], fast=True, **kw)
    assert _same(tuple(np.asarray(t) for t in got), numpy_ops.net_output_to_people(g["net_outputs"], fast=False, **kw))


@pytest.mark.parametrize("build", ["cpu", "cuda"])
def test_fast_peaks_coco_sized_map_equal_dense_nms(build):
    """A COCO-sized blob (46 x 82, several tile-row chunks per image in the bound stage, thousands of
    tiles), thresholds from 0 to 0.3, a NaN and an Inf in the middle of the map: same peaks as dense."""
    rng = np.random.default_rng(21)
    x = _coco_maps(rng, 1, 46, 82, count=6)
    x[0, 20, 40, 3] = np.nan
    x[0, 30, 10, 7] = np.inf
    x[0, 5, 70, 11] = -np.inf
    for th in (0.0, 0.05, 0.3):
        pk, cnt = _core.fast_peaks([x], [1.0], (0, 0), 18, _nms(th, 127, 0.5, 0.5, build=build), 2)
        dpk, dcnt = _dense_peaks([x], [1.0], build, 18, th, 127, (0.5, 0.5))
        assert np.array_equal(cnt, dcnt), th
        assert np.array_equal(pk, dpk, equal_nan=True), th


# ---------------------------------------------------------------- coarse block bound, empty area


def _padded(rng, n, h, w, big_h, big_w, background=0.0):
    """COCO maps of h x w blobs at a random place in a big_h x big_w map filled with `background`
    (part channels) and zeros (PAFs): most blocks of the coarse bound are then empty."""
    x = np.zeros((n, big_h, big_w, 57), np.float32)
    x[..., :18] = background
    y0, x0 = int(rng.integers(0, big_h - h + 1)), int(rng.integers(0, big_w - w + 1))
    x[:, y0 : y0 + h, x0 : x0 + w] = _coco_maps(rng, n, h, w, count=3)
    return x


@pytest.mark.parametrize("build", ["cpu", "cuda"])
def test_big_empty_area_fast_equals_dense(build):
    """Blobs in a corner of a map that is mostly empty (zero or slightly negative background, so the
    coarse bound's negative weights count): most blocks are skipped before the tile bound, the
    people and the peaks stay the dense chain's, thresholds 0 and 1 included."""
    rng = np.random.default_rng(31)
    for trial, background in enumerate((0.0, -0.02, 0.004)):
        x = _padded(rng, 1 + trial % 2, 10, 14, 30, 44, background)
        for th in (0.0, 0.05, 1.0, _value_threshold(rng, x)):
            _assert_fast_equals_dense(x, openpose_build=build, nms_threshold=th, image_size=(200, 300))
            pk, cnt = _core.fast_peaks([x], [1.0], (0, 0), 18, _nms(th, 127, 0.5, 0.5, build=build), 2)
            dpk, dcnt = _dense_peaks([x], [1.0], build, 18, th, 127, (0.5, 0.5))
            assert np.array_equal(cnt, dcnt) and np.array_equal(pk, dpk), (background, th)


def test_big_empty_area_two_scales_and_nan_far_from_the_blobs():
    """Two scales whose source windows per block differ, and a NaN / Inf alone in an empty block:
    the coarse bound must keep that block (the dense chain's NaN handling decides there)."""
    rng = np.random.default_rng(32)
    for trial in range(4):
        big = _padded(rng, 1, 9, 12, 28, 40)
        small = _padded(rng, 1, 6, 8, 17, 24)
        if trial % 2:
            big[0, int(rng.integers(0, 28)), int(rng.integers(0, 40)), int(rng.integers(0, 18))] = rng.choice(
                [np.nan, np.inf, -np.inf]
            )
        for build in ("cpu", "cuda"):
            for th in (0.0, 0.05, 1.0):
                _assert_fast_equals_dense([big, small], scale_ratios=[1.0, 0.6], openpose_build=build, nms_threshold=th)
                pk, cnt = _core.fast_peaks(
                    [big, small], [1.0, 0.6], (0, 0), 18, _nms(th, 127, 0.5, 0.5, build=build), 1
                )
                dpk, dcnt = _dense_peaks([big, small], [1.0, 0.6], build, 18, th, 127, (0.5, 0.5))
                assert np.array_equal(cnt, dcnt), (trial, build, th)
                assert np.array_equal(pk, dpk, equal_nan=True), (trial, build, th)


@pytest.mark.parametrize("fill", [0.0, -1e-3, 1e-3, 0.05, 1.0])
def test_all_empty_or_constant_frames(fill):
    """Constant part maps (no blob anywhere; a constant equal to the threshold or above it has no
    strict peak but sits exactly on the bounds), thresholds 0, 0.05 and 1: fast == dense."""
    x = np.zeros((2, 20, 30, 57), np.float32)
    x[..., :18] = fill
    for build in ("cpu", "cuda"):
        for th in (0.0, 0.05, 1.0):
            _assert_fast_equals_dense(x, openpose_build=build, nms_threshold=th)
            pk, cnt = _core.fast_peaks([x], [1.0], (0, 0), 18, _nms(th, 127, 0.5, 0.5, build=build), 2)
            dpk, dcnt = _dense_peaks([x], [1.0], build, 18, th, 127, (0.5, 0.5))
            assert np.array_equal(cnt, dcnt) and np.array_equal(pk, dpk), (build, th)


# ---------------------------------------------------------------- connector early exit


@pytest.mark.parametrize("min_above", [0.0, 0.3, 0.8, 0.95, 1.0, 2.0])
def test_pairs_that_fail_early_fast_equals_dense(min_above):
    """Many blobs per part and random PAFs: most pairs fail, and the fast path stops sampling them once
    the count rule can no longer pass (never for min_above = 0, at once for min_above >= 1). Scores of
    the pairs that pass, the close-keypoint fallback and the fail score must stay the dense chain's."""
    rng = np.random.default_rng(41 + int(min_above * 10))
    x = _coco_maps(rng, 2, 12, 16, count=4)
    for build in ("cpu", "cuda"):
        for inter in (0.0, 0.05, 0.5):
            _assert_fast_equals_dense(
                x,
                openpose_build=build,
                nms_threshold=0.05,
                inter_threshold=inter,
                inter_min_above_threshold=min_above,
                min_subset_cnt=1,
                min_subset_score=0.0,
            )


def test_close_keypoint_fallback_after_early_exit():
    """Every part's blob at (almost) the same place and zero PAFs: every pair fails its count rule
    early, and pairs closer than the close distance take the fallback score (spec 7.1.5), the others
    the fail score; the people then come from the fallback alone."""
    rng = np.random.default_rng(43)
    h, w = 12, 16
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    x = np.zeros((1, h, w, 57), np.float32)
    for _person in range(3):
        cy, cx = rng.uniform(2, h - 2), rng.uniform(2, w - 2)
        for ch in range(18):
            dy, dx = rng.uniform(-0.15, 0.15, 2)
            x[0, :, :, ch] += 0.8 * np.exp(-((yy - cy - dy) ** 2 + (xx - cx - dx) ** 2) / 2.0)
    for build in ("cpu", "cuda"):
        for min_above in (0.8, 0.95):
            got = _assert_fast_equals_dense(
                x,
                openpose_build=build,
                nms_threshold=0.05,
                inter_min_above_threshold=min_above,
                min_subset_cnt=1,
                min_subset_score=0.0,
                image_size=(500, 700),
            )
            assert got is not None


# ---------------------------------------------------------------- worker pool


def test_concurrent_callers_share_the_worker_pool():
    """Several Python threads call the numpy entry at once (the GIL is released, the persistent pool
    is shared): every result equals the serial one."""
    import concurrent.futures

    rng = np.random.default_rng(51)
    inputs = [_coco_maps(rng, 2, 14, 18) for _ in range(6)]
    want = [numpy_ops.net_output_to_people(x, threads=1) for x in inputs]
    dense_want = [numpy_ops.net_output_to_people(x, fast=False, threads=1) for x in inputs[:2]]
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        futs = [ex.submit(numpy_ops.net_output_to_people, x, threads=2) for x in inputs * 3]
        dense = [ex.submit(numpy_ops.net_output_to_people, x, fast=False, threads=3) for x in inputs[:2]]
        for i, f in enumerate(futs):
            assert _same(f.result(), want[i % len(inputs)]), i
        for i, f in enumerate(dense):
            assert _same(f.result(), dense_want[i]), i


# ---------------------------------------------------------------- shape cache, horizontal pass


def test_setup_cache_alternating_shapes_builds_and_ratios():
    """The shape-only setup is cached across calls: calls that alternate between map sizes, builds,
    target sizes and scale ratios (same shapes, other taps) must each match the dense chain."""
    rng = np.random.default_rng(61)
    a = _blobs(rng, 1, 9, 13, 5, 4)
    b = _blobs(rng, 1, 11, 7, 5, 4)
    small = _blobs(rng, 1, 5, 8, 5, 3)
    configs = [
        ([a], [1.0], (0, 0), "cpu"),
        ([b], [1.0], (0, 0), "cpu"),
        ([a], [1.0], (0, 0), "cuda"),
        ([a], [1.0], (40, 50), "cpu"),
        ([a, small], [1.0, 0.6], (0, 0), "cuda"),
        ([a, small], [1.0, 0.5], (0, 0), "cuda"),  # same shapes as the previous one, other taps
        ([a, small], [1.0, 0.6], (0, 0), "cpu"),
    ]
    for _ in range(2):
        for outs, ratios, target, build in configs:
            pk, cnt = _core.fast_peaks(outs, ratios, target, 5, _nms(0.1, 30, 0.5, 0.5, build=build), 1)
            kw = dict(target_size=target) if target != (0, 0) else {}
            maps = numpy_ops.resize_and_merge(outs, ratios, openpose_build=build, **kw)
            dpk, dcnt = numpy_ops.nms(np.ascontiguousarray(maps[..., :5]), 0.1, 30, (0.5, 0.5), build)
            assert np.array_equal(cnt, dcnt), (ratios, target, build)
            assert np.array_equal(pk, dpk), (ratios, target, build)


@pytest.mark.parametrize("factor", [0.7, 1.3, 2.0, 2.5, 5.5, 8.0, 13.0])
def test_horizontal_pass_at_any_upsampling(factor):
    """The horizontal pass shares the four source values of each run of columns with equal taps
    when upsampling by >= 2 (runs of ~factor columns) and gathers per column otherwise: both must
    give the dense resize's values bit for bit, including where a run is cut by a tile edge."""
    rng = np.random.default_rng(int(factor * 10))
    x = _blobs(rng, 1, 6, 9, 4, 4)
    target = (max(1, int(round(6 * factor))), max(1, int(round(9 * factor))))
    maps = numpy_ops.resize_and_merge(x, target_size=target)
    values = maps[..., :4].ravel()
    values = values[(values > 0.01) & (values < 1.0)]
    for th in [0.0, 0.05] + [float(v) for v in rng.choice(values, 3)]:
        pk, cnt = _core.fast_peaks([x], [1.0], target, 4, _nms(th, 60, 0.5, 0.5), 1)
        dpk, dcnt = numpy_ops.nms(np.ascontiguousarray(maps[..., :4]), th, 60, (0.5, 0.5), "cpu")
        assert np.array_equal(cnt, dcnt), th
        assert np.array_equal(pk, dpk), th
        assert th > 0.0 or dcnt.sum() > 0  # the case has peaks to find
