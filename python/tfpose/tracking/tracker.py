"""The tracker: :class:`PoseTracker` gives each person a persistent id across the frames of one video
(see :mod:`tfpose.tracking` for the method). No TensorFlow here.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tfpose import _core
from tfpose.tracking.assignment import ASSIGNMENTS, NO_PAIRS, assign_cascade, check_assignment
from tfpose.tracking.fragments import fragment_owners
from tfpose.tracking.inputs import check_image_size, check_people, check_timestamp
from tfpose.tracking.motion import (
    SCENE_MIN_SHARE,
    SCENE_MIN_TRACKS,
    SCENE_TOLERANCE,
    SHIFT_MAX_CANDIDATES,
    SHIFT_MIN_PARTS,
    SHIFT_MIN_RADIUS,
    SHIFT_RADIUS,
)
from tfpose.tracking.period import FramePeriod
from tfpose.tracking.similarity import DEFAULT_OKS_THRESHOLD, keypoint_sigmas
from tfpose.tracking.smoothing import check_filter_args

__all__ = ["PoseTracker", "ASSIGNMENTS"]

# One-Euro state per part of each track: filtered x, y; filtered derivative dx, dy (pixels/s); time
# of the last filtered value (s); 1 where that state is valid (the part was found last time). The
# layout is the C++ core's (cpp/include/tfpose/tracking.hpp), which updates it.
FILTER_STATE = _core.TRACK_FILTER_STATE


class PoseTracker:
    """Persistent person ids across the frames of one video or stream.

    pose_model: "COCO_18", "BODY_25", "MPI_15" or "MPI_15_4" (the people's part layout).
    oks_threshold: least OKS between a track and a person for them to be the same person.
    assignment: "optimal" (``scipy.optimize.linear_sum_assignment``: the most matches, then the
        largest total OKS) or "greedy" (highest OKS pair first); where the similarities already
        determine the answer, it is taken without the solver (:func:`~tfpose.tracking.assignment.assign`).
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
       (``camera_motion``). A track matched only once has no velocity of its own (unknown, not 0):
       it is predicted both standing still and moving at the scene's velocity, the one nearly all
       tracks with a velocity share (a camera pan, a moved photograph, or just people walking
       together; the rule and its reasons: :mod:`tfpose.tracking.motion`), and each person is
       scored against the better of the two (step 2), so a person found only every few frames
       matches in a pan and a bystander beside people walking together matches standing still;
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
       displacement per frame, averaged with the velocity the track was predicted with: its own,
       or the scene's for a track without one, step 1); other people start tracks
       with the next id (a person with no part found gets none: ``person_id`` -1); tracks lost longer than
       ``max_lost_frames`` are dropped and their ids retired. Frames dropped before this one count:
       a track that missed more than ``max_lost_frames`` frames up to the one before is dropped
       before step 1 (it matches no one), as if the dropped frames had come empty.

    Raises ValueError for keypoints of another shape (e.g. people of another pose model),
    non-finite coordinates of a found part, or a timestamp earlier than the previous one.

    A tracker holds one video's state and takes its frames in order: use one per video and per
    thread (calls from several threads must take turns, e.g. under a lock; interleaved they corrupt
    the state).
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
        self.assignment = check_assignment(assignment)
        if self.assignment == "optimal":
            # imported now, not at the first frame the solver is needed (~0.3 s: a live stream's stall)
            import scipy.optimize  # noqa: F401
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
        self._filter_args = check_filter_args(min_cutoff, beta, d_cutoff)
        self._next_id = 0
        self._frame = -1
        self._fragments: dict[int, int] = {}
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
        # pixels per frame and the number of measurements it is made of [T] (0: none yet, the track
        # moves with the scene); One-Euro state [T, P, FILTER_STATE].
        self._ids = np.zeros(0, np.int64)
        self._xy = np.zeros((0, P, 2))
        self._seen = np.zeros((0, P), np.int64)
        self._last = np.zeros(0, np.int64)
        self._vel = np.zeros((0, 2))
        self._measured = np.zeros(0, np.int64)
        self._filt = np.zeros((0, P, FILTER_STATE))
        self._time: float | None = None
        self._period = FramePeriod()  # (the times between updates)
        self._image_size: tuple[int, int] | None = None
        self._fragments = {}
        # at most every track's last match (= it when all matched last frame): spares most _forget a look
        self._oldest = self._frame

    _STATE = ("_ids", "_xy", "_seen", "_last", "_vel", "_measured", "_filt")
    # (a class attribute so that tests/reference/numpy_tracking.py can put the numpy version in)
    _fragment_owners = staticmethod(fragment_owners)

    def _people(self, people: list) -> tuple[np.ndarray, np.ndarray]:
        """kps [D, P, 3] float64 and visible [D, P] (score > 0), checked as :meth:`_check` does: the
        usual frame (arrays of finite numbers) in one compiled call (tfpose._core.track_gather),
        anything else by :meth:`_check`, which names what is wrong."""
        got = _core.track_gather(people, self.num_parts)
        if got is not None:
            return got
        kps = self._check(people)
        return kps, kps[:, :, 2] > 0

    def _check(self, people) -> np.ndarray:
        """kps [D, P, 3] float64 of the people, checked (:func:`tfpose.tracking.inputs.check_people`)."""
        return check_people(people, self.num_parts, self.pose_model)

    def _predicted(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Tracks' predicted part positions [T, P, 2], usable parts [T, P], frames lost [T] (step 1 of
        the class docstring, in the C++ core: tfpose._core.track_predict, cpp/core/tracking.cc):
        the last position of each part + velocity x frames since it was seen, within [0,
        max_predict_frames] (a track without a velocity of its own: the scene's, step 1); a part
        counts if seen at most max_part_age frames before the track's last match (a lost track is
        matched on the whole pose it last had); a person walking out of the frame is expected back
        where they left, not further on: the prediction stops when the centre of the pose's usable
        parts reaches the image border."""
        return _core.track_predict(
            self._xy,
            self._seen,
            self._last,
            self._vel,
            self._measured,
            self._filt,
            self._frame,
            self.max_part_age,
            self.max_predict_frames,
            self._image_size or (0, 0),
            SCENE_MIN_TRACKS,
            SCENE_MIN_SHARE,
            SCENE_TOLERANCE,
        )

    def _advance(
        self,
        rows: np.ndarray,
        cols: np.ndarray,
        still: np.ndarray,
        kps: np.ndarray,
        visible: np.ndarray,
        f: int,
        t: float,
    ) -> np.ndarray:
        """Step 5 for the pairs (rows, cols) in the C++ core (tfpose._core.track_advance): velocity
        (median part displacement per frame averaged with the velocity the track was predicted with:
        its own, or the scene's, or 0 where still [len(rows)] says the pair matched the track's
        standing-still prediction), the tracks take their person's found parts, and if ``smooth`` one
        One-Euro step per found part (a part not found keeps no filter state: it restarts when found
        again). Returns the pairs' keypoints
        [len(rows), P, 3] float32, smoothed ([0, P, 3] without smoothing)."""
        return _core.track_advance(
            self._xy,
            self._seen,
            self._last,
            self._vel,
            self._measured,
            self._filt,
            rows,
            cols,
            still,
            kps,
            visible,
            f,
            SCENE_MIN_TRACKS,
            SCENE_MIN_SHARE,
            SCENE_TOLERANCE,
            self.smooth,
            t,
            self._filter_args,
        )

    def update(self, people: Any, timestamp: float | None = None, image_size: Any = None) -> list:
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
        finite, an ``image_size`` that is not two whole numbers in 1..2**31-1, a ``timestamp`` that is not a finite
        number or goes back. Every argument is checked first: a refused update changes nothing.
        """
        people = list(people)
        # Every argument is checked before any state changes: a refused update changes nothing.
        kps, visible = self._people(people)
        image_size = check_image_size(image_size)
        resets = image_size is not None and self._image_size is not None and image_size != self._image_size
        timestamp = self._check_timestamp(timestamp, None if resets else self._time)
        if resets:
            self.reset()
        if image_size is not None:
            self._image_size = image_size
        self._frame += self._frames_elapsed(timestamp)
        self._time = timestamp
        f = self._frame
        # Dropped frames count as frames: a track that would have been forgotten in one of them, had
        # it come empty, is forgotten before the matching, so that it cannot match (and keep its id)
        # in the frame after a gap.
        self._forget(f - 1)
        self._fragments = {}
        rows, cols, pred, usable, still = self._match(kps, visible)
        owners = {}
        if self.mark_fragments and len(people) > 1:
            found = self._fragment_owners(kps, visible, rows, cols, pred, usable, self.sigmas)
            owners = {c: o for c, o in found.items() if visible[c].any()}
            if owners:
                keep = ~np.isin(cols, list(owners))
                rows, cols = rows[keep], cols[keep]
        rows, cols = self._start_tracks(rows, cols, owners, visible, f)
        if len(rows):
            # (new tracks, appended after the old ones, matched no prediction)
            still = (
                np.zeros(len(rows), bool) if still is None else np.append(still, False)[np.minimum(rows, len(still))]
            )
            keypoints = self._advance(rows, cols, still, kps, visible, f, timestamp)
            for j, c in enumerate(cols.tolist() if self.smooth else ()):
                people[c].keypoints = keypoints[j]  # each its own float32 row of one new array
        self._commit(people, rows, cols, owners, kps, visible, f)
        if len(rows) == len(self._ids):
            self._oldest = f  # every track matched now (rows are distinct)
        else:
            self._forget(f)
        return people

    def _forget(self, f: int) -> None:
        """Drop the tracks that, at the end of frame f, have matched nobody for more than
        ``max_lost_frames`` frames (f - last match > max_lost_frames); their ids are retired."""
        if f - self._oldest <= self.max_lost_frames:
            return  # (_oldest is at most every track's last match)
        self._oldest = int(self._last.min()) if len(self._last) else f
        if f - self._oldest > self.max_lost_frames:
            keep = f - self._last <= self.max_lost_frames
            for name in self._STATE:
                setattr(self, name, getattr(self, name)[keep])
            self._oldest = int(self._last.min()) if len(self._last) else f

    def _check_timestamp(self, timestamp: Any, last: float | None) -> float:
        """The frame's time in seconds (default: the next frame at ``fps``), checked by
        :func:`tfpose.tracking.inputs.check_timestamp`."""
        return check_timestamp((self._frame + 1) / self.fps if timestamp is None else timestamp, last)

    def _match(self, kps: np.ndarray, visible: np.ndarray) -> tuple:
        """Steps 1-3 of the class docstring for the frame's keypoints kps [D, P, 3] (float64): (rows,
        cols) the matched track and person indices (int64 arrays), the tracks' predicted parts
        [T, P, 2] and usable parts [T, P] (both None when there are no tracks or no people), and
        still [T] (tracks matched on their standing-still prediction) or None."""
        if not (len(self._ids) and len(kps)):
            return *NO_PAIRS, None, None, None
        pred, usable, lost = self._predicted()
        # A track without a velocity of its own that the scene's velocity moved may as well stand
        # still (two people walking together look like a pan): each person is scored against both
        # predictions and the better one counts (step 1 of the class docstring).
        drift = None if self._measured.all() else (self._measured == 0) & (pred != self._xy).any(axis=(1, 2))
        if drift is None or not drift.any():
            pred, sim, pairs = self._scores(pred, usable, lost, kps, visible)
            if pairs is not None:
                return *pairs, pred, usable, None
            rows, cols = self._assign(sim, lost, len(kps))
            return rows, cols, pred, usable, None
        standing = np.where(drift[:, None, None], self._xy + 0.0, pred)  # (+0.0: as velocity 0 predicts)
        pred, sim, _ = self._scores(pred, usable, lost, kps, visible)
        pred_still, sim_still, _ = self._scores(standing, usable, lost, kps, visible)
        better = drift[:, None] & (sim_still > sim)
        rows, cols = self._assign(np.where(better, sim_still, sim), lost, len(kps))
        still = np.zeros(len(lost), bool)
        still[rows] = better[rows, cols]
        return rows, cols, np.where(still[:, None, None], pred_still, pred), usable, still

    def _assign(self, sim: np.ndarray, lost: np.ndarray, people: int) -> tuple[np.ndarray, np.ndarray]:
        """Step 3: (rows, cols) from the similarity [T, D] and the frames each track is lost [T]."""
        # (one level when every track matched last frame: then _oldest, at most any last match, is it)
        one_level = not (self.cascade and len(lost) > 1 and self._oldest != self._frame - 1)
        return assign_cascade(sim, lost, self.assignment, one_level)

    def _scores(
        self, pred: np.ndarray, usable: np.ndarray, lost: np.ndarray, kps: np.ndarray, visible: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, tuple | None]:
        """The end of step 1, step 2 and the usual step 3 in one compiled call
        (tfpose._core.track_scores): with ``camera_motion`` and 2 tracks and 2 people (a shared
        motion needs them), pred [T, P, 2] moved by :func:`tfpose.tracking.motion.common_shift`
        when not 0; :meth:`_similarity` of that; the assignment's pairs (rows, cols) when the
        cascade has one level (every track lost as long) and they are determined (the rule and its
        proof: :func:`~tfpose.tracking.assignment.assign`), else None. Returns (pred, moved or the
        same array; the similarity [T, D]; the pairs or None)."""
        return _core.track_scores(
            pred,
            usable,
            lost,
            kps,
            visible,
            self.sigmas,
            self.lost_scale_growth,
            self.oks_threshold,
            self.camera_motion,
            SHIFT_MIN_PARTS,
            SHIFT_MAX_CANDIDATES,
            SHIFT_RADIUS,
            SHIFT_MIN_RADIUS,
            self.assignment,
            self.cascade,
        )

    def _similarity(
        self, pred: np.ndarray, usable: np.ndarray, lost: np.ndarray, kps: np.ndarray, visible: np.ndarray
    ) -> np.ndarray:
        """Track-person similarity [T, D] (step 2 of the class docstring), -1 where a pair may not match;
        in the C++ core (tfpose._core.track_similarity, cpp/core/tracking.cc).

        Two similarities: the mean over the parts both have decides whether a person can be the
        track at all (a partly hidden person still can); the smaller of COCO's two OKS, either pose
        taken as the reference (the sum over the common parts divided by the larger part count),
        ranks the candidates: a part one has and the other lacks counts 0, so neither a fragment nor
        a track born of one outranks the fuller pose of the same person. A person with no part is no
        one's. The scale s^2 is the larger keypoint box of the two, widened for a lost track."""
        return _core.track_similarity(
            pred, usable, lost, kps, visible, self.sigmas, self.lost_scale_growth, self.oks_threshold
        )

    def _start_tracks(
        self, rows: np.ndarray, cols: np.ndarray, owners: dict, visible: np.ndarray, f: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """New tracks, with the next ids, for the people neither matched nor fragments (and with a
        part found). Returns rows and cols with the new pairs appended."""
        if len(cols) + len(owners) == len(visible):
            return rows, cols  # every person matched or a fragment (the two are disjoint)
        unmatched = np.ones(len(visible), bool)
        unmatched[cols] = False
        unmatched[list(owners)] = False
        # No part found (every score <= 0): nothing to track it by; it would start a new id every frame.
        unmatched[~visible.any(1)] = False
        new = np.flatnonzero(unmatched)
        if not len(new):
            return rows, cols
        T, k, P = len(self._ids), len(new), self.num_parts
        grow = {
            "_ids": np.arange(self._next_id, self._next_id + k),
            "_xy": np.zeros((k, P, 2)),
            "_seen": np.full((k, P), -1),
            "_last": np.full(k, f),
            "_vel": np.zeros((k, 2)),
            "_measured": np.zeros(k, np.int64),
            "_filt": np.zeros((k, P, FILTER_STATE)),
        }
        for name in self._STATE:
            setattr(self, name, np.concatenate([getattr(self, name), grow[name].astype(getattr(self, name).dtype)]))
        self._next_id += k
        return np.concatenate([rows, np.arange(T, T + k)]), np.concatenate([cols, new])

    def _commit(
        self,
        people: list,
        rows: np.ndarray,
        cols: np.ndarray,
        owners: dict,
        kps: np.ndarray,
        visible: np.ndarray,
        f: int,
    ) -> None:
        """Every person gets its id (-1 for a fragment or a person with no part); a fragment's extra
        parts refresh its person's track (after the matched tracks took their person's parts)."""
        if len(cols) + len(owners) < len(people):  # people with no part found (all others are in one)
            for c in np.flatnonzero(~visible.any(1)):
                people[c].person_id = -1
        for c, i in zip(cols.tolist(), self._ids.take(rows).tolist(), strict=True):
            people[c].person_id = i
        if owners:
            row_of = dict(zip(cols.tolist(), rows.tolist(), strict=True))
            for c, o in owners.items():
                people[c].person_id = -1
                self._fragments[c] = people[o].person_id
                # the track remembers the parts the fragment found and its person lacks, so the
                # same split in the next frames is still recognised when those parts age out
                r, extra = row_of[o], visible[c] & ~visible[o]
                self._xy[r, extra] = kps[c, extra, :2]
                self._seen[r, extra] = f

    def _frames_elapsed(self, t: float) -> int:
        """Frames since the last update: the time since it in frame periods (a video that dropped
        frames skips some), at least 1 (:class:`tfpose.tracking.period.FramePeriod`: the frame
        period is the median time between two updates over the last ones)."""
        if self._time is None or t <= self._time:
            return 1
        return self._period.frames(t - self._time)
