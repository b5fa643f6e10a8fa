"""tfpose's CUDA kernels on GPU arrays (CuPy arrays or PyTorch CUDA tensors), without TensorFlow.

The same algorithms and results as :mod:`tfpose.numpy_ops` (the GPU kernels reuse the CPU core's
per-element math and are meant to be bit-identical to it), for callers that already hold their maps
on a GPU. Outputs are allocated with the input's library on the input's device, and the kernels are
enqueued on that library's current stream (or on ``stream``, a raw ``cudaStream_t`` as an int), so
they are ordered with the caller's own work; nothing is synchronised here.

Needs a tfpose build with CUDA kernels (``tfpose._core.has_cuda``; see ``cpp/cuda/README.md``).
Without one, every function raises :class:`CudaUnavailableError`.

Shapes use N batch, H/W map height/width, C channels, P parts, K peaks per part, S scales.
"""

from __future__ import annotations

from tfpose import _args, _core

__all__ = ["CudaUnavailableError", "available", "maximum", "nms", "paf_scores", "resize_and_merge"]


class CudaUnavailableError(RuntimeError):
    """This tfpose build (or this machine) cannot run the CUDA kernels."""


def _check_build() -> None:
    if not getattr(_core, "has_cuda", False):
        raise CudaUnavailableError(
            "tfpose.cuda: this tfpose build has no CUDA kernels (tfpose._core.has_cuda is False); "
            "rebuild with nvcc present and -DTFPOSE_CUDA=ON (see cpp/cuda/README.md)"
        )


def available() -> bool:
    """True when the CUDA kernels are built in and the module's CUDA runtime sees a GPU."""
    return bool(getattr(_core, "has_cuda", False)) and _core.cuda_device_count() > 0


class _Lib:
    """The array library of the inputs: allocation of outputs and the current stream."""

    def __init__(self, like):
        mod = type(like).__module__.split(".")[0]
        self.name = mod
        if mod == "cupy":
            import cupy

            self.xp = cupy
            self.device = like.device
        elif mod == "torch":
            import torch

            if not like.is_cuda:
                raise TypeError(f"expected a CUDA tensor, got a torch tensor on {like.device}")
            self.xp = torch
            self.device = like.device
        else:
            raise TypeError(
                f"expected a cupy.ndarray or a torch CUDA tensor, got {type(like).__module__}.{type(like).__name__}"
            )

    def float32(self, x, name: str, rank: int):
        if type(x).__module__.split(".")[0] != self.name:
            raise TypeError(f"{name}: expected a {self.name} array like the first input, got {type(x).__name__}")
        if x.ndim != rank:
            raise ValueError(f"{name}: expected rank {rank}, got shape {tuple(x.shape)}")
        if self.name == "cupy":
            if x.dtype.kind != "f":
                raise TypeError(f"{name}: expected a float32 array, got dtype {x.dtype}")
            with self.device:
                return self.xp.ascontiguousarray(x, dtype=self.xp.float32)
        if not x.is_floating_point():
            raise TypeError(f"{name}: expected a float32 tensor, got dtype {x.dtype}")
        if x.device != self.device:
            raise ValueError(f"{name}: expected a tensor on {self.device}, got one on {x.device}")
        return x.to(self.xp.float32).contiguous()

    def empty(self, shape, dtype: str):
        if self.name == "cupy":
            with self.device:
                return self.xp.empty(shape, dtype=getattr(self.xp, dtype))
        return self.xp.empty(shape, dtype=getattr(self.xp, dtype), device=self.device)

    def stream(self, stream) -> int:
        if stream is not None:
            return int(stream)
        if self.name == "cupy":
            with self.device:
                return int(self.xp.cuda.get_current_stream().ptr)
        return int(self.xp.cuda.current_stream(self.device).cuda_stream)


def maximum(heatmaps, stream=None):
    """heatmaps [N, H, W, C] -> [N, C, 3] (x, y, value) of each channel's maximum, as
    :func:`tfpose.numpy_ops.maximum` (ties: first in raster order; NaNs skipped)."""
    _check_build()
    lib = _Lib(heatmaps)
    x = lib.float32(heatmaps, "heatmaps", 4)
    out = lib.empty((x.shape[0], x.shape[3], 3), "float32")
    _core.cuda_maximum(x, out, lib.stream(stream))
    return out


def nms(
    heatmaps,
    threshold=_args.DEFAULT_NMS_THRESHOLD,
    max_peaks=_args.DEFAULT_MAX_PEAKS,
    offset=(0.0, 0.0),
    openpose_build="cpu",
    stream=None,
    peak_refinement="centroid",
):
    """OpenPose's non-maximum suppression on the GPU, as :func:`tfpose.numpy_ops.nms`.

    heatmaps: [N, H, W, P] part heatmaps. Returns (peaks [N, P, K, 3] float32 (x, y, score),
    counts [N, P] int32), the first K peaks per part in raster order, rows past the count 0.
    """
    _check_build()
    params = _args.nms_params(threshold, max_peaks, offset, openpose_build, peak_refinement)
    lib = _Lib(heatmaps)
    x = lib.float32(heatmaps, "heatmaps", 4)
    n, _, _, p = (int(v) for v in x.shape)
    peaks = lib.empty((n, p, params.max_peaks, 3), "float32")
    counts = lib.empty((n, p), "int32")
    _core.cuda_nms(x, params, peaks, counts, lib.stream(stream))
    return peaks, counts


def resize_and_merge(net_outputs, scale_ratios=None, target_size=None, openpose_build="cpu", stream=None):
    """OpenPose's resize-and-merge on the GPU, as :func:`tfpose.numpy_ops.resize_and_merge`.

    net_outputs: [N, h, w, C] or a list of S such arrays (scale 0 first; same N and C, same library
    and device). scale_ratios: S numbers (see numpy_ops). target_size: (H, W), default 8x scale 0.
    Returns maps [N, H, W, C] float32, averaged over scales.
    """
    _check_build()
    _args.check_openpose_build(openpose_build)
    if isinstance(net_outputs, (list, tuple)):
        if not net_outputs:
            raise ValueError("net_outputs: expected at least one scale, got an empty list")
        items = list(net_outputs)
    else:
        items = [net_outputs]
    lib = _Lib(items[0])
    scales = [lib.float32(x, f"net_outputs[{i}]", 4) for i, x in enumerate(items)]
    ratios = _args.check_scale_ratios(scale_ratios, len(scales), openpose_build)
    if target_size is None:
        h, w = 8 * int(scales[0].shape[1]), 8 * int(scales[0].shape[2])
    else:
        h, w = _args.check_size(target_size, "target_size")
    n, c = int(scales[0].shape[0]), int(scales[0].shape[3])
    out = lib.empty((n, h, w, c), "float32")
    _core.cuda_resize_and_merge(scales, list(ratios), out, openpose_build, lib.stream(stream))
    return out


def paf_scores(
    maps,
    peaks,
    counts,
    model="COCO_18",
    openpose_build="cuda",
    nms_threshold=None,
    inter_min_above_threshold=None,
    inter_threshold=None,
    stream=None,
):
    """The connector's PAF pair scores on the GPU (spec 7.3 step 1), as OpenPose's CUDA build computes
    them before assembling people on the host.

    maps: [N, H, W, C] all channels; peaks [N, P, K, 3] (x, y, score) and counts [N, P] int32 as
    returned by :func:`nms` (same library and device). Thresholds: None = the model's default.
    openpose_build: the fail score of a pair that does not pass, 0 ("cpu") or -1 ("cuda").
    Returns [N, L, K, K] float32: entry [n, l, i, j] scores the i-th peak of limb l's part A with the
    j-th of its part B; -1 where i or j is past its part's count. Equals ``tfpose._core.paf_scores``.
    Peak values are not checked (they stay on the device); counts outside [0, K] are clamped.
    """
    _check_build()
    _args.check_openpose_build(openpose_build)
    if not isinstance(model, str):
        raise TypeError(f"model: expected a model name (str), got {model!r}")
    th = _args.check_thresholds(
        {
            k: v
            for k, v in (
                ("nms_threshold", nms_threshold),
                ("inter_min_above_threshold", inter_min_above_threshold),
                ("inter_threshold", inter_threshold),
            )
            if v is not None
        }
    )
    lib = _Lib(maps)
    m = lib.float32(maps, "maps", 4)
    pk = lib.float32(peaks, "peaks", 4)
    if type(counts).__module__.split(".")[0] != lib.name:
        raise TypeError(f"counts: expected a {lib.name} array like maps, got {type(counts).__name__}")
    if lib.name == "cupy":
        with lib.device:
            cn = lib.xp.ascontiguousarray(counts, dtype=lib.xp.int32)
    else:
        cn = counts.to(lib.xp.int32).contiguous()
    n, k = int(m.shape[0]), int(pk.shape[2])
    num_limbs = len(_core.pose_model(model)["pairs"])
    out = lib.empty((n, num_limbs, k, k), "float32")
    _core.cuda_paf_scores(
        m, pk, cn, model, openpose_build, _core.ConnectThresholds(**_args.threshold_values(th)), out, lib.stream(stream)
    )
    return out
