"""OpenPose-style networks as LiteRT (TensorFlow Lite) ``.tflite`` models, without TensorFlow.

The model runs in ``ai-edge-litert``'s interpreter (its default XNNPACK delegate on CPU); the people
come from tfpose's numpy entry (:func:`tfpose.numpy_ops.net_output_to_people`), the same C++ core as
the TensorFlow path, so the same network outputs give the same people. Placement is OpenPose's
(:func:`tfpose.numpy_ops.resize_fixed_aspect_ratio`, sizing by :func:`tfpose.sizing.compute_sizing`).

Two kinds of models:

* **resizable** (the input's ``shape_signature`` has -1 for height and width, as ``tfpose export
  --format tflite`` writes): the interpreter's input is resized to each scale's OpenPose net size.
* **fixed** (e.g. PINTO's MobileNetV2 pose models, 1x368x432x3 -> [1, 46, 54, 57]): the net size is
  the model's, so ``net_resolution`` defaults to it and must equal it; each scale's canvas (the
  image placed top-left by OpenPose's rule) goes top-left into the fixed input, black elsewhere,
  and the output is cropped to that canvas' H/8 x W/8. :attr:`LiteRTEstimator.input_mode` says which.

Input: BGR 0..255 float32 (tf-pose-estimation's convention); ``normalization="caffe"`` gives x/256-0.5.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import numpy as np

from tfpose import numpy_ops, sizing
from tfpose.options import DEFAULTS, NORMALIZATIONS

__all__ = ["LiteRTEstimator", "is_tflite", "TFLITE_SUFFIX", "litert_estimator_for_cli"]

TFLITE_SUFFIX = ".tflite"
# OpenPose's net input sides are multiples of this; the output is 1/8 of the input (docs/algorithms/body.md §1).
_NET_STRIDE = 8
# A LiteRT interpreter's input holds one image: one image per call (the estimator's batch_size).
_IMAGES_PER_CALL = 1


def is_tflite(model) -> bool:
    """True when ``model`` names a ``.tflite`` file (by its suffix)."""
    return isinstance(model, (str, os.PathLike)) and os.fspath(model).lower().endswith(TFLITE_SUFFIX)


def _interpreter_class():
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as exc:
        raise ImportError(
            "a .tflite network needs the LiteRT runtime: pip install ai-edge-litert "
            f"(or tfpose's 'litert' extra); import failed: {exc}"
        ) from None
    return Interpreter


def _open_interpreter(model: Any, num_threads: int | None, normalization: str) -> tuple[str, Any, dict, dict]:
    """The model's path, a LiteRT interpreter on it, and its one input's and one output's details;
    num_threads and normalization are checked before the interpreter loads.
    Raises FileNotFoundError for a missing file, ValueError for a folder, a FIFO or device, a bad
    num_threads or normalization, a file LiteRT cannot read, or a model whose input is not [1, H, W, 3] float32 or
    whose output is not 4-D; ImportError without ai-edge-litert."""
    from tfpose.sources import not_a_file

    path = os.fspath(model)
    if os.path.isdir(path):
        raise ValueError(f"model {path!r}: expected a .tflite file, got a directory")
    why = not_a_file(path) or ("a folder" if os.path.isdir(path) else None)
    if why == "no such file or folder":
        raise FileNotFoundError(f"model {path!r} not found: expected a .tflite file")
    if why is not None:  # never opened: a FIFO would block, /dev/zero never ends
        raise ValueError(f"model {path!r}: {why}; expected a .tflite file")
    if num_threads is not None and (
        isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 1
    ):
        raise ValueError(f"num_threads: expected None (LiteRT's default) or an int >= 1, got {num_threads!r}")
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"normalization: expected one of {NORMALIZATIONS}, got {normalization!r}")
    Interpreter = _interpreter_class()
    try:
        interpreter = Interpreter(model_path=path, num_threads=num_threads)
    except ValueError as exc:
        raise ValueError(f"model {path!r}: LiteRT cannot read it as a .tflite model ({exc})") from None
    inp = interpreter.get_input_details()
    out = interpreter.get_output_details()
    if len(inp) != 1 or len(inp[0]["shape"]) != 4 or inp[0]["shape"][-1] != 3 or inp[0]["dtype"] != np.float32:
        got = [(d["shape"].tolist(), np.dtype(d["dtype"]).name) for d in inp]
        raise ValueError(f"model {path!r}: expected one float32 [1, H, W, 3] input, got {got}")
    if len(out) != 1 or len(out[0]["shape"]) != 4:
        raise ValueError(f"model {path!r}: expected one [1, H/8, W/8, C] output, got {[list(d['shape']) for d in out]}")
    return path, interpreter, inp[0], out[0]


class LiteRTEstimator:
    """OpenPose's multi-person pose estimation with the network run by LiteRT.

    model: path of a ``.tflite`` network taking [1, H, W, 3] float32 BGR and returning
        ``concat_stage7``-style [1, H/8, W/8, C] (C = 57 COCO_18, 78 BODY_25, 44 MPI_15).
    net_resolution, scale_number, scale_gap, net_resolution_dynamic, openpose_build, max_peaks,
        fast, keypoint_scale, number_people_max, thresholds: as :class:`tfpose.Estimator`. A fixed-size model takes its own size as
        net_resolution (the default None means that; another value raises ValueError).
    num_threads: interpreter threads (None: LiteRT's default).
    Raises FileNotFoundError for a missing file, ImportError without ai-edge-litert, ValueError for
    a model whose input is not [1, H, W, 3] float32 or whose output channels fit no pose model.
    """

    def __init__(
        self,
        model: Any,
        pose_model: str | None = DEFAULTS["pose_model"],
        net_resolution: Any = None,
        scale_number: int | None = DEFAULTS["scale_number"],
        scale_gap: float | None = DEFAULTS["scale_gap"],
        openpose_build: str = DEFAULTS["openpose_build"],
        *,
        net_resolution_dynamic: float = DEFAULTS["net_resolution_dynamic"],
        normalization: str = DEFAULTS["normalization"],
        max_peaks: int = DEFAULTS["max_peaks"],
        fast: bool = DEFAULTS["fast"],
        num_threads: int | None = None,
        keypoint_scale: int = DEFAULTS["keypoint_scale"],
        number_people_max: int = DEFAULTS["number_people_max"],
        **thresholds: Any,
    ) -> None:
        from tfpose import models as _models
        from tfpose import options as _options

        path, self._interpreter, self._input, self._output = _open_interpreter(model, num_threads, normalization)
        signature = self._input["shape_signature"]
        self.input_mode = "resize" if signature[1] == -1 and signature[2] == -1 else "fixed"
        self.fixed_hw = None if self.input_mode == "resize" else (int(signature[1]), int(signature[2]))
        if net_resolution is None:
            net_resolution = (
                DEFAULTS["net_resolution"] if self.fixed_hw is None else (self.fixed_hw[1], self.fixed_hw[0])
            )
        opts = _options.check_estimator_options(
            pose_model=pose_model,
            net_resolution=net_resolution,
            scale_number=scale_number,
            scale_gap=scale_gap,
            openpose_build=openpose_build,
            net_resolution_dynamic=net_resolution_dynamic,
            normalization=normalization,
            max_peaks=max_peaks,
            batch_size=_IMAGES_PER_CALL,
            keypoint_scale=keypoint_scale,
            number_people_max=number_people_max,
            **thresholds,
        )
        self.net_resolution = opts["net_resolution"]
        if self.fixed_hw is not None and tuple(self.net_resolution) != (self.fixed_hw[1], self.fixed_hw[0]):
            raise ValueError(
                f"net_resolution: model {path!r} has a fixed input of {self.fixed_hw[1]}x{self.fixed_hw[0]} "
                f"(W x H), so net_resolution must be that size (or None), got {self.net_resolution}"
            )
        self.scale_number, self.scale_gap = opts["scale_number"], opts["scale_gap"]
        self.openpose_build, self.max_peaks = opts["openpose_build"], opts["max_peaks"]
        self.net_resolution_dynamic = opts["net_resolution_dynamic"]
        self.thresholds, self.fast, self.normalization = opts["thresholds"], bool(fast), normalization
        channels = int(self._output["shape"][-1])
        self.pose_model = opts["pose_model"] or _options.infer_pose_model(channels, path)
        if _models.get(self.pose_model).num_channels != channels:
            raise ValueError(
                f"model {path!r}: pose model {self.pose_model} expects "
                f"{_models.get(self.pose_model).num_channels} output channels, got {channels}"
            )
        self.keypoint_scale, self.number_people_max = opts["keypoint_scale"], opts["number_people_max"]
        self.batch_size = opts["batch_size"]  # tfpose.stream reads it
        self.source = path
        self.precision = "litert"
        self._allocated_hw = None
        # one interpreter: its tensors are shared state, so calls from several threads take turns
        self._lock = threading.Lock()

    def network_output(self, canvas: np.ndarray) -> np.ndarray:
        """canvas: float32 [H, W, 3] BGR 0..255 (H, W multiples of 8; for a fixed model at most its
        size) -> the network's output float32 [H/8, W/8, C]."""
        h, w = canvas.shape[:2]
        x = canvas
        if self.fixed_hw is None:
            run_hw = (h, w)
        else:
            run_hw = self.fixed_hw
            if h > run_hw[0] or w > run_hw[1]:
                raise ValueError(f"canvas: expected at most the model's fixed {run_hw} (H, W), got {(h, w)}")
            if (h, w) != run_hw:  # a smaller scale: top-left in the fixed input, black elsewhere
                x = np.zeros((*run_hw, 3), np.float32)
                x[:h, :w] = canvas
        if self.normalization == "caffe":  # after the padding, so black is -0.5 as in OpenPose
            x = x / 256.0 - 0.5
        with self._lock:
            return self._invoke(x, run_hw)[: h // _NET_STRIDE, : w // _NET_STRIDE]

    def _invoke(self, x: np.ndarray, run_hw) -> np.ndarray:
        if self._allocated_hw != run_hw:
            if self.fixed_hw is None:
                self._interpreter.resize_tensor_input(self._input["index"], [1, *run_hw, 3], strict=True)
            self._interpreter.allocate_tensors()
            self._allocated_hw = run_hw
        self._interpreter.set_tensor(self._input["index"], np.ascontiguousarray(x[None], np.float32))
        self._interpreter.invoke()
        return self._interpreter.get_tensor(self._output["index"])[0].copy()

    def sizing(self, image_shape) -> sizing.Sizing:
        """OpenPose's sizing of an image of shape (H, W[, C]) with this estimator's settings."""
        return sizing.compute_sizing(
            image_shape, self.net_resolution, self.scale_number, self.scale_gap, self.net_resolution_dynamic
        )

    def estimate_arrays(self, image: np.ndarray):
        """image: uint8 [H, W, 3] BGR -> (keypoints [M, P, 3] in image pixels (x, y, score; OpenPose's
        +0.5 convention), scores [M]): the numpy entry's output for one image, before
        keypoint_scale and number_people_max."""
        im = np.asarray(image)
        if im.dtype != np.uint8 or im.ndim != 3 or im.shape[2] != 3:
            raise ValueError(f"image: expected uint8 [H, W, 3] BGR, got {im.dtype} {im.shape}")
        geo = self.sizing(im.shape)
        outs = []
        for (h, w), ratio in zip(geo.net_hw, geo.scale_ratios, strict=True):
            canvas = numpy_ops.resize_fixed_aspect_ratio(im[None], ratio, (h, w))[0]
            outs.append(self.network_output(canvas)[None])
        keypoints, scores, num = numpy_ops.net_output_to_people(
            outs,
            scale_ratios=list(geo.scale_ratios),
            net_input_size=geo.net_hw[0],
            image_size=im.shape[:2],
            model=self.pose_model,
            openpose_build=self.openpose_build,
            max_peaks=self.max_peaks,
            fast=self.fast,
            **self.thresholds,
        )
        n = int(num[0])
        return keypoints[0, :n], scores[0, :n]

    def estimate(self, image) -> list:
        """People in one image (HxWx3 uint8 BGR): a list of :class:`tfpose.Person`, with
        keypoint_scale and number_people_max applied as in ``tfpose.Estimator.estimate``."""
        from tfpose import io as _io
        from tfpose.types import Person

        keypoints, scores = self.estimate_arrays(image)
        g = self.sizing(np.shape(image))
        keep = _io.keep_top_people(keypoints, scores, self.number_people_max)
        kp = _io.scale_keypoints(keypoints[keep], self.keypoint_scale, g.image_wh, g.scale_net_to_output)
        return [Person(kp[j], scores[m]) for j, m in enumerate(keep)]

    def estimate_batch(self, images) -> list:
        """People in each image of a list (one interpreter call per image and scale)."""
        return [self.estimate(im) for im in images]

    # tfpose.stream's entry (the CLI's overlapped runner): images already validated, of one size
    _estimate_same_size = estimate_batch


def litert_estimator_for_cli(args, body_options: dict) -> LiteRTEstimator:
    """``tfpose estimate --model X.tflite``: a :class:`LiteRTEstimator` from the CLI's options. A fixed-size
    model takes its own size when --net-resolution is left at OpenPose's default; options that only
    the TensorFlow path has (hands, face, --part-candidates, --write-heatmaps: they need the Estimator's
    ``estimate_details``, --precision other than the default) raise ValueError."""
    opts = dict(body_options)
    if opts["net_resolution"] == "-1x368":
        opts["net_resolution"] = None
    for part in ("hand", "face"):
        if getattr(args, part, False):
            raise ValueError(f"--{part}: expected a TensorFlow body network; a .tflite one runs without hands and face")
    for flag, given in (
        ("--part-candidates", getattr(args, "part_candidates", False)),
        ("--write-heatmaps", getattr(args, "write_heatmaps", None)),
    ):
        if given:
            raise ValueError(f"{flag}: expected a TensorFlow network; a .tflite one gives people only")
    if args.batch_size not in (None, 1):
        raise ValueError(f"--batch-size: a .tflite network runs one image per call, got {args.batch_size}")
    return LiteRTEstimator(args.model, number_people_max=args.number_people_max, **opts)
