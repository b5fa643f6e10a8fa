"""Every tfpose op wrapper reaches TensorFlow's eager fast path (TFE_Py_FastPathExecute) without
falling back: an attribute of the wrong Python type (an int for a float attribute, say) sends the
call down the generated fallback, which costs about 0.1 ms a call (benchmarks/README.md, TF op path)."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from tensorflow.python import pywrap_tfe

from tfpose import ops, placement


@pytest.fixture
def fallbacks(monkeypatch):
    seen = []
    fast = pywrap_tfe.TFE_Py_FastPathExecute

    def spy(*args):
        try:
            return fast(*args)
        except Exception as e:  # the generated wrappers catch _FallbackException and go slow
            seen.append(f"{args[1]}: {type(e).__name__}: {e}")
            raise

    monkeypatch.setattr(pywrap_tfe, "TFE_Py_FastPathExecute", spy)
    return seen


def test_every_op_takes_the_fast_path(fallbacks):
    rng = np.random.default_rng(0)
    net = tf.constant(rng.uniform(0, 1, (1, 6, 8, 57)).astype(np.float32))
    maps = ops.resize_and_merge(net)
    peaks, counts = ops.nms(maps[..., :18])
    ops.nms(maps[..., :18], threshold=0.1, max_peaks=16, offset=(0.5, 0.5), openpose_build="cuda")
    ops.maximum(maps[..., :18])
    ops.connect(maps, peaks, counts, model="COCO_18", scale=1.0)
    ops.connect(maps, peaks, counts, model="COCO_18", scale=1.0, inter_threshold=0.1, min_subset_cnt=3)
    ops.net_output_to_people(net, net_input_size=(48, 64), image_size=(96, 128))
    ops.net_output_to_people(net, net_input_size=(48, 64), image_size=(96, 128), nms_threshold=0.1, fast=False)
    kp = tf.constant(rng.uniform(1, 50, (1, 2, 18, 3)).astype(np.float32))
    ops.hand_boxes(kp, "COCO_18")
    ops.face_boxes(kp, "COCO_18")
    ops.topdown_decode(maps[..., :18], refinement="dark")
    img = rng.integers(0, 256, (1, 40, 60, 3), dtype=np.uint8)
    ops.crop_affine(img, [0], [[[1.0, 0, 2], [0, 1.0, 3]]], (16, 16))
    sizes, ratios = placement.tf_sizing(40, 60)
    placement.warp_top_left(img, ratios[0], sizes[0])
    placement.warp_top_left(img, 0.5, (20, 30))
    assert fallbacks == []
