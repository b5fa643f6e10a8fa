"""OpenPose-style drawing (needs tfpose.models' pose-model table)."""

from __future__ import annotations

import numpy as np
import pytest

from tfpose import models
from tfpose.draw import draw


def test_draws_visible_parts_only():
    table = models.get("COCO_18")
    img = np.zeros((400, 400, 3), np.uint8)
    kp = np.zeros((18, 3), np.float32)
    kp[1] = (200, 100, 0.9)  # neck
    kp[2] = (150, 110, 0.9)  # right shoulder
    kp[5] = (250, 300, 0.04)  # below the render threshold: not drawn
    out = draw(img, [kp], "COCO_18")
    assert img.max() == 0  # input untouched
    r, g, b = np.asarray(table.colors, float).reshape(-1, 3)[1]
    assert tuple(out[100, 200]) == (int(b), int(g), int(r))  # neck circle in the neck's colour (BGR)
    assert out[300, 250].max() == 0
    assert out[105, 175].max() > 0  # the neck-shoulder limb


def test_bad_keypoints():
    with pytest.raises(ValueError, match="expected shape"):
        draw(np.zeros((10, 10, 3), np.uint8), [np.zeros((17, 3))], "COCO_18")
