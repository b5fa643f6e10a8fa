"""Person ids across video frames and temporal smoothing of keypoints. No TensorFlow here.

:class:`PoseTracker` gives each person a persistent id: every frame, the people found are matched
to the tracks of earlier frames by object keypoint similarity (OKS, the COCO keypoint metric) with
an optimal assignment (``scipy.optimize.linear_sum_assignment``) or a greedy one; a fragment of a
person (OpenPose's grouping can split one person in two) gets no id; other unmatched people
start new tracks with new ids; a track that finds no person is remembered for ``max_lost_frames``
frames, its keypoints moved on by the track's velocity and by the motion all tracks share (a
camera pan), so a person hidden for a few frames or crossing another one keeps the id. Ids count
up from 0 and are never reused by one tracker.

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
import statistics
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
KEYPOINT_SIGMAS = MappingProxyType(
    {
        "Nose": 0.026,
        "LEye": 0.025,
        "REye": 0.025,
        "LEar": 0.035,
        "REar": 0.035,
        "LShoulder": 0.079,
        "RShoulder": 0.079,
        "LElbow": 0.072,
        "RElbow": 0.072,
        "LWrist": 0.062,
        "RWrist": 0.062,
        "LHip": 0.107,
        "RHip": 0.107,
        "LKnee": 0.087,
        "RKnee": 0.087,
        "LAnkle": 0.089,
        "RAnkle": 0.089,
        "LBigToe": 0.068,
        "LSmallToe": 0.066,
        "LHeel": 0.066,
        "RBigToe": 0.092,
        "RSmallToe": 0.094,
        "RHeel": 0.094,
        "Neck": 0.079,
        "Chest": 0.079,
        "MidHip": 0.107,
        "Head": 0.035,
    }
)

ASSIGNMENTS = ("optimal", "greedy")
# A frame-to-frame OKS below this is not the same person. 0.3 is mmpose's OKS tracking threshold;
# lightweight-openpose asks for 3 keypoints each with similarity > 0.5 instead.
DEFAULT_OKS_THRESHOLD = 0.3
_FORBIDDEN = 1e6  # assignment cost of a pair below the threshold: larger than any sum of real costs
# A part of a fragment is "within OKS reach" of another person's same part when their COCO
# per-keypoint similarity is at least this: the tracker's default OKS threshold, so that a part
# counts where a whole pose of such parts would still be the same person.
_FRAGMENT_PART_OKS = DEFAULT_OKS_THRESHOLD
# Common motion vote: a track-person pair needs this many common parts to vote; a track supports a
# shift when a person lies within this fraction of the track's scale (sqrt of its keypoint-box
# area), at least _SHIFT_MIN_RADIUS pixels, of the shifted track.
_SHIFT_MIN_PARTS = 3
_SHIFT_MAX_CANDIDATES = 33  # no shift and 32 others: a pan shared by most tracks is among them
_PERIOD_WINDOW = 64
_SHIFT_RADIUS = 0.15
_SHIFT_MIN_RADIUS = 3.0


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


def oks(a_xy, a_visible, b_xy, b_visible, sigmas, area=None, min_common: int = 1, denominator: str = "common"):
    """Object keypoint similarity of every pose of set A with every pose of set B.

    a_xy [A, P, 2], b_xy [B, P, 2] float (pixels); a_visible [A, P], b_visible [B, P] bool;
    sigmas [P] (:func:`keypoint_sigmas`); area: [A, B] object scale s^2 in pixels^2, default the
    larger of the two poses' keypoint-box areas (as lightweight-openpose does, COCO uses the
    segment area). Each part visible in both poses scores ``exp(-d^2 / (2 s^2 k^2))``, k = 2 sigma
    (the per-keypoint similarity of the COCO keypoint evaluation, cocoapi ``computeOks``).
    denominator: what the scores' sum is divided by:

    * ``"common"``: the parts visible in both (the mean per-part similarity: how well the parts
      the two poses share agree, whatever their number);
    * ``"a"``: the parts visible in A: COCO's OKS with A as the reference (COCO divides by the
      parts labelled in the ground truth), so a part of A that B lacks counts 0 and a small
      fragment of A scores low however well its few parts agree.

    Returns float64 [A, B]; 0 where fewer than ``min_common`` parts are visible in both.
    Raises ValueError for another ``denominator``.
    """
    if denominator not in ("common", "a"):
        raise ValueError(f"denominator: expected 'common' or 'a', got {denominator!r}")
    a_xy = np.asarray(a_xy, np.float64)
    b_xy = np.asarray(b_xy, np.float64)
    a_visible = np.asarray(a_visible, bool)
    b_visible = np.asarray(b_visible, bool)
    if area is None:
        area = np.maximum(_box_area(a_xy, a_visible)[:, None], _box_area(b_xy, b_visible)[None, :])
    s, n = _oks_sum(a_xy, a_visible, b_xy, b_visible, sigmas, area)
    d = np.maximum(n if denominator == "common" else a_visible.sum(-1)[:, None], 1)
    return np.where(n >= max(int(min_common), 1), s / d, 0.0)


def _oks_sum(a_xy, a_visible, b_xy, b_visible, sigmas, area) -> tuple[np.ndarray, np.ndarray]:
    """Sum over the parts visible in both of the COCO per-keypoint similarity, and the number of
    those parts: both [A, B] (see :func:`oks`; float64 arrays in)."""
    k2 = (2.0 * np.asarray(sigmas, np.float64)) ** 2
    # x and y apart: a reduction over an axis of length 2 costs more than the arithmetic
    d2 = (a_xy[:, None, :, 0] - b_xy[None, :, :, 0]) ** 2 + (a_xy[:, None, :, 1] - b_xy[None, :, :, 1]) ** 2
    common = a_visible[:, None] & b_visible[None]
    # exp(-50) ~ 2e-22 is 0 for any sum here; capping spares exp's slow underflow path
    e = np.exp(-np.minimum(d2 / (2.0 * np.asarray(area, np.float64)[..., None] * k2), 50.0))
    return np.where(common, e, 0.0).sum(-1), common.sum(-1)


def _alpha(cutoff, te):
    """Smoothing factor of an exponential filter with this cutoff (Hz) at sampling period te (s)
    (Casiez et al. 2012, eq. 4); arrays broadcast."""
    tau = 1.0 / (2.0 * np.pi * cutoff)
    return 1.0 / (1.0 + tau / te)


def _one_euro_step(x, x_prev, dx_prev, te, min_cutoff, beta, d_cutoff):
    """One step of the One-Euro filter on arrays: returns (filtered x, filtered derivative)."""
    dx = (x - x_prev) / te
    dx_hat = dx_prev + _alpha(d_cutoff, te) * (dx - dx_prev)
    cutoff = min_cutoff + beta * np.abs(dx_hat)
    return x_prev + _alpha(cutoff, te) * (x - x_prev), dx_hat


def _check_filter_args(min_cutoff, beta, d_cutoff) -> tuple:
    for name, v in (("min_cutoff", min_cutoff), ("beta", beta), ("d_cutoff", d_cutoff)):
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v) or v < 0:
            raise ValueError(f"{name}: expected a finite number >= 0, got {v!r}")
    if min_cutoff <= 0 or d_cutoff <= 0:
        raise ValueError(f"min_cutoff and d_cutoff: expected > 0 Hz, got {min_cutoff}, {d_cutoff}")
    return float(min_cutoff), float(beta), float(d_cutoff)


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
        self.min_cutoff, self.beta, self.d_cutoff = _check_filter_args(min_cutoff, beta, d_cutoff)
        self._x = self._dx = self._t = self._has = None

    def filter(self, x, t: float, mask=None) -> np.ndarray:
        """x: float array; t: seconds, increasing; mask: bool array of x's shape (default all).
        Returns the filtered array (float64)."""
        x = np.asarray(x, np.float64)
        mask = np.ones(x.shape, bool) if mask is None else np.asarray(mask, bool)
        if self._x is None or self._x.shape != x.shape:
            self._x, self._dx = x.copy(), np.zeros_like(x)
            self._has = np.zeros(x.shape, bool)
            self._t = np.full(x.shape, -np.inf)
        old = mask & self._has
        te = np.where(old, np.maximum(t - self._t, 1e-6), 1.0)
        x_hat, dx_hat = _one_euro_step(x, self._x, self._dx, te, self.min_cutoff, self.beta, self.d_cutoff)
        out = np.where(old, x_hat, x)
        self._x = np.where(mask, out, self._x)
        self._dx = np.where(old, dx_hat, 0.0)
        self._t = np.where(mask, t, self._t)
        self._has = mask.copy()
        return out


class PoseTracker:
    """Persistent person ids across the frames of one video or stream.

    pose_model: "COCO_18", "BODY_25", "MPI_15" or "MPI_15_4" (the people's part layout).
    oks_threshold: least OKS between a track and a person for them to be the same person.
    assignment: "optimal" (``scipy.optimize.linear_sum_assignment``: the most matches, then the
        largest total OKS) or "greedy" (highest OKS pair first).
    max_lost_frames: frames a track that matched nobody is remembered (its id can come back).
        Frames are counted in frame periods: with timestamps, a gap of k periods (frames the
        decoder dropped) counts k frames (see ``update``).
    max_part_age: frames a part not seen keeps taking part in the matching.
    max_predict_frames: frames a lost track keeps moving on at its velocity.
    lost_scale_growth: each frame lost widens a track's matching scale s^2 by this fraction, since
        a predicted position grows less certain.
    smooth: filter the keypoints of each tracked person with a :class:`OneEuroFilter`
        (min_cutoff, beta, d_cutoff); matching always uses the unfiltered keypoints.
    fps: frame rate used for the filter's time when ``update`` gets no timestamp.
    mark_fragments: a person that is a fragment of another found in the same frame gets no id
        (``person_id`` -1) and starts no track (see ``update``); False gives every person an id.
    camera_motion: estimate the displacement that most tracks share each frame (a camera pan or
        shake) and move every track's prediction by it before matching (step 1 below).

    ``update(people)`` sets ``person.person_id`` on each :class:`tfpose.Person` (or any object with
    ``keypoints`` [P, 3] and a writable ``person_id``) and returns the same list. Algorithm per
    frame:

    1. predict each track's keypoints (last position of each part + velocity x frames since seen,
       stopping at the image border), then move all predictions by the common motion of the frame
       (``camera_motion``);
    2. similarity of every track with every person, COCO's per-keypoint similarity (sigmas of
       :func:`keypoint_sigmas`, scale s^2 the larger keypoint box, widened for lost tracks) summed
       over the parts both have. A pair can match when the mean over those parts reaches
       ``oks_threshold`` (a partly hidden person still matches); pairs are ranked by that sum
       divided by the larger part count of the two, the smaller of COCO's two OKS (COCO's
       keypoint evaluation divides by the parts of the reference pose; here each pose in turn is
       the reference), so a part one has and the other lacks counts 0 and a fragment that fits a
       few parts perfectly never outranks the whole person with ordinary jitter;
    3. assignment (cascade by recency, then optimal or greedy);
    4. fragments: a person with fewer parts than another of the frame, most of whose parts lie
       within OKS reach of that person's (per-keypoint similarity >= 0.3 with the parts found or,
       for a tracked person, predicted) is a fragment: ``person_id`` -1, no track; its parts the
       person lacks refresh the person's track; :attr:`fragments` names its person;
    5. matched tracks take the person's keypoints and update their velocity (median part
       displacement per frame, averaged with the previous velocity); other people start tracks
       with the next id (a person with no part found gets none: ``person_id`` -1); tracks lost longer than ``max_lost_frames`` are dropped and their ids
       retired.

    Raises ValueError for keypoints of another shape (e.g. people of another pose model),
    non-finite coordinates of a found part, or a timestamp earlier than the previous one.
    """

    def __init__(
        self,
        pose_model: str = "COCO_18",
        *,
        oks_threshold: float = DEFAULT_OKS_THRESHOLD,
        assignment: str = "optimal",
        max_lost_frames: int = 30,
        max_part_age: int = 10,
        max_predict_frames: int = 30,
        lost_scale_growth: float = 0.1,
        smooth: bool = False,
        cascade: bool = True,
        min_cutoff: float = 1.0,
        beta: float = 0.05,
        d_cutoff: float = 1.0,
        fps: float = 30.0,
        mark_fragments: bool = True,
        camera_motion: bool = True,
    ):
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
        for name, v in (
            ("max_lost_frames", max_lost_frames),
            ("max_part_age", max_part_age),
            ("max_predict_frames", max_predict_frames),
        ):
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"{name}: expected an int >= 0, got {v!r}")
        self.max_lost_frames, self.max_part_age = max_lost_frames, max_part_age
        self.max_predict_frames = max_predict_frames
        if not (
            isinstance(lost_scale_growth, (int, float)) and math.isfinite(lost_scale_growth) and lost_scale_growth >= 0
        ):
            raise ValueError(f"lost_scale_growth: expected a finite number >= 0, got {lost_scale_growth!r}")
        self.lost_scale_growth = float(lost_scale_growth)
        if not (isinstance(fps, (int, float)) and math.isfinite(fps) and fps > 0):
            raise ValueError(f"fps: expected a finite number > 0, got {fps!r}")
        self.fps = float(fps)
        self.smooth = bool(smooth)
        self.cascade = bool(cascade)
        self.mark_fragments = bool(mark_fragments)
        self.camera_motion = bool(camera_motion)
        self._filter_args = _check_filter_args(min_cutoff, beta, d_cutoff)
        self._next_id = 0
        self._frame = -1
        self._fragments = {}
        self.reset()

    @property
    def next_id(self) -> int:
        """The id the next new person will get (= the number of ids given so far)."""
        return self._next_id

    @property
    def fragments(self) -> dict[int, int]:
        """Fragments of the last ``update``: {index in its ``people``: id of the person it is a
        part of}. A fragment keeps ``person_id`` -1 (see :meth:`update`)."""
        return dict(self._fragments)

    @property
    def active_ids(self) -> list[int]:
        """Ids of the tracks currently remembered (matched now or lost for at most max_lost_frames)."""
        return [int(i) for i in self._ids]

    def reset(self) -> None:
        """Forget every track (a new video, a cut). Ids keep counting: none is ever reused."""
        P = self.num_parts
        # Track state, one row per track (T tracks): id; last position of each part [T, P, 2] and
        # the frame it was seen [T, P] (-1 never); last frame matched [T]; velocity [T, 2] in
        # pixels per frame; One-Euro state per coordinate (filtered value, derivative, time, valid).
        self._ids = np.zeros(0, np.int64)
        self._xy = np.zeros((0, P, 2))
        self._seen = np.zeros((0, P), np.int64)
        self._last = np.zeros(0, np.int64)
        self._vel = np.zeros((0, 2))
        self._fx = np.zeros((0, P, 2))
        self._fdx = np.zeros((0, P, 2))
        self._ft = np.zeros((0, P))
        self._fhas = np.zeros((0, P), bool)
        self._time = None
        self._gaps = []  # the last _PERIOD_WINDOW times between two updates (s): their median is one frame period
        self._image_size = None
        self._fragments = {}

    _STATE = ("_ids", "_xy", "_seen", "_last", "_vel", "_fx", "_fdx", "_ft", "_fhas")

    def _check(self, people) -> np.ndarray:
        for i, p in enumerate(people):
            try:
                if not hasattr(p, "keypoints"):
                    raise AttributeError("keypoints")
                # proves person_id writable before any track changes (same value: nothing changes)
                p.person_id = getattr(p, "person_id", -1)
            except (AttributeError, TypeError):
                raise TypeError(
                    f"people[{i}]: expected an object with keypoints [{self.num_parts}, 3] and a writable "
                    f"person_id (e.g. tfpose.Person), got {type(p).__name__}"
                ) from None
        shapes = [np.shape(p.keypoints) for p in people]
        for i, shape in enumerate(shapes):
            if tuple(shape) != (self.num_parts, 3):
                raise ValueError(
                    f"people[{i}].keypoints: expected shape [{self.num_parts}, 3] for pose model "
                    f"{self.pose_model}, got {tuple(shape)} (people from another pose model?)"
                )
        if not people:
            return np.zeros((0, self.num_parts, 3))
        kps = np.array([p.keypoints for p in people], dtype=np.float64)
        found = kps[:, :, 2] > 0
        bad = ~np.isfinite(kps[:, :, 2]) | (found & ~np.isfinite(kps[:, :, :2]).all(-1))
        if bad.any():
            i = int(np.flatnonzero(bad.any(1))[0])
            raise ValueError(f"people[{i}].keypoints: expected finite values, got {kps[i].tolist()}")
        return kps

    def _predicted(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Tracks' predicted part positions [T, P, 2], usable parts [T, P], frames lost [T]."""
        f, xy, seen, vel, last = self._frame, self._xy, self._seen, self._vel, self._last
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
                room = np.where(vel > 0, (np.array([w, h]) - centre) / vel, np.where(vel < 0, centre / -vel, np.inf))
            stop = last + np.maximum(room.min(1), 0.0)  # frame at which the centre reaches the border
            steps = np.minimum(steps, (stop[:, None] - seen).clip(min=0))
        return xy + vel[:, None, :] * steps[..., None], usable, f - last

    def _assign(self, sim: np.ndarray) -> list[tuple[int, int]]:
        """Track-person pairs from a similarity [T, D] (COCO OKS, track as reference) that is < 0
        where the pair is not allowed."""
        ok = sim >= 0
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
        timestamp: the frame's time in seconds (for the filter and to count dropped frames: the
            median time between two updates is one frame period, a longer gap counts its number
            of periods, at most 1000); default frame number / fps.
        image_size: (H, W) of the frame; when it changes, the tracks are forgotten (positions in
            frames of different sizes are not comparable) and ids go on counting.
        Returns ``people`` with ``person_id`` set: a track's id, or -1 for a fragment or a person
        with no part found (every score <= 0; no track either) (OpenPose's JSON value for "no id";
        drawn in the part colours, no id written); keypoints filtered in place if ``smooth``.
        Raises TypeError for a person that is not an object with ``keypoints`` and a writable
        ``person_id`` (a raw [P, 3] array, say); ValueError for keypoints of another shape or not
        finite, an ``image_size`` that is not two ints > 0, a ``timestamp`` that is not a finite
        number or goes back. Every argument is checked first: a refused update changes nothing.
        """
        people = list(people)
        # Every argument is checked before any state changes: a refused update changes nothing.
        kps = self._check(people)
        if image_size is not None:
            try:
                image_size = tuple(int(v) for v in image_size)
                if len(image_size) != 2 or min(image_size) <= 0:
                    raise ValueError
            except (TypeError, ValueError):
                raise ValueError(f"image_size: expected (H, W), two ints > 0, got {image_size!r}") from None
        resets = image_size is not None and self._image_size is not None and image_size != self._image_size
        if timestamp is None:
            timestamp = (self._frame + 1) / self.fps
        try:
            timestamp = float(timestamp)
        except (TypeError, ValueError):
            raise ValueError(f"timestamp: expected seconds (a number), got {timestamp!r}") from None
        last = None if resets else self._time
        if not math.isfinite(timestamp) or (last is not None and timestamp < last):
            raise ValueError(f"timestamp: expected finite seconds, never decreasing, got {timestamp} after {last}")
        if resets:
            self.reset()
        if image_size is not None:
            self._image_size = image_size
        self._frame += self._frames_elapsed(timestamp)
        self._time = timestamp
        f = self._frame
        visible = kps[:, :, 2] > 0
        xy = kps[:, :, :2]
        n = len(people)
        rows, cols = np.zeros(0, np.int64), np.zeros(0, np.int64)
        self._fragments = {}
        pred = usable = None
        if len(self._ids) and n:
            pred, usable, lost = self._predicted()
            if self.camera_motion:
                pred = pred + self._common_shift(pred, usable, xy, visible)
            area = np.maximum(_box_area(pred, usable)[:, None], _box_area(xy, visible)[None, :])
            area = area * (1.0 + self.lost_scale_growth * np.maximum(lost - 1, 0))[:, None]
            total, common = _oks_sum(pred, usable, xy, visible, self.sigmas, area)
            # Two similarities: the mean over the parts both have decides whether a person can be the
            # track at all (a partly hidden person still can); the smaller of COCO's two OKS, either
            # pose taken as the reference (the sum over the common parts divided by the larger part
            # count), ranks the candidates: a part one has and the other lacks counts 0, so neither a
            # fragment nor a track born of one outranks the fuller pose of the same person.
            gate = np.where(common > 0, total / np.maximum(common, 1), 0.0)
            larger = np.maximum(usable.sum(1)[:, None], visible.sum(1)[None, :])
            sim = np.where(gate >= self.oks_threshold, total / np.maximum(larger, 1), -1.0)
            sim[:, ~visible.any(1)] = -1.0  # a person with no part found is no one's
            pairs = []
            levels = np.unique(lost) if self.cascade else lost[:1]
            if len(levels) > 1:
                # tracks matched more recently choose first (DeepSORT's matching cascade)
                free = np.ones(n, bool)
                for level in levels:
                    cand = np.flatnonzero(free)
                    if not len(cand):
                        break
                    level_rows = np.flatnonzero(lost == level)
                    got = self._assign(sim[np.ix_(level_rows, cand)])
                    pairs += [(level_rows[r], cand[c]) for r, c in got]
                    free[[cand[c] for _, c in got]] = False
            else:
                pairs = self._assign(sim)
            if pairs:
                rows, cols = (np.array(v, np.int64) for v in zip(*pairs))
        owners = {}
        if self.mark_fragments and n > 1:
            owners = {c: o for c, o in self._owners(xy, visible, rows, cols, pred, usable).items() if visible[c].any()}
            if owners:
                keep = ~np.isin(cols, list(owners))
                rows, cols = rows[keep], cols[keep]
        if len(rows):
            # velocity: median displacement per frame of the parts seen before and now, averaged
            # with the previous velocity
            both = visible[cols] & (self._seen[rows] >= 0)
            gap = np.maximum(f - self._seen[rows], 1)[..., None]
            moved = np.where(both[..., None], (xy[cols] - self._xy[rows]) / gap, np.nan)
            count = both.sum(1)
            has = count > 0
            if has.any():
                # median over each row's parts (NaN sort last; numpy's nanmedian is far slower)
                srt = np.sort(moved[has], axis=1)
                k = count[has]
                i = np.arange(len(k))
                step = 0.5 * (srt[i, (k - 1) // 2] + srt[i, k // 2])
                self._vel[rows[has]] = 0.5 * (self._vel[rows[has]] + step)
        unmatched = np.ones(n, bool)
        unmatched[cols] = False
        unmatched[list(owners)] = False
        # No part found (every score <= 0): nothing to track it by; it would start a new id every frame.
        unmatched[~visible.any(1)] = False
        new = np.flatnonzero(unmatched)
        if len(new):
            T, k, P = len(self._ids), len(new), self.num_parts
            grow = {
                "_ids": np.arange(self._next_id, self._next_id + k),
                "_xy": np.zeros((k, P, 2)),
                "_seen": np.full((k, P), -1),
                "_last": np.full(k, f),
                "_vel": np.zeros((k, 2)),
                "_fx": np.zeros((k, P, 2)),
                "_fdx": np.zeros((k, P, 2)),
                "_ft": np.zeros((k, P)),
                "_fhas": np.zeros((k, P), bool),
            }
            for name in self._STATE:
                setattr(self, name, np.concatenate([getattr(self, name), grow[name].astype(getattr(self, name).dtype)]))
            self._next_id += k
            rows = np.concatenate([rows, np.arange(T, T + k)])
            cols = np.concatenate([cols, new])
        vis = visible[cols]
        self._xy[rows] = np.where(vis[..., None], xy[cols], self._xy[rows])
        self._seen[rows] = np.where(vis, f, self._seen[rows])
        self._last[rows] = f
        for c in np.flatnonzero(~visible.any(1)):
            people[c].person_id = -1
        for r, c in zip(rows, cols):
            people[c].person_id = int(self._ids[r])
        if owners:
            row_of = dict(zip(cols.tolist(), rows.tolist()))
            for c, o in owners.items():
                people[c].person_id = -1
                self._fragments[c] = people[o].person_id
                # the track remembers the parts the fragment found and its person lacks, so the
                # same split in the next frames is still recognised when those parts age out
                r, extra = row_of[o], visible[c] & ~visible[o]
                self._xy[r, extra] = xy[c, extra]
                self._seen[r, extra] = f
        if self.smooth and len(rows):
            self._smooth(people, xy, rows, cols, vis, timestamp)
        keep = f - self._last <= self.max_lost_frames
        if not keep.all():
            for name in self._STATE:
                setattr(self, name, getattr(self, name)[keep])
        return people

    def _frames_elapsed(self, t: float) -> int:
        """Frames since the last update: the time since it in frame periods (a video that dropped
        frames skips some), at least 1. The frame period is the median time between two updates
        over the last ``_PERIOD_WINDOW`` (dropped frames lengthen a minority of the gaps; one odd
        timestamp moves no median)."""
        if self._time is None:
            return 1
        dt = t - self._time
        if dt <= 0:
            return 1
        self._gaps = (self._gaps + [dt])[-_PERIOD_WINDOW:]
        period = statistics.median(self._gaps)  # (numpy's median costs ~20 us on a short list)
        # rounding absorbs timestamp jitter; a gap beyond 1000 periods is a cut or a pause, not drops
        return int(min(max(round(dt / period), 1), 1000))

    def _common_shift(self, pred, usable, xy, visible) -> np.ndarray:
        """The displacement [2] (pixels) that most tracks share this frame beyond their own
        velocity: a camera pan or shake moves every person at once, and the first frames of a pan
        find tracks with no velocity yet. Votes: for every track-person pair with at least
        ``_SHIFT_MIN_PARTS`` common parts, the mean displacement of those parts; candidates are
        each track's and each person's smallest pair displacement; a track supports a candidate when
        one of its pairs lies within ``_SHIFT_RADIUS`` of its scale (at least ``_SHIFT_MIN_RADIUS``
        pixels) of it. Returns the mean displacement of the best candidate's supporters (each
        track's pair closest to it) when at least 2 tracks and more than half of the voting tracks
        support it, and more than support no shift at all; else 0 (people moving each their own
        way, or a group among others, keep their own velocities)."""
        T, D = len(pred), len(xy)
        if T < 2 or D < 2:
            return np.zeros(2)
        common = usable[:, None] & visible[None]  # [T, D, P]
        cnt = common.sum(-1)
        ok = cnt >= _SHIFT_MIN_PARTS
        voters = int(ok.any(1).sum())
        if voters < 2:
            return np.zeros(2)
        # mean displacement of the common parts (a median costs a sort of T x D x P values)
        dx = np.where(common, xy[None, :, :, 0] - pred[:, None, :, 0], 0.0).sum(-1)
        dy = np.where(common, xy[None, :, :, 1] - pred[:, None, :, 1], 0.0).sum(-1)
        c = np.maximum(cnt, 1)
        med = np.where(ok[..., None], np.stack([dx / c, dy / c], -1), np.inf)  # [T, D, 2]
        norm = np.hypot(med[..., 0], med[..., 1])  # inf where no vote
        radius = np.maximum(_SHIFT_RADIUS * np.sqrt(_box_area(pred, usable)), _SHIFT_MIN_RADIUS)  # [T]
        if (norm.min(1) <= radius).sum() == voters:
            return np.zeros(2)  # every voting track has a person where its own velocity puts it
        t_best, d_best = norm.argmin(1), norm.argmin(0)
        cand = np.concatenate(
            [
                np.zeros((1, 2)),
                med[np.arange(T), t_best][np.isfinite(norm.min(1))],
                med[d_best, np.arange(D)][np.isfinite(norm.min(0))],
            ]
        )  # [C, 2]
        if len(cand) > _SHIFT_MAX_CANDIDATES:  # memory and time stay bounded in a crowd
            cand = cand[np.linspace(0, len(cand) - 1, _SHIFT_MAX_CANDIDATES).round().astype(np.int64)]
        dist = np.hypot(*(med[None] - cand[:, None, None]).transpose(3, 0, 1, 2))  # [C, T, D]
        dist = np.where(np.isfinite(dist), dist, np.inf)
        near = dist.min(2) <= radius[None]  # [C, T]
        support = near.sum(1)
        best = int(np.argmax(support))
        if support[best] < 2 or 2 * support[best] <= voters or support[best] <= support[0]:
            return np.zeros(2)
        sup = np.flatnonzero(near[best])
        return med[sup, dist[best, sup].argmin(1)].mean(0)

    def _owners(self, xy, visible, rows, cols, pred, usable) -> dict:
        """People of this frame that are fragments of another: {index: the owner's index}.

        OpenPose's grouping can split one person into a body and a few loose parts. A person U is
        a fragment of a person O with more parts when most of U's parts lie within OKS reach of O's
        same parts: COCO per-keypoint similarity >= ``_FRAGMENT_PART_OKS`` at O's scale, O's parts
        being those found now, else (when O is a track's person) the track's predicted ones. A
        person matched to a track can only be a fragment of another matched person (a fragment
        that took a track born of an earlier fragment); an unmatched one also of a person that
        starts a track now. People are checked largest first, so a fragment never owns a larger
        one."""
        n = len(xy)
        ref_xy, ref_vis = xy.copy(), visible.copy()
        if len(rows):
            use = ~visible[cols] & usable[rows]  # parts the track knows and the person lacks now
            ref_xy[cols] = np.where(use[..., None], pred[rows], xy[cols])
            ref_vis[cols] |= use
        area = _box_area(ref_xy, ref_vis)  # the owner's scale: its whole pose, found or predicted
        k2 = (2.0 * self.sigmas) ** 2
        d2 = (xy[:, None, :, 0] - ref_xy[None, :, :, 0]) ** 2 + (xy[:, None, :, 1] - ref_xy[None, :, :, 1]) ** 2
        near = np.exp(-np.minimum(d2 / (2.0 * area[None, :, None] * k2), 50.0)) >= _FRAGMENT_PART_OKS
        reach = (near & visible[:, None] & ref_vis[None]).sum(-1)  # [U, O]
        n_parts = visible.sum(1)
        cand = (n_parts[None, :] > n_parts[:, None]) & (2 * reach > n_parts[:, None])
        np.fill_diagonal(cand, False)
        has = cand.any(1)
        if not has.any():
            return {}
        matched = np.zeros(n, bool)
        matched[cols] = True
        can_own = matched | ~has  # a person that cannot be a fragment is a person (or starts one)
        found = {}
        for u in sorted(np.flatnonzero(has), key=lambda i: -n_parts[i]):
            ok = cand[u] & (can_own & matched if matched[u] else can_own)
            if ok.any():
                o = int(np.flatnonzero(ok)[np.argmax(reach[u][ok])])
                found[int(u)] = o
                can_own[u] = False
            elif not matched[u]:
                can_own[u] = True  # it starts a track: it can own smaller fragments
        return found

    def _smooth(self, people, xy, rows, cols, vis, t) -> None:
        """One-Euro step on the matched people's found keypoints; a part not found now keeps no
        state (it restarts when found again); keypoints outside ``vis`` are left as they are."""
        old = (self._fhas[rows] & vis)[..., None]
        x = xy[cols]
        te = np.where(old, np.maximum(t - self._ft[rows], 1e-6)[..., None], 1.0)
        x_hat, dx_hat = _one_euro_step(x, self._fx[rows], self._fdx[rows], te, *self._filter_args)
        out = np.where(old, x_hat, x)
        self._fx[rows] = np.where(vis[..., None], out, self._fx[rows])
        self._fdx[rows] = np.where(old, dx_hat, 0.0)
        self._ft[rows] = np.where(vis, t, self._ft[rows])
        self._fhas[rows] = vis
        for j, c in enumerate(cols):
            k = np.array(people[c].keypoints, dtype=np.float32, copy=True)
            k[vis[j], :2] = out[j][vis[j]]
            people[c].keypoints = k
