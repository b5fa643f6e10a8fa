"""The tracker's shortcuts that must change nothing: the assignment taken without a solver when the
similarity already determines it (tfpose.tracking.assignment.assign), the frame's people gathered
in one compiled call (PoseTracker._people), and the fragment rule's early exits. Each is compared
with what it replaces: scipy's linear_sum_assignment and a greedy scan written here, PoseTracker's
own Python check, the fragment rule's numpy formulation (tests/reference/numpy_tracking.py)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from tfpose import _core
from tfpose.estimator import Person
from tfpose.tracking import PoseTracker, assignment, fragments, keypoint_sigmas

import tracking_scenarios as ts
from reference import numpy_tracking


def _scipy(sim: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The optimal assignment as the tracker defines it, straight from scipy: cost 1 - sim, pairs not
    allowed (sim < 0 or NaN) cost 1e6 and are dropped from the answer."""
    ok = sim >= 0
    if not ok.any():
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    r, c = linear_sum_assignment(np.where(ok, 1.0 - np.where(ok, sim, 0.0), 1e6))
    keep = ok[r, c]
    return r[keep].astype(np.int64), c[keep].astype(np.int64)


def _greedy(sim: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The greedy assignment written out: allowed pairs by decreasing similarity (ties row-major),
    each taken when its track and person are both free."""
    T, D = sim.shape
    order = sorted((-sim[t, d], t, d) for t in range(T) for d in range(D) if sim[t, d] >= 0)
    rows, cols, used_t, used_d = [], [], set(), set()
    for _, t, d in order:
        if t not in used_t and d not in used_d:
            rows.append(t)
            cols.append(d)
            used_t.add(t)
            used_d.add(d)
    return np.array(rows, np.int64), np.array(cols, np.int64)


def _random_sim(rng: np.random.Generator, it: int) -> np.ndarray:
    """A similarity matrix of 0-9 tracks and people (0-24 every tenth draw): continuous values,
    values from a few levels (ties), values a few ulps apart or so small that 1 - sim rounds them
    together; pairs not allowed (-1, sometimes NaN) at a random rate."""
    hi = 25 if it % 10 == 0 else 10
    T, D = int(rng.integers(0, hi)), int(rng.integers(0, hi))
    kind = it % 4
    if kind == 0:
        sim = rng.random((T, D))
    elif kind == 1:
        sim = rng.integers(0, 5, (T, D)) / 4.0
    elif kind == 2:
        sim = 0.5 + rng.integers(0, 3, (T, D)) * np.spacing(0.5)
    else:
        sim = rng.integers(1, 4, (T, D)) * 1e-17 + (rng.random((T, D)) < 0.5) * rng.random((T, D))
    sim[rng.random((T, D)) < rng.uniform(0, 0.9)] = -1.0
    if it % 7 == 0:
        sim[rng.random((T, D)) < 0.1] = np.nan
    return sim


def test_assignment_equals_scipy_and_greedy_on_random_matrices_and_the_solver_runs_where_undetermined():
    """On 6000 random similarity matrices (ties, near ties, values 1 - sim cannot tell apart,
    forbidden pairs, NaN, wide and tall), ``assign`` gives exactly scipy's optimal pairs and the
    greedy scan's pairs, in their order. The shortcut (tfpose._core.track_assign_determined) must
    both fire (wide and tall matrices, with forbidden pairs) and leave many to the solver."""
    rng = np.random.default_rng(3)
    determined = {"wide": 0, "tall": 0, "forbidden": 0}
    undetermined = 0
    for it in range(6000):
        sim = _random_sim(rng, it)
        for method, want in (("optimal", _scipy(sim)), ("greedy", _greedy(sim))):
            got = assignment.assign(sim, method)
            assert [g.dtype for g in got] == [np.int64, np.int64], (it, method)
            assert [g.tolist() for g in got] == [w.tolist() for w in want], (it, method, sim)
            fast = _core.track_assign_determined(sim, method == "greedy")
            if fast is not None:
                assert [g.tolist() for g in fast] == [w.tolist() for w in want], (it, method)
        if _core.track_assign_determined(sim, False) is None:
            undetermined += 1
        elif len(_scipy(sim)[0]):
            determined["wide" if sim.shape[0] <= sim.shape[1] else "tall"] += 1
            determined["forbidden"] += bool((~(sim >= 0)).any())
    assert min(determined.values()) > 300 and undetermined > 1000, (determined, undetermined)


@pytest.mark.parametrize(
    ("sim", "why"),
    [
        ([[0.5, 0.5]], "two allowed pairs of one cost in a track's line"),
        ([[1e-17, 2e-17]], "similarities apart whose costs 1 - sim are one float"),
        ([[0.9, -1.0], [0.8, -1.0]], "two tracks whose best is one person"),
        ([[0.9, -1.0], [-1.0, -1.0]], "a track (the smaller side: T = D) with no allowed pair"),
        ([[0.9, 0.2, 0.3], [0.9, 0.8, -1.0]], "the second track ties; the first track's best is taken after"),
        ([[0.7], [0.7], [-1.0]], "tall: the person's line has a tie"),
    ],
)
def test_undetermined_matrices_go_to_the_solver(sim, why):
    """Hand-made cases the shortcut must leave to the solver, and the answer then (scipy's, the
    greedy scan's)."""
    sim = np.array(sim)
    for method, want in (("optimal", _scipy(sim)), ("greedy", _greedy(sim))):
        assert _core.track_assign_determined(sim, method == "greedy") is None, why
        assert [g.tolist() for g in assignment.assign(sim, method)] == [w.tolist() for w in want], (why, method)


def test_determined_matrices_by_hand():
    """Tall (the people's lines choose), wide, greedy's order, no allowed pair, empty sides."""
    cases = [
        ([[0.9], [-1.0]], ([0], [0]), ([0], [0])),
        ([[-1.0, 0.6], [0.9, 0.3], [0.1, -1.0]], ([0, 1], [1, 0]), ([1, 0], [0, 1])),
        ([[0.2, 0.9, -1.0], [0.6, -1.0, 0.5]], ([0, 1], [1, 0]), ([0, 1], [1, 0])),
        ([[0.3, 0.9], [0.8, 0.1]], ([0, 1], [1, 0]), ([0, 1], [1, 0])),
        ([[-1.0, -1.0], [-1.0, -1.0]], ([], []), ([], [])),
        (np.zeros((0, 3)), ([], []), ([], [])),
        (np.zeros((2, 0)), ([], []), ([], [])),
    ]
    for sim, optimal, greedy in cases:
        sim = np.array(sim, np.float64)
        for method, want in (("optimal", optimal), ("greedy", greedy)):
            fast = _core.track_assign_determined(sim, method == "greedy")
            assert fast is not None and [f.tolist() for f in fast] == list(map(list, want)), (sim, method)
            assert [g.tolist() for g in assignment.assign(sim, method)] == list(map(list, want)), (sim, method)
            assert [s.tolist() for s in assignment.solve(sim, method)] == list(map(list, want)), (sim, method)


class _SolverOnly(PoseTracker):
    """PoseTracker that drops the pairs its compiled step 2 found determined, so that every
    assignment goes through ``assign`` (made the solver alone by the test)."""

    def _scores(self, *args):
        pred, sim, _ = super()._scores(*args)
        return pred, sim, None


class _Counting(PoseTracker):
    """PoseTracker that counts the frames whose pairs its compiled step 2 found determined."""

    determined = 0

    def _scores(self, *args):
        got = super()._scores(*args)
        _Counting.determined += got[2] is not None
        return got


@pytest.mark.parametrize(
    "config", [{}, {"assignment": "greedy"}, {"cascade": False, "smooth": True}], ids=["optimal", "greedy", "flat"]
)
def test_tracker_with_the_shortcut_equals_the_tracker_with_the_solver_alone(config, monkeypatch):
    """Every tracking scenario through PoseTracker as it is and through one whose assignment always
    runs the solver (assignment.solve): the same ids, fragments, keypoints and state after every
    frame; the shortcut took most assignments (over two thirds) and the solver the others."""
    solve, solved, assign = assignment.solve, [0], assignment.assign

    def counted_solve(sim, method):
        solved[0] += 1
        return solve(sim, method)

    monkeypatch.setattr(assignment, "solve", counted_solve)  # (assign's fallback)
    _Counting.determined = 0
    frames = 0
    for sc in ts.scenarios():
        trackers = []
        for use_solver in (False, True):
            monkeypatch.setattr(assignment, "assign", solve if use_solver else assign)  # (assign_cascade's)
            tr = (_SolverOnly if use_solver else _Counting)("COCO_18", **config)
            tracked = []
            for f in sc.frames:
                people = [Person(d.astype(np.float32), 1.0) for d in f.detections]
                tr.update(people, timestamp=f.timestamp, image_size=f.image_size)
                tracked.append(([p.person_id for p in people], tr.fragments, [p.keypoints for p in people]))
            trackers.append((tr, tracked))
        (a, got), (b, want) = trackers
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert g[:2] == w[:2], (sc.name, i)
            assert all(np.array_equal(p, q) for p, q in zip(g[2], w[2], strict=True)), (sc.name, i)
        for name in PoseTracker._STATE:
            assert np.array_equal(getattr(a, name), getattr(b, name)), (sc.name, name)
        frames += len(sc.frames)
    assert frames > 300
    assert _Counting.determined > 2 * solved[0] > 0, (_Counting.determined, solved[0])


class _Readonly:
    """keypoints, and a person_id that cannot be set."""

    def __init__(self, k):
        self.keypoints = k

    @property
    def person_id(self):
        return -1


class _NoId:
    """keypoints and no person_id yet (the tracker gives it one)."""

    def __init__(self, k):
        self.keypoints = k


def test_people_gathered_in_one_call_equal_the_python_check():
    """PoseTracker._people against PoseTracker._check (+ score > 0) on float32 and float64 arrays,
    strided views, lists, inf in a part not found, objects without a person_id: the same bits; the
    compiled gather declines (None) all but the usual arrays of finite numbers, and a person_id
    that cannot be set or keypoints of another shape still raise _check's errors."""
    rng = np.random.default_rng(1)
    tr = PoseTracker("COCO_18")
    k = (rng.random((18, 3)) * 500).astype(np.float32)
    k[[3, 7], 2] = 0.0
    big = np.zeros((18, 6))
    big[:, ::2] = k
    inf = k.copy()
    inf[3, :2] = np.inf
    cases = {
        "float32": ([Person(k.copy(), 1.0), Person(k[::-1].copy(), 1.0)], True),
        "float64 strided": ([Person(big[:, ::2], 1.0)], True),
        "Fortran order": ([Person(np.asfortranarray(k), 1.0)], True),
        "no person_id": ([_NoId(k.copy())], True),
        "empty": ([], True),
        "lists": ([_NoId(k.tolist())], False),
        "inf in a part not found": ([Person(inf, 1.0)], False),
        "float16": ([_NoId(k.astype(np.float16))], False),
    }
    for name, (people, gathered) in cases.items():
        fast = _core.track_gather(people, 18)
        assert (fast is not None) == gathered, name
        kps, visible = tr._people(people)
        want = tr._check(people)
        assert kps.dtype == np.float64 and kps.tobytes() == want.tobytes() and kps.shape == want.shape, name
        assert np.array_equal(visible, want[:, :, 2] > 0), name
        assert all(p.person_id == -1 for p in people), name
    assert _core.track_gather([_Readonly(k.copy())], 18) is None
    with pytest.raises(TypeError, match="writable"):
        tr.update([Person(k.copy(), 1.0), _Readonly(k.copy())])
    assert _core.track_gather([Person(k[:17].copy(), 1.0)], 18) is None
    with pytest.raises(ValueError, match=r"people\[1\].keypoints: expected shape \[18, 3\]"):
        tr.update([Person(k.copy(), 1.0), Person(k[:17].copy(), 1.0)])
    bad = k.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="expected finite values"):
        tr.update([Person(bad, 1.0)])
    assert tr.next_id == 0  # (every refused update changed nothing)


def test_fragment_early_exits_change_nothing_at_the_edge_of_reach():
    """A one-part fragment (each part in turn) at distances from 0.9 to 1.1 times the reach of the
    owner's same part (where exp(-d^2 / (2 s^2 k^2)) crosses FRAGMENT_PART_OKS) and within 5e-7 of
    it, the owner's part at the corner of its box and the fragment's outside it (so the distance of
    the boxes is the parts' own, the early exit's tightest case), the owner found or a track's
    prediction: the compiled rule with its early exits gives the numpy formulation's fragments,
    and both sides of the edge occur."""
    sigmas = keypoint_sigmas("COCO_18")
    rng = np.random.default_rng(5)
    found = {True: 0, False: 0}
    for part in range(18):
        owner = np.ones((18, 3))
        owner[:, :2] = rng.uniform(100, 260, (18, 2))
        owner[part, :2] = 270.0
        area = (owner[:, :2].max(0) - owner[:, :2].min(0)).prod()
        edge = np.sqrt(2 * area * (2 * sigmas[part]) ** 2 * -np.log(fragments.FRAGMENT_PART_OKS))
        for scale in np.concatenate([np.linspace(0.9, 1.1, 81), 1.0 + np.arange(-5, 6) * 1e-7]):
            for angle in np.arange(5) * np.pi / 8:
                frag = np.zeros((18, 3))
                frag[part] = (*(owner[part, :2] + scale * edge * np.array([np.cos(angle), np.sin(angle)])), 1.0)
                kps = np.stack([owner, frag])
                vis = kps[:, :, 2] > 0
                for matched in (False, True):
                    pairs = np.arange(int(matched), dtype=np.int64)
                    pred, usable = (owner[None, :, :2].copy(), vis[:1].copy()) if matched else (None, None)
                    args = (kps, vis, pairs, pairs, pred, usable, sigmas)
                    want = numpy_tracking.fragment_owners(*args)
                    assert fragments.fragment_owners(*args) == want, (part, scale, angle, matched)
                    found[bool(want)] += 1
    assert min(found.values()) > 2000, found


def test_similarity_early_exit_changes_nothing_at_the_edge_of_the_cap():
    """The similarity skips a pair whose parts' boxes are so far apart that every common part's
    exponent is capped (d^2 / (2 s^2 k^2) >= 50). At the edge: a track's part at the corner of its
    box, the person's same part alone, outside it at 0.9 to 1.1 times the capped distance and
    within 5e-7 of it, the track lost 1 or 3 frames, OKS threshold 0 (so a capped pair's value
    shows): the compiled similarity equals the numpy formulation's, bit for bit, both sides of
    the edge occurring."""
    sigmas = keypoint_sigmas("COCO_18")
    rng = np.random.default_rng(9)
    compiled = PoseTracker("COCO_18", oks_threshold=0.0, lost_scale_growth=0.5)
    ref = numpy_tracking.NumpyPoseTracker("COCO_18", oks_threshold=0.0, lost_scale_growth=0.5)
    capped = {True: 0, False: 0}
    for part in range(18):
        pred = rng.uniform(100, 160, (1, 18, 2))
        pred[0, part] = 170.0
        usable = np.ones((1, 18), bool)
        area = (pred[0].max(0) - pred[0].min(0)).prod()
        for lost in (1, 3):
            growth = 1.0 + 0.5 * (lost - 1)
            edge = np.sqrt(50 * 2 * area * growth * (2 * sigmas[part]) ** 2)
            for scale in np.concatenate([np.linspace(0.9, 1.1, 41), 1.0 + np.arange(-5, 6) * 1e-7]):
                kps = np.zeros((8, 18, 3))
                angle = np.arange(8)[:, None] * np.pi / 14
                kps[:, part, :2] = pred[0, part] + scale * edge * np.hstack([np.cos(angle), np.sin(angle)])
                kps[:, part, 2] = 1.0
                args = (pred, usable, np.array([lost]), kps, kps[:, :, 2] > 0)
                want = ref._similarity(*args)
                got = compiled._similarity(*args)
                assert got.tobytes() == want.tobytes(), (part, lost, scale)
                for v in want.ravel():  # (one common part of the 18 the track has)
                    capped[bool(v == np.exp(-50.0) / 18)] += 1
    assert min(capped.values()) > 500, capped
