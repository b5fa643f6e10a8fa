"""Synthetic video sequences with known identities, built from real photographs in tests/data.

Three people are cut out of real images (tf-pose-estimation's p1.jpg, golf.jpg, apink1.jpg) and
moved over a real background (the empty right part of golf.jpg) along scripted paths: crossing
each other, leaving the frame and coming back, walking behind a pillar (a band of the bookshelf in
p2.jpg, with the left half of the man seated in front of it: a real person, so a fourth, static
identity, :data:`BAND_PERSON`). The cut-out is the person's silhouette approximated from their pose (thick limbs, torso,
head, soft edge) as the network finds it on the photograph, so a person in front hides only the
body behind, not a rectangle. A sprite drawn later is in front. The script knows which sprite is
where in every frame; the network finds the people.

Identity scoring (MOT-style): each detected person is given to the sprite whose expected keypoints
(the pose found on the sprite alone, shifted to its position) it matches best by COCO's OKS
(averaged over the expected parts inside the frame, so a fragment of a person scores low), if at
least ``MATCH_OKS``; an identity switch is a sprite's tracker id differing from the id it had the
last time it was found. Used by tests/test_tracking_video.py and benchmarks/track_video.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from helpers import DATA

IMAGES = DATA / "images" / "tf_pose_estimation"
FRAME_HW = (360, 640)
SPRITE_H = 200
MATCH_OKS = 0.5


def _load(name, box=None):
    img = cv2.imread(str(IMAGES / name), cv2.IMREAD_COLOR)
    if img is None:
        raise FileNotFoundError(IMAGES / name)
    if box is not None:
        x0, y0, x1, y1 = box
        img = img[y0:y1, x0:x1]
    return img


def background() -> np.ndarray:
    """Grass, trees and sky right of the golfer in golf.jpg, 640x360."""
    return cv2.resize(_load("golf.jpg", (623, 400, 1313, 788)), FRAME_HW[::-1], interpolation=cv2.INTER_AREA)


def sprites() -> dict:
    """Name -> BGR crop around one person, SPRITE_H pixels high."""
    crops = {
        "player": _load("p1.jpg"),
        "golfer": _load("golf.jpg", (197, 197, 590, 951)),
        "dancer": _load("apink1.jpg", (128, 18, 347, 712)),
    }
    out = {}
    for k, c in crops.items():
        w = int(round(c.shape[1] * SPRITE_H / c.shape[0]))
        out[k] = cv2.resize(c, (w, SPRITE_H), interpolation=cv2.INTER_AREA)
    return out


# The band of p2.jpg holds the left half of a seated man, whom the network finds in every frame:
# he is in the ground truth as this static person (reference pose found on the band alone, as the
# sprites' are), rather than the band changed, so that the videos the tests see stay the same.
BAND_PERSON = "seated man"


def pillar() -> np.ndarray:
    """A 130-pixel-wide band of the bookshelf in p2.jpg, full frame height; it holds the left half
    of a seated man (:data:`BAND_PERSON`)."""
    band = _load("p2.jpg", (0, 0, 140, 300))
    return cv2.resize(band, (130, FRAME_HW[0]), interpolation=cv2.INTER_AREA)


def paste(canvas: np.ndarray, img: np.ndarray, x: int, y: int) -> None:
    """Draw img with its top-left corner at (x, y), clipped to the canvas."""
    h, w = img.shape[:2]
    H, W = canvas.shape[:2]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, W), min(y + h, H)
    if x0 < x1 and y0 < y1:
        canvas[y0:y1, x0:x1] = img[y0 - y : y1 - y, x0 - x : x1 - x]


@dataclass
class Scenario:
    """name; frames: number of frames; paths: sprite -> function(t) -> (x, y) top-left or None
    (not in the scene), in drawing order (later = in front); pillar_x: left edge of the pillar
    drawn in front of everyone, or None."""

    name: str
    frames: int
    paths: dict
    pillar_x: int | None = None
    description: str = ""


def scenarios() -> list:
    y = FRAME_HW[0] - SPRITE_H - 20
    return [
        Scenario(
            "crossing",
            44,
            {"dancer": lambda t: (60 + 6 * t, y - 25), "player": lambda t: (420 - 6 * t, y)},
            description="two people walk across each other at 6 px/frame each (about 1.3 m/s at 25 fps "
            "for a 1.7 m person 200 px high); the one behind is hidden for several frames",
        ),
        Scenario(
            "fast crossing",
            24,
            {"dancer": lambda t: (40 + 13 * t, y - 25), "player": lambda t: (440 - 13 * t, y)},
            description="the same crossing at 13 px/frame each (a run)",
        ),
        Scenario(
            "three people",
            44,
            {
                "golfer": lambda t: (250, y - 40),
                "dancer": lambda t: (40 + 7 * t, y - 20),
                "player": lambda t: (460 - 7 * t, y),
            },
            description="one person stands still while two others walk past in front of them",
        ),
        Scenario(
            "pillar",
            40,
            {"dancer": lambda t: (30 + 8 * t, y)},
            pillar_x=250,
            description="a person walks behind a 130-pixel pillar at 8 px/frame (fully hidden for a few frames)",
        ),
        Scenario(
            "leave and re-enter",
            44,
            {"golfer": lambda t: (400 + 12 * t, y) if t < 20 else None if t < 28 else (628 - 12 * (t - 28), y)},
            description="a person walks out of the right edge at 12 px/frame and, after 8 frames away, walks back in where they left",
        ),
    ]


@dataclass
class Scene:
    background: np.ndarray
    sprites: dict  # name -> BGR [SPRITE_H, w, 3]
    masks: dict  # name -> float32 [SPRITE_H, w, 1] in 0..1 (the person's silhouette)
    refs: dict  # name -> keypoints [P, 3] relative to the sprite's (or the band's) top-left corner


def silhouette(shape, keypoints) -> np.ndarray:
    """Soft mask [H, W, 1] float32 of a person drawn from their COCO_18 pose: limbs and head as
    thick strokes, the torso filled."""
    from tfpose import models

    h = shape[0]
    m = np.zeros(shape[:2], np.uint8)
    k = keypoints
    ok = k[:, 2] > 0
    pt = lambda i: (int(round(k[i, 0])), int(round(k[i, 1])))  # noqa: E731
    for a, b in models.get("COCO_18").pairs:
        if ok[a] and ok[b]:
            cv2.line(m, pt(a), pt(b), 255, max(3, int(0.11 * h)))
    torso = [i for i in (1, 2, 8, 11, 5) if ok[i]]
    if len(torso) >= 3:
        cv2.fillPoly(m, [np.array([pt(i) for i in torso], np.int32)], 255)
    for i in np.flatnonzero(ok):
        cv2.circle(m, pt(i), max(2, int(0.05 * h)), 255, -1)
    if ok[0]:
        cv2.circle(m, pt(0), int(0.09 * h), 255, -1)
    m = cv2.GaussianBlur(cv2.dilate(m, np.ones((5, 5), np.uint8)), (9, 9), 0)
    return (m.astype(np.float32) / 255.0)[..., None]


def build_scene(estimator) -> Scene:
    """Background, sprites, their reference poses (found by `estimator`) and silhouettes; refs
    also holds the pose of the pillar band's person, :data:`BAND_PERSON`."""
    bg, spr = background(), sprites()
    refs = reference_poses(estimator, bg, {**spr, BAND_PERSON: pillar()})
    return Scene(bg, spr, {n: silhouette(spr[n].shape, refs[n]) for n in spr}, refs)


def paste_masked(canvas: np.ndarray, img: np.ndarray, mask: np.ndarray, x: int, y: int) -> None:
    """Blend img over canvas with mask, top-left corner at (x, y), clipped to the canvas."""
    h, w = img.shape[:2]
    H, W = canvas.shape[:2]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, W), min(y + h, H)
    if x0 < x1 and y0 < y1:
        a = mask[y0 - y : y1 - y, x0 - x : x1 - x]
        src = img[y0 - y : y1 - y, x0 - x : x1 - x].astype(np.float32)
        dst = canvas[y0:y1, x0:x1].astype(np.float32)
        canvas[y0:y1, x0:x1] = np.round(a * src + (1 - a) * dst).astype(np.uint8)


def render(sc: Scenario, scene: Scene) -> tuple:
    """Frames [T] BGR, and per frame a dict person -> (x, y) of the people drawn (maybe hidden):
    the sprites, and the pillar band's person (:data:`BAND_PERSON`) where the band is drawn."""
    frames, where = [], []
    band = pillar() if sc.pillar_x is not None else None
    for t in range(sc.frames):
        canvas = scene.background.copy()
        pos = {}
        for name, path in sc.paths.items():
            p = path(t)
            if p is None:
                continue
            paste_masked(canvas, scene.sprites[name], scene.masks[name], int(p[0]), int(p[1]))
            pos[name] = (int(p[0]), int(p[1]))
        if band is not None:
            paste(canvas, band, sc.pillar_x, 0)
            pos[BAND_PERSON] = (sc.pillar_x, 0)
        frames.append(canvas)
        where.append(pos)
    return frames, where


def reference_poses(estimator, bg: np.ndarray, spr: dict) -> dict:
    """Sprite -> keypoints [P, 3] of the largest person found on the sprite alone (pasted on the
    background 100 px from the left, its bottom 20 px above the frame's, or at the top where it is
    taller), relative to the sprite's top-left corner."""
    out = {}
    for name, img in spr.items():
        canvas = bg.copy()
        x, y = 100, max(0, FRAME_HW[0] - img.shape[0] - 20)
        paste(canvas, img, x, y)
        people = estimator.estimate(canvas)
        if not people:
            raise RuntimeError(f"no person found on sprite {name}")
        best = max(people, key=lambda p: int((p.keypoints[:, 2] > 0).sum()))
        k = best.keypoints.copy()
        k[k[:, 2] > 0, :2] -= (x, y)
        out[name] = k
    return out


def identity_switches(tracked: list, where: list, refs: dict, sigmas: np.ndarray) -> dict:
    """tracked: per frame, the list of Person with person_id; where: render()'s positions; refs:
    reference_poses(). Returns {"switches", "found" (sprite-frames matched), "visible"
    (sprite-frames drawn), "ids_per_person" {sprite: sorted ids}, "people_per_id" {id: sprites}}."""
    from tfpose.tracking import oks

    last, switches, found, visible = {}, 0, 0, 0
    ids_of, who_had = {}, {}
    for people, pos in zip(tracked, where, strict=True):
        visible += len(pos)
        if not people or not pos:
            continue
        names = list(pos)
        exp = np.stack([refs[n].copy() for n in names])
        for i, n in enumerate(names):
            vis = exp[i, :, 2] > 0
            exp[i, vis, :2] += pos[n]
        h, w = FRAME_HW
        inside = (
            (exp[:, :, 2] > 0) & (exp[:, :, 0] >= 0) & (exp[:, :, 0] < w) & (exp[:, :, 1] >= 0) & (exp[:, :, 1] < h)
        )
        det = np.stack([p.keypoints for p in people])
        dvis = det[:, :, 2] > 0
        sim = oks(exp[:, :, :2], inside, det[:, :, :2], dvis, sigmas)
        # COCO's OKS averages over the expected parts: a part the detection lacks counts 0
        common = (inside[:, None] & dvis[None]).sum(-1)
        sim = sim * common / np.maximum(inside.sum(-1), 1)[:, None]
        from scipy.optimize import linear_sum_assignment

        rows, cols = linear_sum_assignment(-sim)
        for r, c in zip(rows, cols, strict=True):
            if sim[r, c] < MATCH_OKS:
                continue
            n, pid = names[r], people[c].person_id
            found += 1
            if n in last and last[n] != pid:
                switches += 1
            last[n] = pid
            ids_of.setdefault(n, set()).add(pid)
            who_had.setdefault(pid, set()).add(n)
    return {
        "switches": switches,
        "found": found,
        "visible": visible,
        "ids_per_person": {k: sorted(v) for k, v in ids_of.items()},
        "people_per_id": {k: sorted(v) for k, v in who_had.items()},
    }
