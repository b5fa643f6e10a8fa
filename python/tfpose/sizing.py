"""OpenPose's input sizing and coordinate bookkeeping (spec §2.1 and §3), without TensorFlow.

OpenPose chooses the network input size from ``--net_resolution`` and the image's aspect ratio, runs
``scale_number`` scales, places the image at the top-left of each net canvas with the factor
``scaleInputToNet`` and finally maps peaks back with ``scaleNetToOutput`` and ``nmsOffset``. The
arithmetic types (float32 for the resolution, double for the scale factors) follow OpenPose, because
a different rounding would change net sizes at aspect-ratio boundaries and peak offsets in the last bit.

Sizes in this module are (W, H) pairs, as in OpenPose's ``Point<int>``, unless named ``*_hw``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

__all__ = [
    "pir",
    "parse_net_resolution",
    "net_resolution_for_image",
    "net_input_sizes",
    "scale_input_to_net",
    "net_to_output",
    "Sizing",
    "compute_sizing",
    "check_scale_settings",
    "MIN_NET_SIDE",
    "MSG_NET_SIZE",
    "MSG_SCALE_FACTOR",
    "MSG_IMAGE_SIZE",
    "MSG_CONTENT",
]

STRIDE = 8  # all body models' net output is 1/8 of the net input
# The rules an image or a setting can break, worded once: the Python checks and the graph's own
# checks (placement.tf_sizing) use the same text, so a SavedModel and the Estimator say the same.
MIN_NET_SIDE = 16
MSG_NET_SIZE = f"expected a network input of at least {MIN_NET_SIDE} pixels per side at every scale"
MSG_SCALE_FACTOR = "expected a finite positive scale factor (images need at least 2 pixels along one side)"
MSG_IMAGE_SIZE = "expected positive (H, W)"
MSG_CONTENT = "expected an image covering at least 2 net pixels along each axis"


def pir(v: float) -> int:
    """OpenPose's positiveIntRound: int(v + 0.5) truncated toward zero (round half up for v >= -0.5)."""
    return int(float(v) + 0.5)


def parse_net_resolution(value) -> tuple[int, int]:
    """``"-1x368"``, ``(-1, 368)`` or ``[656, 368]`` -> (W, H) ints.

    At most one of W, H may be <= 0 (computed from the image's aspect ratio); the positive ones must
    be multiples of 16 as OpenPose requires.
    """
    if isinstance(value, str):
        parts = value.lower().replace(" ", "").split("x")
        if len(parts) != 2:
            raise ValueError(f"net_resolution: expected 'WxH' such as '-1x368', got {value!r}")
        try:
            w, h = (int(p) for p in parts)
        except ValueError:
            raise ValueError(f"net_resolution: expected 'WxH' with integers, got {value!r}") from None
    else:
        try:
            items = list(value)
        except TypeError:
            raise TypeError(f"net_resolution: expected (W, H) or 'WxH', got {value!r}") from None
        if len(items) != 2:
            raise ValueError(f"net_resolution: expected (W, H), got {len(items)} values {value!r}")
        if any(isinstance(v, bool) or int(v) != v for v in items):
            raise ValueError(f"net_resolution: expected integers (W, H), got {value!r}")
        w, h = (int(v) for v in items)
    if w <= 0 and h <= 0:
        raise ValueError(f"net_resolution: at most one of W, H may be <= 0, got {w}x{h}")
    for name, v in (("W", w), ("H", h)):
        if v > 0 and v % 16:
            raise ValueError(f"net_resolution: expected {name} to be a multiple of 16 or -1, got {w}x{h}")
    return w, h


def _check_image_size(image_wh) -> tuple[int, int]:
    w, h = (int(v) for v in image_wh)
    if w <= 0 or h <= 0:
        raise ValueError(f"image size: {MSG_IMAGE_SIZE}, got (H, W) = ({h}, {w})")
    return w, h


def net_resolution_for_image(net_resolution, image_wh, dynamic: float = 1.0) -> tuple[int, int]:
    """Spec §2.1 step 1: scale-0 net size (W, H) for an image of size ``image_wh`` (W, H).

    ``dynamic`` is OpenPose's ``--net_resolution_dynamic`` (HEAD default 1: a -1 side is capped at
    16/9 of the other, i.e. 656 for 368; <= 0: no cap).
    """
    wr, hr = parse_net_resolution(net_resolution)
    wi, hi = _check_image_size(image_wh)
    f32 = np.float32
    if wr <= 0:
        # float32 like OpenPose: the integer product Hr*Wi divided by float Hi.
        by_ratio = f32(hr * wi) / f32(hi)
        v = min(f32(hr) * f32(dynamic) * f32(16) / f32(9), by_ratio) if dynamic > 0 else by_ratio
        wr = 16 * pir(f32(1.0 / 16) * f32(v))
    elif hr <= 0:
        by_ratio = f32(wr * hi) / f32(wi)
        v = min(f32(wr) * f32(dynamic) * f32(9) / f32(16), by_ratio) if dynamic > 0 else by_ratio
        hr = 16 * pir(f32(1.0 / 16) * f32(v))
    # A very thin image can round the computed side down to 0; OpenPose would then fail in the net.
    if wr < MIN_NET_SIDE or hr < MIN_NET_SIDE:
        raise ValueError(
            f"image size {wi}x{hi}: {MSG_NET_SIZE}, got a net resolution of {wr}x{hr} "
            f"(below {MIN_NET_SIDE} pixels: the image is too thin for these settings)"
        )
    return wr, hr


def net_input_sizes(base_wh, scale_number: int = 1, scale_gap: float = 0.25) -> list[tuple[int, int]]:
    """Spec §2.1 step 2: (W, H) of each scale; scale s uses factor 1 - s*scale_gap (double)."""
    if isinstance(scale_number, bool) or int(scale_number) != scale_number or scale_number < 1:
        raise ValueError(f"scale_number: expected an int >= 1, got {scale_number!r}")
    scale_number = int(scale_number)
    gap = float(scale_gap)
    if not math.isfinite(gap) or gap < 0:
        raise ValueError(f"scale_gap: expected a number >= 0, got {scale_gap!r}")
    wr, hr = base_wh
    sizes = []
    for s in range(scale_number):
        f = 1.0 - s * gap
        if not (0.0 <= f <= 1.0):
            raise ValueError(
                f"scale_number {scale_number} with scale_gap {gap}: expected every scale factor "
                f"1 - s*gap in [0, 1], got {f} for scale {s}"
            )
        w = min(max((pir(wr * f) // 16) * 16, 1), wr)
        h = min(max((pir(hr * f) // 16) * 16, 1), hr)
        if w < MIN_NET_SIDE or h < MIN_NET_SIDE:
            raise ValueError(
                f"scale_number {scale_number} with scale_gap {gap} at net resolution {wr}x{hr}: "
                f"{MSG_NET_SIZE}, got {w}x{h} at scale {s} (factor {f:g})"
            )
        sizes.append((w, h))
    return sizes


def check_scale_settings(net_resolution, scale_number: int = 1, scale_gap: float = 0.25) -> None:
    """The rules of :func:`net_input_sizes` that do not depend on the image: scale_number, scale_gap,
    and every scale of the net resolution's fixed sides at least MIN_NET_SIDE pixels (a side of -1
    comes from the image and is checked per image). Raises ValueError like net_input_sizes."""
    wr, hr = parse_net_resolution(net_resolution)
    unknown = 1 << 20  # stands for a side computed from the image, so that only fixed sides count
    net_input_sizes((wr if wr > 0 else unknown, hr if hr > 0 else unknown), scale_number, scale_gap)


def _ratio(num: float, den: float) -> float:
    # A 1-pixel side gives 0/0 or x/0 in OpenPose's "-1" formula; the other side then decides.
    return num / den if den != 0 else math.inf


def scale_input_to_net(net_wh, image_wh) -> float:
    """Spec §2.1 step 3 (double): min((W_n-1)/(W_i-1), (H_n-1)/(H_i-1))."""
    wi, hi = _check_image_size(image_wh)
    s = min(_ratio(net_wh[0] - 1, wi - 1), _ratio(net_wh[1] - 1, hi - 1))
    if not math.isfinite(s) or s <= 0:
        raise ValueError(f"image size {wi}x{hi} with net size {net_wh[0]}x{net_wh[1]}: {MSG_SCALE_FACTOR}, got {s}")
    return s


def net_to_output(net_wh, image_wh) -> tuple[float, float]:
    """Spec §3: (scaleNetToOutput, nmsOffset), both float32 values, for scale-0 net size ``net_wh``.

    Keypoint = (peak + nmsOffset) * scaleNetToOutput in original-image pixels.
    """
    wi, hi = _check_image_size(image_wh)
    s1 = scale_input_to_net(net_wh, image_wh)
    nx, ny = pir(s1 * wi), pir(s1 * hi)
    scale = np.float32(min(_ratio(wi - 1, nx - 1), _ratio(hi - 1, ny - 1)))
    if not np.isfinite(scale) or scale <= 0:
        raise ValueError(
            f"image size {wi}x{hi}: expected a finite positive scaleNetToOutput, got {scale} "
            f"(the image scaled to the net is {nx}x{ny} pixels: too thin)"
        )
    if nx < 2 or ny < 2:  # the rule and words of the C++ pipeline (cpp/core/pipeline.cc output_scaling)
        raise ValueError(
            f"image_size ({hi}, {wi}) for net input ({net_wh[1]}, {net_wh[0]}): {MSG_CONTENT}, got content ({ny}, {nx})"
        )
    offset = np.float32(0.5 / float(scale))
    return float(scale), float(offset)


@dataclass(frozen=True)
class Sizing:
    """Everything OpenPose derives from the image size for one image.

    image_wh: (W_i, H_i). net_wh: per-scale net input sizes (W_n, H_n), scale 0 first.
    scale_ratios: scaleInputToNet per scale (double). scale_net_to_output, nms_offset: float32 values.
    """

    image_wh: tuple[int, int]
    net_wh: tuple[tuple[int, int], ...]
    scale_ratios: tuple[float, ...]
    scale_net_to_output: float
    nms_offset: float

    @property
    def net_input_hw(self) -> tuple[int, int]:
        """(H, W) of scale 0's net input, as the TF ops take it."""
        return self.net_wh[0][1], self.net_wh[0][0]

    @property
    def image_hw(self) -> tuple[int, int]:
        return self.image_wh[1], self.image_wh[0]


def compute_sizing(
    image_hw: Sequence[int],
    net_resolution=(-1, 368),
    scale_number: int = 1,
    scale_gap: float = 0.25,
    dynamic: float = 1.0,
) -> Sizing:
    """OpenPose's sizing for an image of shape (H, W) (numpy order): spec §2.1 and §3."""
    if len(image_hw) < 2:
        raise ValueError(f"image shape: expected (H, W[, C]), got {tuple(image_hw)}")
    hi, wi = int(image_hw[0]), int(image_hw[1])
    image_wh = _check_image_size((wi, hi))
    base = net_resolution_for_image(net_resolution, image_wh, dynamic)
    sizes = net_input_sizes(base, scale_number, scale_gap)
    ratios = tuple(scale_input_to_net(wh, image_wh) for wh in sizes)
    scale, offset = net_to_output(sizes[0], image_wh)
    return Sizing(image_wh, tuple(sizes), ratios, scale, offset)
