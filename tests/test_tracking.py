"""PoseTracker, OKS and the One-Euro filter on hand-built poses (no TensorFlow, no network).

References here are written independently of tfpose.tracking: COCO's sigma list in COCO's own
keypoint order, OKS as a plain loop over the formula of the COCO keypoint evaluation, and the
One-Euro filter as the scalar recurrence of Casiez et al. (CHI 2012) (tests/reference/one_euro_ref.py).
The tracker's compiled steps (cpp/core/tracking.cc) are checked against their numpy formulation
(tests/reference/numpy_tracking.py), bit for bit."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

from tfpose import io as tio
from tfpose import models
from tfpose.estimator import Person
from tfpose.tracking import OneEuroFilter, PoseTracker, keypoint_sigmas, oks

import tracking_scenarios as ts
from reference import numpy_tracking, one_euro_ref

# cocoapi PythonAPI/pycocotools/cocoeval.py, in COCO's keypoint order
COCO_ORDER = [
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
]
COCO_SIGMAS = (
    np.array([0.26, 0.25, 0.25, 0.35, 0.35, 0.79, 0.79, 0.72, 0.72, 0.62, 0.62, 1.07, 1.07, 0.87, 0.87, 0.89, 0.89])
    / 10.0
)


def _openpose_name(coco_name: str) -> str:
    side, _, part = coco_name.partition("_")
    if not part:
        return side.capitalize()
    return side[0].upper() + part.capitalize()


def test_sigmas_follow_coco_for_every_model():
    by_name = {_openpose_name(n): s for n, s in zip(COCO_ORDER, COCO_SIGMAS, strict=True)}
    for name in models.names():
        table = models.get(name)
        sig = keypoint_sigmas(name)
        assert sig.shape == (table.num_parts,)
        for part, s in zip(table.part_names, sig, strict=True):
            if part in by_name:
                assert s == pytest.approx(by_name[part]), (name, part)
            assert 0.02 <= s <= 0.11


def _oks_loop(a, av, b, bv, sig):
    """One pair, the COCO formula written out (area = larger keypoint box of the two)."""

    def box(x, v):
        p = x[v]
        return max((p[:, 0].max() - p[:, 0].min()) * (p[:, 1].max() - p[:, 1].min()), 1.0) if len(p) else 1.0

    area = max(box(a, av), box(b, bv))
    tot, n = 0.0, 0
    for i in range(len(sig)):
        if av[i] and bv[i]:
            d2 = (a[i, 0] - b[i, 0]) ** 2 + (a[i, 1] - b[i, 1]) ** 2
            tot += math.exp(-d2 / (2 * area * (2 * sig[i]) ** 2))
            n += 1
    return tot / n if n else 0.0


def test_oks_matches_the_formula():
    rng = np.random.default_rng(0)
    sig = keypoint_sigmas("BODY_25")
    a = rng.uniform(0, 300, (5, 25, 2))
    b = a[rng.permutation(5)] + rng.normal(0, 8, (5, 25, 2))
    av = rng.random((5, 25)) > 0.3
    bv = rng.random((5, 25)) > 0.3
    bv[0] = False  # a pose sharing no part with anyone: OKS 0
    got = oks(a, av, b, bv, sig)
    for i in range(5):
        for j in range(5):
            assert got[i, j] == pytest.approx(_oks_loop(a[i], av[i], b[j], bv[j], sig), rel=1e-9, abs=1e-12)
    assert (got[:, 0] == 0).all()
    assert oks(a[:1], av[:1], a[:1], av[:1], sig)[0, 0] == pytest.approx(1.0)


_one_euro_scalar = one_euro_ref.one_euro_scalar


def test_one_euro_matches_the_paper_recurrence():
    rng = np.random.default_rng(1)
    ts = np.cumsum(rng.uniform(0.02, 0.05, 60))
    xs = np.cumsum(rng.normal(0, 3, (60, 4)), axis=0)
    f = OneEuroFilter(min_cutoff=1.5, beta=0.02, d_cutoff=1.0)
    got = np.array([f.filter(x, t) for x, t in zip(xs, ts, strict=True)])
    for c in range(4):
        np.testing.assert_allclose(got[:, c], _one_euro_scalar(xs[:, c], ts, 1.5, 0.02, 1.0), rtol=1e-12)


def test_one_euro_mask_never_invents_and_restarts():
    f = OneEuroFilter()
    f.filter(np.array([10.0, 20.0]), 0.0)
    out = f.filter(np.array([50.0, 0.0]), 0.1, mask=np.array([True, False]))
    assert out[1] == 0.0 and 10.0 < out[0] < 50.0
    out = f.filter(np.array([50.0, 90.0]), 0.2)
    assert out[1] == 90.0  # reappeared: starts from the new value, not the stale 20
    with pytest.raises(ValueError, match="min_cutoff"):
        OneEuroFilter(min_cutoff=float("nan"))


# A standing COCO_18 skeleton, 170 px tall, its neck at the origin (x right, y down).
_SKELETON = np.array(
    [
        [0, -25],
        [0, 0],
        [-20, 0],
        [-28, 30],
        [-30, 58],
        [20, 0],
        [28, 30],
        [30, 58],
        [-12, 60],
        [-13, 105],
        [-14, 145],
        [12, 60],
        [13, 105],
        [14, 145],
        [-5, -30],
        [5, -30],
        [-10, -27],
        [10, -27],
    ],
    np.float64,
)


def person_at(x, y, parts=None, score=0.8):
    k = np.zeros((18, 3), np.float32)
    k[:, :2] = _SKELETON + (x, y)
    k[:, 2] = score
    if parts is not None:
        keep = np.zeros(18, bool)
        keep[list(parts)] = True
        k[~keep] = 0
    return Person(k, score)


def test_ids_follow_moving_people_and_new_people_get_new_ids():
    tr = PoseTracker("COCO_18")
    ids = []
    for t in range(20):
        people = [person_at(100 + 5 * t, 100), person_at(400 - 4 * t, 120)]
        if t >= 10:
            people.append(person_at(250, 300))
        tr.update(people[::-1] if t % 2 else people)  # order within a frame must not matter
        ids.append(sorted((round(float(p.keypoints[1, 0])), p.person_id) for p in people))
    first = {x: i for x, i in ids[0]}
    assert set(first.values()) == {0, 1}
    for t, row in enumerate(ids):
        by_id = {i: x for x, i in row}
        assert by_id[0] == 100 + 5 * t and by_id[1] == 400 - 4 * t
        if t >= 10:
            assert by_id[2] == 250
    assert tr.next_id == 3


def test_crossing_people_keep_their_ids_both_assignments():
    for assignment in ("optimal", "greedy"):
        tr = PoseTracker("COCO_18", assignment=assignment)
        for t in range(40):
            a, b = person_at(100 + 8 * t, 100), person_at(420 - 8 * t, 104)
            tr.update([a, b])
            if t == 0:
                ida, idb = a.person_id, b.person_id
            assert (a.person_id, b.person_id) == (ida, idb), (assignment, t)


def test_optimal_keeps_both_tracks_where_greedy_loses_one():
    # Tracks at x = 100 and 130; people at 88 (A) and 108 (B). The single most similar pair is
    # track 0 <-> B; taking it (greedy) leaves A only track 1, too far: A gets a new id. The
    # optimal assignment matches both (track 0 <-> A, track 1 <-> B).
    thr = 0.1
    sig = keypoint_sigmas("COCO_18")
    t_xy = np.stack([person_at(100, 100).keypoints[:, :2], person_at(130, 100).keypoints[:, :2]])
    p_xy = np.stack([person_at(88, 100).keypoints[:, :2], person_at(108, 100).keypoints[:, :2]])
    vis = np.ones((2, 18), bool)
    sim = oks(t_xy, vis, p_xy, vis, sig)
    assert sim.argmax() == 1 and sim[1, 0] < thr <= min(sim[0, 0], sim[1, 1])  # the design above

    def run(assignment):
        # no common-motion vote: both people moved left, which the vote would follow (the
        # assignment alone is under test)
        tr = PoseTracker("COCO_18", assignment=assignment, oks_threshold=thr, camera_motion=False)
        tr.update([person_at(100, 100), person_at(130, 100)])
        a, b = person_at(88, 100), person_at(108, 100)
        tr.update([a, b])
        return a.person_id, b.person_id

    assert run("optimal") == (0, 1)
    assert run("greedy") == (2, 0)


def test_lost_person_is_remembered_then_forgotten_and_ids_never_reused():
    tr = PoseTracker("COCO_18", max_lost_frames=5)
    p = person_at(100, 100)
    tr.update([p])
    pid = p.person_id
    for _ in range(5):  # hidden for 5 frames: remembered
        tr.update([])
    q = person_at(100, 100)
    tr.update([q])
    assert q.person_id == pid
    for _ in range(6):  # hidden for 6 frames: forgotten
        tr.update([])
    r = person_at(100, 100)
    tr.update([r])
    assert r.person_id != pid and r.person_id == tr.next_id - 1
    tr.reset()
    s = person_at(100, 100)
    tr.update([s])
    assert s.person_id not in (pid, r.person_id)


def test_short_occlusion_of_a_walking_person_keeps_the_id():
    tr = PoseTracker("COCO_18")
    ids = set()
    for t in range(30):
        people = [] if 12 <= t < 17 else [person_at(50 + 10 * t, 100)]  # 5 frames behind a pillar
        tr.update(people)
        ids |= {p.person_id for p in people}
    assert ids == {0}


def test_partial_people_and_empty_frames():
    tr = PoseTracker("COCO_18")
    tr.update([person_at(100, 100)])
    legs = person_at(100, 100, parts=[8, 9, 10, 11, 12, 13])
    head = person_at(100, 100, parts=[0, 14, 15, 16, 17])
    tr.update([legs])
    tr.update([])
    tr.update([head])  # the head is matched on the track's last full pose
    assert legs.person_id == head.person_id == 0


def test_frame_size_change_restarts_tracks_without_reusing_ids():
    tr = PoseTracker("COCO_18")
    a = person_at(100, 100)
    tr.update([a], image_size=(360, 640))
    b = person_at(100, 100)
    tr.update([b], image_size=(720, 1280))
    assert b.person_id != a.person_id


def test_bad_input_is_refused_with_a_clear_error():
    tr = PoseTracker("COCO_18")
    body25 = Person(np.zeros((25, 3), np.float32), 1.0)
    with pytest.raises(ValueError, match=r"expected shape \[18, 3\] for pose model COCO_18, got \(25, 3\)"):
        tr.update([body25])
    bad = person_at(1, 1)
    bad.keypoints[3, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        tr.update([bad])
    tr.update([person_at(1, 1)], timestamp=2.0)
    with pytest.raises(ValueError, match="timestamp"):
        tr.update([person_at(1, 1)], timestamp=1.0)
    for kwargs, msg in (
        ({"assignment": "hungarian"}, "assignment"),
        ({"oks_threshold": 2}, "oks_threshold"),
        ({"max_lost_frames": -1}, "max_lost_frames"),
        ({"fps": 0}, "fps"),
        ({"beta": -1.0}, "beta"),
    ):
        with pytest.raises(ValueError, match=msg):
            PoseTracker("COCO_18", **kwargs)
    with pytest.raises(ValueError, match="COCO_18"):
        PoseTracker("COCO_19")


def test_smoothing_reduces_jitter_and_never_invents_keypoints():
    rng = np.random.default_rng(3)
    raw_tr, smooth_tr = PoseTracker("COCO_18"), PoseTracker("COCO_18", smooth=True)
    raw_err, smooth_err = [], []
    for t in range(90):
        truth = person_at(200, 150)
        noisy = truth.keypoints.copy()
        noisy[:, :2] += rng.normal(0, 2.0, (18, 2))
        if t % 7 == 3:
            noisy[4] = 0  # the right wrist not found in this frame
        a, b = Person(noisy.copy(), 1.0), Person(noisy.copy(), 1.0)
        raw_tr.update([a])
        smooth_tr.update([b])
        assert (b.keypoints[noisy[:, 2] == 0] == 0).all()  # a missing part stays missing
        np.testing.assert_array_equal(b.keypoints[:, 2], noisy[:, 2])
        if t > 20:
            found = noisy[:, 2] > 0
            raw_err.append(np.abs(a.keypoints[found, :2] - truth.keypoints[found, :2]).mean())
            smooth_err.append(np.abs(b.keypoints[found, :2] - truth.keypoints[found, :2]).mean())
    assert np.mean(smooth_err) < 0.6 * np.mean(raw_err)


def test_person_id_in_openpose_json(tmp_path):
    p = person_at(10, 10)
    assert p.person_id == -1 and p.to_openpose()["person_id"] == [-1]
    PoseTracker("COCO_18").update([p])
    assert p.to_openpose()["person_id"] == [0]
    q = person_at(300, 10)
    q.person_id = 7
    doc = json.loads(tio.write_json(tmp_path / "f.json", [p, q]).read_text())
    assert [x["person_id"] for x in doc["people"]] == [[0], [7]]
    assert "id=7" in repr(q)


def test_drawing_coloured_by_id_with_the_id_written():
    from tfpose.draw import draw, id_color

    img = np.zeros((400, 600, 3), np.uint8)
    a, b = person_at(150, 150), person_at(400, 150)
    a.person_id, b.person_id = 3, 4
    plain = draw(img, [a, b], "COCO_18")
    by_id = draw(img, [a, b], "COCO_18", color_by_id=True)
    for p, x0, x1 in ((a, 100, 200), (b, 350, 450)):
        colour = np.round(id_color(p.person_id)).astype(np.uint8)
        region = by_id[90:320, x0:x1]
        assert (region == colour).all(-1).sum() > 200
        assert (plain[90:320, x0:x1] == colour).all(-1).sum() < 20
        # the id is written above the head (text pixels in the id colour above the top keypoint)
        assert (by_id[60:120, x0:x1] == colour).all(-1).sum() > 10
    assert not np.array_equal(np.round(id_color(3)), np.round(id_color(4)))
    untracked = person_at(150, 150)
    np.testing.assert_array_equal(
        draw(img, [untracked], "COCO_18", color_by_id=True), draw(img, [untracked], "COCO_18")
    )


def _jittered(rng, person, sigma=1.5):
    k = person.keypoints.copy()
    vis = k[:, 2] > 0
    k[vis, :2] += rng.normal(0, sigma, (vis.sum(), 2))
    return Person(k, person.score)


def test_a_fragment_never_takes_the_id_of_its_person():
    """OpenPose's grouping splits a person into a 15-part body (ordinary jitter) and a 3-part
    fragment lying exactly on three of the person's parts: the body keeps the id every frame, the
    fragment gets none (-1) and is reported as a fragment of that id. (On 42fad21 the fragment's
    mean OKS over its 3 parts beat the body's and took the id.)"""
    rng = np.random.default_rng(5)
    tr = PoseTracker("COCO_18")
    first = person_at(200, 150)
    tr.update([first])
    pid = first.person_id
    for t in range(1, 25):
        x = 200 + 3 * t
        whole = person_at(x, 150)
        body = _jittered(rng, person_at(x, 150, parts=[p for p in range(18) if p not in (9, 10, 4)]), 3.0)
        frag = person_at(x, 150, parts=[9, 10, 4])
        people = [frag, body] if t % 2 else [body, frag]
        tr.update(people)
        assert body.person_id == pid, t
        assert frag.person_id == -1, t
        assert tr.fragments == {people.index(frag): pid}
        assert whole.person_id == -1  # (not given to the tracker)
    assert tr.next_id == 1


def test_a_fragment_in_the_first_frame_starts_no_track():
    """A duplicate fragment in the very first frame (two of the body's parts found twice) has its
    parts within reach of the body's: no id of its own."""
    tr = PoseTracker("COCO_18")
    body = person_at(200, 150)
    dup = person_at(201, 151, parts=[2, 3])
    tr.update([dup, body])
    assert body.person_id == 0 and dup.person_id == -1 and tr.fragments == {0: 0}
    assert tr.next_id == 1
    assert dup.to_openpose()["person_id"] == [-1]  # the JSON shows a fragment as a person without id
    lone = PoseTracker("COCO_18", mark_fragments=False)
    lone.update([person_at(201, 151, parts=[2, 3]), person_at(200, 150)])
    assert lone.next_id == 2  # the rule is what made the difference


def _small_person(x, y, scale):
    k = np.zeros((18, 3), np.float32)
    k[:, :2] = _SKELETON * scale + (x, y)
    k[:, 2] = 0.8
    return Person(k, 0.8)


def test_a_camera_pan_keeps_every_id():
    """Ten small people (about 60 px high) stand still while the camera pans at 14 px/frame from
    the first frame on, then reverses: every person moves at once. Each keeps its id. (On 42fad21
    the tracks, having no velocity yet, lost everyone at the start and at the reversal.)"""
    rng = np.random.default_rng(2)
    tr = PoseTracker("COCO_18")
    spots = [(200 + 120 * (i % 5), 200 + 200 * (i // 5)) for i in range(10)]
    ids = None
    for t in range(30):
        pan = 14 * t if t < 15 else 14 * 15 - 14 * (t - 15)
        people = [_jittered(rng, _small_person(x + pan, y + 0.3 * pan, 0.35), 0.5) for x, y in spots]
        order = rng.permutation(10)
        tr.update([people[i] for i in order])
        got = [p.person_id for p in people]
        if ids is None:
            ids = got
        assert got == ids, t
    assert tr.next_id == 10


def test_dropped_frames_are_counted_from_timestamps():
    """Two people walking at 9 px/frame in opposite directions; the decoder drops 4 frames at a time
    (timestamps at 25 fps tell): the prediction moves on 5 frames and both keep their ids."""
    tr = PoseTracker("COCO_18")
    frames = [0, 1, 2, 3, 8, 9, 14, 15, 20]
    for n, f in enumerate(frames):
        a, b = person_at(100 + 9 * f, 100), person_at(900 - 9 * f, 400)
        tr.update([a, b], timestamp=f / 25.0)
        if n == 0:
            ids = (a.person_id, b.person_id)
        assert (a.person_id, b.person_id) == ids, f
    assert tr.next_id == 2


class _RecordingTracker(PoseTracker):
    """PoseTracker that keeps, per call of step 1, what it returned (predictions, usable parts, frames
    lost) and the tracks' last positions and velocities it started from."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.predictions = []

    def _predicted(self):
        got = super()._predicted()
        self.predictions.append((*(np.copy(g) for g in got), self._xy.copy(), self._vel.copy()))
        return got


def test_dropped_frames_count_as_frames_missed_for_max_lost_predict_and_scale():
    """A person walks 5 frames at 3 px/frame, is missed for m frames, then comes back where walking
    on puts them. The tracker must do the same whether the m frames came empty (A: ``update([])``)
    or were dropped (B: the next timestamp is m + 1 periods later): max_lost_frames counts both, so
    the id comes back for m <= max_lost_frames and a new one is given for m > max_lost_frames (also
    for a 1e9 s gap); the prediction moves at most max_predict_frames frames and the frames lost
    (which widen the scale) include the dropped ones; afterwards the whole state is the same."""
    config = dict(max_lost_frames=6, max_predict_frames=3, smooth=True)
    for missed in (1, 3, 5, 6, 7, 8, 30, 100, None):
        a_tr, b_tr = _RecordingTracker("COCO_18", **config), _RecordingTracker("COCO_18", **config)
        for f in range(5):
            for tr in (a_tr, b_tr):
                tr.update([person_at(100 + 3 * f, 100)], timestamp=f / 30)
        back = 5 + (missed if missed is not None else 10**9)
        for f in range(5, back if missed is not None else 5):
            a_tr.update([], timestamp=f / 30)
        a, b = person_at(100 + 3 * min(back, 200), 100), person_at(100 + 3 * min(back, 200), 100)
        if missed is not None:
            a_tr.update([a], timestamp=back / 30)
        b_tr.update([b], timestamp=back / 30)
        kept = missed is not None and missed <= config["max_lost_frames"]
        assert b.person_id == (0 if kept else 1), missed
        assert b_tr.active_ids == [b.person_id], missed
        if missed is None:
            continue  # (A: 1e9 s of empty updates is not run)
        assert a.person_id == b.person_id, missed
        assert a_tr.active_ids == b_tr.active_ids, missed
        for name in PoseTracker._STATE:
            assert _same_bits(getattr(a_tr, name), getattr(b_tr, name)), (missed, name)
        assert len(a_tr.predictions) == len(b_tr.predictions) == 4 + kept, missed
        if kept:  # the step-1 outputs of the frame the person came back in
            assert all(_same_bits(g, w) for g, w in zip(a_tr.predictions[-1], b_tr.predictions[-1], strict=True))
            pred, _, lost, xy, vel = b_tr.predictions[-1]
            assert lost.tolist() == [missed + 1]
            steps = min(missed + 1, config["max_predict_frames"])
            assert vel[0, 0] > 2 and np.allclose(pred - xy, vel[:, None] * steps, rtol=0, atol=1e-9), missed


def test_oks_with_cocos_denominator():
    """denominator="a": COCO's OKS with A as the reference (the sum over the common parts divided
    by the parts visible in A), against the formula written out."""
    rng = np.random.default_rng(4)
    sig = keypoint_sigmas("COCO_18")
    a = rng.uniform(0, 300, (3, 18, 2))
    b = a[::-1] + rng.normal(0, 6, (3, 18, 2))
    av, bv = rng.random((3, 18)) > 0.2, rng.random((3, 18)) > 0.4
    got = oks(a, av, b, bv, sig, denominator="a")
    for i in range(3):
        for j in range(3):
            mean = _oks_loop(a[i], av[i], b[j], bv[j], sig)
            common = int((av[i] & bv[j]).sum())
            assert got[i, j] == pytest.approx(mean * common / av[i].sum(), rel=1e-9, abs=1e-12)
    with pytest.raises(ValueError, match="denominator"):
        oks(a, av, b, bv, sig, denominator="b")


def test_an_odd_timestamp_does_not_change_the_frame_period():
    """Frame periods are the median gap: one pair of frames 1 ms apart (a duplicate from the
    decoder) does not turn every later 40 ms gap into 40 lost frames."""
    tr = PoseTracker("COCO_18", max_lost_frames=5)
    stamps = [0.0, 0.04, 0.041, 0.08, 0.12, 0.16, 0.20, 0.24]
    for n, t in enumerate(stamps):
        a = person_at(100 + 50 * t, 100)
        tr.update([a] if n != 4 else [], timestamp=t)  # missed once: lost for 1 frame, not 40
        if n == 0:
            pid = a.person_id
        elif n != 4:
            assert a.person_id == pid, t
    assert tr.next_id == 1


def test_a_refused_update_changes_nothing():
    # Raw [P, 3] arrays (other tfpose functions take them) have no person_id to set: refused
    # before any track is made, so the tracker is as it was.
    tr = PoseTracker("COCO_18")
    tr.update([person_at(100, 100)])
    before = (tr.next_id, tr.active_ids)
    with pytest.raises(TypeError, match=r"people\[1\]: expected an object with keypoints .* writable person_id"):
        tr.update([person_at(101, 100), person_at(400, 100).keypoints])
    bad_args = [
        dict(image_size=(0, -5)),
        dict(image_size="ab"),
        dict(timestamp="abc"),
        dict(timestamp="1.5"),  # text is no number, even when float() would read it (hostile review)
        dict(image_size=(2**63, 640)),  # was accepted, then every later update failed in the core
        dict(image_size=(480.5, 640)),  # was truncated to 480
    ]
    names = ("image_size", "image_size", "timestamp", "timestamp", "image_size", "image_size")
    for kwargs, name in zip(bad_args, names, strict=True):
        with pytest.raises(ValueError, match=f"^{name}: expected"):
            tr.update([person_at(101, 100), person_at(400, 100)], **kwargs)
    assert (tr.next_id, tr.active_ids) == before
    p = person_at(102, 100)
    tr.update([p])
    assert p.person_id == before[1][0]  # the track survived every refused update


def test_a_person_with_no_part_found_gets_no_id():
    tr = PoseTracker("COCO_18")
    for t in range(5):
        empty = Person(np.zeros((18, 3), np.float32), 0.0)
        unscored = person_at(300, 300)
        unscored.keypoints[:, 2] = 0.0
        real = person_at(100 + t, 100)
        tr.update([empty, unscored, real])
        assert empty.person_id == -1 and unscored.person_id == -1 and real.person_id == 0
    assert tr.next_id == 1 and tr.active_ids == [0]


@pytest.fixture(scope="module")
def keypoint_scenarios():
    return ts.scenarios()


@pytest.mark.parametrize(
    "filter_args",
    [{}, {"min_cutoff": 0.3, "beta": 0.5, "d_cutoff": 2.0}],
    ids=["default filter", "other filter"],
)
def test_smoothing_equals_the_scalar_paper_filter_on_every_scenario(filter_args, keypoint_scenarios):
    """PoseTracker(smooth=True), all tracks filtered in one vectorised step, against one scalar
    One-Euro filter per id, part and coordinate (tests/reference/one_euro_ref.py), on every
    keypoint scenario (fragments, a crowd of 18, lost and found tracks, frame drops, two videos):
    the same ids as without smoothing (matching uses the raw keypoints) and bit-identical
    keypoints (the same IEEE operations in the same order, so no tolerance)."""
    args = {"min_cutoff": 1.0, "beta": 0.05, "d_cutoff": 1.0} | filter_args
    for sc in keypoint_scenarios:
        raw_tracked, _ = ts.run_tracker(PoseTracker("COCO_18"), sc)
        tracked, _ = ts.run_tracker(PoseTracker("COCO_18", smooth=True, **filter_args), sc)
        frames = [  # the keypoints as the tracker got them (run_tracker gives float32)
            [(p.person_id, d.astype(np.float32)) for p, d in zip(people, f.detections, strict=True)]
            for people, f in zip(tracked, sc.frames, strict=True)
        ]
        want = one_euro_ref.smooth_tracked(frames, [f.timestamp for f in sc.frames], **args)
        filtered = 0
        for i, (raw, people, ref) in enumerate(zip(raw_tracked, tracked, want, strict=True)):
            assert [p.person_id for p in people] == [p.person_id for p in raw], (sc.name, i)
            for p, d, k in zip(people, sc.frames[i].detections, ref, strict=True):
                assert p.keypoints.dtype == np.float32
                np.testing.assert_array_equal(p.keypoints, k.astype(np.float32), err_msg=f"{sc.name}, frame {i}")
                filtered += int((p.keypoints[:, :2] != d[:, :2].astype(np.float32)).any())
        assert filtered > len(sc.frames), sc.name  # the filter did move keypoints


COMPILED_CONFIGS = [
    {},
    {"smooth": True},
    {"smooth": True, "assignment": "greedy"},
    {"smooth": True, "cascade": False, "min_cutoff": 0.3, "beta": 0.5, "d_cutoff": 2.0},
    {"mark_fragments": False, "camera_motion": False, "oks_threshold": 0.0},
    {"max_lost_frames": 3, "max_part_age": 2, "max_predict_frames": 2, "lost_scale_growth": 0.5},
]


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal dtype, shape and values, NaN equal to NaN and -0.0 told from 0.0."""
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype.kind != "f":
        return bool(np.array_equal(a, b))
    return bool(np.array_equal(a, b, equal_nan=True) and np.array_equal(np.signbit(a), np.signbit(b)))


@pytest.mark.parametrize(
    "config", COMPILED_CONFIGS, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()) or "default"
)
def test_compiled_steps_equal_the_numpy_formulation_on_every_scenario(config, keypoint_scenarios):
    """PoseTracker (prediction, camera-motion vote, similarity, fragments, velocity, track update and
    One-Euro in the C++ core) against NumpyPoseTracker (the same steps in numpy, as the tracker
    computed them before the port) on every keypoint scenario: the same predictions and
    similarity matrices before each frame, the same ids, fragments and keypoints, and after every
    frame the same float64 state (positions, frames seen, velocities, filter state), signs of
    zeros included; no tolerance."""
    frames = 0
    for sc in keypoint_scenarios:
        compiled, ref = PoseTracker("COCO_18", **config), numpy_tracking.NumpyPoseTracker("COCO_18", **config)
        for i, f in enumerate(sc.frames):
            a = [Person(d.astype(np.float32), 1.0) for d in f.detections]
            b = [Person(d.astype(np.float32), 1.0) for d in f.detections]
            if len(compiled._ids) and a:  # the steps' own outputs (the state is the same: checked below)
                kps = compiled._check(a)
                got, want = compiled._predicted(), ref._predicted()
                assert all(_same_bits(g, w) for g, w in zip(got, want, strict=True)), (sc.name, i)
                args = (*want, kps, kps[:, :, 2] > 0)
                assert _same_bits(compiled._similarity(*args), ref._similarity(*args)), (sc.name, i)
            compiled.update(a, timestamp=f.timestamp, image_size=f.image_size)
            ref.update(b, timestamp=f.timestamp, image_size=f.image_size)
            where = f"{sc.name}, frame {i}"
            assert [p.person_id for p in a] == [p.person_id for p in b], where
            assert compiled.fragments == ref.fragments, where
            for p, q in zip(a, b, strict=True):
                assert _same_bits(p.keypoints, q.keypoints), where
            for name in PoseTracker._STATE:
                assert _same_bits(getattr(compiled, name), getattr(ref, name)), (where, name)
            frames += 1
    assert frames > 300


def _random_frame(rng: np.random.Generator, it: int) -> tuple:
    """Tracks' predictions and a frame's people with missed parts, a common pan on odd draws, a
    fragment (a person with few parts) every third and inf in parts not found every fifth."""
    T, D = int(rng.integers(0, 30)), int(rng.integers(0, 30))
    base = rng.normal(0, 30, (max(T, D), 18, 2)) + rng.uniform(0, 1000, (max(T, D), 1, 2))
    pred = base[:T] + rng.normal(0, 2, (T, 18, 2))
    usable = rng.random((T, 18)) < rng.uniform(0.2, 1)
    kps = np.zeros((D, 18, 3))
    kps[:, :, :2] = base[rng.permutation(max(T, D))[:D]] + (rng.normal(0, 20, 2) if it % 2 else 0.0)
    kps[:, :, :2] += rng.normal(0, 2, (D, 18, 2))
    kps[:, :, 2] = rng.random((D, 18)) * (rng.random((D, 18)) < rng.uniform(0.1, 1))
    if it % 3 == 0 and D:
        kps[int(rng.integers(0, D)), :, 2] *= rng.random(18) < 0.2
    if it % 5 == 0:
        kps[:, :, :2][kps[:, :, 2] <= 0] = np.inf
    m = min(T, D, int(rng.integers(0, 10)))
    rows, cols = rng.permutation(T)[:m].astype(np.int64), rng.permutation(D)[:m].astype(np.int64)
    return pred, usable, kps, kps[:, :, 2] > 0, rows, cols


def test_compiled_shift_and_fragments_equal_the_numpy_formulation_on_random_frames():
    """The camera-motion vote and the fragment rule, compiled, against their numpy formulation on
    1500 random frames (0-29 tracks and people, pans, fragments, inf in parts not found): the
    same shift (bits) and the same {fragment: owner} in the same order. Both paths run with
    numpy's warnings as errors (inf in a part not found must not warn)."""
    from tfpose.tracking import fragments, motion

    rng = np.random.default_rng(7)
    sigmas = keypoint_sigmas("COCO_18")
    shifts = found = 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for it in range(1500):
            pred, usable, kps, vis, rows, cols = _random_frame(rng, it)
            want = numpy_tracking.common_shift(pred, usable, kps, vis) if len(pred) and len(kps) else np.zeros(2)
            assert _same_bits(motion.common_shift(pred, usable, kps, vis), want), it
            shifts += bool(want.any())
            tracks = (pred, usable) if len(pred) else (None, None)
            want_f = numpy_tracking.fragment_owners(kps, vis, rows, cols, *tracks, sigmas)
            assert list(fragments.fragment_owners(kps, vis, rows, cols, *tracks, sigmas).items()) == list(
                want_f.items()
            ), it
            found += len(want_f)
    assert shifts > 100 and found > 100  # both rules did fire


def test_inf_in_a_part_not_found_raises_no_numpy_warning():
    """A part not found may hold inf (PoseTracker accepts any value where the score is 0): two
    people, one a fragment of the other, and a tracked third, with numpy warnings as errors."""
    tr = PoseTracker("COCO_18")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for t in range(3):
            body = person_at(100 + t, 100)
            frag = person_at(100 + t, 100)
            frag.keypoints[3:, 2] = 0.0
            frag.keypoints[3:, :2] = np.inf
            body.keypoints[17, :2], body.keypoints[17, 2] = np.inf, 0.0
            tr.update([body, frag, person_at(400, 100)])
            assert frag.person_id == -1 and tr.fragments == {1: body.person_id}


def _random_state(rng: np.random.Generator, tracker: PoseTracker, it: int) -> None:
    """Random track state for ``tracker``: many tracks with no velocity measured yet (they move with
    the scene), velocities on a 0.5 px/frame grid around a shared one (distances to the median
    exactly at the scene tolerance happen) with outliers, ties among the last matches, and the
    frame and image size (none on odd draws)."""
    from tfpose.tracking.tracker import FILTER_STATE

    T, P = int(rng.integers(0, 16)), tracker.num_parts
    f = int(rng.integers(3, 40))
    tracker._frame = f
    tracker._ids = np.arange(T, dtype=np.int64)
    tracker._xy = rng.uniform(-50, 700, (T, P, 2))
    tracker._last = f - rng.integers(1, 4, T)
    tracker._seen = np.where(rng.random((T, P)) < 0.8, tracker._last[:, None] - rng.integers(0, 12, (T, P)), -1)
    shared = rng.integers(-8, 9, 2) * 0.5
    tracker._vel = shared + rng.integers(-2, 3, (T, 2)) * 0.5
    outliers = rng.random(T) < rng.uniform(0, 0.5)
    tracker._vel[outliers] = rng.normal(0, 6, (int(outliers.sum()), 2))
    tracker._measured = np.where(rng.random(T) < 0.4, 0, rng.integers(1, 4, T)).astype(np.int64)
    tracker._vel[tracker._measured == 0] = 0.0
    tracker._filt = np.concatenate(
        [rng.uniform(0, 600, (T, P, 4)), np.full((T, P, 1), f / 30 - 0.05), (rng.random((T, P, 1)) < 0.7) * 1.0],
        axis=-1,
    )
    assert tracker._filt.shape[-1] == FILTER_STATE
    tracker._image_size = None if it % 2 else (480, 640)


@pytest.mark.parametrize("smooth", [False, True])
def test_compiled_prediction_and_advance_equal_the_numpy_formulation_on_random_states(smooth):
    """Steps 1 and 5 (prediction with the scene velocity for tracks matched once; velocity update
    with the first-measurement rule, the scene's prior or 0 for a pair matched standing still; One-Euro) compiled against NumpyPoseTracker on 1500 random
    track states: the same predictions and, after a random set of matches, the same state and
    smoothed keypoints, bit for bit. The scene's velocity must have moved some predictions."""
    rng = np.random.default_rng(11)
    scene_used = 0
    for it in range(1500):
        compiled, ref = PoseTracker("COCO_18", smooth=smooth), numpy_tracking.NumpyPoseTracker("COCO_18", smooth=smooth)
        _random_state(np.random.default_rng([11, it]), compiled, it)
        _random_state(np.random.default_rng([11, it]), ref, it)
        got, want = compiled._predicted(), ref._predicted()
        assert all(_same_bits(g, w) for g, w in zip(got, want, strict=True)), it
        T = len(ref._ids)
        frozen = ref._measured == 0
        scene_used += bool(frozen.any() and np.any(want[0][frozen] != ref._xy[frozen]))
        D = int(rng.integers(0, T + 3))
        kps = np.zeros((D, 18, 3))
        kps[:, :, :2] = rng.uniform(-50, 700, (D, 18, 2))
        kps[:, :, 2] = rng.random((D, 18)) * (rng.random((D, 18)) < 0.8)
        m = min(T, D)
        rows, cols = rng.permutation(T)[:m].astype(np.int64), rng.permutation(D)[:m].astype(np.int64)
        t = compiled._frame / 30
        still = rng.random(m) < 0.3  # pairs matched on the standing-still prediction: prior 0
        out_c = compiled._advance(rows, cols, still, kps, kps[:, :, 2] > 0, compiled._frame, t)
        out_r = ref._advance(rows, cols, still, kps, kps[:, :, 2] > 0, ref._frame, t)
        assert _same_bits(out_c, out_r), it
        for name in PoseTracker._STATE:
            assert _same_bits(getattr(compiled, name), getattr(ref, name)), (it, name)
    assert scene_used > 100


def test_a_huge_timestamp_gap_counts_the_most_frames_and_raises_nothing():
    """A timestamp of 1e307 s after frames 1/30 s apart: the gap is 1000 frames at most (a cut or a
    pause, not drops), not round()'s OverflowError on inf (hostile review); the tracker goes on."""
    tr = PoseTracker("COCO_18")
    for t in range(5):
        tr.update([person_at(100 + t, 100)], timestamp=t / 30)
    frame = tr._frame
    tr.update([person_at(105, 100)], timestamp=1e307)
    assert tr._frame == frame + 1000
    tr.update([person_at(106, 100)], timestamp=1e307)  # (the next frame: 1/30 s is lost at 1e307)
    assert tr.next_id == 2 and tr._frame == frame + 1001  # forgotten in the gap: one new id, then kept


def test_the_solver_is_imported_with_the_tracker_not_at_the_first_tie():
    """scipy.optimize (~0.3 s to import) loads when an optimal PoseTracker is made, not at the first
    frame whose assignment is not determined: a live stream must not stall there (hostile review)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from tfpose.tracking import PoseTracker\n"
        "before = 'scipy.optimize' in sys.modules\n"
        "PoseTracker('COCO_18')\n"
        "print(before, 'scipy.optimize' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-1] == "True", out.stdout
