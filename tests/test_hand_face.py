"""Hand and face boxes from body keypoints (docs/algorithms/hand-face.md §2-3, §6): the spec's
worked example, OpenPose's real BODY_25 + hand + face output, an independent numpy reference on random
people (tests/reference/hand_face_ref.py), TF = numpy, and bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tfpose import models, numpy_ops

from helpers import DATA
from reference.hand_face_ref import face_boxes_ref, hand_boxes_ref

SIGN = DATA / "openpose_outputs" / "sign_language_sample"
MODELS = ["COCO_18", "BODY_25", "MPI_15", "MPI_15_4"]


def worked_example() -> np.ndarray:
    """BODY_25 person of docs/algorithms/hand-face.md §6 (image 1280x720)."""
    k = np.zeros((25, 3), np.float32)
    for p, v in {
        0: (640, 200, 0.90),
        1: (640, 300, 0.85),
        2: (560, 300, 0.80),
        3: (540, 420, 0.75),
        4: (530, 520, 0.70),
        5: (720, 300, 0.80),
        6: (760, 400, 0.60),
        7: (800, 480, 0.50),
        15: (620, 185, 0.88),
        16: (660, 185, 0.87),
        17: (600, 195, 0.70),
        18: (680, 195, 0.20),
    }.items():
        k[p] = v
    return k


def test_tables():
    hand, face = models.hand(), models.face()
    assert (hand.num_keypoints, hand.num_channels, hand.net_resolution) == (21, 22, 368)
    assert (face.num_keypoints, face.num_channels, face.net_resolution) == (70, 71, 368)
    assert len(hand.render_pairs) == 20 and hand.render_pairs[4] == (0, 5) and hand.render_pairs[19] == (19, 20)
    assert len(face.render_pairs) == 63 and (41, 36) in face.render_pairs and (67, 60) in face.render_pairs
    assert not any(68 in p or 69 in p for p in face.render_pairs)
    assert hand.colors[0] == (100, 100, 100) and hand.colors[12] == (0, 255, 125) and hand.colors[20] == (255, 0, 255)
    assert set(face.colors) == {(255, 255, 255)}
    assert (hand.render_threshold, face.render_threshold) == (pytest.approx(0.2), pytest.approx(0.4))
    assert (hand.box_threshold, face.box_threshold) == (pytest.approx(0.03), pytest.approx(0.25))


def test_worked_example():
    k = worked_example()
    hands = numpy_ops.hand_boxes(k, "BODY_25")
    assert hands.shape == (2, 4) and hands.dtype == np.float32
    np.testing.assert_allclose(hands[1], [444.5827, 470.8827, 164.23459, 164.23459], rtol=0, atol=1e-4)
    np.testing.assert_allclose(hands[0], [740.5003, 433.70026, 145.39944, 145.39944], rtol=0, atol=1e-4)
    np.testing.assert_allclose(numpy_ops.face_boxes(k, "BODY_25"), [560, 137.5, 160, 160], rtol=0, atol=1e-4)


def test_worked_example_variants():
    k = worked_example()
    prof = k.copy()
    prof[15, 2] = prof[17, 2] = 0.10
    prof[18, 2] = 0.60
    np.testing.assert_allclose(
        numpy_ops.face_boxes(prof, "BODY_25"), [589.7427, 123.076035, 140.51459, 140.51459], rtol=0, atol=1e-4
    )
    low = k.copy()
    low[7, 2] = 0.02
    hands = numpy_ops.hand_boxes(low, "BODY_25")
    assert hands[0].tolist() == [0, 0, 0, 0]
    np.testing.assert_allclose(hands[1], [444.5827, 470.8827, 164.23459, 164.23459], rtol=0, atol=1e-4)
    none = k.copy()
    none[1, 2] = 0
    none[16, 2] = 0.2
    assert numpy_ops.face_boxes(none, "BODY_25").tolist() == [0, 0, 0, 0]
    small = k.copy()
    small[:, :2] *= 0.25
    face = numpy_ops.face_boxes(small, "BODY_25")
    assert face[2] == 40.0  # (50 + 30) / 2: exactly the size that is not processed (needs > 40)
    np.testing.assert_allclose(numpy_ops.hand_boxes(small, "BODY_25")[:, 2], [36.35, 41.06], atol=0.01)


def _sign_frames():
    files = sorted(SIGN.glob("*_keypoints.json"))
    if not files:
        pytest.skip(f"{SIGN} not available")
    return [json.loads(f.read_text()) for f in files]


def _crop_grid(points, box, s, mirrored):
    """Crop pixel (j, i) of each point under OpenPose's crop matrix (docs/algorithms/hand-face.md §4.3)."""
    x, y, w, _ = (float(v) for v in box)
    j = (float(np.float32(x) + np.float32(w)) - points[:, 0]) / s if mirrored else (points[:, 0] - x) / s
    return j, (points[:, 1] - y) / s


def test_openpose_sign_language_sample_maps_to_whole_crop_pixels():
    """Every hand and face point OpenPose reported lies on the 368x368 crop grid of the box computed
    from that file's own body keypoints: (x - box.x) / s is whole within the JSON's rounding."""
    n = models.hand().net_resolution
    checked = 0
    for doc in _sign_frames():
        for person in doc["people"]:
            pose = np.asarray(person["pose_keypoints_2d"], np.float32).reshape(25, 3)
            hands = numpy_ops.hand_boxes(pose, "BODY_25")
            face = numpy_ops.face_boxes(pose, "BODY_25")
            parts = [
                (person["hand_left_keypoints_2d"], hands[0], True, np.float32(hands[0][2]) / np.float32(n)),
                (person["hand_right_keypoints_2d"], hands[1], False, np.float32(hands[1][2]) / np.float32(n)),
                (person["face_keypoints_2d"], face, False, float(face[2]) / n),
            ]
            for flat, box, mirrored, s in parts:
                pts = np.asarray(flat, np.float64).reshape(-1, 3)
                if not pts.any():
                    continue
                assert box[2] > 0, "OpenPose found points where the box rule gives no box"
                j, i = _crop_grid(pts, box, float(s), mirrored)
                for v in (j, i):
                    assert np.abs(v - np.round(v)).max() < 2e-3, (box, np.abs(v - np.round(v)).max())
                    assert v.min() > -2e-3 and v.max() < n - 1 + 2e-3
                checked += len(pts)
    assert checked == 9 * (21 + 21 + 70)


@pytest.mark.parametrize("model", MODELS)
def test_boxes_match_reference_on_random_people(model):
    rng = np.random.default_rng(100 + MODELS.index(model))
    p = models.get(model).num_parts
    k = np.zeros((6, 5, p, 3), np.float32)
    k[..., :2] = rng.uniform(-50, 700, k[..., :2].shape)
    # scores on both sides of both thresholds (0.03 hands, 0.25 face), some parts missing
    k[..., 2] = rng.choice([0.0, 0.02, 0.03, 0.031, 0.2, 0.25, 0.26, 0.9, 0.9, 0.9], size=k[..., 2].shape)
    hands = numpy_ops.hand_boxes(k, model)
    faces = numpy_ops.face_boxes(k, model)
    assert hands.shape == (6, 5, 2, 4) and faces.shape == (6, 5, 4)
    np.testing.assert_allclose(hands, hand_boxes_ref(k, model), rtol=1e-6, atol=1e-4)
    np.testing.assert_allclose(faces, face_boxes_ref(k, model), rtol=1e-6, atol=1e-4)
    assert (hands[..., 2] > 0).any() and (hands[..., 2] == 0).any()
    assert (faces[..., 2] > 0).any() and (faces[..., 2] == 0).any()
    np.testing.assert_array_equal(hands[..., 2], hands[..., 3])


def test_mpi_face_is_around_the_head():
    k = np.zeros((15, 3), np.float32)
    k[0] = (100, 50, 0.9)  # Head
    k[1] = (100, 110, 0.9)  # Neck
    np.testing.assert_allclose(numpy_ops.face_boxes(k, "MPI_15"), [100 - 39.9, 50 - 39.9, 79.8, 79.8], atol=1e-4)
    k[1, 2] = 0.25  # not strictly above
    assert numpy_ops.face_boxes(k, "MPI_15").tolist() == [0, 0, 0, 0]


def test_tf_ops_equal_numpy():
    tf = pytest.importorskip("tensorflow")
    from tfpose import ops

    rng = np.random.default_rng(3)
    k = np.zeros((3, 4, 18, 3), np.float32)
    k[..., :2] = rng.uniform(0, 500, k[..., :2].shape)
    k[..., 2] = rng.uniform(0, 0.6, k[..., 2].shape)
    np.testing.assert_array_equal(ops.hand_boxes(k).numpy(), numpy_ops.hand_boxes(k))
    np.testing.assert_array_equal(ops.face_boxes(k).numpy(), numpy_ops.face_boxes(k))

    @tf.function(input_signature=[tf.TensorSpec([None, None, 18, 3], tf.float32)])
    def both(x):
        return ops.hand_boxes(x, "COCO_18"), ops.face_boxes(x, "COCO_18")

    h, f = both(k)
    assert both.get_concrete_function().structured_outputs[0].shape.as_list() == [None, None, 2, 4]
    np.testing.assert_array_equal(h.numpy(), numpy_ops.hand_boxes(k))
    np.testing.assert_array_equal(f.numpy(), numpy_ops.face_boxes(k))
    assert ops.hand_boxes(np.zeros((0, 0, 18, 3), np.float32)).shape == (0, 0, 2, 4)


def test_bad_input():
    k = worked_example()
    with pytest.raises(ValueError, match=r"P = 18, 3\] for COCO_18.*P = 25"):
        numpy_ops.hand_boxes(k, "COCO_18")
    with pytest.raises(ValueError, match="P = 25"):
        numpy_ops.face_boxes(k[:18], "BODY_25")
    with pytest.raises(ValueError, match=r"\[\.\.\., P, 3\]"):
        numpy_ops.hand_boxes(k[:, :2], "BODY_25")
    with pytest.raises(ValueError, match=r"\[\.\.\., P, 3\]"):
        numpy_ops.face_boxes(np.zeros(3, np.float32), "BODY_25")
    with pytest.raises(ValueError, match="BODY_25"):
        numpy_ops.hand_boxes(k, "BODY_21")
    with pytest.raises(TypeError, match="model"):
        numpy_ops.face_boxes(k, 25)
    with pytest.raises(TypeError, match="dtype"):
        numpy_ops.hand_boxes(k.astype(bool), "BODY_25")
    # non-finite coordinates: that part counts as missing, never a NaN box
    bad = k.copy()
    bad[4, 0] = np.nan
    bad[0, 1] = np.inf
    hands = numpy_ops.hand_boxes(bad, "BODY_25")
    assert hands[1].tolist() == [0, 0, 0, 0] and hands[0][2] > 0
    face = numpy_ops.face_boxes(bad, "BODY_25")
    assert np.isfinite(face).all()
    np.testing.assert_allclose(face, [640 - 60, 185 - 60, 120, 120], atol=1e-4)  # eyes only
    assert numpy_ops.hand_boxes(np.zeros((0, 25, 3), np.float32), "BODY_25").shape == (0, 2, 4)
    tf = pytest.importorskip("tensorflow")
    from tfpose import ops

    with pytest.raises(tf.errors.InvalidArgumentError, match="P = 18"):
        ops.hand_boxes(tf.constant(k), "COCO_18")
    with pytest.raises(ValueError, match=r"\[\.\.\., P, 3\]"):
        ops.face_boxes(k[:, :2], "BODY_25")
    with pytest.raises(tf.errors.InvalidArgumentError, match="BODY_25"):
        ops.face_boxes(k, "NOPE")


def test_crop_affine_matches_reference_and_tf():
    rng = np.random.default_rng(5)
    images = rng.integers(0, 256, (2, 37, 53, 3), dtype=np.uint8)
    m = np.array(
        [
            [[-0.4, 0, 30.3], [0, 0.4, 10.7]],  # mirrored, axis-aligned
            [[0.3, 0.1, -20], [0.05, 0.5, 5]],  # general affine, partly outside
            [[1, 0, -500], [0, 1, -500]],  # wholly outside: black
            [[np.nan, 0, 0], [0, 1, 0]],
        ]
    )  # non-finite: black
    index = [1, 0, 1, 0]
    got = numpy_ops.crop_affine(images, index, m, (20, 30))
    assert got.shape == (4, 20, 30, 3) and got.dtype == np.float32
    for k in range(3):
        np.testing.assert_array_equal(got[k], _crop_ref_rect(images[index[k]], m[k], 20, 30))
    assert not got[2].any() and not got[3].any()
    tf = pytest.importorskip("tensorflow")
    from tfpose import ops

    np.testing.assert_array_equal(ops.crop_affine(images, index, m, (20, 30)).numpy(), got)
    assert ops.crop_affine(images, np.zeros(0, np.int32), np.zeros((0, 2, 3)), (5, 5)).shape == (0, 5, 5, 3)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"image_index\[1\].*\[0, 2\).*got 2"):
        ops.crop_affine(images, [0, 2], m[:2], (4, 4))
    with pytest.raises(TypeError, match="uint8"):
        ops.crop_affine(images.astype(np.float32), [0], m[:1], (4, 4))


def _crop_ref_rect(image, matrix, h, w):
    from reference.hand_face_ref import crop_ref

    return crop_ref(image, matrix, max(h, w))[:h, :w]


def test_crop_affine_bad_input():
    images = np.zeros((1, 4, 4, 3), np.uint8)
    m = np.zeros((1, 2, 3))
    with pytest.raises(ValueError, match=r"image_index\[0\].*got 1"):
        numpy_ops.crop_affine(images, [1], m, (2, 2))
    with pytest.raises(ValueError, match=r"\[B\] and \[B, 2, 3\]"):
        numpy_ops.crop_affine(images, [0, 0], m, (2, 2))
    with pytest.raises(ValueError, match="uint8"):
        numpy_ops.crop_affine(images.astype(np.float32), [0], m, (2, 2))
    with pytest.raises(ValueError, match="size"):
        numpy_ops.crop_affine(images, [0], m, (0, 2))
    with pytest.raises(TypeError, match="image_index"):
        numpy_ops.crop_affine(images, [0.5], m, (2, 2))


def test_crop_transforms_given_as_python_lists_keep_float64():
    # A nested Python list must reach the op as float64 (tf.cast would round it through float32,
    # which moved 24 of these 12,288 values by a grey level before the fix).
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (1, 1200, 1200, 3), dtype=np.uint8)
    m = [[[1 / 3, 0.0, 1000.1234567], [0.0, 1 / 3, 1000.7654321]]]
    want = numpy_ops.crop_affine(img, np.array([0], np.int32), np.array(m), (64, 64))
    from tfpose import ops

    np.testing.assert_array_equal(ops.crop_affine(img, [0], m, (64, 64)).numpy(), want)


def test_crop_sizes_and_indices_never_wrap():
    import tensorflow as tf

    from tfpose import ops

    img = np.zeros((1, 8, 8, 3), np.uint8)
    m = [[[1.0, 0, 0], [0, 1.0, 0]]]
    with pytest.raises(tf.errors.InvalidArgumentError, match="below 2\\^31"):
        ops.crop_affine(img, [0], m, tf.constant([2**32 + 4, 4], tf.int64))
    with pytest.raises(tf.errors.InvalidArgumentError, match="below 2\\^31"):
        ops.crop_affine(img, tf.constant([2**32], tf.int64), m, (4, 4))
    with pytest.raises(TypeError, match="integer"):
        ops.crop_affine(img, [0], m, tf.constant([4.5, 4.0]))
    np.testing.assert_array_equal(ops.crop_affine(img, tf.constant([0], tf.int64), m, (4, 4)).numpy(), 0)
