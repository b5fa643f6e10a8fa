"""Synthetic COCO_18 network outputs with a known number of people at known positions.

Each person is a fixed standing skeleton (jittered per person) drawn at net-output resolution the way
OpenPose's training targets look: a Gaussian bump per part in its heatmap channel, a unit vector
along each limb in that limb's two PAF channels within a band around the limb, and the background
channel as 1 - max over parts. People sit in separate cells of a grid, so their limbs never overlap
and the connector should find exactly ``num_people`` people.

Used by benchmarks/bench_pipeline.py to sweep the number of candidate peaks (1..40 people) and the
map area (the same people drawn on a larger grid) independently; usable by tests as well.
"""

from __future__ import annotations

import math

import numpy as np

# Standing person facing the camera, (x, y) in units of the person's height, origin at the top
# centre; the person's right side is on the image's left. COCO_18 part order (docs/algorithms/body.md §1.1).
_COCO_TEMPLATE = np.array(
    [
        (0.00, 0.08),  # Nose
        (0.00, 0.20),  # Neck
        (-0.12, 0.20),  # RShoulder
        (-0.16, 0.35),  # RElbow
        (-0.18, 0.48),  # RWrist
        (0.12, 0.20),  # LShoulder
        (0.16, 0.35),  # LElbow
        (0.18, 0.48),  # LWrist
        (-0.08, 0.52),  # RHip
        (-0.09, 0.74),  # RKnee
        (-0.10, 0.95),  # RAnkle
        (0.08, 0.52),  # LHip
        (0.09, 0.74),  # LKnee
        (0.10, 0.95),  # LAnkle
        (-0.03, 0.05),  # REye
        (0.03, 0.05),  # LEye
        (-0.06, 0.07),  # REar
        (0.06, 0.07),  # LEar
    ],
    np.float64,
)
_PERSON_ASPECT = 0.45  # width / height of the template's bounding box, with some margin


def layout(num_people: int, grid_hw=(46, 82)):
    """Grid rows/cols holding ``num_people`` cells on an h x w map, chosen to make people tallest.
    Returns (rows, cols, person_height) in net-output pixels."""
    h, w = grid_hw
    best = None
    for rows in range(1, num_people + 1):
        cols = math.ceil(num_people / rows)
        height = min(0.9 * h / rows, 0.9 * (w / cols) / _PERSON_ASPECT)
        if best is None or height > best[2]:
            best = (rows, cols, height)
    return best


def render(
    num_people: int,
    grid_hw=(46, 82),
    seed: int = 0,
    sigma: float = 1.0,
    paf_width: float = 1.0,
    peak: float = 0.9,
    people_grid_hw=None,
):
    """Draws ``num_people`` COCO_18 people on an h x w net-output grid.

    grid_hw: (h, w) of the net output (the maps are 8x that after resize-and-merge).
    people_grid_hw: lay the people out as on this grid and scale them up to ``grid_hw`` (default:
        grid_hw). With people_grid_hw=(46, 82) and grid_hw=(92, 164) the same people are drawn on a
        map of 4x the area; sigma and paf_width are scaled with them.
    sigma: Gaussian std of a part, paf_width: half-width of a limb's PAF band, both in net-output
        pixels of people_grid_hw. peak: a part's maximum heatmap value.
    Returns (net_output [1, h, w, 57] float32, keypoints [num_people, 18, 2] float64 (x, y) in
    net-output pixels of grid_hw).
    """
    from tfpose import models

    if num_people < 0:
        raise ValueError(f"num_people: expected >= 0, got {num_people}")
    m = models.get("COCO_18")
    h, w = grid_hw
    ph, pw = grid_hw if people_grid_hw is None else people_grid_hw
    f = h / ph  # people_grid -> grid factor (same along both axes by the caller's choice)
    rng = np.random.default_rng(seed)
    out = np.zeros((h, w, m.num_channels), np.float32)
    kps = np.zeros((num_people, m.num_parts, 2))
    if num_people:
        rows, cols, height = layout(num_people, (ph, pw))
        cell_h, cell_w = ph / rows, pw / cols
        for i in range(num_people):
            r, c = divmod(i, cols)
            cx = (c + 0.5) * cell_w + rng.uniform(-0.05, 0.05) * cell_w
            top = r * cell_h + 0.05 * cell_h + rng.uniform(0, 0.03) * cell_h
            jitter = rng.normal(0, 0.01, _COCO_TEMPLATE.shape)
            kps[i] = ((_COCO_TEMPLATE + jitter) * height + (cx, top)) * f
    s = sigma * f
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    heat = np.zeros((h, w, m.num_parts))
    for i in range(num_people):
        for p in range(m.num_parts):
            x, y = kps[i, p]
            g = peak * np.exp(-((xs - x) ** 2 + (ys - y) ** 2) / (2 * s * s))
            np.maximum(heat[..., p], g, out=heat[..., p])
        for (a, b), (cx_ch, cy_ch) in zip(m.pairs, m.paf_channels, strict=True):
            pa, pb = kps[i, a], kps[i, b]
            d = pb - pa
            norm = float(np.hypot(*d))
            if norm < 1e-6:
                continue
            u = d / norm
            # Distance of each pixel to the segment a-b; inside the band the PAF is the unit vector.
            t = np.clip(((xs - pa[0]) * u[0] + (ys - pa[1]) * u[1]) / norm, 0.0, 1.0)
            dist = np.hypot(xs - (pa[0] + t * d[0]), ys - (pa[1] + t * d[1]))
            band = dist <= paf_width * f
            out[band, cx_ch] = u[0]
            out[band, cy_ch] = u[1]
    out[..., : m.num_parts] = heat
    out[..., m.background_channel] = 1.0 - np.clip(heat.max(axis=-1), 0.0, 1.0)
    return out[None], kps
