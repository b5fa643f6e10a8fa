"""OpenPose's input sizing and coordinate bookkeeping (docs/algorithms/body.md §2.1 and §3), without TensorFlow.

The arithmetic lives in the C++ core (``include/tfpose/sizing.hpp``), which the graph's sizing op and
the pipeline ops call too; this module parses the settings and returns Python values.

OpenPose chooses the network input size from ``--net_resolution`` and the image's aspect ratio, runs
``scale_number`` scales, places the image at the top-left of each net canvas with the factor
``scaleInputToNet`` and finally maps peaks back with ``scaleNetToOutput`` and ``nmsOffset``. The
arithmetic types (float32 for the resolution, double for the scale factors) follow OpenPose, because
a different rounding would change net sizes at aspect-ratio boundaries and peak offsets in the last bit.

Sizes in this module are (W, H) pairs, as in OpenPose's ``Point<int>``, unless named ``*_hw``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tfpose import _args, _core

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
    "MAX_NET_SIDE",
    "MSG_NET_SIZE",
    "MSG_SCALE_FACTOR",
    "MSG_IMAGE_SIZE",
    "MSG_CONTENT",
]

# The words of the rules an image or a setting can break, owned by the core (include/tfpose/sizing.hpp)
# and raised alike by these functions, the graph's TfposeSizing op and the pipeline ops.
MIN_NET_SIDE = _core.MIN_NET_SIDE
MAX_NET_SIDE = _core.MAX_NET_SIDE
MSG_NET_SIZE = _core.MSG_NET_SIZE
MSG_SCALE_FACTOR = _core.MSG_SCALE_FACTOR
MSG_IMAGE_SIZE = _core.MSG_IMAGE_SIZE
MSG_CONTENT = _core.MSG_CONTENT


def pir(v: float) -> int:
    """OpenPose's positiveIntRound: int(v + 0.5) truncated toward zero (round half up for v >= -0.5)."""
    return int(float(v) + 0.5)


def parse_net_resolution(value) -> tuple[int, int]:
    """``"-1x368"``, ``(-1, 368)`` or ``[656, 368]`` -> (W, H) ints.

    At most one of W, H may be <= 0 (computed from the image's aspect ratio); the positive ones must
    be multiples of 16 as OpenPose requires. Raises ValueError / TypeError naming the value.
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
    _core.check_net_resolution((w, h))
    return w, h


def _check_scale_number(scale_number) -> int:
    if (
        isinstance(scale_number, (bool, np.bool_))
        or not isinstance(scale_number, (int, float, np.integer, np.floating))
        or int(scale_number) != scale_number
        or scale_number < 1
    ):
        raise ValueError(f"scale_number: expected an int >= 1, got {scale_number!r}")
    return int(scale_number)


def net_resolution_for_image(net_resolution, image_wh, dynamic: float = 1.0) -> tuple[int, int]:
    """docs/algorithms/body.md §2.1 step 1: scale-0 net size (W, H) for an image of size ``image_wh`` (W, H).

    ``dynamic`` is OpenPose's ``--net_resolution_dynamic`` (HEAD default 1: a -1 side is capped at
    16/9 of the other, i.e. 656 for 368; <= 0: no cap). Raises ValueError for an empty image or a
    side below MIN_NET_SIDE.
    """
    return _core.net_resolution_for_image(
        parse_net_resolution(net_resolution),
        _args.check_int_pair(image_wh, "image size"),
        _args.check_real(dynamic, "dynamic"),
    )


def net_input_sizes(base_wh, scale_number: int = 1, scale_gap: float = 0.25) -> list[tuple[int, int]]:
    """docs/algorithms/body.md §2.1 step 2: (W, H) of each scale; scale s uses factor 1 - s*scale_gap (double)."""
    return _core.net_input_sizes(
        _args.check_int_pair(base_wh, "base size"),
        _check_scale_number(scale_number),
        _args.check_real(scale_gap, "scale_gap"),
    )


def check_scale_settings(net_resolution, scale_number: int = 1, scale_gap: float = 0.25) -> None:
    """The rules of :func:`net_input_sizes` that do not depend on the image: scale_number, scale_gap,
    and every scale of the net resolution's fixed sides at least MIN_NET_SIDE pixels (a side of -1
    comes from the image and is checked per image). Raises ValueError like net_input_sizes."""
    _core.check_scale_settings(
        parse_net_resolution(net_resolution),
        _check_scale_number(scale_number),
        _args.check_real(scale_gap, "scale_gap"),
    )


def scale_input_to_net(net_wh, image_wh) -> float:
    """docs/algorithms/body.md §2.1 step 3 (double): min((W_n-1)/(W_i-1), (H_n-1)/(H_i-1)); ValueError unless finite > 0."""
    return _core.scale_input_to_net(
        _args.check_int_pair(net_wh, "net size"), _args.check_int_pair(image_wh, "image size")
    )


def net_to_output(net_wh, image_wh) -> tuple[float, float]:
    """docs/algorithms/body.md §3: (scaleNetToOutput, nmsOffset), both float32 values, for scale-0 net size ``net_wh``.

    Keypoint = (peak + nmsOffset) * scaleNetToOutput in original-image pixels. Raises ValueError for
    an image too thin to map back (MSG_SCALE_FACTOR, MSG_CONTENT).
    """
    return _core.net_to_output(_args.check_int_pair(net_wh, "net size"), _args.check_int_pair(image_wh, "image size"))


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
    def net_hw(self) -> tuple[tuple[int, int], ...]:
        """(H, W) of every scale's net input, scale 0 first: the order of the TF ops' sizes and of
        :func:`tfpose.placement.warp_top_left` (``net_wh`` is OpenPose's (W, H))."""
        return tuple((h, w) for w, h in self.net_wh)

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
    """OpenPose's sizing for an image of shape (H, W[, C]) (numpy order, integers): docs/algorithms/body.md §2.1 and §3,
    computed by the core's compute_sizing (include/tfpose/sizing.hpp), the one owner of these rules.

    net_resolution: OpenPose's --net_resolution, (W, H) or "WxH", one side -1 = from the aspect
    ratio; scale_number, scale_gap: OpenPose's multi-scale settings (scale s at factor 1 - s*gap);
    dynamic: OpenPose's --net_resolution_dynamic (caps a -1 side at 16/9 of the other; <= 0: no cap).
    Images need at least 2 pixels per side and must give net sides in [MIN_NET_SIDE, MAX_NET_SIDE].
    Raises ValueError naming the rule (the MSG_* words where they apply) and the values; TypeError
    for non-integer sizes or non-numeric settings."""
    if len(image_hw) < 2:
        raise ValueError(f"image shape: expected (H, W[, C]), got {tuple(image_hw)}")
    hi, wi = _args.check_int_pair(tuple(image_hw)[:2], "image shape (H, W)")
    net, ratios, scale, offset = _core.compute_sizing(
        (hi, wi),
        parse_net_resolution(net_resolution),
        _check_scale_number(scale_number),
        _args.check_real(scale_gap, "scale_gap"),
        _args.check_real(dynamic, "dynamic"),
    )
    return Sizing((wi, hi), tuple(net), tuple(ratios), float(scale), float(offset))
