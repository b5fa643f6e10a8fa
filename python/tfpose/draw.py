"""Skeleton drawings with OpenCV; no TensorFlow. Two styles (RENDER_STYLES):

"openpose": OpenPose's CPU renderer rules over the image (below). "controlnet": the pose image that
ControlNet's OpenPose preprocessor feeds to Stable Diffusion (:func:`draw_controlnet`).

A keypoint with a non-finite x, y or score is never drawn (tfpose.io.clean_keypoints).

Per person: limb lines for the model's render pairs, coloured with the second part's colour, and a
filled-ring circle per keypoint, drawn only where the keypoint score (both scores for a line) exceeds
the render threshold (OpenPose's ``--render_threshold`` 0.05). Line thickness and circle radius scale
with the image area and the person's size like OpenPose's ``renderKeypointsCpu``. Colours and pairs
come from :func:`tfpose.models.get` (the C++ pose-model table). People that carry hands and a face
(``Person.hand_left`` / ``hand_right`` / ``face``) get them drawn too (:func:`draw_keypoint_set`).
"""

from __future__ import annotations

import colorsys
import math
from typing import Any

import cv2
import numpy as np

from tfpose.sizing import pir as _pir


# OpenCV draws with int32 coordinates: a finite keypoint far off the canvas (3e9, say) does not
# convert ("Overload resolution failed"). Lines are clipped in floating point to the canvas grown
# by a margin wider than any stroke (Liang-Barsky), so what shows on the canvas is the same line;
# a circle whose centre lies beyond that margin cannot reach the canvas and is not drawn.
def _margin(w: int, h: int) -> float:
    return float(w + h + 16)


def _inside(x: float, y: float, w: int, h: int) -> bool:
    m = _margin(w, h)
    return -m <= x <= w + m and -m <= y <= h + m


def _clip_segment(a, b, w: int, h: int):
    """The part of segment a-b (float x, y) inside the grown canvas as two int points, or None."""
    m = _margin(w, h)
    x0, y0, x1, y1 = float(a[0]), float(a[1]), float(b[0]), float(b[1])
    dx, dy = x1 - x0, y1 - y0
    t0, t1 = 0.0, 1.0
    for p, q in ((-dx, x0 + m), (dx, w + m - x0), (-dy, y0 + m), (dy, h + m - y0)):
        if p == 0:
            if q < 0:
                return None
            continue
        t = q / p
        if p < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 > t1:
            return None
    return (
        (_pir(x0 + t0 * dx), _pir(y0 + t0 * dy)),
        (_pir(x0 + t1 * dx), _pir(y0 + t1 * dy)),
    )


__all__ = ["draw", "draw_controlnet", "draw_keypoint_set", "id_color", "RENDER_THRESHOLD", "RENDER_STYLES"]

RENDER_THRESHOLD = 0.05
_CIRCLE_RATIO = 1.0 / 75.0  # OpenPose: thicknessCircleRatio
_LINE_RATIO_WRT_CIRCLE = 0.75


def _table(pose_model):
    from tfpose import models

    table = models.get(pose_model) if isinstance(pose_model, str) else pose_model
    pairs = getattr(table, "render_pairs", None)
    if pairs is None:
        pairs = table.pairs
    colors = np.asarray(table.colors, dtype=np.float64).reshape(-1, 3)  # RGB, one per part
    return np.asarray(pairs, dtype=np.int64).reshape(-1, 2), colors


RENDER_STYLES = ("openpose", "controlnet")


def id_color(person_id: int) -> tuple:
    """BGR colour (floats 0..255) of a person id: hues a golden-ratio turn apart, so consecutive ids
    get clearly different colours."""
    hue = (int(person_id) * 0.6180339887498949) % 1.0
    r, g, b = (255.0 * c for c in colorsys.hsv_to_rgb(hue, 0.85, 1.0))
    return (b, g, r)


def draw(
    image: Any,
    people: Any,
    pose_model: Any = "COCO_18",
    render_threshold: float = RENDER_THRESHOLD,
    copy: bool = True,
    style: str = "openpose",
    color_by_id: bool = False,
) -> np.ndarray:
    """Draw people on a BGR uint8 image [H, W, 3]; returns the drawing (a copy unless copy=False).

    people: Person objects or keypoint arrays [P, 3] in image pixels (or one array [M, P, 3]).
    pose_model: name ("COCO_18", "BODY_25", "MPI_15", ...) or a table from tfpose.models.get.
    render_threshold: OpenPose's --render_threshold, a number in [0, 1]: parts with a score above
        it are drawn.
    style: "openpose" (default) or "controlnet" (:func:`draw_controlnet`: black canvas of the
        image's size; copy does not apply).
    color_by_id: style "openpose" only: draw each tracked person (``person_id`` >= 0, see
        :class:`tfpose.PoseTracker`) in
        its id's colour (:func:`id_color`) with the id written above its highest keypoint; people
        without an id keep OpenPose's part colours.
    Raises ValueError for a bad style, threshold or keypoint shape.
    """
    from tfpose import _args
    from tfpose.types import as_bgr

    render_threshold = _args.check_threshold(render_threshold, "render_threshold")
    if style not in RENDER_STYLES:
        raise ValueError(f"style: expected one of {RENDER_STYLES}, got {style!r}")
    if style == "controlnet":
        return draw_controlnet(as_bgr(image).shape, people, pose_model, render_threshold)
    canvas = as_bgr(image)
    if copy or canvas is image:
        canvas = canvas.copy()
    pairs, colors = _table(pose_model)
    people = list(people)  # walked twice: bodies, then hands and faces
    for person in people:
        _draw_body(canvas, person, pairs, colors, render_threshold, color_by_id)
    for person in people:
        for name, kind in (("face", "face"), ("hand_left", "hand"), ("hand_right", "hand")):
            kp = getattr(person, name, None)
            if kp is not None:
                draw_keypoint_set(canvas, kp, kind)
    return canvas


def _draw_body(
    canvas: np.ndarray, person: Any, pairs: Any, colors: Any, render_threshold: float, color_by_id: bool
) -> None:
    """One person's body on ``canvas`` in place, OpenPose's way (see :func:`draw`)."""
    from tfpose.io import clean_keypoints

    h, w = canvas.shape[:2]
    area = float(h * w)
    kp = np.asarray(getattr(person, "keypoints", person), dtype=np.float32)
    if kp.ndim != 2 or kp.shape[1] != 3 or kp.shape[0] != len(colors):
        raise ValueError(f"keypoints: expected shape [{len(colors)}, 3] for this pose model, got {kp.shape}")
    kp = clean_keypoints(kp)
    visible = kp[:, 2] > render_threshold
    if not visible.any():
        return
    pts = kp[visible, :2]
    box_w = float(pts[:, 0].max() - pts[:, 0].min())
    box_h = float(pts[:, 1].max() - pts[:, 1].min())
    ratio = min(1.0, max(box_w / w, box_h / h))
    thickness = max(_pir(math.sqrt(area) * _CIRCLE_RATIO * ratio), 2)
    circle_thickness = max(1, thickness if ratio > 0.05 else -1)
    line_thickness = max(1, _pir(thickness * _LINE_RATIO_WRT_CIRCLE))
    radius = thickness // 2

    pid = int(getattr(person, "person_id", -1)) if color_by_id else -1

    def bgr(p):
        if pid >= 0:
            return id_color(pid)
        r, g, b = colors[p]
        return (float(b), float(g), float(r))

    _lines_then_circles(canvas, kp, visible, pairs, bgr, line_thickness, radius, circle_thickness)
    if pid >= 0:
        _write_id(canvas, pid, pts, thickness)


def _lines_then_circles(
    canvas: np.ndarray,
    kp: np.ndarray,
    visible: np.ndarray,
    pairs: Any,
    bgr: Any,
    line_thickness: int,
    radius: int,
    circle_thickness: int,
) -> None:
    # OpenPose's renderKeypointsCpu order: every limb whose two ends are visible (clipped to the
    # canvas, coloured by its second part), then a circle on every visible point inside the canvas
    h, w = canvas.shape[:2]
    for a, b in pairs:
        seg = _clip_segment(kp[a], kp[b], w, h) if visible[a] and visible[b] else None
        if seg is not None:
            cv2.line(canvas, seg[0], seg[1], bgr(b), line_thickness, cv2.LINE_8)
    for p in np.flatnonzero(visible):
        if _inside(kp[p, 0], kp[p, 1], w, h):
            centre = (_pir(float(kp[p, 0])), _pir(float(kp[p, 1])))
            cv2.circle(canvas, centre, radius, bgr(p), circle_thickness, cv2.LINE_8)


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


def draw_keypoint_set(canvas, keypoints, kind: str) -> None:
    """Draw one person's hand ("hand", [21, 3]) or face ("face", [70, 3]) on a BGR uint8 canvas in
    place, as OpenPose's renderKeypointsCpu (docs/algorithms/hand-face.md §5.3-5.4): size from the tight box of the
    points scoring above 0.1 (nothing drawn if that box has no area), lines then circles for points
    above the render threshold (0.2 hand, 0.4 face), colours from :func:`tfpose.models.hand` / face."""
    from tfpose import models

    table = {"hand": models.hand, "face": models.face}[kind]()
    kp = np.asarray(keypoints, dtype=np.float32)
    if kp.shape != (table.num_keypoints, 3):
        raise ValueError(f"{kind} keypoints: expected shape [{table.num_keypoints}, 3], got {kp.shape}")
    from tfpose.io import clean_keypoints

    kp = clean_keypoints(kp)
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

    def bgr(p):
        r, g, b = table.colors[p]
        return (float(b), float(g), float(r))

    _lines_then_circles(canvas, kp, visible, table.render_pairs, bgr, line_thickness, radius, circle_thickness)


# ControlNet's OpenPose pose image, as drawn by controlnet_aux's ``open_pose/util.py`` ``draw_bodypose``
# (huggingface/controlnet_aux; the same drawing as lllyasviel/ControlNet's annotator): facts only,
# the code below is tfpose's own.
#   * a black canvas of the image's size, RGB;
#   * 17 limbs over the 18 COCO_18 parts, limb i in colour i of an 18-colour list, each a filled
#     ellipse polygon (cv2.ellipse2Poly, 1-degree steps) centred on the limb, half-axes
#     (length / 2, 4 pixels), angle from atan2 in whole degrees; then the whole canvas times 0.6;
#   * every part a filled circle of radius 4 in its own colour, drawn after the dimming;
#   * coordinates truncated to int (its keypoints are pixel indices, the centre of pixel i is i).
_CN_LIMBS = (
    (1, 2),
    (1, 5),
    (2, 3),
    (3, 4),
    (5, 6),
    (6, 7),
    (1, 8),
    (8, 9),
    (9, 10),
    (1, 11),
    (11, 12),
    (12, 13),
    (1, 0),
    (0, 14),
    (14, 16),
    (0, 15),
    (15, 17),
)  # COCO_18 indices
_CN_COLORS_RGB = (
    (255, 0, 0),
    (255, 85, 0),
    (255, 170, 0),
    (255, 255, 0),
    (170, 255, 0),
    (85, 255, 0),
    (0, 255, 0),
    (0, 255, 85),
    (0, 255, 170),
    (0, 255, 255),
    (0, 170, 255),
    (0, 85, 255),
    (0, 0, 255),
    (85, 0, 255),
    (170, 0, 255),
    (255, 0, 255),
    (255, 0, 170),
    (255, 0, 85),
)
_CN_STICK_WIDTH = 4
_CN_DIM = 0.6
_CN_RADIUS = 4


def _to_coco18(kp: np.ndarray, table) -> np.ndarray:
    """keypoints [P, 3] of any model that has COCO_18's 18 parts (COCO_18, BODY_25) -> [18, 3]."""
    from tfpose import models

    coco = models.get("COCO_18")
    if table.part_names[: len(coco.part_names)] == coco.part_names:
        return kp[: len(coco.part_names)]
    try:
        idx = [table.part_names.index(n) for n in coco.part_names]
    except ValueError:
        raise ValueError(
            f"style 'controlnet' draws COCO_18's 18 parts; pose model {table.name} lacks some "
            f"({sorted(set(coco.part_names) - set(table.part_names))})"
        ) from None
    return kp[idx]


def draw_controlnet(
    image_shape, people, pose_model="COCO_18", render_threshold: float = RENDER_THRESHOLD
) -> np.ndarray:
    """ControlNet-style pose image: uint8 BGR [H, W, 3] (so that ``cv2.imwrite`` stores ControlNet's
    RGB colours) with the people drawn on black, as ControlNet's OpenPose preprocessor draws them
    (source: controlnet_aux ``open_pose/util.py`` ``draw_bodypose``; facts listed above this function).

    image_shape: (H, W[, C]) of the image the keypoints belong to. people: Person objects or [P, 3]
    arrays in image pixels (OpenPose's +0.5 convention; converted to ControlNet's pixel indices by
    -0.5). pose_model: a model with COCO_18's parts (COCO_18, BODY_25; MPI raises ValueError). Parts
    with a score above render_threshold are drawn (ControlNet draws every part it found).
    """
    from tfpose import models
    from tfpose.io import clean_keypoints

    h, w = int(image_shape[0]), int(image_shape[1])
    if h <= 0 or w <= 0:
        raise ValueError(f"image_shape: expected positive (H, W), got {tuple(image_shape)}")
    table = models.get(pose_model) if isinstance(pose_model, str) else pose_model
    canvas = np.zeros((h, w, 3), np.uint8)  # RGB while drawing, like ControlNet
    if isinstance(people, np.ndarray) and people.ndim == 3:
        people = list(people)
    persons = []
    for person in people:
        kp = np.asarray(getattr(person, "keypoints", person), dtype=np.float32)
        if kp.ndim != 2 or kp.shape[1] != 3 or kp.shape[0] != table.num_parts:
            raise ValueError(f"keypoints: expected shape [{table.num_parts}, 3] for this pose model, got {kp.shape}")
        kp = _to_coco18(clean_keypoints(kp), table)
        xy = kp[:, :2].astype(np.float64) - 0.5  # +0.5 convention -> pixel indices
        persons.append((xy, kp[:, 2] > render_threshold))
    for limb, (a, b) in enumerate(_CN_LIMBS):
        for xy, seen in persons:
            if not (seen[a] and seen[b]):
                continue
            seg = _clip_segment(xy[a], xy[b], w, h)
            if seg is None:
                continue
            (xa, ya), (xb, yb) = (
                seg if not (_inside(xy[a, 0], xy[a, 1], w, h) and _inside(xy[b, 0], xy[b, 1], w, h)) else (xy[a], xy[b])
            )
            length = math.hypot(xa - xb, ya - yb)
            angle = math.degrees(math.atan2(ya - yb, xa - xb))
            poly = cv2.ellipse2Poly(
                (int((xa + xb) / 2), int((ya + yb) / 2)), (int(length / 2), _CN_STICK_WIDTH), int(angle), 0, 360, 1
            )
            cv2.fillConvexPoly(canvas, poly, _CN_COLORS_RGB[limb])  # type: ignore[call-overload]  # stubs: ellipse2Poly returns an array
    canvas = (canvas * _CN_DIM).astype(np.uint8)
    for part in range(len(_CN_COLORS_RGB)):
        for xy, seen in persons:
            if seen[part] and _inside(xy[part, 0], xy[part, 1], w, h):
                cv2.circle(canvas, (int(xy[part, 0]), int(xy[part, 1])), _CN_RADIUS, _CN_COLORS_RGB[part], thickness=-1)
    return np.ascontiguousarray(canvas[:, :, ::-1])
