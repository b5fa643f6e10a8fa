"""OpenPose-style skeleton drawing (OpenPose's CPU renderer rules) with OpenCV; no TensorFlow.

Per person: limb lines for the model's render pairs, coloured with the second part's colour, and a
filled-ring circle per keypoint, drawn only where the keypoint score (both scores for a line) exceeds
the render threshold (OpenPose's ``--render_threshold`` 0.05). Line thickness and circle radius scale
with the image area and the person's size like OpenPose's ``renderKeypointsCpu``. Colours and pairs
come from :func:`tfpose.models.get` (the C++ pose-model table). People that carry hands and a face
(``Person.hand_left`` / ``hand_right`` / ``face``) get them drawn too (:func:`draw_keypoint_set`).
"""
from __future__ import annotations

import math

import cv2
import numpy as np

__all__ = ["draw", "draw_keypoint_set", "RENDER_THRESHOLD"]

RENDER_THRESHOLD = 0.05
_CIRCLE_RATIO = 1.0 / 75.0  # OpenPose: thicknessCircleRatio
_LINE_RATIO_WRT_CIRCLE = 0.75


def _pir(v: float) -> int:
    return int(v + 0.5)


def _table(pose_model):
    from tfpose import models

    table = models.get(pose_model) if isinstance(pose_model, str) else pose_model
    pairs = getattr(table, "render_pairs", None)
    if pairs is None:
        pairs = table.pairs
    colors = np.asarray(table.colors, dtype=np.float64).reshape(-1, 3)  # RGB, one per part
    return np.asarray(pairs, dtype=np.int64).reshape(-1, 2), colors


def draw(image, people, pose_model="COCO_18", render_threshold: float = RENDER_THRESHOLD,
         copy: bool = True) -> np.ndarray:
    """Draw people on a BGR uint8 image [H, W, 3]; returns the drawing (a copy unless copy=False).

    people: Person objects or keypoint arrays [P, 3] (or one array [M, P, 3]).
    pose_model: name ("COCO_18", "BODY_25", "MPI_15", ...) or a table from tfpose.models.get.
    """
    from tfpose.estimator import as_bgr

    canvas = as_bgr(image)
    if copy or canvas is image:
        canvas = canvas.copy()
    pairs, colors = _table(pose_model)
    h, w = canvas.shape[:2]
    area = float(h * w)
    people = list(people)  # walked twice: bodies, then hands and faces
    for person in people:
        kp = np.asarray(getattr(person, "keypoints", person), dtype=np.float32)
        if kp.ndim != 2 or kp.shape[1] != 3 or kp.shape[0] != len(colors):
            raise ValueError(f"keypoints: expected shape [{len(colors)}, 3] for this pose model, got {kp.shape}")
        visible = kp[:, 2] > render_threshold
        if not visible.any():
            continue
        pts = kp[visible, :2]
        box_w = float(pts[:, 0].max() - pts[:, 0].min())
        box_h = float(pts[:, 1].max() - pts[:, 1].min())
        ratio = min(1.0, max(box_w / w, box_h / h))
        thickness = max(_pir(math.sqrt(area) * _CIRCLE_RATIO * ratio), 2)
        circle_thickness = max(1, thickness if ratio > 0.05 else -1)
        line_thickness = max(1, _pir(thickness * _LINE_RATIO_WRT_CIRCLE))
        radius = thickness // 2

        def point(p):
            return (_pir(float(kp[p, 0])), _pir(float(kp[p, 1])))

        def bgr(p):
            r, g, b = colors[p]
            return (float(b), float(g), float(r))

        for a, b in pairs:
            if visible[a] and visible[b]:
                cv2.line(canvas, point(a), point(b), bgr(b), line_thickness, cv2.LINE_8)
        for p in np.flatnonzero(visible):
            cv2.circle(canvas, point(p), radius, bgr(p), circle_thickness, cv2.LINE_8)
    for person in people:
        for name, kind in (("face", "face"), ("hand_left", "hand"), ("hand_right", "hand")):
            kp = getattr(person, name, None)
            if kp is not None:
                draw_keypoint_set(canvas, kp, kind)
    return canvas


def draw_keypoint_set(canvas, keypoints, kind: str) -> None:
    """Draw one person's hand ("hand", [21, 3]) or face ("face", [70, 3]) on a BGR uint8 canvas in
    place, as OpenPose's renderKeypointsCpu (spec hand/face §5.3-5.4): size from the tight box of the
    points scoring above 0.1 (nothing drawn if that box has no area), lines then circles for points
    above the render threshold (0.2 hand, 0.4 face), colours from :func:`tfpose.models.hand` / face."""
    from tfpose import models

    table = {"hand": models.hand, "face": models.face}[kind]()
    kp = np.asarray(keypoints, dtype=np.float32)
    if kp.shape != (table.num_keypoints, 3):
        raise ValueError(f"{kind} keypoints: expected shape [{table.num_keypoints}, 3], got {kp.shape}")
    h, w = canvas.shape[:2]
    seen = kp[:, 2] > 0.1
    if not seen.any():
        return
    pts = kp[seen, :2]
    box_w = float(pts[:, 0].max() - pts[:, 0].min())
    box_h = float(pts[:, 1].max() - pts[:, 1].min())
    if box_w * box_h <= 0:
        return
    ratio = min(1.0, max(box_w / w, box_h / h))
    thickness = max(_pir(math.sqrt(float(h * w)) * table.circle_ratio * ratio), 2)
    circle_thickness = thickness if ratio > 0.05 else 1
    line_thickness = max(1, _pir(thickness * table.line_ratio))
    radius = thickness // 2
    visible = kp[:, 2] > table.render_threshold

    def point(p):
        return (_pir(float(kp[p, 0])), _pir(float(kp[p, 1])))

    def bgr(p):
        r, g, b = table.colors[p]
        return (float(b), float(g), float(r))

    for a, b in table.render_pairs:
        if visible[a] and visible[b]:
            cv2.line(canvas, point(a), point(b), bgr(b), line_thickness, cv2.LINE_8)
    for p in np.flatnonzero(visible):
        cv2.circle(canvas, point(p), radius, bgr(p), circle_thickness, cv2.LINE_8)
