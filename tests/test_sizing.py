"""OpenPose's input sizing (docs/algorithms/body.md §2.1, §3): worked examples and the golden cases' metadata."""

from __future__ import annotations

import numpy as np
import pytest

from tfpose import sizing

from helpers import golden_index

# docs/algorithms/body.md §2.1 worked examples: image (W, H) -> (net (W, H), scaleInputToNet)
SPEC_21 = [
    ((1280, 720), (656, 368), 0.510431),
    ((1920, 1080), (656, 368), 0.340130),
    ((640, 480), (496, 368), 0.766180),
    ((720, 1280), (208, 368), 0.286943),
    ((3000, 368), (656, 368), None),
]


@pytest.mark.parametrize("image_wh,net_wh,ratio", SPEC_21)
def test_spec_21_examples(image_wh, net_wh, ratio):
    s = sizing.compute_sizing((image_wh[1], image_wh[0]))
    assert s.net_wh[0] == net_wh
    if ratio is not None:
        assert s.scale_ratios[0] == pytest.approx(ratio, abs=1e-6)


def test_dynamic_off_gives_uncapped_width():
    assert sizing.net_resolution_for_image("-1x368", (3000, 368), dynamic=0) == (3008, 368)
    assert sizing.net_resolution_for_image("-1x368", (3000, 368), dynamic=1) == (656, 368)


def test_spec_21_four_scales():
    s = sizing.compute_sizing((720, 1280), scale_number=4, scale_gap=0.25)
    assert s.net_wh == ((656, 368), (480, 272), (320, 176), (160, 80))
    np.testing.assert_allclose(s.scale_ratios, [0.510431, 0.374511, 0.243394, 0.109875], atol=1e-6)


# docs/algorithms/body.md §3 worked values: image (W, H) -> (netSize (W, H), scaleNetToOutput, nmsOffset)
SPEC_3 = [
    ((1280, 720), 1.959128, 0.255216),
    ((1920, 1080), 2.943252, 0.169880),
    ((1200, 627), 1.830409, 0.273163),
    ((217, 232), 0.627717, 0.796537),
]


@pytest.mark.parametrize("image_wh,scale,offset", SPEC_3)
def test_spec_3_examples(image_wh, scale, offset):
    s = sizing.compute_sizing((image_wh[1], image_wh[0]))
    assert s.scale_net_to_output == pytest.approx(scale, abs=1e-6)
    assert s.nms_offset == pytest.approx(offset, abs=1e-6)


def test_spec_3_upscaled_ratio_and_identity():
    assert sizing.compute_sizing((232, 217)).scale_ratios[0] == pytest.approx(1.588745, abs=1e-6)
    s = sizing.compute_sizing((368, 656))
    assert s.net_wh[0] == (656, 368)
    assert (s.scale_net_to_output, s.nms_offset) == (1.0, 0.5)


@pytest.mark.parametrize("case", golden_index(), ids=lambda c: c["case"])
def test_golden_metas(case):
    h, w = case["image_hw"]
    s = sizing.compute_sizing((h, w), scale_number=len(case["scale_ratios"]))
    if case["case"].startswith("real_"):
        # real cases ran OpenPose's own sizing; synthetic ones chose their net size directly
        assert list(s.net_wh[0]) == case["net_input_wh"]
        assert list(s.scale_ratios) == case["scale_ratios"]  # double, exact
    net_wh = tuple(case["net_input_wh"])
    scale, offset = sizing.net_to_output(net_wh, (w, h))
    # float32 values written to JSON as doubles: exact equality
    assert scale == case["scale_net_to_output"]
    assert offset == case["nms_offset"]


def test_parse_net_resolution():
    assert sizing.parse_net_resolution("-1x368") == (-1, 368)
    assert sizing.parse_net_resolution((656, 368)) == (656, 368)
    assert sizing.parse_net_resolution("656x-1") == (656, -1)
    for bad in ("368", "-1x-1", "-1x370", "ax368", (1, 2, 3)):
        with pytest.raises(ValueError, match="net_resolution"):
            sizing.parse_net_resolution(bad)


def test_fixed_resolution_ignores_aspect():
    s = sizing.compute_sizing((720, 1280), net_resolution="432x368")
    assert s.net_wh[0] == (432, 368)
    assert s.scale_ratios[0] == min(431 / 1279, 367 / 719)


def test_bad_sizes():
    with pytest.raises(ValueError, match="expected positive"):
        sizing.compute_sizing((0, 0))
    with pytest.raises(ValueError, match="scale factor"):
        sizing.compute_sizing((1, 1))
    with pytest.raises(ValueError, match="below 16"):
        sizing.compute_sizing((10000, 3))  # width from aspect ratio rounds to 0
    with pytest.raises(ValueError, match="scale_gap"):
        sizing.compute_sizing((368, 368), scale_number=5, scale_gap=0.3)
    with pytest.raises(ValueError, match="scale_number"):
        sizing.compute_sizing((368, 368), scale_number=0)


def test_limits_and_types_same_in_python_and_graph():
    import tensorflow as tf

    from tfpose import placement

    # net sides above MAX_NET_SIDE are refused (the graph's int32 sizes can never wrap)
    for call in (
        lambda: sizing.compute_sizing((2, 12_000_000), dynamic=0),
        lambda: sizing.compute_sizing((480, 640), net_resolution=(4294967312, 368)),
    ):
        with pytest.raises(ValueError, match=f"at most {sizing.MAX_NET_SIDE}"):
            call()
    with pytest.raises(tf.errors.InvalidArgumentError, match=f"at most {sizing.MAX_NET_SIDE}"):
        placement.tf_sizing(2, 12_000_000, dynamic=0)
    with pytest.raises(ValueError, match=f"at most {sizing.MAX_NET_SIDE}"):
        placement.tf_sizing(480, 640, net_resolution=(4294967312, 368))
    # image sides beyond int32 are refused, not wrapped
    with pytest.raises(ValueError, match="below 2\\^31"):
        sizing.compute_sizing((2**32 + 480, 640))
    with pytest.raises(tf.errors.InvalidArgumentError, match="below 2\\^31"):
        placement.tf_sizing(2**32 + 480, 640)
    # a 1-pixel side: the scale-factor rule, with its words
    for shape in [(1, 5), (5, 1), (1, 1)]:
        with pytest.raises(ValueError) as info:
            sizing.compute_sizing(shape)
        assert sizing.MSG_SCALE_FACTOR in str(info.value)
        with pytest.raises(tf.errors.InvalidArgumentError) as graph:
            placement.tf_sizing(*shape)
        assert sizing.MSG_SCALE_FACTOR in str(graph.value)
    # types: no silent truncation or string parsing
    for bad in [(480.7, 640), ("480", "640"), (True, 640)]:
        with pytest.raises(TypeError, match="integers"):
            sizing.compute_sizing(bad)
    for kw in [dict(scale_gap=True), dict(scale_gap="0.25"), dict(dynamic="1")]:
        with pytest.raises(TypeError, match="expected a number"):
            sizing.compute_sizing((480, 640), **kw)
    with pytest.raises(ValueError, match="net_resolution_dynamic"):
        sizing.compute_sizing((480, 640), dynamic=float("nan"))


def test_settings_errors_name_the_resolution_as_given():
    with pytest.raises(ValueError) as info:
        sizing.check_scale_settings("-1x16", scale_number=2, scale_gap=0.25)
    msg = str(info.value)
    assert "at net resolution -1x16" in msg and "1048576" not in msg and sizing.MSG_NET_SIZE in msg
