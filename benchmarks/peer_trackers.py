"""Person-id schemes of two peer projects, written for benchmarks/bench_tracking_metrics.py from a
reading of their sources (no code taken), as baselines for tfpose.PoseTracker. Not part of tfpose.

Both take ``update(people, timestamp=None, image_size=None, image=None)`` like PoseTracker (people:
objects with ``keypoints`` [P, 3] pixels and a writable ``person_id``) and give every person an id.

* :class:`LightweightOpenposeTracker`: lightweight-openpose (Osokin, "Real-time 2D Multi-Person
  Pose Estimation on CPU", 2018; ``modules/pose.py``, ``track_poses`` and ``get_similarity``).
  Frame to frame, no memory: the people of this frame, most confident first, each take the id of
  the not yet taken person of the previous frame with the most "similar keypoints" (parts found in
  both whose COCO per-keypoint similarity exp(-d^2 / (2 (area + eps) (2 sigma)^2)) exceeds 0.5, area
  the larger of the two keypoint bounding boxes), if there are at least 3; otherwise a new id.
* :class:`OpenposeIdExtractor`: OpenPose's ``PersonIdExtractor`` (``src/openpose/tracking/
  personIdExtractor.cpp``, the ``--identification`` flag, which OpenPose itself marks as not
  working yet). Each remembered person's keypoints are moved to the new frame by pyramidal
  Lucas-Kanade optical flow (3 levels, 21x21 window; here OpenCV's ``calcOpticalFlowPyrLK``), then
  matched greedily: among the unmatched people and unused entries, the pairs with the best inlier
  ratio (parts confident in both, >= 0.1, closer than max(10, 30 * sqrt(W * H) / 960) pixels, over
  the parts confident in both), if >= 0.5, are taken in order of total distance; repeat until
  nothing matches; the rest get new ids; every person of the frame replaces its entry; an entry
  not seen for more than 10 frames is forgotten. Where a scenario has no images (the keypoint
  scenarios), the flow step is skipped: entries stay where they were last seen. One deviation: a
  person that ties with two entries takes only the first (OpenPose's loop can overwrite it).
"""

from __future__ import annotations

import numpy as np

from tfpose.tracking import keypoint_sigmas


def _found(k: np.ndarray) -> np.ndarray:
    return k[:, 2] > 0


def _bbox_area(k: np.ndarray) -> float:
    """Area of OpenCV's boundingRect of the found keypoints (integer pixels, inclusive)."""
    pts = k[_found(k), :2].astype(np.int64)
    if not len(pts):
        return 0.0
    w, h = pts.max(0) - pts.min(0) + 1
    return float(w * h)


class LightweightOpenposeTracker:
    """lightweight-openpose's greedy frame-to-frame OKS matching (see the module docstring)."""

    def __init__(self, pose_model: str = "COCO_18", threshold: int = 3, keypoint_threshold: float = 0.5):
        self.vars = (2.0 * keypoint_sigmas(pose_model)) ** 2
        self.threshold, self.keypoint_threshold = threshold, keypoint_threshold
        self.previous = []  # [(id, keypoints, area)]
        self.next_id = 0
        self.size = None

    def _similar(self, a, a_area, b, b_area) -> int:
        both = _found(a) & _found(b)
        d2 = ((a[:, :2] - b[:, :2]) ** 2).sum(1)
        area = max(a_area, b_area)
        sim = np.exp(-d2 / (2.0 * (area + np.spacing(1)) * self.vars))
        return int((both & (sim > self.keypoint_threshold)).sum())

    def update(self, people, timestamp=None, image_size=None, image=None):
        if image_size is not None and self.size is not None and tuple(image_size) != self.size:
            self.previous = []
        self.size = None if image_size is None else tuple(image_size)
        kps = [np.asarray(p.keypoints, np.float64) for p in people]
        areas = [_bbox_area(k) for k in kps]
        taken = np.zeros(len(self.previous), bool)
        order = sorted(range(len(people)), key=lambda i: -float(getattr(people[i], "score", 0.0)))
        for i in order:
            best, best_n = None, 0
            for j, (_pid, k, area) in enumerate(self.previous):
                if taken[j]:
                    continue
                n = self._similar(kps[i], areas[i], k, area)
                if n > best_n:
                    best, best_n = j, n
            if best is not None and best_n >= self.threshold:
                people[i].person_id = self.previous[best][0]
                taken[best] = True
            else:
                people[i].person_id = self.next_id
                self.next_id += 1
        self.previous = [(p.person_id, k, a) for p, k, a in zip(people, kps, areas, strict=True)]
        return people


class OpenposeIdExtractor:
    """OpenPose's PersonIdExtractor (see the module docstring)."""

    def __init__(
        self,
        confidence_threshold: float = 0.1,
        inlier_ratio_threshold: float = 0.5,
        distance_threshold: float = 30.0,
        frames_to_delete: int = 10,
    ):
        self.conf, self.inlier, self.dist = confidence_threshold, inlier_ratio_threshold, distance_threshold
        self.frames_to_delete = frames_to_delete
        self.entries = {}  # id -> [keypoints xy [P, 2] float32, confident [P] bool, frames since seen]
        self.next_id = 0
        self.previous_image = None
        self.size = None

    def _flow(self, image) -> None:
        import cv2

        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
        prev, self.previous_image = self.previous_image, gray
        if prev is None or prev.shape != gray.shape:
            return
        for e in self.entries.values():
            ok = e[1]
            if not ok.any():
                continue
            pts = e[0][ok].reshape(-1, 1, 2).astype(np.float32)
            moved, status, _ = cv2.calcOpticalFlowPyrLK(prev, gray, pts, None, winSize=(21, 21), maxLevel=3)
            xy = e[0].copy()
            xy[ok] = moved.reshape(-1, 2)
            conf = ok.copy()
            conf[np.flatnonzero(ok)[status.reshape(-1) == 0]] = False  # lost by the flow
            e[0], e[1] = xy, conf

    def update(self, people, timestamp=None, image_size=None, image=None):
        size = tuple(image_size) if image_size is not None else (None if image is None else image.shape[:2])
        if size is not None and self.size is not None and size != self.size:
            self.entries, self.previous_image = {}, None
        self.size = size
        for key in list(self.entries):  # OpenPose ages (and drops) entries before the flow
            e = self.entries[key]
            if e[2] > self.frames_to_delete:
                del self.entries[key]
            else:
                e[2] += 1
        if image is not None:
            self._flow(image)
        kps = [np.asarray(p.keypoints, np.float64) for p in people]
        conf = [k[:, 2] >= self.conf for k in kps]
        H, W = size if size is not None else (720, 1280)
        reach = max(10.0, self.dist * float(np.sqrt(W * H)) / 960.0)
        ids = [-1] * len(people)
        used = set()
        while True:
            best, cands = 0.0, []
            for i, k in enumerate(kps):
                if ids[i] != -1:
                    continue
                for key, (xy, ok, _) in self.entries.items():
                    if key in used:
                        continue
                    both = ok & conf[i]
                    active = int(both.sum())
                    if not active:
                        continue
                    d = np.hypot(*(xy[both] - k[both, :2]).T)
                    score = float((d < reach).sum()) / active
                    if score < self.inlier:
                        continue
                    if score > best:
                        best, cands = score, [(float(d.sum()), i, key)]
                    elif score == best:
                        cands.append((float(d.sum()), i, key))
            if not cands:
                break
            for _, i, key in sorted(cands):
                if key in used or ids[i] != -1:
                    continue
                ids[i] = key
                used.add(key)
        for i, p in enumerate(people):
            if ids[i] == -1:
                ids[i] = self.next_id
                self.next_id += 1
            p.person_id = ids[i]
            self.entries[ids[i]] = [kps[i][:, :2].astype(np.float32), conf[i], 0]
        return people
