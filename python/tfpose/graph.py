"""The pipeline's TensorFlow graph: OpenPose's placement, the network (with optional flip averaging)
and OpenPose's post-processing (``tfpose.ops.net_output_to_people``), plus the hand / face stage.

:class:`PoseGraph` holds the graph-building methods of :class:`tfpose.Estimator` (which derives from
it); :class:`SizedGraph` wraps one graph function in its two ``tf.function`` call forms. The
Estimator's option checking, batching and conversion to :class:`tfpose.Person` stay in
:mod:`tfpose.estimator`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import tensorflow as tf

from tfpose import models as _models
from tfpose import network as _network
from tfpose import ops, placement
from tfpose.base_estimator import MSG_EMPTY_BATCH  # the graph says to an empty batch what both estimators say

__all__ = ["PoseGraph", "SizedGraph", "MSG_EMPTY_BATCH"]


class SizedGraph:
    """One pipeline graph in its two call forms: ``(images)`` computes the sizing in the graph (the
    TfposeSizing op, as a SavedModel does); ``(images, net_input_sizes, scale_ratios)`` takes the
    sizing the Estimator computed with the same core function before the call, so that each image is
    sized once. Each form is one tf.function with a fixed signature (no retracing per image size)."""

    def __init__(self, graph: Callable[..., Any], scale_number: int) -> None:
        images = tf.TensorSpec([None, None, None, 3], tf.uint8, name="images")
        self.unsized = tf.function(lambda im: graph(im), input_signature=[images])
        self.sized = tf.function(
            graph,
            input_signature=[
                images,
                tf.TensorSpec([scale_number, 2], tf.int32, name="net_input_sizes"),
                tf.TensorSpec([scale_number], tf.float64, name="scale_ratios"),
            ],
        )

    def __call__(self, images: Any, net_input_sizes: Any = None, scale_ratios: Any = None) -> Any:
        if net_input_sizes is None:
            return self.unsized(images)
        return self.sized(images, net_input_sizes, scale_ratios)

    def experimental_get_tracing_count(self) -> int:
        return self.unsized.experimental_get_tracing_count() + self.sized.experimental_get_tracing_count()


class PoseGraph:
    """The graph-building half of :class:`tfpose.Estimator`. It reads the Estimator's settings from
    ``self``: net_resolution, scale_number, scale_gap, net_resolution_dynamic, network, pose_model,
    flip, openpose_build, max_peaks, fast, peak_refinement, thresholds, output_names and
    _hand_face (None or a :class:`tfpose.whole_body.HandFace`)."""

    net_resolution: Any
    scale_number: int
    scale_gap: float
    net_resolution_dynamic: float
    network: Any
    pose_model: str
    flip: bool
    openpose_build: str
    max_peaks: int
    fast: bool
    peak_refinement: str
    thresholds: dict
    output_names: tuple
    _hand_face: Any

    def _net_outputs(self, images, net_input_sizes=None, scale_ratios=None):
        """Network outputs of every scale for images uint8 [N, H, W, 3] -> (list of S [N, h, w, C],
        sizes int32 [S, 2] (H_n, W_n), ratios float64 [S], (H, W)). Sizes and ratios are computed in
        the graph (TfposeSizing) unless given."""
        shape = tf.shape(images)
        check = tf.debugging.assert_positive(shape[0], message=MSG_EMPTY_BATCH)
        with tf.control_dependencies([check]):
            images = tf.identity(images)
        h, w = shape[1], shape[2]
        if net_input_sizes is None:
            sizes, scale_ratios = placement.tf_sizing(
                h, w, self.net_resolution, self.scale_number, self.scale_gap, self.net_resolution_dynamic
            )
            net_input_sizes = tf.stack(sizes)
        expected = _network.POSE_MODEL_CHANNELS[self.pose_model]
        outs = []
        for s in range(self.scale_number):
            canvas = placement.warp_top_left(images, scale_ratios[s], net_input_sizes[s])
            # with flip, the image and its mirror run as one batch of 2N
            out = self.network(tf.concat([canvas, tf.reverse(canvas, axis=[2])], axis=0) if self.flip else canvas)
            check = tf.debugging.assert_equal(
                tf.shape(out)[-1],
                expected,
                message=f"network output channels: pose model {self.pose_model} expects {expected}",
            )
            with tf.control_dependencies([check]):
                out = tf.identity(out)
            if self.flip:
                # A channel count known to be wrong would fail the un-mirroring while tracing; the
                # check above then fails first at run time, with its own message, as without flip.
                wrong = out.shape[-1] is not None and out.shape[-1] != expected
                out = out[: tf.shape(out)[0] // 2] if wrong else self._flip_average(out)
            outs.append(out)
        return outs, net_input_sizes, scale_ratios, (h, w)

    def _flip_average(self, both):
        """Test-time flip averaging: ``both`` [2N, h, w, C] is the network output of N canvases
        followed by that of their mirror images; the mirrors' output is un-mirrored (width reversed,
        left / right parts and limbs swapped, PAF x negated: PoseModel.flip_channels) and averaged
        with the first N -> [N, h, w, C]. The canvas width is a multiple of 16, so the 1/8 output
        grid mirrors onto itself. Source: Cao et al. 2017 train on mirrored images; flip testing as
        in lightweight-openpose's and Simple Baselines' evaluation."""
        source, sign = _models.get(self.pose_model).flip_channels()
        n = tf.shape(both)[0] // 2
        mirrored = tf.gather(tf.reverse(both[n:], axis=[2]), source, axis=3)
        return (both[:n] + mirrored * tf.constant(sign, both.dtype)) * 0.5

    def _people_ops(self, outs, sizes, ratios, h, w):
        """The fused post-processing op on the network outputs of :meth:`_net_outputs`."""
        return ops.net_output_to_people(
            outs,
            scale_ratios=ratios,
            net_input_size=sizes[0],
            image_size=tf.stack([h, w]),
            model=self.pose_model,
            openpose_build=self.openpose_build,
            max_peaks=self.max_peaks,
            fast=self.fast,
            peak_refinement=self.peak_refinement,
            **self.thresholds,
        )

    def people_graph(self, images: Any, net_input_sizes: Any = None, scale_ratios: Any = None) -> tuple:
        """Graph of the whole pipeline: images uint8 [N, H, W, 3] BGR (one size) ->
        (keypoints [N, M, P, 3] float32, scores [N, M] float32, num_people [N] int32), followed, when
        hands / face are on, by hand_left, hand_right [N, M, 21, 3] / face [N, M, 70, 3] float32
        (names in ``output_names``).

        net_input_sizes (int32 [S, 2], (H_n, W_n) per scale) and scale_ratios (float64 [S]): the
        images' sizing (:meth:`sizing`) when the caller has it; None (default, as in SavedModels):
        computed in the graph by the same core function."""

        outs, sizes, ratios, (h, w) = self._net_outputs(images, net_input_sizes, scale_ratios)
        keypoints, scores, num_people = self._people_ops(outs, sizes, ratios, h, w)
        outputs = (
            tf.identity(keypoints, name="keypoints"),
            tf.identity(scores, name="scores"),
            tf.identity(num_people, name="num_people"),
        )
        if self._hand_face is not None:
            extra = self._hand_face(images, keypoints)
            outputs += tuple(tf.identity(extra[k], name=k) for k in self.output_names[3:])
        return outputs

    def details_graph(self, images: Any, net_input_sizes: Any = None, scale_ratios: Any = None) -> tuple:
        """:meth:`people_graph` (same arguments) plus the merged maps at scale 0's net input [N, H_n, W_n, C] and the
        NMS peaks of the part channels in net-input pixels without OpenPose's offset
        (peaks [N, P, K, 3], counts [N, P]): the data of --write-heatmaps and --part-candidates."""
        outs, sizes, ratios, (h, w) = self._net_outputs(images, net_input_sizes, scale_ratios)
        keypoints, scores, num_people = self._people_ops(outs, sizes, ratios, h, w)
        table = _models.get(self.pose_model)
        maps = ops.resize_and_merge(outs, scale_ratios=ratios, target_size=sizes[0], openpose_build=self.openpose_build)
        threshold = self.thresholds.get("nms_threshold", table.defaults["nms_threshold"])
        peaks, counts = ops.nms(
            maps[..., : table.num_parts],
            threshold=threshold,
            max_peaks=self.max_peaks,
            openpose_build=self.openpose_build,
            peak_refinement=self.peak_refinement,
        )
        extra = ()
        if self._hand_face is not None:
            parts = self._hand_face(images, keypoints)
            extra = tuple(parts[k] for k in self.output_names[3:])
        return (keypoints, scores, num_people, maps, peaks, counts) + extra
