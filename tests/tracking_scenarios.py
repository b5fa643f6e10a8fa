"""Tracking scenarios with known identities at the keypoint level, and their CLEAR MOT / identity
scores computed by py-motmetrics.

People are real human poses: the COCO val2017 person annotations of tests/data/coco_mini (at
least 12 labelled keypoints, put in OpenPose's COCO_18 order with the neck between the shoulders),
scaled to a height in pixels and moved along scripted paths. Each frame, each person's detection
is what a bottom-up network gives (:func:`detect`): every keypoint jittered, some parts not
found, parts outside the image dropped, and, as OpenPose's grouping does, some people split into a
body and a fragment of a few parts (a limb or the head, or a duplicate of parts the body keeps).
The ground truth is the script: which person is where, never the tracker's output.

:func:`evaluate` scores a tracker with TrackEval (``trackeval``, MOTChallenge's evaluator: HOTA of
Luiten et al. 2021) and py-motmetrics (``motmetrics``, the CLEAR MOT and identity metrics of
Bernardin & Stiefelhagen 2008 and Ristani et al. 2016): a detection with an id is a hypothesis, its
similarity to a ground-truth person is COCO's OKS with the ground truth as the reference (over its
parts inside the image); for CLEAR MOT and IDF1 a pair with OKS < 0.5 cannot match, HOTA averages
over thresholds. A fragment scores low against its person, so a fragment with an id is a false
positive, and the body that lost its id to it an identity switch. People in the image who are not
in the ground truth are distractors (``Frame.ignore``): hypotheses on them are removed first.

Used by tests/test_tracking_metrics.py and benchmarks/bench_tracking_metrics.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from helpers import DATA

COCO_KEYPOINTS = DATA / "coco_mini" / "annotations" / "person_keypoints_val2017.json"
# COCO's keypoint order (cocoapi) -> OpenPose's COCO_18 index; the neck (1) is made from the shoulders
COCO17_TO_18 = [0, 15, 14, 17, 16, 5, 2, 6, 3, 7, 4, 11, 8, 12, 9, 13, 10]
MATCH_OKS = 0.5
# COCO's keypoint sigmas (cocoapi cocoeval.py) in COCO_18 order, the neck taking the shoulders'
# value; written here apart from tfpose.tracking, which is under test.
SIGMAS_18 = (
    np.array(
        [0.26, 0.79, 0.79, 0.72, 0.62, 0.79, 0.72, 0.62, 1.07, 0.87, 0.89, 1.07, 0.87, 0.89, 0.25, 0.25, 0.35, 0.35]
    )
    / 10.0
)
# Parts a fragment can be made of (COCO_18 indices): a leg, a forearm, the head.
FRAGMENT_GROUPS = ((8, 9, 10), (11, 12, 13), (3, 4), (6, 7), (0, 14, 15, 16, 17))


def base_poses(min_parts: int = 12) -> np.ndarray:
    """Real human poses [M, 18, 3] (x, y, 1 labelled / 0 not), each centred on its keypoint box and
    scaled to a box height of 1, from the COCO val2017 annotations in tests/data."""
    doc = json.loads(COCO_KEYPOINTS.read_text())
    out = []
    for ann in doc["annotations"]:
        if ann.get("iscrowd") or ann["num_keypoints"] < min_parts:
            continue
        k17 = np.array(ann["keypoints"], np.float64).reshape(17, 3)
        k = np.zeros((18, 3))
        lab = k17[:, 2] > 0
        k[np.array(COCO17_TO_18)[lab], :2] = k17[lab, :2]
        k[np.array(COCO17_TO_18)[lab], 2] = 1.0
        if k[2, 2] and k[5, 2]:
            k[1] = [*(0.5 * (k[2, :2] + k[5, :2])), 1.0]
        vis = k[:, 2] > 0
        lo, hi = k[vis, :2].min(0), k[vis, :2].max(0)
        if hi[1] - lo[1] < 1:
            continue
        k[vis, :2] = (k[vis, :2] - 0.5 * (lo + hi)) / (hi[1] - lo[1])
        out.append(k)
    if len(out) < 5:
        raise RuntimeError(f"{COCO_KEYPOINTS}: expected at least 5 people with {min_parts}+ keypoints, got {len(out)}")
    return np.array(out)


@dataclass
class Frame:
    """One frame of a scenario: the ground truth (ids [G], keypoints [G, 18, 3]), the detections
    (keypoints [D, 18, 3], what the network would give), the image size (H, W) and timestamp (s);
    ignore: distractors [I, 4], boxes (x0, y0, x1, y1 pixels) of people in the image who are not in
    the ground truth (see :func:`evaluate`)."""

    gt_ids: np.ndarray
    gt: np.ndarray
    detections: np.ndarray
    image_size: tuple
    timestamp: float
    ignore: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))


@dataclass
class Scenario:
    name: str
    description: str
    frames: list = field(default_factory=list)
    all_visible: bool = True  # every person stays visible (in the image, not hidden) throughout
    images: list | None = None  # the frames' BGR images, where the scenario has them


def detect(rng, gt: np.ndarray, image_size, height: float, *, miss=0.08, split=0.0, jitter=0.01) -> list:
    """A network's view of one ground-truth pose gt [18, 3] (pixels) of a person `height` pixels
    high: list of keypoint arrays [18, 3] (score 0 = not found). Each part is jittered by a Gaussian
    of ``jitter * height`` pixels, not found with probability ``miss``; parts outside the image are
    dropped; with probability ``split`` a fragment (a limb, the head, or a duplicate of two parts the
    body keeps) comes apart from the body as a separate detection."""
    H, W = image_size
    k = gt.copy()
    vis = k[:, 2] > 0
    k[vis, :2] += rng.normal(0, jitter * height, (vis.sum(), 2))
    inside = (k[:, 0] >= 0) & (k[:, 0] < W) & (k[:, 1] >= 0) & (k[:, 1] < H)
    found = vis & inside & (rng.random(18) >= miss)
    k[:, 2] = np.where(found, rng.uniform(0.3, 0.9, 18), 0.0)
    k[~found] = 0
    out = [k]
    if split and rng.random() < split:
        frag = np.zeros_like(k)
        if rng.random() < 0.25:  # a duplicate: two parts found again a little apart, the body keeps them
            parts = [p for p in rng.permutation(18)[:6] if found[p]][:2]
            frag[parts] = k[parts]
            frag[parts, :2] += rng.normal(0, 0.02 * height, (len(parts), 2))
        else:
            group = FRAGMENT_GROUPS[rng.integers(len(FRAGMENT_GROUPS))]
            parts = [p for p in group if found[p]]
            frag[parts] = k[parts]
            k[parts] = 0
        if len(parts) >= 2 and (k[:, 2] > 0).sum() >= 3:
            out.append(frag)
    return [d for d in out if (d[:, 2] > 0).sum() >= 2]


def _gt(pose: np.ndarray, centre, height: float, image_size) -> np.ndarray:
    """A base pose placed at centre (x, y) pixels, `height` pixels high; parts outside the image
    are not part of the ground truth."""
    H, W = image_size
    k = pose.copy()
    vis = k[:, 2] > 0
    k[vis, :2] = k[vis, :2] * height + np.asarray(centre, np.float64)
    inside = (k[:, 0] >= 0) & (k[:, 0] < W) & (k[:, 1] >= 0) & (k[:, 1] < H)
    k[~(vis & inside)] = 0
    return k


def _build(
    name, description, poses, paths, n_frames, image_size, rng, *, split=0.0, times=None, id_offset=0, found=None, **kw
):
    """Frames of people i = 0.. with pose poses[i] following paths[i](t) -> (x, y, height) or
    None (not in the scene); a person with fewer than 3 parts in the image is not in the ground
    truth. times: the source frame numbers shown (others are dropped), default 0 .. n_frames - 1;
    a frame's timestamp is its number / 25 s. id_offset: added to the ground-truth ids. found(i, t)
    -> bool: whether the network finds person i in frame t at all (default always; a person not
    found stays in the ground truth: a miss)."""
    frames = []
    for t in range(n_frames) if times is None else times:
        ids, gts, dets = [], [], []
        for i, (pose, path) in enumerate(zip(poses, paths, strict=True)):
            where = path(t)
            if where is None:
                continue
            x, y, h = where
            g = _gt(pose, (x, y), h, image_size)
            if (g[:, 2] > 0).sum() < 3:
                continue
            ids.append(i + id_offset)
            gts.append(g)
            if found is None or found(i, t):
                dets += detect(rng, g, image_size, h, split=split, **kw)
        order = rng.permutation(len(dets))  # a network's people come in no particular order
        frames.append(
            Frame(
                np.array(ids, np.int64),
                np.array(gts).reshape(-1, 18, 3),
                np.array([dets[o] for o in order]).reshape(-1, 18, 3),
                tuple(image_size),
                t / 25.0,
            )
        )
    return Scenario(name, description, frames)


def scenarios(seed: int = 0) -> list:
    """The keypoint-level scenarios, all built from the same real poses."""
    base = base_poses()
    rng = np.random.default_rng(seed)
    pick = lambda n: base[rng.integers(0, len(base), n)]  # noqa: E731
    out = []
    HD = (720, 1280)

    # People split into fragments: 5 people walking slowly, a third of them split in every frame.
    poses = pick(5)
    paths = [lambda t, i=i: (150 + 240 * i + 1.5 * t, 360 + 0.5 * t * (-1) ** i, 260) for i in range(5)]
    out.append(
        _build(
            "fragments",
            "5 people 260 px high walking slowly; each frame each person is split with probability 1/3 into a "
            "body and a fragment (a leg, a forearm, the head, or two parts found twice)",
            poses,
            paths,
            40,
            HD,
            rng,
            split=1 / 3,
        )
    )

    # A crowd at three scales: 18 people on a loose grid, each walking its own way, some splits.
    poses = pick(18)
    heights = np.tile([70.0, 130.0, 200.0], 6)
    vel = rng.uniform(-2.0, 2.0, (18, 2))
    cells = [((i % 6 + 0.5) * 1280 / 6, (i // 6 + 0.5) * 720 / 3) for i in range(18)]
    paths = [
        lambda t, i=i: (cells[i][0] + vel[i, 0] * t, cells[i][1] + vel[i, 1] * t, heights[i] * (1 + 0.003 * t))
        for i in range(18)
    ]
    out.append(
        _build(
            "crowd of 18",
            "18 people 70, 130 and 200 px high on a loose grid, each walking its own way at up to 2 px/frame and "
            "growing 0.3 %/frame (coming closer); 10 % of people split into fragments each frame",
            poses,
            paths,
            40,
            HD,
            rng,
            split=0.1,
        )
    )

    # Two people of the same pose side by side, walking together.
    p = pick(1)[0]
    out.append(
        _build(
            "side by side",
            "two people of the same pose 200 px high, 80 px apart (their boxes overlap), walking together at 5 px/frame",
            [p, p],
            [lambda t, dx=dx: (400 + dx + 5 * t, 380, 200) for dx in (0, 80)],
            40,
            HD,
            rng,
            split=0.1,
        )
    )

    # Entries and exits at the border.
    poses = pick(6)
    small = (360, 640)

    def walker(i):
        start, v = 6 * i, (9.0 if i % 2 == 0 else -9.0)
        x0 = -60.0 if v > 0 else 700.0

        def path(t):
            if t < start:
                return None
            x = x0 + v * (t - start)
            return None if x < -80 or x > 720 else (x, 120 + 40 * (i % 3), 110)

        return path

    sc = _build(
        "border entries and exits",
        "6 people 110 px high walk in from the left or right border at 9 px/frame, cross the frame and walk out "
        "(half a person in the image on the way in and out)",
        poses,
        [walker(i) for i in range(6)],
        120,
        small,
        rng,
        split=0.05,
    )
    sc.all_visible = False
    out.append(sc)

    # A camera pan: everyone moves together, starting at once and reversing halfway.
    poses = pick(10)
    place = [(300 + 170 * (i % 5), 220 + 260 * (i // 5), 90 + 15 * (i % 3)) for i in range(10)]

    def pan(t):
        return 12.0 * t if t < 15 else 12.0 * 15 - 12.0 * (t - 15)

    out.append(
        _build(
            "camera pan",
            "10 people 90-120 px high standing still while the camera pans at 12 px/frame from the first frame, "
            "reversing after 15 frames (every person moving together)",
            poses,
            [lambda t, i=i: (place[i][0] + pan(t), place[i][1] + 0.2 * pan(t), place[i][2]) for i in range(10)],
            30,
            HD,
            rng,
            split=0.05,
        )
    )

    # Frame drops: the decoder loses 1-5 frames at times; timestamps tell.
    poses = pick(4)
    vel = [(6.0, 0.0), (-5.0, 1.0), (4.0, -1.0), (-6.0, 0.0)]
    times, t = [], 0
    while t < 70:
        times.append(t)
        t += 1 + (int(rng.integers(1, 6)) if rng.random() < 0.3 else 0)
    out.append(
        _build(
            "frame drops",
            "4 people 160 px high walking at 4-6 px/frame on separate rows; a third of the frames are followed by a "
            "gap of 1-5 dropped frames (timestamps at 25 fps tell the tracker)",
            poses,
            [lambda t, i=i: (640 + 60 * (i - 1.5) + vel[i][0] * (t - 35), 110 + 160 * i, 160) for i in range(4)],
            len(times),
            HD,
            rng,
            times=times,
            split=0.05,
        )
    )

    # Two videos of different sizes in one run: ids never shared between them.
    a = _build("", "", pick(3), [lambda t, i=i: (300 + 300 * i + 3 * t, 360, 220) for i in range(3)], 20, HD, rng)
    b = _build(
        "",
        "",
        pick(3),
        [lambda t, i=i: (120 + 200 * i - 2 * t, 180, 120) for i in range(3)],
        20,
        (360, 640),
        rng,
        id_offset=3,
    )
    for f in b.frames:
        f.timestamp += 20 / 25.0
    out.append(
        Scenario(
            "two videos",
            "a 1280x720 video of 3 people, then a 640x360 video of 3 others, through one tracker",
            a.frames + b.frames,
        )
    )

    # Crossing with occlusion: the one behind is hidden while the two overlap.
    poses = pick(2)

    def crossing(i):
        def path(t):
            x = 300 + 8 * t if i == 0 else 980 - 8 * t
            if i == 1 and abs((300 + 8 * t) - (980 - 8 * t)) < 60:
                return None  # hidden behind the other
            return (x, 380 + 10 * i, 220)

        return path

    sc = _build(
        "crossing",
        "two people 220 px high walk across each other at 8 px/frame; the one behind is hidden while they overlap",
        poses,
        [crossing(0), crossing(1)],
        80,
        HD,
        rng,
        split=0.05,
    )
    sc.all_visible = False
    out.append(sc)

    # A camera pan where the network finds one small person only every fourth frame (as the catcher of
    # COCO 357, benchmarks/README.md): his track is matched once each time, so it has no velocity of
    # its own while everyone moves with the camera.
    poses = pick(9)
    place = [(200 + 200 * (i % 4), 200 + 250 * (i // 4), 100 + 10 * (i % 3)) for i in range(8)] + [(560, 330, 60)]
    out.append(
        _build(
            "pan, one found every 4th frame",
            "9 people standing still while the camera pans at (6, 2) px/frame from the first frame; the network "
            "finds 8 of them (100-120 px high) in every frame and the ninth (60 px high) only every 4th frame",
            poses,
            [lambda t, i=i: (place[i][0] + 6.0 * t, place[i][1] + 2.0 * t, place[i][2]) for i in range(9)],
            40,
            HD,
            rng,
            found=lambda i, t: i < 8 or t % 4 == 0,
        )
    )
    return out


def run_tracker(tracker, scenario: Scenario, person_cls=None, images: bool = False) -> tuple[list, float]:
    """Feed the scenario's detections to `tracker` (``update(people, timestamp=, image_size=)``, as
    :class:`tfpose.PoseTracker`; with ``images``, also ``image=`` the frame or None). Returns (per
    frame the people with their ``person_id``, seconds spent in ``update`` in all)."""
    import time

    if person_cls is None:
        from tfpose.estimator import Person as person_cls
    tracked, spent = [], 0.0
    for i, f in enumerate(scenario.frames):
        people = [person_cls(d.astype(np.float32), float(d[d[:, 2] > 0, 2].mean())) for d in f.detections]
        extra = {"image": scenario.images[i] if scenario.images else None} if images else {}
        t0 = time.perf_counter()
        tracker.update(people, timestamp=f.timestamp, image_size=f.image_size, **extra)
        spent += time.perf_counter() - t0
        tracked.append(people)
    return tracked, spent


def evaluate(scenario: Scenario, tracked: list) -> dict:
    """Scores of `tracked` (per frame, people with ``person_id``; -1 = no id, not a hypothesis)
    against the scenario's ground truth, on one similarity: COCO's OKS with the ground truth as
    the reference (:func:`coco_oks`), a pair below ``MATCH_OKS`` never matching for CLEAR MOT and
    the identity metrics.

    Before scoring, hypotheses on a frame's distractors (``Frame.ignore``: people in the image who
    are not in the ground truth) are removed, MOTChallenge's rule (Milan et al. 2016, MOT16 sec.
    4.1.3; TrackEval's MotChallenge2DBox preprocessing): hypotheses are matched one to one to the
    ground truth and the distractors together (Hungarian on OKS, pairs >= ``MATCH_OKS``), and those
    matched to a distractor are dropped; a distractor missed is no miss.

    Returns {"hota", "deta", "assa" (TrackEval 1.3.0's HOTA of Luiten et al. 2021: averaged over
    the localisation thresholds alpha = 0.05 .. 0.95 on the OKS), "idf1", "mota", "switches", "fp",
    "fn" (py-motmetrics 1.4.0), "trackeval" {"idf1", "mota", "switches", "fp", "fn"} (TrackEval's
    Identity and CLEAR on the same matches: a cross-check), "gt_ids", "frames", "ignored" (hypotheses
    removed as on distractors)}."""
    import motmetrics as mm

    gt_ids, hyp_ids, sims, ignored = [], [], [], 0
    for f, people in zip(scenario.frames, tracked, strict=True):
        hyp = [p for p in people if p.person_id >= 0]
        det = np.array([np.asarray(p.keypoints, np.float64) for p in hyp]).reshape(-1, 18, 3)
        keep = _not_on_distractors(f, det)
        ignored += len(hyp) - int(keep.sum())
        sims.append(coco_oks(f.gt, det[keep]))
        gt_ids.append(f.gt_ids.astype(np.int64))
        hyp_ids.append(np.array([p.person_id for p in hyp], np.int64)[keep])
    acc = mm.MOTAccumulator(auto_id=True)
    for g, h, s in zip(gt_ids, hyp_ids, sims, strict=True):
        acc.update(g.tolist(), h.tolist(), np.where(s >= MATCH_OKS, 1.0 - s, np.nan))
    row = (
        mm.metrics.create()
        .compute(
            acc, metrics=["idf1", "mota", "num_switches", "num_false_positives", "num_misses", "num_frames"], name="s"
        )
        .loc["s"]
    )
    te = _trackeval_scores(gt_ids, hyp_ids, sims)
    return {
        "hota": te["hota"],
        "deta": te["deta"],
        "assa": te["assa"],
        "idf1": float(row["idf1"]),
        "mota": float(row["mota"]),
        "switches": int(row["num_switches"]),
        "fp": int(row["num_false_positives"]),
        "fn": int(row["num_misses"]),
        "trackeval": {k: te[k] for k in ("idf1", "mota", "switches", "fp", "fn")},
        "gt_ids": len({int(i) for g in gt_ids for i in g}),
        "frames": int(row["num_frames"]),
        "ignored": ignored,
    }


def _not_on_distractors(frame: Frame, det: np.ndarray) -> np.ndarray:
    """Mask [D] of the detections det [D, 18, 3] not matched to one of the frame's distractors
    (MOT16's preprocessing, see :func:`evaluate`)."""
    keep = np.ones(len(det), bool)
    if not len(det) or not len(frame.ignore):
        return keep
    from scipy.optimize import linear_sum_assignment

    sim = np.vstack([coco_oks(frame.gt, det), box_oks(frame.ignore, det)])
    rows, cols = linear_sum_assignment(-np.where(sim >= MATCH_OKS, sim, 0.0))
    for r, c in zip(rows, cols, strict=True):
        if r >= len(frame.gt) and sim[r, c] >= MATCH_OKS:
            keep[c] = False
    return keep


def _trackeval_scores(gt_ids: list, hyp_ids: list, sims: list) -> dict:
    """TrackEval 1.3.0's HOTA, CLEAR and Identity of one sequence: per frame the ground-truth ids
    [G], hypothesis ids [H] and similarities [G, H] (OKS). TrackEval indexes ids from 0, so both
    are renumbered in order of appearance."""
    from trackeval.metrics import CLEAR, HOTA, Identity

    def renumber(per_frame):
        ids = {}
        out = [np.array([ids.setdefault(int(i), len(ids)) for i in f], np.int64) for f in per_frame]
        return out, len(ids)

    g, n_g = renumber(gt_ids)
    h, n_h = renumber(hyp_ids)
    data = {
        "num_timesteps": len(g),
        "num_gt_ids": n_g,
        "num_tracker_ids": n_h,
        "num_gt_dets": sum(len(x) for x in g),
        "num_tracker_dets": sum(len(x) for x in h),
        "gt_ids": g,
        "tracker_ids": h,
        "similarity_scores": sims,
    }
    config = {"THRESHOLD": MATCH_OKS, "PRINT_CONFIG": False}
    hota = HOTA().eval_sequence(data)
    clear = CLEAR(config).eval_sequence(data)
    ident = Identity(config).eval_sequence(data)
    return {
        "hota": float(np.mean(hota["HOTA"])),
        "deta": float(np.mean(hota["DetA"])),
        "assa": float(np.mean(hota["AssA"])),
        "idf1": float(ident["IDF1"]),
        "mota": float(clear["MOTA"]),
        "switches": int(clear["IDSW"]),
        "fp": int(clear["CLR_FP"]),
        "fn": int(clear["CLR_FN"]),
    }


# Distractors of the shared photographs (benchmarks/bench_tracking_metrics.py): boxes (x0, y0, x1, y1
# pixels of the unmoved photograph) of every person visible in it whom the network does not find on
# it (so who is not in translated_photo's ground truth), annotated by looking at each photograph, not
# at any tracker's output. apink2, apink3, p3 and COCO 192 hold no such person.
PHOTO_DISTRACTORS = {
    "COCO_val2014_000000000357.jpg": (
        (207, 21, 233, 54),  # fielder left of second base
        (267, 6, 287, 33),  # umpire behind second base
        (270, 18, 299, 56),  # runner at second base
        (368, 24, 392, 54),  # fielder right of second base
        (528, 18, 604, 62),  # players in the dugout (a crowd, as COCO's iscrowd)
        (390, 0, 640, 20),  # spectators in the stands (a crowd)
        (592, 150, 626, 203),  # home-plate umpire, behind the catcher
    ),
}


def translated_photo(
    estimator, path, n_frames: int = 24, step=(3, 2), min_parts: int = 8, distractors=None
) -> Scenario:
    """A real photograph moved `step` (x, y) pixels per frame for `n_frames` frames (black comes in
    at the border), the people found by `estimator` (a :class:`tfpose.Estimator`) in each frame.
    The ground truth is built from the photograph: the people the network finds on the unmoved
    photograph with at least `min_parts` parts, moved with it (parts moved out of the image dropped).
    Distractors (``Frame.ignore``, moved with the photograph): the people it finds there with 3 to
    `min_parts` - 1 parts (their keypoint boxes: people, too incomplete for a reference) and the
    boxes `distractors` of people it does not find there (default ``PHOTO_DISTRACTORS`` of the
    file's name)."""
    import cv2

    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise FileNotFoundError(path)
    H, W = img.shape[:2]
    found0 = [p.keypoints.astype(np.float64) for p in estimator.estimate(img)]
    ref = [k for k in found0 if (k[:, 2] > 0).sum() >= min_parts]
    boxes = [
        (*k[k[:, 2] > 0, :2].min(0), *k[k[:, 2] > 0, :2].max(0)) for k in found0 if 3 <= (k[:, 2] > 0).sum() < min_parts
    ]
    boxes += list(PHOTO_DISTRACTORS.get(Path(path).name, ()) if distractors is None else distractors)
    boxes = np.array(boxes, np.float64).reshape(-1, 4)
    images = [
        cv2.warpAffine(img, np.float32([[1, 0, step[0] * t], [0, 1, step[1] * t]]), (W, H)) for t in range(n_frames)
    ]
    found = estimator.estimate_batch(images)
    frames = []
    for t, people in enumerate(found):
        gts, ids = [], []
        for i, k in enumerate(ref):
            g = k.copy()
            vis = g[:, 2] > 0
            g[vis, :2] += (step[0] * t, step[1] * t)
            inside = (g[:, 0] >= 0) & (g[:, 0] < W) & (g[:, 1] >= 0) & (g[:, 1] < H)
            g[~(vis & inside)] = 0
            g[:, 2] = (g[:, 2] > 0).astype(np.float64)
            if (g[:, 2] > 0).sum() >= 3:
                gts.append(g)
                ids.append(i)
        ign = np.clip(boxes + np.tile(step, 2) * t, 0, [W, H, W, H])
        ign = ign[(ign[:, 2] > ign[:, 0]) & (ign[:, 3] > ign[:, 1])]
        dets = np.array([p.keypoints for p in people], np.float64).reshape(-1, 18, 3)
        frames.append(Frame(np.array(ids, np.int64), np.array(gts).reshape(-1, 18, 3), dets, (H, W), t / 25.0, ign))
    return Scenario(
        f"real photo {Path(path).name}",
        images=images,
        description=f"{Path(path).name} ({W}x{H}, {len(ref)} people, {len(boxes)} distractors) moved ({step[0]}, "
        f"{step[1]}) px per frame for {n_frames} frames, the people found by the network in every frame",
        frames=frames,
    )


def coco_oks(gt: np.ndarray, det: np.ndarray) -> np.ndarray:
    """COCO's OKS [G, D] of ground-truth poses gt [G, 18, 3] (reference) against detections det
    [D, 18, 3]: sum over the parts labelled in the ground truth and found in the detection of
    exp(-d^2 / (2 s^2 k^2)), k = 2 sigma, divided by the ground truth's labelled parts; s^2 the
    ground truth's keypoint-box area (COCO uses the segment area)."""
    gv, dv = gt[:, :, 2] > 0, det[:, :, 2] > 0
    out = np.zeros((len(gt), len(det)))
    for g in range(len(gt)):
        pts = gt[g, gv[g], :2]
        if not len(pts):
            continue
        w, h = pts.max(0) - pts.min(0)
        area = max(w * h, 1.0)
        d2 = ((det[:, :, :2] - gt[g, None, :, :2]) ** 2).sum(-1)
        e = np.exp(-d2 / (2.0 * area * (2.0 * SIGMAS_18) ** 2))
        out[g] = np.where(gv[g][None] & dv, e, 0.0).sum(1) / gv[g].sum()
    return out


def box_oks(boxes: np.ndarray, det: np.ndarray) -> np.ndarray:
    """COCO's OKS [I, D] of people annotated with a box only, boxes [I, 4] (x0, y0, x1, y1 pixels),
    against detections det [D, 18, 3]: cocoeval's rule for a ground truth without labelled
    keypoints (computeOks): a found part's distance is its distance to the box (0 inside), s^2 the
    box area, and the sum runs over all 18 parts (a part not found counts 0), so a detection
    matches (OKS >= ``MATCH_OKS``) when at least half of a person's parts lie in or near the box."""
    out = np.zeros((len(boxes), len(det)))
    dv = det[:, :, 2] > 0
    for i, (x0, y0, x1, y1) in enumerate(np.asarray(boxes, np.float64)):
        dx = np.maximum(0.0, x0 - det[:, :, 0]) + np.maximum(0.0, det[:, :, 0] - x1)
        dy = np.maximum(0.0, y0 - det[:, :, 1]) + np.maximum(0.0, det[:, :, 1] - y1)
        area = max((x1 - x0) * (y1 - y0), 1.0)
        e = np.exp(-(dx**2 + dy**2) / (2.0 * area * (2.0 * SIGMAS_18) ** 2))
        out[i] = np.where(dv, e, 0.0).sum(1) / 18.0
    return out


def from_synthetic_video(estimator, scenario, scene) -> Scenario:
    """A scenario of tests/synthetic_video.py (people cut out of photographs moving over a real
    background, found by `estimator`): the ground truth is each drawn person's reference pose moved
    to where the script drew it (hidden or not), its parts inside the frame: the sprites, and the
    man seated in the pillar band where the band is drawn (``synthetic_video.BAND_PERSON``)."""
    import synthetic_video as sv

    images, where = sv.render(scenario, scene)
    found = estimator.estimate_batch(images)
    H, W = sv.FRAME_HW
    frames = []
    for t, (pos, people) in enumerate(zip(where, found, strict=True)):
        gts, ids = [], []
        for i, name in enumerate(scene.refs):
            if name not in pos:
                continue
            g = scene.refs[name].astype(np.float64).copy()
            vis = g[:, 2] > 0
            g[vis, :2] += pos[name]
            inside = (g[:, 0] >= 0) & (g[:, 0] < W) & (g[:, 1] >= 0) & (g[:, 1] < H)
            g[~(vis & inside)] = 0
            g[:, 2] = (g[:, 2] > 0).astype(np.float64)
            if (g[:, 2] > 0).sum() >= 3:
                gts.append(g)
                ids.append(i)
        dets = np.array([p.keypoints for p in people], np.float64).reshape(-1, 18, 3)
        frames.append(Frame(np.array(ids, np.int64), np.array(gts).reshape(-1, 18, 3), dets, (H, W), t / 25.0))
    return Scenario(f"video: {scenario.name}", scenario.description, frames, all_visible=False, images=images)
