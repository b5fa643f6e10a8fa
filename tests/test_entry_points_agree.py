"""One input, one answer: the numpy entry points, TF eager, tf.function and a SavedModel give the same
results (bit for bit) or the same error on denormal, NaN, +-Inf and huge values, on sizes beyond
int32 and on odd arguments; fast == dense inside TensorFlow too.

TensorFlow runs kernels with denormals flushed to zero (FTZ/DAZ); the core sets IEEE mode in every
parallel range and kernel, so these comparisons would fail without it.
"""

from __future__ import annotations

import numpy as np
import pytest

from helpers import load_golden

tf = pytest.importorskip("tensorflow")
from tfpose import numpy_ops, ops  # noqa: E402

TINY = np.float32(1e-39)  # scales OpenPose's 0..1 maps into the denormal range (< 1.18e-38)


def _same(a, b):
    a = a if isinstance(a, tuple) else (a,)
    b = b if isinstance(b, tuple) else (b,)
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        x, y = np.asarray(x), np.asarray(y)
        assert x.shape == y.shape and x.dtype == y.dtype
        assert np.array_equal(
            x.view(np.uint32) if x.dtype == np.float32 else x, y.view(np.uint32) if y.dtype == np.float32 else y
        ), "results differ bit-wise"


@pytest.fixture(scope="module")
def net():
    return load_golden("real_coco000192_thin")["net_outputs"][0]


def _variants(net):
    """Real network output with denormal, NaN, +-Inf and huge values in several places."""
    rng = np.random.default_rng(5)
    out = {"denormal maps": (net * TINY).astype(np.float32)}
    paf_denormal = net.copy()
    paf_denormal[..., 19:] *= TINY  # normal peaks, denormal PAF scores
    out["denormal pafs"] = paf_denormal
    background = net.copy()
    small = np.abs(background) < 1e-3
    background[small] *= TINY  # people as usual, every near-zero value a denormal
    out["denormal background"] = background
    special = net.copy()
    idx = tuple(rng.integers(0, s, 40) for s in net.shape)
    special[idx] = rng.choice(np.float32([np.nan, np.inf, -np.inf, 3e38, 1e-40]), 40)
    out["nan inf huge"] = special
    huge = net.copy()
    huge[..., 19:] *= np.float32(1e38)
    out["huge pafs"] = huge
    return out


def _thresholds(name):
    # Thresholds 0 let denormal values count (a denormal > 0 is false under denormals-are-zero).
    return dict(nms_threshold=0.0, inter_threshold=0.0) if name in ("denormal maps", "denormal pafs") else {}


@pytest.mark.parametrize(
    "which", ["denormal maps", "denormal pafs", "denormal background", "nan inf huge", "huge pafs"]
)
def test_pipeline_numpy_eager_function_fast_dense_agree(net, which):
    x = _variants(net)[which]
    th = _thresholds(which)
    want = numpy_ops.net_output_to_people(x, fast=True, **th)
    _same(want, numpy_ops.net_output_to_people(x, fast=False, **th))
    for fast in (True, False):
        _same(want, ops.net_output_to_people(x, fast=fast, **th))

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 57], tf.float32)])
    def both(t):
        return ops.net_output_to_people(t, fast=True, **th), ops.net_output_to_people(t, fast=False, **th)

    fast_out, dense_out = both(tf.constant(x))
    _same(want, tuple(fast_out))
    _same(want, tuple(dense_out))
    assert np.isfinite(want[0]).all(), "keypoints must be finite"
    if "denormal" in which:
        # Under denormals-are-zero these peaks (threshold 0) would vanish: the comparison means something.
        assert numpy_ops.nms(x[..., :18], threshold=0.0)[1].sum() > 0
    if which == "denormal background":
        assert want[2][0] > 0


@pytest.mark.parametrize("which", ["denormal maps", "nan inf huge"])
def test_ops_numpy_eager_agree(net, which):
    x = _variants(net)[which]
    th = 0.0 if "denormal" in which else 0.05
    _same(numpy_ops.maximum(x), ops.maximum(x))
    _same(numpy_ops.nms(x[..., :18], threshold=th), ops.nms(x[..., :18], threshold=th))
    _same(numpy_ops.resize_and_merge(x), ops.resize_and_merge(x))
    maps = numpy_ops.resize_and_merge(net)
    maps[..., 19:] = x[..., 19:].repeat(8, 1).repeat(8, 2) if "nan" in which else maps[..., 19:] * TINY
    peaks, counts = numpy_ops.nms(maps[..., :18], offset=(0.5, 0.5))
    kw = dict(inter_threshold=0.0)
    _same(numpy_ops.connect(maps, peaks, counts, **kw), ops.connect(maps, peaks, counts, **kw))


def test_denormal_peak_and_maximum():
    """A denormal peak is above threshold 0 and denormals order as numbers (IEEE), inside TensorFlow as
    in numpy; under denormals-are-zero the peak vanishes and the maximum moves to the first pixel."""
    x = np.zeros((1, 9, 9, 1), np.float32)
    x[0, 4, 4, 0] = 1e-40
    for result in (numpy_ops.nms(x, threshold=0.0), ops.nms(x, threshold=0.0)):
        assert np.asarray(result[1]).tolist() == [[1]]
    y = np.full((1, 9, 9, 1), -2e-40, np.float32)
    y[0, 4, 4, 0] = -1e-40
    for result in (numpy_ops.maximum(y), ops.maximum(y)):
        assert np.asarray(result)[0, 0].tolist() == [4.0, 4.0, float(np.float32(-1e-40))]


def test_inf_in_unresized_maps_is_never_a_peak_nor_a_pair_score(net):
    """Net input size = blob size: the maps are used as they are, so an +Inf reaches the peak test and
    the PAF samples unchanged. It is never a peak (no error, no Inf score) on any entry point."""
    h, w = net.shape[1:3]
    x = net.copy()
    y0, x0 = np.unravel_index(np.argmax(x[0, :, :, 1]), (h, w))  # the strongest neck
    x[0, y0, x0, 1] = np.inf
    x[0, :, :, 19:][np.abs(x[0, :, :, 19:]) > 0.5] = np.inf  # strong PAF samples become +Inf
    size = (h, w)
    want = numpy_ops.net_output_to_people(x, net_input_size=size, fast=True)
    _same(want, numpy_ops.net_output_to_people(x, net_input_size=size, fast=False))
    _same(want, ops.net_output_to_people(x, net_input_size=size, fast=True))
    _same(want, ops.net_output_to_people(x, net_input_size=size, fast=False))
    assert np.isfinite(want[0]).all() and np.isfinite(want[1]).all()
    peaks, counts = numpy_ops.nms(x[..., :18])
    assert np.isfinite(peaks).all()


def test_huge_finite_paf_scores_stay_finite(net):
    """The float32 sum of huge finite PAF samples overflows; the pair score (their mean) does not."""
    from tfpose import _core

    maps = numpy_ops.resize_and_merge(net)
    peaks, counts = numpy_ops.nms(maps[..., :18], offset=(0.5, 0.5))
    maps[..., 19:] *= np.float32(1e38)
    for build in ("cpu", "cuda"):
        table = _core.paf_scores(maps, peaks, counts, openpose_build=build)
        assert np.isfinite(table).all() and table.max() > 1e37
    _same(numpy_ops.connect(maps, peaks, counts), ops.connect(maps, peaks, counts))


# ---------------------------------------------------------------------------------------------
# Sizes, models and shapes: the same error everywhere
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(2**32 + 16, 16), (16, 2**31), (2**31, 2**31)])
def test_sizes_beyond_int32_are_rejected_not_wrapped(net, size):
    for f in (numpy_ops.resize_and_merge, ops.resize_and_merge):
        with pytest.raises(ValueError, match=r"target_size: expected positive \(H, W\) below 2\^31"):
            f(net, target_size=size)
    for f in (numpy_ops.net_output_to_people, ops.net_output_to_people):
        with pytest.raises(ValueError, match=r"image_size: expected positive \(H, W\) below 2\^31"):
            f(net, image_size=size)

    @tf.function(input_signature=[tf.TensorSpec([2], tf.int64)])
    def in_graph(s):
        return ops.resize_and_merge(net, target_size=s)

    with pytest.raises(tf.errors.InvalidArgumentError, match="target_size: expected values below 2\\^31"):
        in_graph(tf.constant(size, tf.int64))


def test_counts_beyond_int32_are_rejected_not_wrapped():
    maps = np.zeros((1, 8, 8, 57), np.float32)
    peaks = np.zeros((1, 18, 4, 3), np.float32)
    counts = np.full((1, 18), 2**32 + 1, np.int64)  # would wrap to 1
    for f in (numpy_ops.connect, ops.connect):
        with pytest.raises(ValueError, match=r"counts: expected values in \[0, K\], got 4294967297"):
            f(maps, peaks, counts)
    with pytest.raises(tf.errors.InvalidArgumentError, match="counts: expected values below 2\\^31"):
        ops.connect(maps, peaks, tf.constant(counts))
    for f in (numpy_ops.connect, ops.connect):
        with pytest.raises(ValueError, match="min_subset_cnt: expected a non-negative int below 2\\^31"):
            f(maps, peaks, np.zeros((1, 18), np.int32), min_subset_cnt=2**32 + 3)


def test_model_none_is_the_same_error():
    maps = np.zeros((1, 8, 8, 57), np.float32)
    for f in (numpy_ops.connect, ops.connect):
        with pytest.raises(TypeError, match="model: expected a model name"):
            f(maps, np.zeros((1, 18, 4, 3), np.float32), np.zeros((1, 18), np.int32), model=None)
    for f in (numpy_ops.net_output_to_people, ops.net_output_to_people):
        with pytest.raises(TypeError, match="model: expected a model name"):
            f(maps, model=None)


@pytest.mark.parametrize("shape", [(0, 0, 0, 0), (0, 0, 8, 4), (0, 8, 8, 0)])
def test_empty_batch_of_invalid_shape_is_the_same_error(shape):
    x = np.zeros(shape, np.float32)
    with pytest.raises(ValueError, match=r"maximum: heatmaps shape: expected \[N >= 0, H >= 1, W >= 1, C >= 1\]"):
        numpy_ops.maximum(x)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"maximum: heatmaps shape: expected \[N >= 0"):
        ops.maximum(x)


def test_saved_model_agrees_on_odd_values(net, tmp_path):
    """A SavedModel of the pipeline op, loaded back, answers like numpy on the same odd inputs."""

    class Post(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, None, None, 57], tf.float32)])
        def __call__(self, x):
            return ops.net_output_to_people(x, nms_threshold=0.0, inter_threshold=0.0)

    tf.saved_model.save(Post(), str(tmp_path / "post"))
    loaded = tf.saved_model.load(str(tmp_path / "post"))
    for which in ("denormal pafs", "nan inf huge"):
        x = _variants(net)[which]
        _same(numpy_ops.net_output_to_people(x, nms_threshold=0.0, inter_threshold=0.0), tuple(loaded(x)))
