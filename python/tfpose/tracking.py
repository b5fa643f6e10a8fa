"""Person ids across video frames and temporal smoothing of keypoints. No TensorFlow here.

:class:`PoseTracker` gives each person a persistent id: every frame, the people found are matched
to the tracks of earlier frames by object keypoint similarity (OKS, the COCO keypoint metric) with
an optimal assignment (``scipy.optimize.linear_sum_assignment``) or a greedy one; unmatched people
start new tracks with new ids; a track that finds no person is remembered for ``max_lost_frames``
frames, its keypoints moved on by the track's velocity, so a person hidden for a few frames or
crossing another one keeps the id. Ids count up from 0 and are never reused by one tracker.

:class:`OneEuroFilter` is the One-Euro filter of Casiez, Roussel and Vogel, "1€ Filter: A Simple
Speed-based Low-pass Filter for Noisy Input in Interactive Systems" (CHI 2012): an exponential
low-pass filter whose cutoff frequency rises with the signal's speed (little jitter at rest, little
lag in motion). With ``smooth=True`` the tracker filters each keypoint of each track; a keypoint the
frame did not find stays missing (0, 0, 0), never filled in from earlier frames.

Coordinates are image pixels (OpenPose's convention, as in :class:`tfpose.Person`); a missing part
has score 0.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

__all__ = ["KEYPOINT_SIGMAS", "keypoint_sigmas", "oks", "OneEuroFilter", "PoseTracker", "ASSIGNMENTS"]

# Per-keypoint standard deviations of human annotations relative to the object scale (COCO's
# "sigmas"; OKS uses k = 2 * sigma). One table for every pose model, keyed by OpenPose's part names.
# Sources: COCO body parts from the COCO keypoint evaluation (cocoapi PythonAPI/pycocotools/
# cocoeval.py, Ronchi & Perona, ICCV 2017); foot parts from COCO-WholeBody (Jin et al., ECCV 2020,
# evaluation/myeval_wholebody.py). Parts that neither dataset annotates take the value of the
# annotated parts they lie between or nearest to: Neck (between the shoulders) and Chest (MPI, on
# the torso between neck and hips) the shoulders' 0.079; MidHip the hips' 0.107; Head (MPI's head
# top) the ears' 0.035.
KEYPOINT_SIGMAS = MappingProxyType({
    "Nose": 0.026, "LEye": 0.025, "REye": 0.025, "LEar": 0.035, "REar": 0.035,
    "LShoulder": 0.079, "RShoulder": 0.079, "LElbow": 0.072, "RElbow": 0.072,
    "LWrist": 0.062, "RWrist": 0.062, "LHip": 0.107, "RHip": 0.107,
    "LKnee": 0.087, "RKnee": 0.087, "LAnkle": 0.089, "RAnkle": 0.089,
    "LBigToe": 0.068, "LSmallToe": 0.066, "LHeel": 0.066,
    "RBigToe": 0.092, "RSmallToe": 0.094, "RHeel": 0.094,
    "Neck": 0.079, "Chest": 0.079, "MidHip": 0.107, "Head": 0.035,
})

ASSIGNMENTS = ("optimal", "greedy")
# A frame-to-frame OKS below this is not the same person. 0.3 is mmpose's OKS tracking threshold;
# lightweight-openpose asks for 3 keypoints each with similarity > 0.5 instead.
DEFAULT_OKS_THRESHOLD = 0.3
_FORBIDDEN = 1e6  # assignment cost of a pair below the threshold: larger than any sum of real costs


def keypoint_sigmas(pose_model) -> np.ndarray:
    """COCO-style sigma of each part of a pose model (a name or a :func:`tfpose.models.get` table):
    float64 [P] in the model's part order, from :data:`KEYPOINT_SIGMAS`."""
    from tfpose import models

    table = models.get(pose_model) if isinstance(pose_model, str) else pose_model
    missing = [n for n in table.part_names if n not in KEYPOINT_SIGMAS]
    if missing:  # a new pose model must add its parts to the one table above
        raise ValueError(f"pose model {table.name}: no keypoint sigma for parts {missing}")
    return np.array([KEYPOINT_SIGMAS[n] for n in table.part_names], dtype=np.float64)


def _box_area(xy: np.ndarray, visible: np.ndarray) -> np.ndarray:
    """Area (pixels^2) of the box around the visible keypoints of each of N poses: xy [N, P, 2],
    visible [N, P] bool -> [N]; at least 1 so a one-keypoint pose still has a scale."""
    big = np.where(visible[..., None], xy, np.inf)
    small = np.where(visible[..., None], xy, -np.inf)
    lo, hi = big.min(axis=1), small.max(axis=1)
    size = np.where(np.isfinite(hi - lo), hi - lo, 0.0)
    return np.maximum(size[:, 0] * size[:, 1], 1.0)


def oks(a_xy, a_visible, b_xy, b_visible, sigmas, area=None, min_common: int = 1) -> np.ndarray:
    """Object keypoint similarity of every pose of set A with every pose of set B.

    a_xy [A, P, 2], b_xy [B, P, 2] float (pixels); a_visible [A, P], b_visible [B, P] bool;
    sigmas [P] (:func:`keypoint_sigmas`); area: [A, B] object scale s^2 in pixels^2, default the
    larger of the two poses' keypoint-box areas (as lightweight-openpose does, COCO uses the
    segment area). Returns float64 [A, B]:
    ``mean over parts visible in both of exp(-d^2 / (2 s^2 k^2))``, k = 2 sigma (the COCO keypoint
    evaluation's formula), and 0 where fewer than ``min_common`` parts are visible in both.
    """
    a_xy = np.asarray(a_xy, np.float64)
    b_xy = np.asarray(b_xy, np.float64)
    a_visible = np.asarray(a_visible, bool)
    b_visible = np.asarray(b_visible, bool)
    if area is None:
        area = np.maximum(_box_area(a_xy, a_visible)[:, None], _box_area(b_xy, b_visible)[None, :])
    k2 = (2.0 * np.asarray(sigmas, np.float64)) ** 2
    d2 = ((a_xy[:, None] - b_xy[None]) ** 2).sum(-1)  # [A, B, P]
    common = a_visible[:, None] & b_visible[None]
    e = np.exp(-d2 / (2.0 * np.asarray(area, np.float64)[..., None] * k2))
    n = common.sum(-1)
    s = np.where(common, e, 0.0).sum(-1)
    return np.where(n >= max(int(min_common), 1), s / np.maximum(n, 1), 0.0)


class OneEuroFilter:
    """One-Euro filter (Casiez, Roussel & Vogel, CHI 2012) over numpy arrays of any shape.

    min_cutoff: cutoff frequency at rest, Hz (the paper's f_cmin; less = less jitter, more lag).
    beta: how fast the cutoff rises with speed, per unit of the signal (here 1/pixel): the
        cutoff is ``min_cutoff + beta * |filtered derivative|`` (units/s).
    d_cutoff: cutoff of the derivative's own low-pass filter, Hz (the paper uses 1 Hz).

    ``filter(x, t, mask)`` filters the elements of ``x`` where ``mask`` is true, at time ``t``
    (seconds); elements outside the mask are returned unchanged and their state is forgotten, so a
    value that reappears starts afresh instead of being pulled toward a stale one.
    """

    def __init__(self, min_cutoff: float = 1.0, beta: float = 0.05, d_cutoff: float = 1.0):
        for name, v in (("min_cutoff", min_cutoff), ("beta", beta), ("d_cutoff", d_cutoff)):
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v) or v < 0:
                raise ValueError(f"{name}: expected a finite number >= 0, got {v!r}")
        if min_cutoff <= 0 or d_cutoff <= 0:
            raise ValueError(f"min_cutoff and d_cutoff: expected > 0 Hz, got {min_cutoff}, {d_cutoff}")
        self.min_cutoff, self.beta, self.d_cutoff = float(min_cutoff), float(beta), float(d_cutoff)
        self._x = self._dx = self._t = self._has = None

    @staticmethod
    def _alpha(cutoff, te):
        # smoothing factor of an exponential filter with this cutoff at sampling period te (paper, eq. 4)
        tau = 1.0 / (2.0 * math.pi * cutoff)
        return 1.0 / (1.0 + tau / te)

    def filter(self, x, t: float, mask=None) -> np.ndarray:
        """x: float array; t: seconds, increasing; mask: bool array of x's shape (default all).
        Returns the filtered array (float64)."""
        x = np.asarray(x, np.float64)
        mask = np.ones(x.shape, bool) if mask is None else np.asarray(mask, bool)
        if self._x is None or self._x.shape != x.shape:
            self._x, self._dx = x.copy(), np.zeros_like(x)
            self._has = np.zeros(x.shape, bool)
            self._t = np.full(x.shape, -np.inf)
        fresh = mask & ~self._has
        old = mask & self._has
        out = x.copy()
        if old.any():
            te = np.maximum(t - self._t[old], 1e-6)
            xo = x[old]
            dx = (xo - self._x[old]) / te
            dx_hat = self._dx[old] + self._alpha(self.d_cutoff, te) * (dx - self._dx[old])
            cutoff = self.min_cutoff + self.beta * np.abs(dx_hat)
            x_hat = self._x[old] + self._alpha(cutoff, te) * (xo - self._x[old])
            out[old] = x_hat
            self._x[old], self._dx[old] = x_hat, dx_hat
        self._x[fresh], self._dx[fresh] = x[fresh], 0.0
        self._t[mask] = t
        self._has = mask.copy()
        return out


@dataclass
class _Track:
    track_id: int
    xy: np.ndarray          # [P, 2] last position of each part (pixels)
    seen: np.ndarray        # [P] frame number each part was last seen (-1 never)
    frame: int              # last frame the person was matched
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))  # pixels per frame
    smoother: OneEuroFilter | None = None


class PoseTracker:
    """Persistent person ids across the frames of one video or stream.

    pose_model: "COCO_18", "BODY_25", "MPI_15" or "MPI_15_4" (the people's part layout).
    oks_threshold: least OKS between a track and a person for them to be the same person.
    assignment: "optimal" (``scipy.optimize.linear_sum_assignment``: the most matches, then the
        largest total OKS) or "greedy" (highest OKS pair first).
    max_lost_frames: frames a track that matched nobody is remembered (its id can come back).
    max_part_age: frames a part not seen keeps taking part in the matching.
    max_predict_frames: frames a lost track keeps moving on at its velocity.
    lost_scale_growth: each frame lost widens a track's matching scale s^2 by this fraction, since
        a predicted position grows less certain.
    smooth: filter the keypoints of each tracked person with a :class:`OneEuroFilter`
        (min_cutoff, beta, d_cutoff); matching always uses the unfiltered keypoints.
    fps: frame rate used for the filter's time when ``update`` gets no timestamp.

    ``update(people)`` sets ``person.person_id`` on each :class:`tfpose.Person` (or any object with
    ``keypoints`` [P, 3] and a writable ``person_id``) and returns the same list. Algorithm per
    frame: predict each track's keypoints (last position of each part + velocity x frames since
    seen); OKS of every track with every person (:func:`oks`, COCO sigmas of
    :func:`keypoint_sigmas`), the scale s^2 widened for lost tracks; assignment; matched tracks
    take the person's keypoints and update their velocity (median part displacement per frame,
    averaged with the previous velocity); unmatched people start tracks with the next id; tracks
    lost longer than ``max_lost_frames`` are dropped and their ids retired.

    Raises ValueError for keypoints of another shape (e.g. people of another pose model),
    non-finite coordinates of a found part, or a timestamp earlier than the previous one.
    """

    def __init__(self, pose_model: str = "COCO_18", *, oks_threshold: float = DEFAULT_OKS_THRESHOLD,
                 assignment: str = "optimal", max_lost_frames: int = 30, max_part_age: int = 10,
                 max_predict_frames: int = 30, lost_scale_growth: float = 0.1, smooth: bool = False,
                 cascade: bool = True, min_cutoff: float = 1.0, beta: float = 0.05, d_cutoff: float = 1.0,
                 fps: float = 30.0):
        from tfpose import _args, models

        self.pose_model = models.get(pose_model).name if isinstance(pose_model, str) else None
        if self.pose_model is None:
            raise TypeError(f"pose_model: expected a name among {models.names()}, got {pose_model!r}")
        self.num_parts = models.get(self.pose_model).num_parts
        self.sigmas = keypoint_sigmas(self.pose_model)
        self.oks_threshold = _args.check_threshold(oks_threshold, "oks_threshold")
        if assignment not in ASSIGNMENTS:
            raise ValueError(f"assignment: expected one of {list(ASSIGNMENTS)}, got {assignment!r}")
        self.assignment = assignment
        for name, v in (("max_lost_frames", max_lost_frames), ("max_part_age", max_part_age),
                        ("max_predict_frames", max_predict_frames)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"{name}: expected an int >= 0, got {v!r}")
        self.max_lost_frames, self.max_part_age = max_lost_frames, max_part_age
        self.max_predict_frames = max_predict_frames
        if not (isinstance(lost_scale_growth, (int, float)) and math.isfinite(lost_scale_growth)
                and lost_scale_growth >= 0):
            raise ValueError(f"lost_scale_growth: expected a finite number >= 0, got {lost_scale_growth!r}")
        self.lost_scale_growth = float(lost_scale_growth)
        if not (isinstance(fps, (int, float)) and math.isfinite(fps) and fps > 0):
            raise ValueError(f"fps: expected a finite number > 0, got {fps!r}")
        self.fps = float(fps)
        self.smooth = bool(smooth)
        self.cascade = bool(cascade)
        self._filter_args = (min_cutoff, beta, d_cutoff)
        OneEuroFilter(*self._filter_args)  # checks the parameters now, not at the first frame
        self._tracks: list[_Track] = []
        self._next_id = 0
        self._frame = -1
        self._time = None
        self._image_size = None

    @property
    def next_id(self) -> int:
        """The id the next new person will get (= the number of ids given so far)."""
        return self._next_id

    @property
    def active_ids(self) -> list[int]:
        """Ids of the tracks currently remembered (matched now or lost for at most max_lost_frames)."""
        return [t.track_id for t in self._tracks]

    def reset(self) -> None:
        """Forget every track (a new video, a cut). Ids keep counting: none is ever reused."""
        self._tracks = []
        self._time = None
        self._image_size = None

    def _check(self, people) -> np.ndarray:
        kps = []
        for i, p in enumerate(people):
            k = np.asarray(getattr(p, "keypoints", p), dtype=np.float64)
            if k.shape != (self.num_parts, 3):
                raise ValueError(
                    f"people[{i}].keypoints: expected shape [{self.num_parts}, 3] for pose model "
                    f"{self.pose_model}, got {tuple(k.shape)} (people from another pose model?)")
            if not np.isfinite(k[k[:, 2] > 0]).all() or not np.isfinite(k[:, 2]).all():
                raise ValueError(f"people[{i}].keypoints: expected finite values, got {k.tolist()}")
            kps.append(k)
        return np.stack(kps) if kps else np.zeros((0, self.num_parts, 3))

    def _predicted(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Tracks' predicted part positions [T, P, 2], usable parts [T, P], frames lost [T]."""
        f = self._frame
        xy = np.stack([t.xy for t in self._tracks])
        seen = np.stack([t.seen for t in self._tracks])
        vel = np.stack([t.velocity for t in self._tracks])
        last = np.array([t.frame for t in self._tracks])
        # a part counts if it was seen at most max_part_age frames before the track's last match:
        # a lost track is matched on the whole pose it last had
        usable = (seen >= 0) & (last[:, None] - seen <= self.max_part_age)
        steps = np.minimum(f - seen, self.max_predict_frames).clip(min=0).astype(np.float64)
        if self._image_size is not None:
            # a person walking out of the frame is expected back where they left, not further on:
            # the prediction stops when the pose's centre reaches the image border
            h, w = self._image_size
            n = np.maximum(usable.sum(1), 1)[:, None]
            centre = np.where(usable[..., None], xy, 0.0).sum(1) / n
            with np.errstate(divide="ignore", invalid="ignore"):
                room = np.where(vel > 0, (np.array([w, h]) - centre) / vel,
                                np.where(vel < 0, centre / -vel, np.inf))
            stop = last + np.maximum(room.min(1), 0.0)  # frame at which the centre reaches the border
            steps = np.minimum(steps, (stop[:, None] - seen).clip(min=0))
        return xy + vel[:, None, :] * steps[..., None], usable, f - last

    def _assign(self, sim: np.ndarray) -> list[tuple[int, int]]:
        ok = sim >= self.oks_threshold
        if not ok.any():
            return []
        if self.assignment == "optimal":
            from scipy.optimize import linear_sum_assignment

            cost = np.where(ok, 1.0 - sim, _FORBIDDEN)
            rows, cols = linear_sum_assignment(cost)
            return [(r, c) for r, c in zip(rows, cols) if ok[r, c]]
        pairs = []
        used_t, used_p = set(), set()
        order = np.argsort(-sim, axis=None, kind="stable")
        for flat in order:
            r, c = divmod(int(flat), sim.shape[1])
            if not ok[r, c]:
                break
            if r not in used_t and c not in used_p:
                pairs.append((r, c))
                used_t.add(r)
                used_p.add(c)
        return pairs

    def update(self, people, timestamp: float | None = None, image_size=None):
        """Give ids to the people of the next frame (in frame order).

        people: list of Person (keypoints [P, 3] pixels); empty for a frame without people.
        timestamp: the frame's time in seconds (for the filter); default frame number / fps.
        image_size: (H, W) of the frame; when it changes, the tracks are forgotten (positions in
            frames of different sizes are not comparable) and ids go on counting.
        Returns ``people`` with ``person_id`` set (keypoints filtered in place if ``smooth``).
        """
        people = list(people)
        kps = self._check(people)
        if image_size is not None:
            image_size = tuple(int(v) for v in image_size)
            if self._image_size is not None and image_size != self._image_size:
                self.reset()
            self._image_size = image_size
        self._frame += 1
        if timestamp is None:
            timestamp = self._frame / self.fps
        timestamp = float(timestamp)
        if not math.isfinite(timestamp) or (self._time is not None and timestamp < self._time):
            raise ValueError(f"timestamp: expected finite seconds, never decreasing, got {timestamp} "
                             f"after {self._time}")
        self._time = timestamp
        visible = kps[:, :, 2] > 0
        pairs = []
        if self._tracks and len(people):
            pred, usable, lost = self._predicted()
            area = np.maximum(_box_area(pred, usable)[:, None], _box_area(kps[:, :, :2], visible)[None, :])
            area = area * (1.0 + self.lost_scale_growth * np.maximum(lost - 1, 0))[:, None]
            sim = oks(pred, usable, kps[:, :, :2], visible, self.sigmas, area=area)
            if self.cascade:
                # tracks matched more recently choose first (DeepSORT's matching cascade)
                free = np.arange(len(people))
                for level in np.unique(lost):
                    rows = np.flatnonzero(lost == level)
                    got = self._assign(sim[np.ix_(rows, free)]) if len(free) else []
                    pairs += [(rows[r], free[c]) for r, c in got]
                    free = np.setdiff1d(free, [free[c] for _, c in got])
            else:
                pairs = self._assign(sim)
        matched = {}
        for r, c in pairs:
            matched[c] = self._tracks[r]
        for c in range(len(people)):
            track = matched.get(c)
            vis = visible[c]
            xy = kps[c, :, :2]
            if track is None:
                track = _Track(self._next_id, np.zeros((self.num_parts, 2)), np.full(self.num_parts, -1), self._frame)
                self._next_id += 1
                self._tracks.append(track)
            else:
                both = vis & (track.seen >= 0)
                if both.any():
                    gap = np.maximum(self._frame - track.seen[both], 1)[:, None]
                    step = np.median((xy[both] - track.xy[both]) / gap, axis=0)
                    track.velocity = 0.5 * (track.velocity + step)
            track.xy[vis] = xy[vis]
            track.seen[vis] = self._frame
            track.frame = self._frame
            person = people[c]
            person.person_id = track.track_id
            if self.smooth:
                if track.smoother is None:
                    track.smoother = OneEuroFilter(*self._filter_args)
                mask = np.repeat(vis[:, None], 2, axis=1)
                out = track.smoother.filter(xy, timestamp, mask)
                k = np.array(person.keypoints, dtype=np.float32, copy=True)
                k[vis, :2] = out[vis]
                person.keypoints = k
        self._tracks = [t for t in self._tracks if self._frame - t.frame <= self.max_lost_frames]
        return people
