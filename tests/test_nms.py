"""nms: golden parity (both OpenPose builds, TF op and numpy entry), the numpy reference on random
maps, the border rules of docs/algorithms/body.md §5.1/§5.2, K truncation, NaN/Inf, graph/tf.data use and every error."""

import functools

import numpy as np
import pytest

from tfpose import numpy_ops

from helpers import GOLDEN_CASES, load_golden
from reference.nms_ref import nms_ref

# Golden key -> (OpenPose build, whether the meta nms_offset is applied). The README: peaks_cpu uses
# nms_offset, peaks_cpu_offset0 none; peaks_gpu_emul (the CUDA build's NMS on the CPU-resized map)
# also carries nms_offset, like everything OpenPose hands to the connector.
GOLDEN_KEYS = {"peaks_cpu": ("cpu", True), "peaks_cpu_offset0": ("cpu", False), "peaks_gpu_emul": ("cuda", True)}


def tf_ops():
    from tfpose import ops

    return ops


@functools.lru_cache(maxsize=4)
def _golden_heat(case):
    import cv2

    g = load_golden(case)
    _, h, w = (int(v) for v in g["heat_shape"])
    p = g["peaks_cpu"].shape[0]
    if len(g["net_outputs"]) != 1:
        # A multi-scale CPU merge is not one cv2.resize; tfpose's resize (golden-checked on its own
        # in test_resize_and_merge.py) rebuilds it.
        heat = numpy_ops.resize_and_merge(g["net_outputs"], g["meta"]["scale_ratios"], (h, w))
        return g, np.ascontiguousarray(heat[..., :p])
    net = g["net_outputs"][0][0]
    # OpenPose's CPU resize of a single scale is exactly OpenCV's bicubic to the net-input size (docs/algorithms/body.md §4.1).
    heat = np.stack([cv2.resize(net[..., c], (w, h), interpolation=cv2.INTER_CUBIC) for c in range(p)], axis=-1)[None]
    return g, np.ascontiguousarray(heat)


def _assert_golden(peaks, counts, golden):
    """peaks [P, K, 3], counts [P] against OpenPose's [P, 128, 3] with the count in [p, 0, 0]."""
    want_counts = golden[:, 0, 0].astype(np.int32)
    np.testing.assert_array_equal(counts, want_counts)
    for part, cnt in enumerate(want_counts):
        got, want = peaks[part, :cnt], golden[part, 1 : cnt + 1]
        np.testing.assert_allclose(got[:, :2], want[:, :2], rtol=0, atol=1e-3)
        np.testing.assert_allclose(got[:, 2], want[:, 2], rtol=0, atol=1e-5)
        assert not peaks[part, cnt:].any(), "rows past the count must be zero"


@pytest.mark.smoke
@pytest.mark.parametrize("key", sorted(GOLDEN_KEYS))
@pytest.mark.parametrize("case", GOLDEN_CASES)
def test_golden(case, key):
    g, heat = _golden_heat(case)
    build, with_offset = GOLDEN_KEYS[key]
    meta = g["meta"]
    off = meta["nms_offset"] if with_offset else 0.0
    kw = dict(
        threshold=meta["defaults"]["nms_threshold"],
        max_peaks=meta["max_peaks"],
        offset=(off, off),
        openpose_build=build,
    )
    peaks, counts = numpy_ops.nms(heat, **kw)
    assert peaks.shape == (1, heat.shape[-1], meta["max_peaks"], 3) and peaks.dtype == np.float32
    assert counts.shape == (1, heat.shape[-1]) and counts.dtype == np.int32
    _assert_golden(peaks[0], counts[0], g[key])
    tf_peaks, tf_counts = tf_ops().nms(heat, **kw)
    np.testing.assert_array_equal(tf_peaks.numpy(), peaks)
    np.testing.assert_array_equal(tf_counts.numpy(), counts)


def _random_maps(rng, shape, kind):
    n, h, w, p = shape
    if kind == "uniform":
        return rng.random(shape, dtype=np.float32)
    if kind == "plateaus":  # few levels: many exact ties between neighbours
        return (rng.integers(0, 4, shape) / 4).astype(np.float32)
    # Gaussian blobs with some quantised (flat-topped) ones and negative background noise.
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    out = (rng.standard_normal(shape) * 0.01).astype(np.float32)
    for i in range(n):
        for c in range(p):
            for _ in range(rng.integers(1, 6)):
                cx, cy = rng.uniform(-1, w), rng.uniform(-1, h)
                s = rng.uniform(0.7, 4.0)
                blob = rng.uniform(0.1, 1.0) * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * s * s))
                if rng.random() < 0.3:
                    blob = np.round(blob * 8) / 8
                out[i, :, :, c] = np.maximum(out[i, :, :, c], blob)
    return out.astype(np.float32)


def _assert_same(got, want):
    (gp, gc), (wp, wc) = got, want
    np.testing.assert_array_equal(gc, wc)
    np.testing.assert_array_equal(gp[..., 2], wp[..., 2])
    # The same float32 operations in the same order; allow only an ulp-level difference should a
    # compiler fuse a multiply-add.
    np.testing.assert_allclose(gp[..., :2], wp[..., :2], rtol=0, atol=1e-4)


@pytest.mark.parametrize("build", ["cpu", "cuda"])
@pytest.mark.parametrize("kind", ["uniform", "plateaus", "blobs"])
def test_random_matches_reference(build, kind):
    rng = np.random.default_rng({"uniform": 1, "plateaus": 2, "blobs": 3}[kind])
    shapes = [
        (1, 1, 1, 1),
        (1, 1, 7, 2),
        (1, 2, 2, 1),
        (2, 3, 3, 2),
        (1, 4, 5, 3),
        (1, 2, 9, 1),
        (1, 9, 2, 1),
        (2, 17, 23, 3),
        (1, 31, 40, 5),
    ]
    for shape in shapes:
        x = _random_maps(rng, shape, kind)
        for threshold, k in [(0.0, 127), (0.05, 4), (0.6, 2)]:
            kw = dict(threshold=threshold, max_peaks=k, offset=(0.25, -0.5), openpose_build=build)
            _assert_same(numpy_ops.nms(x, **kw), nms_ref(x, **kw))


def test_many_bands_and_threads_match_reference():
    """A map tall and wide enough to be split into several row bands: K truncation must still keep
    each part's first K in raster order across bands, on any number of threads."""
    rng = np.random.default_rng(7)
    x = _random_maps(rng, (2, 120, 200, 7), "blobs")
    # threshold 0: the background noise gives thousands of peaks per part (truncation inside the
    # first band); 0.05: only the blobs, spread over the bands.
    for threshold, k in [(0.0, 1), (0.0, 127), (0.05, 2), (0.05, 127)]:
        for build in ("cpu", "cuda"):
            kw = dict(threshold=threshold, max_peaks=k, openpose_build=build)
            want = nms_ref(x, **kw)
            for threads in (1, 2, 3):
                _assert_same(numpy_ops.nms(x, threads=threads, **kw), want)


def _single(h, w, points, value=1.0):
    x = np.zeros((1, h, w, 1), np.float32)
    for px, py in points:
        x[0, py, px, 0] = value
    return x


def _found(x, build, **kw):
    peaks, counts = numpy_ops.nms(x, openpose_build=build, **kw)
    return [tuple(peaks[0, 0, i, :2].round(6)) for i in range(counts[0, 0])]


@pytest.mark.parametrize(
    "point, cpu_peak",
    [
        ((1, 0), True),
        ((0, 1), True),
        ((0, 0), False),
        ((5, 0), False),
        ((0, 5), False),
        ((8, 0), True),
        ((9, 9), False),
        ((5, 5), True),
    ],
)
def test_isolated_pixel_border_rules(point, cpu_peak):
    # 10x10 map: the CPU build's ring lines are x, y in {1, 8}; the CUDA build never has border peaks.
    x = _single(10, 10, [point])
    assert _found(x, "cpu") == ([tuple(float(v) for v in point)] if cpu_peak else [])
    interior = 1 <= point[0] <= 8 and 1 <= point[1] <= 8
    assert _found(x, "cuda") == ([tuple(float(v) for v in point)] if interior else [])


def test_equal_adjacent_maxima_on_ring_give_one_cpu_peak():
    x = _single(10, 10, [(1, 5), (2, 5)])
    # The ring pixel (1, 5) passes with >=; (2, 5) is interior and needs strictly greater.
    # Its refined position is the centroid of both: (1.5, 5).
    assert _found(x, "cpu") == [(1.5, 5.0)]
    assert _found(x, "cuda") == []


def test_equal_adjacent_interior_maxima_give_no_peak():
    x = _single(10, 10, [(4, 5), (5, 5)])
    assert _found(x, "cpu") == []
    assert _found(x, "cuda") == []


def test_threshold_is_strict():
    x = _single(7, 7, [(3, 3)], value=0.5)
    assert _found(x, "cpu", threshold=0.5) == []
    assert _found(x, "cpu", threshold=0.4999) == [(3.0, 3.0)]


def test_refinement_offset_and_score():
    x = np.zeros((1, 12, 12, 1), np.float32)
    x[0, 5, 5, 0] = 1.0
    x[0, 5, 6, 0] = 0.5
    x[0, 8, 5, 0] = 0.5  # 3 rows down: inside the 7x7 window
    x[0, 5, 9, 0] = 0.25  # 4 columns right: outside it
    x[0, 4, 4, 0] = -1.0  # negative weights are ignored
    peaks, counts = numpy_ops.nms(x, threshold=0.05, offset=(0.25, 0.5))
    assert counts[0, 0] == 3  # (5, 5) and the separate maxima at (5, 8) and (9, 5)
    s = np.float32(2.0)
    want_x = (np.float32(5 * 1.0) + np.float32(6 * 0.5) + np.float32(5 * 0.5)) / s
    want_y = (np.float32(5 * 1.0) + np.float32(5 * 0.5) + np.float32(8 * 0.5)) / s
    np.testing.assert_allclose(peaks[0, 0, 0], [want_x + 0.25, want_y + 0.5, 1.0], rtol=0, atol=1e-6)


def test_k_truncation_keeps_first_in_raster_order():
    pts = [(3, 3), (12, 3), (7, 8), (3, 14), (12, 14)]  # raster order, windows apart
    x = _single(20, 20, pts)
    for build in ("cpu", "cuda"):
        peaks, counts = numpy_ops.nms(x, max_peaks=3, openpose_build=build)
        assert counts[0, 0] == 3
        np.testing.assert_array_equal(peaks[0, 0, :, :2], np.array(pts[:3], np.float32))
        peaks, counts = numpy_ops.nms(x, max_peaks=8, openpose_build=build)
        assert counts[0, 0] == 5 and not peaks[0, 0, 5:].any()


def test_one_by_one_and_tiny_maps_have_no_peaks():
    # A 1x1 map: (0, 0) is neither interior nor on a ring line (x in {1, W-2 = -1}).
    for build in ("cpu", "cuda"):
        peaks, counts = numpy_ops.nms(np.ones((2, 1, 1, 3), np.float32), openpose_build=build)
        assert peaks.shape == (2, 3, 127, 3) and not counts.any() and not peaks.any()
    # CUDA: no pixel of a map narrower than 3 is interior.
    assert not numpy_ops.nms(np.ones((1, 2, 8, 1), np.float32), openpose_build="cuda")[1].any()


def test_empty_batch():
    for build in ("cpu", "cuda"):
        peaks, counts = numpy_ops.nms(np.zeros((0, 5, 6, 4), np.float32), max_peaks=7, openpose_build=build)
        assert peaks.shape == (0, 4, 7, 3) and counts.shape == (0, 4) and counts.dtype == np.int32
        tp, tc = tf_ops().nms(np.zeros((0, 5, 6, 4), np.float32), max_peaks=7, openpose_build=build)
        assert tuple(tp.shape) == (0, 4, 7, 3) and tuple(tc.shape) == (0, 4)


def test_nan_never_a_peak_and_suppresses_neighbours():
    x = np.zeros((1, 9, 9, 3), np.float32)
    x[0, 4, 4, 0] = np.nan  # alone: no peak
    x[0, 4, 4, 1] = 1.0  # a peak with a NaN neighbour: every comparison fails
    x[0, 4, 5, 1] = np.nan
    x[..., 2] = np.nan  # all NaN
    x[0, 2, 2, 2] = 1.0
    for build in ("cpu", "cuda"):
        peaks, counts = numpy_ops.nms(x, openpose_build=build)
        assert counts.tolist() == [[0, 0, 0]] and not peaks.any()
    # A NaN inside the 7x7 window but not adjacent fails "> 0" and is not a weight.
    y = _single(11, 11, [(5, 5)])
    y[0, 5, 7, 0] = np.nan
    assert _found(y, "cpu") == [(5.0, 5.0)]


def test_inf():
    x = np.zeros((1, 11, 11, 2), np.float32)
    x[0, 5, 3, 0] = np.inf  # never a peak (tfpose's rule for non-finite values)
    x[0, 5, 5, 0] = 0.5  # a finite peak with +Inf in its window: integer position
    x[0, 5, 5, 1] = 3e38  # float32 overflow of the weight sum: integer position
    x[0, 5, 6, 1] = 2e38
    x[0, 2, 2, 1] = -np.inf  # never above the threshold, never blocks a neighbour
    x[0, 2, 3, 1] = 0.5
    for build in ("cpu", "cuda"):
        peaks, counts = numpy_ops.nms(x, offset=(0.5, 0.25), openpose_build=build)
        assert counts.tolist() == [[1, 2]]
        assert peaks[0, 0, :2].tolist() == [[5.5, 5.25, 0.5], [0, 0, 0]]
        assert peaks[0, 1, :2].tolist() == [[3.5, 2.25, 0.5], [5.5, 5.25, np.float32(3e38)]]
        assert np.isfinite(peaks[..., :2]).all()
        _assert_same((peaks, counts), nms_ref(x, offset=(0.5, 0.25), openpose_build=build))
        np.testing.assert_array_equal(tf_ops().nms(x, offset=(0.5, 0.25), openpose_build=build)[0].numpy(), peaks)


def test_tf_function_unknown_dims_and_offset_tensor():
    import tensorflow as tf

    ops = tf_ops()
    x = _random_maps(np.random.default_rng(4), (2, 20, 25, 3), "blobs")

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, None], tf.float32), tf.TensorSpec([2], tf.float32)])
    def f(h, off):
        peaks, counts = ops.nms(h, threshold=0.1, max_peaks=9, offset=off, openpose_build="cuda")
        assert peaks.shape.as_list() == [None, None, 9, 3] and counts.shape.as_list() == [None, None]
        return peaks, counts

    got = f(tf.constant(x), tf.constant([0.5, 0.25]))
    want = numpy_ops.nms(x, threshold=0.1, max_peaks=9, offset=(0.5, 0.25), openpose_build="cuda")
    np.testing.assert_array_equal(got[0].numpy(), want[0])
    np.testing.assert_array_equal(got[1].numpy(), want[1])


def test_tf_data_map():
    import tensorflow as tf

    ops = tf_ops()
    x = _random_maps(np.random.default_rng(5), (4, 16, 18, 2), "blobs")
    ds = tf.data.Dataset.from_tensor_slices(x).batch(2).map(lambda h: ops.nms(h, max_peaks=5))
    got_p = np.concatenate([p.numpy() for p, _ in ds])
    got_c = np.concatenate([c.numpy() for _, c in ds])
    want_p, want_c = numpy_ops.nms(x, max_peaks=5)
    np.testing.assert_array_equal(got_p, want_p)
    np.testing.assert_array_equal(got_c, want_c)


OK_MAP = np.zeros((1, 4, 4, 2), np.float32)


@pytest.mark.parametrize(
    "kwargs, err, match",
    [
        (dict(heatmaps=np.zeros((4, 4, 2), np.float32)), ValueError, "heatmaps: expected rank 4"),
        (dict(heatmaps=np.zeros((1, 4, 4, 2), np.int32)), TypeError, "heatmaps: expected a float32"),
        (
            dict(heatmaps=np.zeros((1, 0, 4, 2), np.float32)),
            ValueError,
            r"heatmaps shape: expected .*got \[1, 0, 4, 2\]",
        ),
        (dict(heatmaps=np.zeros((1, 4, 0, 2), np.float32)), ValueError, "heatmaps shape"),
        (dict(heatmaps=np.zeros((1, 4, 4, 0), np.float32)), ValueError, "heatmaps shape"),
        (dict(threshold=-0.1), ValueError, r"threshold: expected a number in \[0, 1\], got -0.1"),
        (dict(threshold=1.5), ValueError, "threshold: expected"),
        (dict(threshold=float("nan")), ValueError, "threshold: expected"),
        (dict(threshold="x"), TypeError, "threshold: expected"),
        (dict(max_peaks=0), ValueError, r"max_peaks: expected an int in \[1, 4096\], got 0"),
        (dict(max_peaks=4097), ValueError, "max_peaks: expected"),
        (dict(max_peaks=2.5), TypeError, "max_peaks: expected"),
        (dict(max_peaks=True), TypeError, "max_peaks: expected"),
        (dict(offset=(1.0, 2.0, 3.0)), ValueError, "offset: expected a pair"),
        (dict(offset=(float("inf"), 0.0)), ValueError, "offset: expected finite"),
        (dict(offset=1.0), TypeError, "offset: expected a pair"),
        (dict(openpose_build="gpu"), ValueError, "openpose_build: expected 'cpu' or 'cuda', got 'gpu'"),
    ],
)
def test_bad_arguments(kwargs, err, match):
    kw = dict(heatmaps=OK_MAP)
    kw.update(kwargs)
    with pytest.raises(err, match=match):
        numpy_ops.nms(**kw)
    shape_only = "heatmaps shape" in match
    if shape_only:  # the TF wrapper leaves shapes to the kernel
        import tensorflow as tf

        with pytest.raises(tf.errors.InvalidArgumentError, match="heatmaps shape"):
            tf_ops().nms(**kw)
    else:
        with pytest.raises(err, match=match):
            tf_ops().nms(**kw)


@pytest.mark.parametrize("threads, err", [(-1, ValueError), (1.5, TypeError), (True, TypeError)])
def test_bad_threads(threads, err):
    with pytest.raises(err, match="threads: expected"):
        numpy_ops.nms(OK_MAP, threads=threads)


def test_core_rejects_what_the_python_checks_would():
    """The pybind entry validates on its own (callers may skip numpy_ops)."""
    from tfpose import _core

    for args, match in [
        ((1.5, 127, 0.0, 0.0, "cpu"), "threshold"),
        ((0.1, 0, 0.0, 0.0, "cpu"), "max_peaks"),
        ((0.1, 5000, 0.0, 0.0, "cpu"), "max_peaks"),
        ((0.1, 127, float("nan"), 0.0, "cpu"), "offset"),
        ((0.1, 127, 0.0, 0.0, "gpu"), "openpose_build"),
    ]:
        names = ("threshold", "max_peaks", "offset_x", "offset_y", "openpose_build")
        with pytest.raises(ValueError, match=match):
            _core.nms(OK_MAP, _core.NmsParams(**dict(zip(names, args, strict=True))))
    with pytest.raises(ValueError, match="rank 4"):
        _core.nms(OK_MAP[0], _core.NmsParams())


def test_tf_kernel_errors():
    """The kernel's own checks, reached through the raw op (the wrapper checks attributes first)."""
    import tensorflow as tf

    raw = tf_ops().op_library().tfpose_nms
    off = tf.constant([0.0, 0.0])
    cases = [
        (dict(threshold=1.5), r"threshold: expected a number in \[0, 1\], got 1.5"),
        (dict(threshold=-0.5), "threshold: expected"),
        (dict(max_peaks=0), r"max_peaks: expected an int in \[1, 4096\], got 0"),
        (dict(max_peaks=5000), "max_peaks: expected an int in"),
        (dict(offset=tf.constant([0.0, 0.0, 0.0])), r"offset: expected shape \[2\]"),
        (dict(offset=tf.constant([[0.0, 0.0]])), r"offset: expected shape \[2\]"),
        (dict(offset=tf.constant([np.nan, 0.0])), "offset: expected finite"),
    ]
    for kw, match in cases:
        args = dict(heatmaps=tf.constant(OK_MAP), offset=off)
        args.update(kw)
        with pytest.raises((tf.errors.InvalidArgumentError, ValueError), match=match):
            raw(**args)

    @tf.function(input_signature=[tf.TensorSpec(None, tf.float32)])
    def unknown_rank(h):
        return raw(heatmaps=h, offset=off)

    with pytest.raises(tf.errors.InvalidArgumentError, match=r"heatmaps: expected rank 4 \[N, H, W, P\]"):
        unknown_rank(tf.zeros([4, 4, 2]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="heatmaps shape"):
        unknown_rank(tf.zeros([1, 4, 4, 0]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="openpose_build"):
        raw(heatmaps=tf.constant(OK_MAP), offset=off, openpose_build="gpu")


@pytest.mark.parametrize("bad", [{"max_peaks": 0}, {"max_peaks": 5000}, {"threshold": 1.5}])
def test_range_errors_are_valueerror_itself(bad):
    # The rule lives in the core, whose InvalidArgument subclasses ValueError; the Python entry points
    # raise ValueError itself, as before the rule moved (type(e) is ValueError checks keep working).
    with pytest.raises(ValueError) as e:
        numpy_ops.nms(np.zeros((1, 8, 8, 2), np.float32), **bad)
    assert type(e.value) is ValueError
