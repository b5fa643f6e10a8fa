"""OpenPose-style skeleton drawing (OpenPose's CPU renderer rules) with OpenCV; no TensorFlow.

Per person: limb lines for the model's render pairs, coloured with the second part's colour, and a
filled-ring circle per keypoint, drawn only where the keypoint score (both scores for a line) exceeds
the render threshold (OpenPose's ``--render_threshold`` 0.05). Line thickness and circle radius scale
with the image area and the person's size like OpenPose's ``renderKeypointsCpu``. Colours and pairs
come from :func:`tfpose.models.get` (the C++ pose-model table).
"""
from __future__ import annotations

import colorsys
import math

import cv2
import numpy as np

__all__ = ["draw", "id_color", "RENDER_THRESHOLD"]

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


def id_color(person_id: int) -> tuple:
    """BGR colour (floats 0..255) of a person id: hues a golden-ratio turn apart, so consecutive ids
    get clearly different colours."""
    hue = (int(person_id) * 0.6180339887498949) % 1.0
    r, g, b = (255.0 * c for c in colorsys.hsv_to_rgb(hue, 0.85, 1.0))
    return (b, g, r)


def draw(image, people, pose_model="COCO_18", render_threshold: float = RENDER_THRESHOLD,
         copy: bool = True, color_by_id: bool = False) -> np.ndarray:
    """Draw people on a BGR uint8 image [H, W, 3]; returns the drawing (a copy unless copy=False).

    people: Person objects or keypoint arrays [P, 3] (or one array [M, P, 3]).
    pose_model: name ("COCO_18", "BODY_25", "MPI_15", ...) or a table from tfpose.models.get.
    color_by_id: draw each tracked person (``person_id`` >= 0, see :class:`tfpose.PoseTracker`) in
        its id's colour (:func:`id_color`) with the id written above its highest keypoint; people
        without an id keep OpenPose's part colours.
    """
    from tfpose.estimator import as_bgr

    canvas = as_bgr(image)
    if copy or canvas is image:
        canvas = canvas.copy()
    pairs, colors = _table(pose_model)
    h, w = canvas.shape[:2]
    area = float(h * w)
    if isinstance(people, np.ndarray) and people.ndim == 3:
        people = list(people)
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

        pid = int(getattr(person, "person_id", -1)) if color_by_id else -1

        def bgr(p):
            if pid >= 0:
                return id_color(pid)
            r, g, b = colors[p]
            return (float(b), float(g), float(r))

        for a, b in pairs:
            if visible[a] and visible[b]:
                cv2.line(canvas, point(a), point(b), bgr(b), line_thickness, cv2.LINE_8)
        for p in np.flatnonzero(visible):
            cv2.circle(canvas, point(p), radius, bgr(p), circle_thickness, cv2.LINE_8)
        if pid >= 0:
            _write_id(canvas, pid, pts, thickness)
    return canvas


def _write_id(canvas, pid: int, pts: np.ndarray, thickness: int) -> None:
    # above the person's highest keypoint, dark outline under the id colour so it reads on any image
    h, w = canvas.shape[:2]
    scale = max(0.4, thickness / 6.0)
    text = str(pid)
    (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
    top = int(np.argmin(pts[:, 1]))
    x = min(max(_pir(float(pts[top, 0])) - tw // 2, 0), max(w - tw, 0))
    y = min(max(_pir(float(pts[top, 1])) - thickness - 2, th + 1), h - 1)
    cv2.putText(canvas, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 4, cv2.LINE_AA)
    cv2.putText(canvas, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, id_color(pid), 2, cv2.LINE_AA)
