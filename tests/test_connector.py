"""Body-part connector: golden parity (CPU and CUDA builds), OpenPose's person order, synthetic
crowds and corner cases, the numpy reference, TF op == numpy entry, graphs/SavedModels, errors."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from tfpose import models, numpy_ops

from helpers import GOLDEN_CASES, load_golden, match_people
from reference.connector_ref import connect_cpu_ref, paf_score

BUILDS = [("cpu", "keypoints_cpu", "scores_cpu"), ("cuda", "keypoints_gpu_path", "scores_gpu_path")]


# ----------------------------------------------------------------------------- helpers
def cpu_resized_maps(g) -> np.ndarray:
    """OpenPose's CPU resize-and-merge rebuilt with OpenCV (spec 4.1: cv::resize INTER_CUBIC per
    channel, scales stretched over the whole target, summed then divided by their number)."""
    import cv2

    _, H, W = (int(v) for v in g["heat_shape"])
    acc = None
    for net in g["net_outputs"]:
        r = np.stack(
            [cv2.resize(net[0][..., c], (W, H), interpolation=cv2.INTER_CUBIC) for c in range(net.shape[-1])], axis=-1
        )
        acc = r if acc is None else acc + r
    if len(g["net_outputs"]) > 1:
        acc = acc / np.float32(len(g["net_outputs"]))
    return np.ascontiguousarray(acc[None], dtype=np.float32)


def golden_peaks(g):
    pk = g["peaks_cpu"]
    return np.ascontiguousarray(pk[None, :, 1:, :]), pk[None, :, 0, 0].astype(np.int32)


_GOLDEN_CACHE: dict = {}


def golden_inputs(case):
    if case not in _GOLDEN_CACHE:
        g = load_golden(case)
        _GOLDEN_CACHE.clear()  # keep one case's maps in memory at a time
        _GOLDEN_CACHE[case] = (g, cpu_resized_maps(g), *golden_peaks(g))
    return _GOLDEN_CACHE[case]


# COCO_18 skeleton in units of person height, centred on the hips (x right, y down).
COCO_SKELETON = np.array(
    [
        (0.0, -0.42),
        (0.0, -0.30),
        (-0.13, -0.30),
        (-0.17, -0.12),
        (-0.19, 0.05),
        (0.13, -0.30),
        (0.17, -0.12),
        (0.19, 0.05),
        (-0.08, 0.05),
        (-0.09, 0.27),
        (-0.09, 0.48),
        (0.08, 0.05),
        (0.09, 0.27),
        (0.09, 0.48),
        (-0.05, -0.46),
        (0.05, -0.46),
        (-0.10, -0.44),
        (0.10, -0.44),
    ],
    np.float32,
)


def render_scene(model, people, h, w, width=1.5, rng=None, missing=()):
    """Maps [H, W, C] with unit PAFs along every limb of every person, and peaks at the parts.

    people: list of [P, 2] arrays (x, y) in map pixels (NaN = part absent); missing: (person, part)
    pairs whose peak is dropped while its PAFs stay. Parts outside the map are not detected.
    Returns maps, peaks [P, K, 3], counts [P].
    """
    rng = rng or np.random.default_rng(0)
    P, C = model.num_parts, model.num_channels
    maps = np.zeros((h, w, C), np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    for kp in people:
        for (a, b), (cx, cy) in zip(model.pairs, model.paf_channels, strict=True):
            pa, pb = kp[a], kp[b]
            if np.isnan(pa).any() or np.isnan(pb).any():
                continue
            d = pb - pa
            norm = float(np.hypot(*d))
            if norm < 1e-3:
                continue
            u = d / norm
            t = np.clip(((xx - pa[0]) * u[0] + (yy - pa[1]) * u[1]) / norm, 0, 1)
            dist = np.hypot(xx - (pa[0] + t * d[0]), yy - (pa[1] + t * d[1]))
            on = dist <= width
            maps[..., cx][on] = u[0]
            maps[..., cy][on] = u[1]
    lists = [[] for _ in range(P)]
    for i, kp in enumerate(people):
        for p in range(P):
            x, y = kp[p]
            if np.isnan(x) or (i, p) in missing or not (0 <= x < w and 0 <= y < h):
                continue
            lists[p].append((x, y, rng.uniform(0.6, 1.0)))
    K = max(1, max(len(l) for l in lists))
    peaks = np.zeros((P, K, 3), np.float32)
    counts = np.zeros(P, np.int32)
    for p, l in enumerate(lists):
        l.sort(key=lambda r: (round(r[1]), r[0]))  # NMS order: raster
        counts[p] = len(l)
        if l:
            peaks[p, : len(l)] = l
    return maps, peaks, counts


def coco_person(cx, cy, height):
    return COCO_SKELETON * height + np.array([cx, cy], np.float32)


def assert_found(kp, num, truth_people, scale=1.0, atol=1e-4):
    """Every truth person appears (all detected parts at their positions), and nobody else."""
    assert num == len(truth_people)
    for t in truth_people:
        ok = [np.allclose(np.where(np.isnan(t), 0, t * scale), kp[m, :, :2], atol=atol) for m in range(num)]
        assert any(ok), f"person not found: {t}"


# ----------------------------------------------------------------------------- golden
@pytest.mark.parametrize("build, kkey, skey", BUILDS, ids=["cpu", "cuda"])
@pytest.mark.parametrize("case", GOLDEN_CASES)
def test_golden(case, build, kkey, skey):
    g, maps, peaks, counts = golden_inputs(case)
    meta = g["meta"]
    kp, sc, num = numpy_ops.connect(
        maps, peaks, counts, model=meta["model"], scale=meta["scale_net_to_output"], openpose_build=build
    )
    exp_kp, exp_sc = g[kkey], g[skey]
    assert num.tolist() == [len(exp_kp)]
    assert kp.shape == (1, len(exp_kp), peaks.shape[1], 3)
    match_people(kp[0], sc[0], exp_kp, exp_sc)


@pytest.mark.parametrize("build, kkey, skey", BUILDS, ids=["cpu", "cuda"])
def test_golden_person_order_is_openposes(build, kkey, skey):
    """People come in OpenPose's creation order (CPU and CUDA builds differ), not sorted."""
    differs = 0
    for case in GOLDEN_CASES:
        g, maps, peaks, counts = golden_inputs(case)
        kp, sc, _ = numpy_ops.connect(
            maps, peaks, counts, model=g["meta"]["model"], scale=g["meta"]["scale_net_to_output"], openpose_build=build
        )
        assert match_people(kp[0], sc[0], g[kkey], g[skey]) == list(range(len(g[kkey]))), case
        differs += len(sc[0]) > 1 and not np.all(np.diff(sc[0]) <= 0)
    assert differs > 0  # the order is not a score sort, so this test can tell


@pytest.mark.parametrize("case", ["real_apink2_mnv2s", "syn_body25_two", "syn_mpi15_two", "real_coco000395_thin"])
def test_golden_cpu_matches_reference(case):
    g, maps, peaks, counts = golden_inputs(case)
    m = models.get(g["meta"]["model"])
    kp, sc = connect_cpu_ref(maps[0], peaks[0], counts[0], m, g["meta"]["scale_net_to_output"], dict(m.defaults))
    np.testing.assert_allclose(kp, g["keypoints_cpu"], atol=1e-3)
    np.testing.assert_allclose(sc, g["scores_cpu"], atol=1e-4)


@pytest.mark.smoke
def test_tf_op_equals_numpy_on_golden():
    from tfpose import ops as tf_ops

    for case in ["real_coco000395_thin", "syn_body25_two"]:
        g, maps, peaks, counts = golden_inputs(case)
        for build in ("cpu", "cuda"):
            kw = dict(model=g["meta"]["model"], scale=g["meta"]["scale_net_to_output"], openpose_build=build)
            a = tf_ops.connect(maps, peaks, counts, **kw)
            b = numpy_ops.connect(maps, peaks, counts, **kw)
            for x, y in zip(a, b, strict=True):
                np.testing.assert_array_equal(x.numpy(), y)


# ----------------------------------------------------------------------------- synthetic
@pytest.mark.parametrize("build", ["cpu", "cuda"])
def test_crowd_of_32(build):
    m = models.get("COCO_18")
    people = [coco_person(40 + 80 * (i % 8), 48 + 92 * (i // 8), 80) for i in range(32)]
    maps, peaks, counts = render_scene(m, people, 368, 656)
    kp, sc, num = numpy_ops.connect(maps[None], peaks[None], counts[None], scale=1.5, openpose_build=build)
    assert kp.shape == (1, 32, 18, 3)
    assert_found(kp[0], num[0], people, scale=1.5)
    assert np.all(sc[0] > 0.5)


def test_crowd_batch_threads_agree():
    m = models.get("COCO_18")
    scenes = []
    for shift in range(3):
        people = [coco_person(40 + shift + 80 * (i % 8), 48 + 92 * (i // 8), 80) for i in range(32 - 5 * shift)]
        scenes.append(render_scene(m, people, 368, 656, rng=np.random.default_rng(shift)))
    K = max(s[1].shape[1] for s in scenes)
    maps = np.stack([s[0] for s in scenes])
    peaks = np.zeros((3, 18, K, 3), np.float32)
    for i, s in enumerate(scenes):
        peaks[i, :, : s[1].shape[1]] = s[1]
    counts = np.stack([s[2] for s in scenes])
    one = numpy_ops.connect(maps, peaks, counts, threads=1)
    many = numpy_ops.connect(maps, peaks, counts, threads=3)
    for a, b in zip(one, many, strict=True):
        np.testing.assert_array_equal(a, b)
    assert one[2].tolist() == [32, 27, 22]


@pytest.mark.parametrize("build", ["cpu", "cuda"])
def test_people_cut_by_borders(build):
    m = models.get("COCO_18")
    # cut at the left, bottom and right borders; every neck stays inside, so nobody falls apart
    people = [coco_person(5, 60, 100), coco_person(150, 150, 100), coco_person(300, 60, 100)]
    maps, peaks, counts = render_scene(m, people, 190, 310)
    kp, sc, num = numpy_ops.connect(maps[None], peaks[None], counts[None], openpose_build=build)
    visible = []
    for p in people:
        v = p.copy()
        out = ~((v[:, 0] >= 0) & (v[:, 0] < 310) & (v[:, 1] >= 0) & (v[:, 1] < 190))
        v[out] = np.nan
        visible.append(v)
    assert_found(kp[0], num[0], visible)
    if build == "cpu":
        rk, rs = connect_cpu_ref(maps, peaks, counts, m, 1.0, dict(m.defaults))
        np.testing.assert_allclose(kp[0], rk, atol=1e-4)
        np.testing.assert_allclose(sc[0], rs, atol=1e-5)


def test_peaks_outside_the_map_are_clamped_like_openpose():
    m = models.get("COCO_18")
    person = coco_person(60, 60, 100)
    maps, peaks, counts = render_scene(m, [person], 120, 120)
    peaks[0, 0, :2] = (-4.0, -30.0)  # nose far above the map: samples clamp onto row 0
    peaks[10, 0, :2] = (500.0, 1e6)  # an ankle far away
    kp, sc, num = numpy_ops.connect(maps[None], peaks[None], counts[None])
    rk, rs = connect_cpu_ref(maps, peaks, counts, m, 1.0, dict(m.defaults))
    np.testing.assert_allclose(kp[0], rk, atol=1e-4)
    np.testing.assert_allclose(sc[0], rs, atol=1e-5)
    assert num[0] == 1 and kp[0, 0, 0, 2] == 0  # the nose could not be connected


@pytest.mark.parametrize("build", ["cpu", "cuda"])
def test_missing_limbs_and_parts(build):
    m = models.get("COCO_18")
    a = coco_person(60, 100, 120)
    b = coco_person(200, 100, 120)
    b[[3, 4]] = np.nan  # no right arm below the shoulder (no PAF, no peak)
    # person a: no neck peak (its PAFs remain): CPU grows it from one-part people
    maps, peaks, counts = render_scene(m, [a, b], 200, 280, missing={(0, 1)})
    kp, sc, num = numpy_ops.connect(maps[None], peaks[None], counts[None], openpose_build=build)
    kp = kp[0]
    # b is found whole (minus its right arm)
    assert any(np.allclose(np.nan_to_num(b), kp[i, :, :2], atol=1e-4) for i in range(num[0]))
    if build == "cpu":
        rk, rs = connect_cpu_ref(maps, peaks, counts, m, 1.0, dict(m.defaults))
        np.testing.assert_allclose(kp, rk, atol=1e-4)
        np.testing.assert_allclose(sc[0], rs, atol=1e-5)
        # a's legs and arms survive as their own groups; none of them holds a neck
    assert np.all(kp[:, 1, 2][np.abs(kp[:, 0, 0] - a[0, 0]) < 1e-3] == 0)


@pytest.mark.parametrize("build", ["cpu", "cuda"])
def test_symmetric_ties_are_deterministic(build):
    """Two necks at equal distance from one right shoulder with identical PAFs: the tie between
    equal pair scores resolves by the larger candidate index (OpenPose sorts (score, a, b) tuples
    descending)."""
    m = models.get("COCO_18")
    h, w = 60, 80
    maps = np.zeros((h, w, m.num_channels), np.float32)
    cx, cy = m.paf_channels[0]  # Neck -> RShoulder
    maps[..., cx] = 1.0  # a field pointing +x everywhere ...
    peaks = np.zeros((18, 2, 3), np.float32)
    counts = np.zeros(18, np.int32)
    peaks[1, :2] = [(10.0, 20.0, 0.9), (10.0, 40.0, 0.9)]  # two necks
    peaks[2, :2] = [(30.0, 20.0, 0.8), (30.0, 40.0, 0.8)]  # two right shoulders
    counts[1] = counts[2] = 2
    kp, sc, num = numpy_ops.connect(
        maps[None], peaks[None], counts[None], openpose_build=build, min_subset_cnt=2, min_subset_score=0.1
    )
    # both straight pairs score exactly 1.0 and tie; the diagonal ones score 0.707 and lose
    assert num[0] == 2
    got = {(tuple(kp[0, i, 1, :2]), tuple(kp[0, i, 2, :2])) for i in range(2)}
    assert got == {((10.0, 20.0), (30.0, 20.0)), ((10.0, 40.0), (30.0, 40.0))}
    # the larger neck index wins the tie, so its person is created first (both builds)
    assert tuple(kp[0, 0, 1, :2]) == (10.0, 40.0)
    again = numpy_ops.connect(
        maps[None], peaks[None], counts[None], openpose_build=build, min_subset_cnt=2, min_subset_score=0.1
    )
    np.testing.assert_array_equal(again[0], kp)
    # one neck, two shoulders mirrored about its row: equal scores, and the tie decides who is
    # connected: the larger shoulder index
    peaks[1, :1] = (10.0, 30.0, 0.9)
    counts[1] = 1
    kp, sc, num = numpy_ops.connect(
        maps[None], peaks[None], counts[None], openpose_build=build, min_subset_cnt=2, min_subset_score=0.1
    )
    assert num[0] == 1 and tuple(kp[0, 0, 2, :2]) == (30.0, 40.0)
    if build == "cpu":
        rk, _ = connect_cpu_ref(maps, peaks, counts, m, 1.0, dict(m.defaults, min_subset_cnt=2, min_subset_score=0.1))
        np.testing.assert_array_equal(kp[0], rk)


@pytest.mark.parametrize("build", ["cpu", "cuda"])
def test_nobody(build):
    m = models.get("COCO_18")
    maps = np.zeros((2, 40, 50, m.num_channels), np.float32)
    peaks = np.zeros((2, 18, 5, 3), np.float32)
    counts = np.zeros((2, 18), np.int32)
    kp, sc, num = numpy_ops.connect(maps, peaks, counts, openpose_build=build)
    assert kp.shape == (2, 0, 18, 3) and sc.shape == (2, 0) and num.tolist() == [0, 0]
    assert kp.dtype == np.float32 and sc.dtype == np.float32 and num.dtype == np.int32
    # isolated peaks without PAF support make one-part people that the filter drops
    counts[0, 4] = 1
    peaks[0, 4, 0] = (10, 10, 0.9)
    assert numpy_ops.connect(maps, peaks, counts, openpose_build=build)[2].tolist() == [0, 0]
    # K = 0 and N = 0 are valid too
    assert numpy_ops.connect(maps, peaks[:, :, :0], counts * 0)[0].shape == (2, 0, 18, 3)
    assert numpy_ops.connect(maps[:0], peaks[:0], counts[:0])[0].shape == (0, 0, 18, 3)


@pytest.mark.parametrize("build", ["cpu", "cuda"])
def test_batch_padding_and_per_image_scale(build):
    m = models.get("COCO_18")
    scenes = [
        [coco_person(50, 60, 90)],
        [],
        [coco_person(40 + 70 * i, 60, 90) for i in range(3)],
        [coco_person(100, 60, 90), coco_person(200, 60, 90)],
    ]
    rendered = [render_scene(m, s, 120, 260, rng=np.random.default_rng(i)) for i, s in enumerate(scenes)]
    K = max(r[1].shape[1] for r in rendered)
    maps = np.stack([r[0] for r in rendered])
    peaks = np.zeros((4, 18, K, 3), np.float32)
    for i, r in enumerate(rendered):
        peaks[i, :, : r[1].shape[1]] = r[1]
    counts = np.stack([r[2] for r in rendered])
    scales = np.array([1.0, 2.0, 0.5, 3.0], np.float32)
    kp, sc, num = numpy_ops.connect(maps, peaks, counts, scale=scales, openpose_build=build)
    assert num.tolist() == [1, 0, 3, 2] and kp.shape == (4, 3, 18, 3) and sc.shape == (4, 3)
    for i in range(4):
        one = numpy_ops.connect(
            maps[i : i + 1], peaks[i : i + 1], counts[i : i + 1], scale=scales[i], openpose_build=build
        )
        np.testing.assert_array_equal(kp[i, : num[i]], one[0][0])
        np.testing.assert_array_equal(sc[i, : num[i]], one[1][0])
        assert np.all(kp[i, num[i] :] == 0) and np.all(sc[i, num[i] :] == 0)
        assert_found(kp[i], num[i], scenes[i], scale=scales[i], atol=1e-3)


def test_body25_foot_rule_and_rerun():
    """BODY_25: a person of feet plus <= 4 other parts is dropped (spec 7.4), unless nobody would be
    left, in which case the filter reruns without the foot rule."""
    m = models.get("BODY_25")
    h, w = 100, 100
    maps = np.zeros((h, w, m.num_channels), np.float32)
    # knee(13) -> ankle(14) -> big toe(19): limbs 12 (13-14) and 20 (14-19), straight down
    peaks = np.zeros((25, 1, 3), np.float32)
    counts = np.zeros(25, np.int32)
    for part, y in ((12, 10.0), (13, 30.0), (14, 50.0), (19, 60.0)):
        peaks[part, 0] = (50.0, y, 0.9)
        counts[part] = 1
    for k in (11, 12, 20):
        cx, cy = m.paf_channels[k]
        maps[..., cy] = 1.0
    kp, sc, num = numpy_ops.connect(maps[None], peaks[None], counts[None], model="BODY_25")
    # 4 parts (cnt 4, one foot): the foot rule rejects it, nobody is left, the rerun keeps it
    assert num[0] == 1 and kp[0, 0, 19, 2] > 0
    rk, rs = connect_cpu_ref(maps, peaks, counts, m, 1.0, dict(m.defaults))
    np.testing.assert_allclose(kp[0], rk, atol=1e-5)
    # add a separate 3-part body without feet: now the foot person is rejected for good
    peaks2 = np.zeros((25, 2, 3), np.float32)
    peaks2[:, :1] = peaks
    counts2 = counts.copy()
    for part, y in ((1, 10.0), (8, 40.0), (9, 60.0)):  # neck -> midhip -> rhip, x = 20
        peaks2[part, 0] = (20.0, y, 0.9)
        counts2[part] = 1
    for k in (0, 7):
        cx, cy = m.paf_channels[k]
        maps[:, 15:26, cy] = 1.0
    kp2, sc2, num2 = numpy_ops.connect(maps[None], peaks2[None], counts2[None], model="BODY_25")
    assert num2[0] == 1 and kp2[0, 0, 1, 2] > 0 and kp2[0, 0, 19, 2] == 0
    rk2, _ = connect_cpu_ref(maps, peaks2, counts2, m, 1.0, dict(m.defaults))
    np.testing.assert_allclose(kp2[0], rk2, atol=1e-5)


def test_mpi_duplicate_one_part_people():
    """MPI (P = 15) creates one-part people without the "already held" check (spec 7.2)."""
    m = models.get("MPI_15")
    maps = np.zeros((40, 40, m.num_channels), np.float32)
    peaks = np.zeros((15, 1, 3), np.float32)
    counts = np.zeros(15, np.int32)
    peaks[1, 0] = (20, 20, 0.9)  # a lone neck: limbs 0-1, 1-2, 1-5, 1-14 each see an empty side
    counts[1] = 1
    got = numpy_ops.connect(
        maps[None], peaks[None], counts[None], model="MPI_15", min_subset_cnt=1, min_subset_score=0.0
    )
    assert got[2][0] == 4  # four duplicates of the same neck, one per limb with an empty side
    coco = models.get("COCO_18")
    maps_c = np.zeros((40, 40, coco.num_channels), np.float32)
    peaks_c = np.zeros((18, 1, 3), np.float32)
    counts_c = np.zeros(18, np.int32)
    peaks_c[1, 0] = (20, 20, 0.9)
    counts_c[1] = 1
    got_c = numpy_ops.connect(maps_c[None], peaks_c[None], counts_c[None], min_subset_cnt=1, min_subset_score=0.0)
    assert got_c[2][0] == 1


def test_ear_limbs_only_fill():
    """COCO limbs 17/18 (shoulder-ear) complete people but never create one or add to cnt."""
    m = models.get("COCO_18")
    person = coco_person(60, 60, 100)
    person[[0, 14, 15, 17]] = np.nan  # no face except the right ear
    maps, peaks, counts = render_scene(m, [person], 120, 120)
    kp, sc, num = numpy_ops.connect(maps[None], peaks[None], counts[None])
    assert num[0] == 1 and kp[0, 0, 16, 2] > 0  # REar attached through RShoulder-REar
    rk, rs = connect_cpu_ref(maps, peaks, counts, m, 1.0, dict(m.defaults))
    np.testing.assert_allclose(kp[0], rk, atol=1e-5)
    np.testing.assert_allclose(sc[0], rs, atol=1e-6)
    # limb 14 (REye-REar) has its A side empty, so it also made a one-part REar person; the fill
    # rule visits every person and gives it the shoulder too, but its cnt stays 1: filtered out.


def test_close_keypoint_fallback_and_nan_paf():
    m = models.get("COCO_18")
    h, w = 368, 656  # close distance sqrt(368*656)/150 = 3.27 px
    maps = np.zeros((h, w, m.num_channels), np.float32)
    cx, cy = m.paf_channels[0]
    nms = m.defaults["nms_threshold"]
    s = paf_score((100.0, 100.0), (103.0, 100.0), maps[..., cx], maps[..., cy], 0.05, 0.95, nms)
    assert s == np.float32(np.float64(np.float32(nms)) + 1e-6)
    assert paf_score((100.0, 100.0), (104.0, 100.0), maps[..., cx], maps[..., cy], 0.05, 0.95, nms) == 0
    # NaN samples fail the per-sample test: a neck-shoulder pair on a NaN field only connects via
    # the close fallback; no crash, no NaN in the output
    maps[..., cx] = np.nan
    peaks = np.zeros((18, 1, 3), np.float32)
    counts = np.zeros(18, np.int32)
    peaks[1, 0] = (100, 100, 0.9)
    peaks[2, 0] = (103, 100, 0.9)
    counts[1] = counts[2] = 1
    for build in ("cpu", "cuda"):
        kp, sc, num = numpy_ops.connect(maps[None], peaks[None], counts[None], openpose_build=build, min_subset_cnt=2)
        assert num[0] == 1 and np.isfinite(sc).all()
        np.testing.assert_allclose(sc[0, 0], (0.9 + 0.9 + np.float32(nms + 1e-6)) / 37, rtol=1e-6)
        peaks[2, 0] = (120, 100, 0.9)
        assert (
            numpy_ops.connect(maps[None], peaks[None], counts[None], openpose_build=build, min_subset_cnt=2)[2][0] == 0
        )
        peaks[2, 0] = (103, 100, 0.9)


def _random_scene(rng, model):
    P = model.num_parts
    h, w = int(rng.integers(30, 70)), int(rng.integers(30, 70))
    K = int(rng.integers(1, 5))
    # smooth random PAFs plus a few straight limbs, so that some pairs pass and many fail
    maps = np.zeros((h, w, model.num_channels), np.float32)
    base = rng.normal(size=(h // 8 + 2, w // 8 + 2, model.num_channels)).astype(np.float32)
    maps[:] = np.kron(base, np.ones((8, 8, 1), np.float32))[:h, :w]
    peaks = np.zeros((P, K, 3), np.float32)
    counts = rng.integers(0, K + 1, size=P).astype(np.int32)
    peaks[..., 0] = rng.uniform(-2, w + 2, (P, K))
    peaks[..., 1] = rng.uniform(-2, h + 2, (P, K))
    peaks[..., 2] = rng.uniform(0.05, 1.0, (P, K))
    # ties: duplicate a few candidates
    if K > 1:
        peaks[:, 1] = np.where(rng.random((P, 1)) < 0.2, peaks[:, 0], peaks[:, 1])
    return maps, peaks, counts


@pytest.mark.parametrize("model_name", ["COCO_18", "BODY_25", "MPI_15"])
def test_random_matches_reference(model_name):
    m = models.get(model_name)
    rng = np.random.default_rng({"COCO_18": 1, "BODY_25": 2, "MPI_15": 3}[model_name])
    for _ in range(12):
        maps, peaks, counts = _random_scene(rng, m)
        th = dict(m.defaults)
        th.update(
            inter_min_above_threshold=float(rng.choice([0.95, 0.5, 0.3])),
            inter_threshold=float(rng.choice([0.05, 0.0, 0.2])),
            min_subset_cnt=int(rng.integers(0, 4)),
            min_subset_score=float(rng.choice([0.0, 0.2, 0.4])),
        )
        scale = float(rng.uniform(0.5, 3))
        kp, sc, num = numpy_ops.connect(
            maps[None],
            peaks[None],
            counts[None],
            model=model_name,
            scale=scale,
            **{
                k: th[k]
                for k in (
                    "nms_threshold",
                    "inter_min_above_threshold",
                    "inter_threshold",
                    "min_subset_cnt",
                    "min_subset_score",
                )
            },
        )
        rk, rs = connect_cpu_ref(maps, peaks, counts, m, scale, th)
        assert num[0] == len(rk)
        np.testing.assert_allclose(kp[0, : num[0]], rk, atol=1e-4, rtol=1e-6)
        np.testing.assert_allclose(sc[0, : num[0]], rs, atol=1e-5, rtol=1e-6)


def test_random_paf_scores_match_reference():
    """The PAF line score alone through a 2-candidate limb, both builds' people follow from it."""
    rng = np.random.default_rng(5)
    m = models.get("COCO_18")
    for _ in range(200):
        h, w = int(rng.integers(5, 40)), int(rng.integers(5, 40))
        px = rng.normal(size=(h, w)).astype(np.float32)
        py = rng.normal(size=(h, w)).astype(np.float32)
        a = rng.uniform(-3, w + 3, 2).astype(np.float32)
        b = rng.uniform(-3, h + 3, 2).astype(np.float32)
        s_ref = paf_score(a, b, px, py, 0.0, 0.3, 0.05)
        maps = np.zeros((h, w, m.num_channels), np.float32)
        cx, cy = m.paf_channels[0]
        maps[..., cx], maps[..., cy] = px, py
        peaks = np.zeros((18, 1, 3), np.float32)
        counts = np.zeros(18, np.int32)
        peaks[1, 0] = (a[0], a[1], 0.5)
        peaks[2, 0] = (b[0], b[1], 0.5)
        counts[1] = counts[2] = 1
        _, sc, num = numpy_ops.connect(
            maps[None],
            peaks[None],
            counts[None],
            inter_threshold=0.0,
            inter_min_above_threshold=0.3,
            min_subset_cnt=2,
            min_subset_score=0.0,
        )
        if float(s_ref) > 1e-6:
            assert num[0] == 1
            np.testing.assert_allclose(sc[0, 0] * 37, 1.0 + s_ref, rtol=1e-6)
        else:
            assert num[0] == 0


# ----------------------------------------------------------------------------- TensorFlow
def test_tf_function_unknown_sizes():
    import tensorflow as tf

    from tfpose import ops as tf_ops

    @tf.function(
        input_signature=[
            tf.TensorSpec([None, None, None, 57], tf.float32),
            tf.TensorSpec([None, 18, None, 3], tf.float32),
            tf.TensorSpec([None, 18], tf.int32),
            tf.TensorSpec([None], tf.float32),
        ]
    )
    def f(maps, peaks, counts, scale):
        return tf_ops.connect(maps, peaks, counts, scale=scale)

    kp_spec = f.get_concrete_function().structured_outputs[0]
    assert kp_spec.shape.as_list() == [None, None, None, 3]
    g, maps, peaks, counts = golden_inputs("real_coco000192_thin")
    s = np.array([g["meta"]["scale_net_to_output"]], np.float32)
    got = f(maps, peaks, counts, s)
    exp = numpy_ops.connect(maps, peaks, counts, scale=s)
    for x, y in zip(got, exp, strict=True):
        np.testing.assert_array_equal(x.numpy(), y)


def _saved_model_script(path, with_import):
    return textwrap.dedent(f"""
        import os, sys
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
        import numpy as np, tensorflow as tf
        {"import tfpose.ops" if with_import else ""}
        d = np.load({str(path / "io.npz")!r})
        m = tf.saved_model.load({str(path / "sm")!r})
        out = m.connect(tf.constant(d["maps"]), tf.constant(d["peaks"]), tf.constant(d["counts"]))
        np.testing.assert_array_equal(out[0].numpy(), d["kp"])
        np.testing.assert_array_equal(out[1].numpy(), d["sc"])
        print("OK")
    """)


@pytest.mark.slow
def test_saved_model_roundtrip(tmp_path):
    import tensorflow as tf

    from tfpose import ops as tf_ops

    g, maps, peaks, counts = golden_inputs("syn_coco_three_people")
    scale = g["meta"]["scale_net_to_output"]

    class M(tf.Module):
        @tf.function(
            input_signature=[
                tf.TensorSpec([None, None, None, 57], tf.float32),
                tf.TensorSpec([None, 18, None, 3], tf.float32),
                tf.TensorSpec([None, 18], tf.int32),
            ]
        )
        def connect(self, maps, peaks, counts):
            return tf_ops.connect(maps, peaks, counts, scale=scale, openpose_build="cuda")

    tf.saved_model.save(M(), str(tmp_path / "sm"))
    kp, sc, _ = numpy_ops.connect(maps, peaks, counts, scale=scale, openpose_build="cuda")
    np.savez(tmp_path / "io.npz", maps=maps, peaks=peaks, counts=counts, kp=kp, sc=sc)
    ok = subprocess.run(
        [sys.executable, "-c", _saved_model_script(tmp_path, True)], capture_output=True, text=True, cwd=tmp_path
    )
    assert ok.returncode == 0 and "OK" in ok.stdout, ok.stderr[-3000:]
    bad = subprocess.run(
        [sys.executable, "-c", _saved_model_script(tmp_path, False)], capture_output=True, text=True, cwd=tmp_path
    )
    assert bad.returncode != 0 and "TfposeConnect" in bad.stderr


# ----------------------------------------------------------------------------- errors
def _valid(n=2, k=4, c=57, p=18):
    maps = np.zeros((n, 20, 30, c), np.float32)
    peaks = np.zeros((n, p, k, 3), np.float32)
    counts = np.zeros((n, p), np.int32)
    return maps, peaks, counts


def _bad_inputs():
    m, p, c = _valid()
    cases = [
        ("batch", (m, p[:1], c[:1]), {}, "peaks batch size.*expected 2.*got 1"),
        (
            "parts",
            (m, np.zeros((2, 17, 4, 3), np.float32), np.zeros((2, 17), np.int32)),
            {},
            "peaks parts.*expected 18, got 17",
        ),
        ("channels", (np.zeros((2, 20, 30, 56), np.float32), p, c), {}, "channels.*expected 57.*got 56"),
        ("model", (m, p, c), {"model": "BODY_25"}, "channels for model BODY_25: expected 78"),
        ("counts shape", (m, p, c[:, :17]), {}, r"counts shape: expected \[2, 18\].*got \[2, 17\]"),
        (
            "counts > K",
            (m, p, np.where(np.arange(18) == 3, 5, 0).astype(np.int32)[None].repeat(2, 0)),
            {},
            r"counts\[0, 3\]: expected a value in \[0, K = 4\], got 5",
        ),
        ("counts < 0", (m, p, -np.ones((2, 18), np.int32)), {}, r"counts\[0, 0\]: expected a value in \[0, K"),
        ("peaks xyz", (m, np.zeros((2, 18, 4, 2), np.float32), c), {}, "peaks"),
        ("unknown model", (m, p, c), {"model": "COCO"}, "model: expected one of"),
        ("negative scale", (m, p, c), {"scale": -1.0}, r"scale\[0\]: expected a finite number > 0"),
        ("nan scale", (m, p, c), {"scale": np.nan}, r"scale\[0\]: expected a finite number > 0"),
        ("inf scale", (m, p, c), {"scale": [1.0, np.inf]}, r"scale\[1\]: expected a finite number > 0"),
        ("scale length", (m, p, c), {"scale": [1.0, 2.0, 3.0]}, "scale: expected a scalar or 2 values"),
        ("rank", (m[0], p, c), {}, "maps"),
    ]
    p_nan = p.copy()
    p_nan[1, 2, 0] = (np.nan, 1, 1)
    c_one = c.copy()
    c_one[1, 2] = 1
    cases.append(("nan peak", (m, p_nan, c_one), {}, r"peaks\[1, 2, 0\]: expected finite"))
    return cases


BAD = _bad_inputs()


@pytest.mark.parametrize("name, args, kw, msg", BAD, ids=[b[0] for b in BAD])
def test_errors_numpy(name, args, kw, msg):
    with pytest.raises(ValueError, match=msg):
        numpy_ops.connect(*args, **kw)


@pytest.mark.parametrize("name, args, kw, msg", BAD, ids=[b[0] for b in BAD])
def test_errors_tf(name, args, kw, msg):
    import tensorflow as tf

    from tfpose import ops as tf_ops

    with pytest.raises((tf.errors.InvalidArgumentError, ValueError), match=msg):
        tf_ops.connect(*args, **kw)


@pytest.mark.parametrize(
    "kw, err, msg",
    [
        ({"openpose_build": "gpu"}, ValueError, "openpose_build"),
        ({"nms_threshold": 1.5}, ValueError, "nms_threshold"),
        ({"inter_threshold": float("nan")}, ValueError, "inter_threshold"),
        ({"inter_min_above_threshold": 2}, ValueError, "inter_min_above_threshold"),
        ({"min_subset_cnt": -3}, ValueError, "min_subset_cnt"),
        ({"min_subset_score": float("inf")}, ValueError, "min_subset_score"),
        ({"bogus": 1}, TypeError, "bogus"),
    ],
)
def test_bad_attributes(kw, err, msg):
    m, p, c = _valid()
    with pytest.raises(err, match=msg):
        numpy_ops.connect(m, p, c, **kw)
    from tfpose import ops as tf_ops

    with pytest.raises(err, match=msg):
        tf_ops.connect(m, p, c, **kw)


def test_bad_dtypes():
    m, p, c = _valid()
    with pytest.raises(TypeError, match="counts"):
        numpy_ops.connect(m, p, c.astype(np.float32))
    with pytest.raises(TypeError, match="maps"):
        numpy_ops.connect(m.astype(np.int32), p, c)
    with pytest.raises(TypeError, match="model"):
        numpy_ops.connect(m, p, c, model=18)


def test_raw_op_rejects_bad_attrs_in_kernel():
    """The kernel validates attributes itself (graphs built without the Python wrapper)."""
    import tensorflow as tf

    from tfpose import ops as tf_ops

    m, p, c = _valid()
    lib = tf_ops.op_library()
    with pytest.raises(tf.errors.InvalidArgumentError, match="model: expected one of"):
        lib.tfpose_connect(maps=m, peaks=p, counts=c, scale=1.0, model="NOPE")
    with pytest.raises(tf.errors.InvalidArgumentError, match="inter_threshold"):
        lib.tfpose_connect(maps=m, peaks=p, counts=c, scale=1.0, inter_threshold=float("nan"))
    with pytest.raises(tf.errors.InvalidArgumentError, match="scale"):
        lib.tfpose_connect(maps=m, peaks=p, counts=c, scale=[[1.0]])
