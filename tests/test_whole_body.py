"""Hands and face in the estimator's graph, end to end without trained hand/face weights: stand-in
networks (TF functions) put a Gaussian peak at known crop pixels, so the keypoints that come back are
known exactly in image pixels from the body keypoints, OpenPose's box rules (checked against OpenPose
in test_hand_face.py) and the crop matrix of docs/algorithms/hand-face.md §4.3 — both hands
(the left one mirrored), several people, several scales, batches. Also the crop against OpenCV's
warpAffine, JSON, drawing, SavedModel export, CLI options and bad input."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

import tfpose  # noqa: E402
from tfpose import models, numpy_ops, whole_body  # noqa: E402

from helpers import DATA  # noqa: E402
from reference.hand_face_ref import crop_ref  # noqa: E402

MNV2S = DATA / "models" / "tfpose_mobilenet_v2_small_graph_opt.pb"
IMAGES = DATA / "images" / "tf_pose_estimation"
N = 368


def _positions(count, seed):
    """Crop pixels (x, y) whose coordinates are 3 or 4 mod 8 (see :func:`standin`), away from the border."""
    rng = np.random.default_rng(seed)
    return (8 * rng.integers(3, 43, (count, 2)) + rng.integers(3, 5, (count, 2))).astype(np.float32)


HAND_POS = _positions(21, 1)  # crop (x, y) of each channel's peak
FACE_POS = _positions(70, 2)


def _profile(c):
    """[46] source profile whose 8x resize (OpenPose: output x samples source (x + 0.5) / 8 - 0.5, i.e.
    x = 8u + 4 lies 1/16 right of source pixel u and x = 8u + 3 1/16 left of it) peaks exactly at crop
    pixel c (3 or 4 mod 8): 1 at u and 0.05 on the side of c, which breaks the tie of the two output
    pixels nearest to u by ~5e-3 for any cubic kernel used by OpenPose."""
    c = np.asarray(c, np.int64)
    u = c // 8
    side = np.where(c % 8 == 4, 1, -1)
    return tf.one_hot(u, N // 8) + 0.05 * tf.one_hot(u + side, N // 8)


def standin(positions, channels, amplitude=None):
    """A network [B, N, N, 3] -> [B, N/8, N/8, channels] whose channel c peaks, after the 8x resize, at
    crop pixel positions[c] (separable profiles, see :func:`_profile`); the last channel (background)
    is 0. amplitude(crops) -> [B] scales each crop's peaks."""
    assert len(positions) == channels - 1
    pos = np.asarray(positions, np.int64)
    px = tf.transpose(_profile(pos[:, 0]))  # [W, C]
    py = tf.transpose(_profile(pos[:, 1]))  # [H, C]
    heat = (py[:, None, :] * px[None, :, :])[None]

    def net(x):
        h = tf.tile(heat, [tf.shape(x)[0], 1, 1, 1])
        if amplitude is not None:
            h = h * amplitude(x)[:, None, None, None]
        return tf.concat([h, tf.zeros_like(h[..., :1])], axis=-1)

    return net


def expected(boxes, positions, mirrored, hand=True):
    """Image pixels of crop pixels `positions` for each box, by docs/algorithms/hand-face.md §4.3/4.8 (numpy, float64)."""
    out = np.zeros(boxes.shape[:-1] + (len(positions), 2), np.float64)
    for idx in np.ndindex(boxes.shape[:-1]):
        x, y, w, _ = boxes[idx]
        s = float(np.float32(w) / np.float32(N)) if hand else float(w) / N
        if mirrored:
            out[idx + (slice(None), 0)] = float(np.float32(x) + np.float32(w)) - s * positions[:, 0]
        else:
            out[idx + (slice(None), 0)] = float(x) + s * positions[:, 0]
        out[idx + (slice(None), 1)] = float(y) + s * positions[:, 1]
    return out


def processed(boxes, table):
    side = boxes[..., 2]
    return (side > table.min_side) & (side * side > table.min_area)


@pytest.fixture(scope="module")
def images():
    a = cv2.imread(str(IMAGES / "apink2.jpg"))  # 1200x627, five people with hands and faces in view
    if a is None:
        pytest.skip("test images not available")
    return [a, cv2.flip(a, 1)]


_ONE_SCALE = (np.float32(1),)


def _check_people(people, hands, face, scales=_ONE_SCALE, picked=None):
    hand_t, face_t = models.hand(), models.face()
    seen = {"hand": 0, "face": 0}
    for p in people:
        hb = numpy_ops.hand_boxes(p.keypoints, "COCO_18")
        fb = numpy_ops.face_boxes(p.keypoints, "COCO_18")
        if hands:
            for side, got in ((0, p.hand_left), (1, p.hand_right)):
                assert got.shape == (21, 3)
                box = hb[side]
                if not processed(box, hand_t):
                    assert not got.any()
                    continue
                if picked is not None:
                    box = picked(p, side, box)
                want = expected(box[None], HAND_POS, side == 0)[0]
                np.testing.assert_allclose(got[:, :2], want, rtol=0, atol=2e-4)
                assert (got[:, 2] > 0.9).all() if picked is None else (got[:, 2] > 0).all()
                seen["hand"] += 1
        else:
            assert p.hand_left is None and p.hand_right is None
        if face:
            assert p.face.shape == (70, 3)
            if not processed(fb, face_t):
                assert not p.face.any()
                continue
            want = expected(fb[None], FACE_POS, False, hand=False)[0]
            np.testing.assert_allclose(p.face[:, :2], want, rtol=0, atol=2e-4)
            seen["face"] += 1
        else:
            assert p.face is None
    return seen


@pytest.fixture(scope="module")
def est():
    return tfpose.Estimator(MNV2S, hand_model=standin(HAND_POS, 22), face_model=standin(FACE_POS, 71))


@pytest.mark.slow
def test_hands_and_face_exact_for_several_people_and_a_batch(est, images):
    batch = est.estimate_batch(images)
    assert len(batch[0]) >= 2, "the test image should hold several people"
    seen = {"hand": 0, "face": 0}
    for people in batch:
        for k, v in _check_people(people, True, True).items():
            seen[k] += v
    assert seen["hand"] >= 4 and seen["face"] >= 2, seen
    # a batch gives each image what it gets alone
    alone = est.estimate(images[1])
    for a, b in zip(alone, batch[1], strict=True):
        np.testing.assert_array_equal(a.hand_left, b.hand_left)
        np.testing.assert_array_equal(a.face, b.face)


def test_left_hand_crop_is_mirrored(images):
    """Channel 0 follows a green dot painted in each hand box: the keypoint comes back on the dot
    (within one crop pixel) only if the crop is mirrored exactly as the mapping assumes."""
    body = tfpose.Estimator(MNV2S)
    img = images[0].copy()
    dots = []
    for p in body.estimate(img):
        for box in numpy_ops.hand_boxes(p.keypoints, "COCO_18"):
            if box[2] > 20:
                x, y = int(box[0] + 0.8 * box[2]), int(box[1] + 0.3 * box[3])  # off-centre: mirroring matters
                if 0 <= x < img.shape[1] and 0 <= y < img.shape[0]:
                    dots.append((x, y))
    assert dots
    for x, y in dots:
        img[y, x] = (0, 255, 0)

    def green(x):  # crop pixel of the greenest sample, per crop
        score = x[..., 1] - x[..., 0] - x[..., 2]
        flat = tf.reshape(score, [tf.shape(x)[0], -1])
        k = tf.argmax(flat, axis=1, output_type=tf.int32)
        return tf.cast(tf.stack([k % N, k // N], axis=1), tf.float32)

    def net(x):
        base = standin(HAND_POS, 22)(x)
        src = (green(x) + 0.5) / 8.0 - 0.5
        g = tf.range(N // 8, dtype=tf.float32)
        d2 = (g[None, None, :] - src[:, None, None, 0]) ** 2 + (g[None, :, None] - src[:, None, None, 1]) ** 2
        ch0 = tf.exp(-d2 / 18.0)[..., None]
        return tf.concat([ch0, base[..., 1:]], axis=-1)

    est = tfpose.Estimator(MNV2S, hand_model=net, hand_face_normalization="none")
    found = 0
    for p in est.estimate(img):
        boxes = numpy_ops.hand_boxes(p.keypoints, "COCO_18")
        for side, got in ((0, p.hand_left), (1, p.hand_right)):
            box = boxes[side]
            inside = [(x, y) for x, y in dots if box[0] <= x <= box[0] + box[2] and box[1] <= y <= box[1] + box[3]]
            if len(inside) != 1 or not processed(box, models.hand()):
                continue
            s = box[2] / N
            # the greenest crop sample is within s/2 of the dot; the Gaussian's resize within 1 crop pixel
            assert abs(got[0, 0] - inside[0][0]) <= 2 * s + 1e-3 and abs(got[0, 1] - inside[0][1]) <= 2 * s + 1e-3, (
                side,
                got[0],
                inside[0],
                s,
            )
            found += 1
    assert found >= 2


@pytest.mark.slow
def test_multi_scale_hands_keep_the_best_mean_score(images):
    """Peaks scaled by the crop's mean grey value: the kept scale is the one whose crop (made here by
    OpenCV's warpAffine) is brightest; ties keep the smaller scale."""
    amp = lambda x: tf.reduce_mean(x, axis=[1, 2, 3]) / 255.0 + 0.5  # noqa: E731
    est = tfpose.Estimator(
        MNV2S,
        hand_model=standin(HAND_POS, 22, amp),
        hand_scale_number=3,
        hand_scale_range=0.4,
        hand_face_normalization="none",
    )
    img = images[0]
    scales = whole_body.hand_scales(3, 0.4)
    np.testing.assert_array_equal(scales, np.float32([0.8, 1.0, 1.2]))

    def scaled(box, scale):
        side = np.float32(2 * (int(np.float32(box[2] * scale) + np.float32(0.5)) // 2))
        cx, cy = np.float32(box[0] + box[2] / np.float32(2)), np.float32(box[1] + box[3] / np.float32(2))
        return np.array([cx - side / 2, cy - side / 2, side, side], np.float32)

    margins = []

    def picked(p, side, box):
        means = []
        for sc in scales:
            b = scaled(box, sc)
            s = float(np.float32(b[2]) / np.float32(N))
            x0 = float(np.float32(b[0]) + np.float32(b[2])) if side == 0 else float(b[0])
            m = np.array([[-s if side == 0 else s, 0, x0], [0, s, float(b[1])]])
            c = cv2.warpAffine(
                img,
                m,
                (N, N),
                flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                borderMode=cv2.BORDER_CONSTANT,
                borderValue=0,
            )
            means.append(c.mean())
        order = np.sort(means)
        margins.append(order[-1] - order[-2])
        return scaled(box, scales[int(np.argmax(means))])

    seen = _check_people(est.estimate(img), True, False, picked=picked)
    assert seen["hand"] >= 4
    assert min(margins) > 0.05, "crop means too close to decide independently"
    # equal scores: the first (smallest) scale is kept
    est = tfpose.Estimator(MNV2S, hand_model=standin(HAND_POS, 22), hand_scale_number=2)
    seen = _check_people(est.estimate(img), True, False, picked=lambda p, side, box: scaled(box, np.float32(0.8)))
    assert seen["hand"] >= 4


def test_crop_matches_opencv_warp_affine(images):
    img = images[0]
    h, w = img.shape[:2]
    boxes = np.array(
        [
            [100.3, 50.7, 150.2, 150.2],
            [w - 60.5, -30.25, 120.5, 120.5],
            [-500, -500, 40, 40],
            [10.1, 20.2, 400.7, 400.7],
        ],
        np.float32,
    )
    mirrored = np.array([True, False, True, False])
    for hand in (True, False):
        t = whole_body.crop_transforms(boxes, mirrored, N, hand)
        got = whole_body.crop(img[None], tf.zeros([4], tf.int32), t, N).numpy()
        for b in range(4):
            ref = crop_ref(img, t[b].numpy(), N)
            diff = np.abs(got[b] - ref)  # float32 weights vs float64: a rounding tie at most
            assert diff.max() <= 1 and (diff > 0).mean() < 1e-3, (b, diff.max(), (diff > 0).mean())
            # OpenCV 4.x quantises sample coordinates to 1/32 pixel (OpenCV 5 computes in float, as here):
            # a sample moves by up to 1/32 px, so a pixel changes by at most 255/32 grey levels on the
            # steepest edge, and by a fraction of a level on average.
            cv = cv2.warpAffine(
                img,
                t[b].numpy(),
                (N, N),
                flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                borderMode=cv2.BORDER_CONSTANT,
                borderValue=0,
            ).astype(np.float32)
            diff = np.abs(got[b] - cv)
            assert diff.max() <= 8 and diff.mean() < 0.1, (b, diff.max(), diff.mean())
    assert not got[2].any()  # wholly outside: black


def test_json_draw_and_off_by_default(est, images):
    people = est.estimate(images[0])
    from tfpose import io as tio

    doc = tio.people_json(people)
    p0 = doc["people"][0]
    assert len(p0["hand_left_keypoints_2d"]) == 63 and len(p0["hand_right_keypoints_2d"]) == 63
    assert len(p0["face_keypoints_2d"]) == 210 and len(p0["pose_keypoints_2d"]) == 54
    assert p0["face_keypoints_2d"][:3] == [float(v) for v in people[0].face[0]]
    body_only = tfpose.Estimator(MNV2S).estimate(images[0])
    assert body_only[0].hand_left is None
    assert tio.people_json(body_only)["people"][0]["hand_left_keypoints_2d"] == []
    from tfpose.draw import draw, draw_keypoint_set

    plain = draw(images[0], body_only)
    full = draw(images[0], people)
    assert (full != plain).any()
    # hand colours: the thumb tip's colour (255, 0, 0) RGB appears as BGR (0, 0, 255)
    canvas = np.zeros((200, 200, 3), np.uint8)
    kp = np.zeros((21, 3), np.float32)
    kp[:, 0] = np.linspace(20, 180, 21)
    kp[:, 1] = 100
    kp[:, 2] = 0.9
    kp[4] = (100, 20, 0.9)
    draw_keypoint_set(canvas, kp, "hand")
    assert (canvas[20, 100] == (0, 0, 255)).all()
    kp[:, 2] = 0.15  # below the hand render threshold 0.2: nothing drawn
    blank = np.zeros_like(canvas)
    draw_keypoint_set(blank, kp, "hand")
    assert not blank.any()
    with pytest.raises(ValueError, match=r"\[70, 3\]"):
        draw_keypoint_set(blank, kp, "face")


def test_saved_model_carries_hands_and_face(est, images, tmp_path):
    from tfpose.export import export_saved_model, load_saved_model

    export_saved_model(est, tmp_path / "sm")
    loaded = load_saved_model(tmp_path / "sm")
    out = loaded.signatures["serving_default"](images=tf.constant(images[0][None]))
    ref = est.estimate_arrays(images[0][None])
    for name, want in zip(est.output_names, ref, strict=True):
        np.testing.assert_array_equal(out[name].numpy(), want)
    assert set(est.output_names) == {"keypoints", "scores", "num_people", "hand_left", "hand_right", "face"}


def test_no_people_and_bad_networks(images):
    est = tfpose.Estimator(MNV2S, hand_model=standin(HAND_POS, 22), face_model=standin(FACE_POS, 71))
    black = np.zeros((96, 128, 3), np.uint8)
    assert est.estimate(black) == []
    kp, sc, num, hl, hr, fc = est.estimate_arrays(black[None])
    assert hl.shape[-2:] == (21, 3) and fc.shape[-2:] == (70, 3) and num.tolist() == [0]
    wrong = tfpose.Estimator(MNV2S, hand_model=standin(FACE_POS, 71))
    with pytest.raises(tf.errors.InvalidArgumentError, match="hand network output channels: expected 22"):
        wrong.estimate(images[0])
    with pytest.raises(FileNotFoundError, match="hand model"):
        tfpose.Estimator(MNV2S, hand_model="/nonexistent/hand.pb")
    with pytest.raises(ValueError, match="hand_scale_number"):
        tfpose.Estimator(MNV2S, hand_model=standin(HAND_POS, 22), hand_scale_number=0)
    with pytest.raises(ValueError, match="hand_scale_range"):
        tfpose.Estimator(MNV2S, hand_model=standin(HAND_POS, 22), hand_scale_range=float("nan"))
    with pytest.raises(ValueError, match="normalization"):
        tfpose.Estimator(MNV2S, face_model=standin(FACE_POS, 71), hand_face_normalization="zscore")


def test_cli_options(tmp_path, images):
    from tfpose import cli

    img = tmp_path / "a.png"
    cv2.imwrite(str(img), images[0])
    assert cli.main(["estimate", str(img), "--model", str(MNV2S), "--hand", "--no-progress"]) == 2
    assert cli.main(["estimate", str(img), "--model", str(MNV2S), "--face-model", "x.pb", "--no-progress"]) == 2
    args = cli.build_parser().parse_args(
        [
            "estimate",
            str(img),
            "--model",
            "m.pb",
            "--hand",
            "--hand-model",
            "h.pb",
            "--hand-scale-number",
            "6",
            "--hand-scale-range",
            "0.4",
        ]
    )
    opts = cli._options(args)
    assert (opts["hand_model"], opts["face_model"], opts["hand_scale_number"]) == ("h.pb", None, 6)


def test_number_people_max_and_keypoint_scale_carry_hands_and_face(est, images):
    """The kept person keeps its own hands and face, scaled like its body (OpenPose's keypointScaler
    scales all arrays alike; tfpose.io.scale_keypoints is tested on its own in test_io.py)."""
    from tfpose import io as tio

    full = est.estimate(images[0])
    top = tfpose.Estimator(
        MNV2S, hand_model=standin(HAND_POS, 22), face_model=standin(FACE_POS, 71), number_people_max=1, keypoint_scale=3
    )
    (one,) = top.estimate(images[0])
    h, w = images[0].shape[:2]
    scale = lambda k: tio.scale_keypoints(k, 3, (w, h))  # noqa: E731
    match = [p for p in full if np.array_equal(scale(p.keypoints), one.keypoints)]
    assert len(match) == 1
    for name in ("hand_left", "hand_right", "face"):
        ref, got = getattr(match[0], name), getattr(one, name)
        np.testing.assert_array_equal(got, scale(ref))
        assert got[:, :2].max() <= 1.0 + 1e-6 and (got[ref[:, 2] > 0, 0] != ref[ref[:, 2] > 0, 0]).all()
