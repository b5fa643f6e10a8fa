"""Hands and face from the body, in the graph, as OpenPose finds them
(docs/algorithms/hand-face.md §2-4; OpenPose's handDetector / faceDetector / handExtractorCaffe /
faceExtractorCaffe).

Per batch of images and their body keypoints ``[N, M, P, 3]``: boxes from the body
(:func:`tfpose.ops.hand_boxes`, :func:`tfpose.ops.face_boxes`), one square crop per box that passes
OpenPose's size test (all hands and faces of all people of all images in one batch; the left hand
mirrored, so the network always sees a right hand), the hand or face network, OpenPose's resize (8x),
the maximum of each keypoint channel and the map back to image pixels
(:func:`tfpose.ops.topdown_decode` with the crop matrix), and, for several hand scales, the scale whose
mean score is highest. Crops that were not processed leave (0, 0, 0) in all their keypoints.

Pixel convention (docs/algorithms/hand-face.md §4.8): the crop matrix takes crop pixel (j, i) to the image point
(x + s j, y + s i) (left hand: (x + w - s j, y + s i)), s = side / N, read by the bilinear crop with
pixel centres at integer coordinates; the same matrix maps the heatmap maximum back, with no +0.5.
Hand and face keypoints are therefore half a pixel below the body's +0.5 convention, exactly as
OpenPose reports them.
"""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

from tfpose import models as _models
from tfpose import network as _network

__all__ = ["load_part_network", "hand_scales", "crop_transforms", "crop", "HandFace", "ESTIMATOR_OPTIONS"]

# The Estimator's options for hands and face (checked by the Estimator itself, not by
# tfpose.options.check_estimator_options, which covers the body).
ESTIMATOR_OPTIONS = ("hand_model", "face_model", "hand_scale_number", "hand_scale_range", "hand_face_normalization")


def load_part_network(
    model,
    keypoint_set,
    normalization: str = "caffe",
    input_name: str = _network.DEFAULT_INPUT,
    output_name: str | None = None,
) -> _network.Network:
    """A hand or face network as a :class:`tfpose.network.Network`.

    model: frozen GraphDef (.pb, e.g. from ``tfpose convert`` of OpenPose's hand/face prototxt and
        caffemodel), SavedModel directory, a Network, or any callable float32 [B, N, N, 3] ->
        [B, N/8, N/8, C] (a TF function).
    keypoint_set: :func:`tfpose.models.hand` or :func:`tfpose.models.face`; C must be its num_channels
        (22 / 71; checked here when the graph declares it, else when it runs).
    normalization: "caffe" (x/256 - 0.5, OpenPose's networks) or "none" (BGR 0..255).
    """
    if normalization not in _network.NORMALIZATIONS:
        raise ValueError(f"normalization: expected one of {_network.NORMALIZATIONS}, got {normalization!r}")
    what = keypoint_set.name.lower()
    if isinstance(model, _network.Network):
        net = model
    elif callable(model) and not isinstance(model, (str, os.PathLike)):
        net = _network.Network(
            fn=model,
            normalization=normalization,
            pose_model=keypoint_set.name,
            channels=None,
            source=f"{what} function {getattr(model, '__name__', model)!r}",
        )
    else:
        path = os.fspath(model)
        if not os.path.exists(path):
            raise FileNotFoundError(
                f"{what} model {path!r} not found: expected a frozen GraphDef (.pb) file or a SavedModel directory"
            )
        if os.path.isdir(path):
            fn, channels, per_image = _network.saved_model_fn(path, "serving_default", output_name)
        else:
            fn, channels, per_image = _network.frozen_graph_fn(path, input_name, output_name)
        net = _network.Network(
            fn=fn,
            normalization=normalization,
            pose_model=keypoint_set.name,
            channels=channels,
            source=path,
            per_image=per_image,
        )
    if net.channels is not None and int(net.channels) != keypoint_set.num_channels:
        raise ValueError(
            f"{what} model {net.source!r}: expected {keypoint_set.num_channels} output channels "
            f"({keypoint_set.num_keypoints} keypoints + background), got {int(net.channels)}"
        )
    return net


def hand_scales(scale_number: int, scale_range: float) -> list:
    """OpenPose's hand scales (docs/algorithms/hand-face.md §4.9), float32: (1 - r/2) + r k / (n - 1), k = 0..n-1; [1] for n = 1."""
    if isinstance(scale_number, bool) or int(scale_number) != scale_number or not 1 <= int(scale_number) <= 64:
        raise ValueError(f"hand_scale_number: expected an int in [1, 64], got {scale_number!r}")
    r = float(scale_range)
    if not (np.isfinite(r) and 0 <= r < 2):
        raise ValueError(f"hand_scale_range: expected a number in [0, 2), got {scale_range!r}")
    n = int(scale_number)
    if n == 1:
        return [np.float32(1)]
    r32 = np.float32(r)
    init = np.float32(1) - r32 / np.float32(2)
    return [np.float32(init + np.float32(r32 * np.float32(k)) / np.float32(n - 1)) for k in range(n)]


def _scaled_boxes(boxes, scale):
    """Same centre, side 2 * (pir(side * scale) div 2) (docs/algorithms/hand-face.md §4.9); boxes [B, 4] float32."""
    side = boxes[:, 2]
    new = tf.cast(2 * (tf.cast(side * scale + 0.5, tf.int32) // 2), tf.float32)
    cx = boxes[:, 0] + boxes[:, 2] / 2.0
    cy = boxes[:, 1] + boxes[:, 3] / 2.0
    return tf.stack([cx - new / 2.0, cy - new / 2.0, new, new], axis=1)


def crop_transforms(boxes, mirrored, n: int, hand: bool):
    """Crop matrices of docs/algorithms/hand-face.md §4.3: boxes [B, 4] float32, mirrored [B] bool -> [B, 2, 3] float64 taking
    crop pixel (j, i) to image (x, y). s = side / n (float32 for hands, float64 for the face, as
    OpenPose); a mirrored crop starts at x + w (summed in float32) and steps by -s."""
    boxes = tf.convert_to_tensor(boxes, tf.float32)
    # the hand divides in float32 then widens, the face widens then divides (OpenPose's order each)
    s = tf.cast(boxes[:, 2] / np.float32(n), tf.float64) if hand else tf.cast(boxes[:, 2], tf.float64) / float(n)
    x = tf.where(mirrored, boxes[:, 0] + boxes[:, 2], boxes[:, 0])
    a = tf.where(mirrored, -s, s)
    zero = tf.zeros_like(s)
    row0 = tf.stack([a, zero, tf.cast(x, tf.float64)], axis=1)
    row1 = tf.stack([zero, s, tf.cast(boxes[:, 1], tf.float64)], axis=1)
    return tf.stack([row0, row1], axis=1)


def crop(images, image_index, transforms, n: int):
    """n x n crops of uint8 BGR images [N, H, W, 3] for boxes of image image_index [B] under
    transforms [B, 2, 3] (from :func:`crop_transforms`): :func:`tfpose.ops.crop_affine`, OpenCV's
    warpAffine rule in float. Returns float32 [B, n, n, 3] with values 0..255."""
    from tfpose import ops

    return ops.crop_affine(images, image_index, transforms, (n, n))


class HandFace:
    """The hand and face stage of :class:`tfpose.Estimator` (all options already checked).

    hand_net / face_net: Networks or None; pose_model: body model name; openpose_build: resize
    kernel ("cpu" bicubic or "cuda" Catmull-Rom, docs/algorithms/hand-face.md §4.6); hand_scale_number / hand_scale_range:
    docs/algorithms/hand-face.md §4.9.
    """

    def __init__(
        self,
        hand_net,
        face_net,
        pose_model: str,
        openpose_build: str = "cpu",
        hand_scale_number: int = _models.HAND_SCALE_NUMBER_DEFAULT,
        hand_scale_range: float = _models.HAND_SCALE_RANGE_DEFAULT,
    ):
        self.hand_net, self.face_net = hand_net, face_net
        self.pose_model = pose_model
        self.openpose_build = openpose_build
        self.scales = hand_scales(hand_scale_number, hand_scale_range)

    def _decode(self, net, table, images, image_index, boxes, mirrored, hand: bool):
        """boxes [B, 4] -> keypoints [B, K, 3] in image pixels (one scale)."""
        from tfpose import ops

        n = table.net_resolution
        transforms = crop_transforms(boxes, mirrored, n, hand)
        crops = crop(images, image_index, transforms, n)
        heat = net(crops)
        check = tf.debugging.assert_equal(
            tf.shape(heat)[-1],
            table.num_channels,
            message=f"{table.name.lower()} network output channels: expected {table.num_channels} "
            f"({table.num_keypoints} keypoints + background)",
        )
        with tf.control_dependencies([check]):
            heat = tf.identity(heat[..., : table.num_keypoints])  # the background is never used

        def one(args):
            # One crop at a time: its N x N x K maps (11 MB for a hand, 38 MB for a face at 368) exist
            # only for a few crops at once, however many people the batch holds.
            maps = ops.resize_and_merge(args[0][None], openpose_build=self.openpose_build)
            return ops.topdown_decode(maps, args[1][None])[0]

        return tf.map_fn(
            one,
            (heat, transforms),
            parallel_iterations=4,
            fn_output_signature=tf.TensorSpec([table.num_keypoints, 3], tf.float32),
        )

    def _run(self, net, table, images, boxes, mirrored_of, scales, hand: bool):
        """boxes [R, 4] (R = N * M * sides, row-major) -> [R, K, 3]."""
        side = boxes[:, 2]
        processed = (side > table.min_side) & (side * side > table.min_area)
        rows = tf.cast(tf.where(processed)[:, 0], tf.int32)
        sel = tf.gather(boxes, rows)
        image_index, mirrored = mirrored_of(rows)
        best = None
        for scale in scales:
            kb = sel if len(scales) == 1 else _scaled_boxes(sel, scale)
            kp = self._decode(net, table, images, image_index, kb, mirrored, hand)
            if best is None:
                best = kp
            else:  # a later scale wins only with a strictly higher mean score
                better = tf.reduce_mean(kp[..., 2], axis=1) > tf.reduce_mean(best[..., 2], axis=1)
                best = tf.where(better[:, None, None], kp, best)
        return tf.scatter_nd(rows[:, None], best, [tf.shape(boxes)[0], table.num_keypoints, 3])

    def __call__(self, images, keypoints):
        """images uint8 [N, H, W, 3], body keypoints [N, M, P, 3] -> dict with "hand_left",
        "hand_right" [N, M, 21, 3] (if hands) and "face" [N, M, 70, 3] (if face), float32."""
        from tfpose import ops

        kshape = tf.shape(keypoints)
        n_img, m = kshape[0], kshape[1]
        out = {}
        if self.hand_net is not None:
            table = _models.hand()
            boxes = tf.reshape(ops.hand_boxes(keypoints, self.pose_model), [-1, 4])  # [N*M*2, 4]

            def hand_of(rows):
                return rows // (2 * m), tf.equal(rows % 2, 0)  # side 0 = left = mirrored

            kp = self._run(self.hand_net, table, images, boxes, hand_of, self.scales, True)
            kp = tf.reshape(kp, [n_img, m, 2, table.num_keypoints, 3])
            out["hand_left"], out["hand_right"] = kp[:, :, 0], kp[:, :, 1]
        if self.face_net is not None:
            table = _models.face()
            boxes = tf.reshape(ops.face_boxes(keypoints, self.pose_model), [-1, 4])

            def face_of(rows):
                return rows // m, tf.zeros_like(rows, tf.bool)

            kp = self._run(self.face_net, table, images, boxes, face_of, [np.float32(1)], False)
            out["face"] = tf.reshape(kp, [n_img, m, table.num_keypoints, 3])
        return out
