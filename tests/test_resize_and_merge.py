"""resize_and_merge: golden parity (both OpenPose builds, TF op and numpy entry), cv2.resize
equality, numpy reference agreement, tf.function / tf.data, NaN/Inf behaviour and every error path."""

import subprocess
import sys

import numpy as np
import pytest

from tfpose import numpy_ops

from helpers import GOLDEN_CASES, load_golden
from reference.resize_ref import resize_and_merge_ref

GOLDEN_KEY = {"cpu": "heat_sample_cpu", "cuda": "heat_sample_gpu_emul"}


@pytest.fixture(scope="module")
def tf_ops():
    from tfpose import ops

    return ops


@pytest.fixture
def cv2_no_ipp():
    """cv2 with IPP off. OpenPose's CPU build (and the golden data) used a Debian OpenCV without IPP;
    the opencv-python wheels route INTER_CUBIC through IPP for images of 4+ pixels per side, whose
    cubic weights differ by up to ~6e-7 for non-8x ratios (identical at 8x)."""
    import cv2

    old = cv2.ipp.useIPP()
    cv2.ipp.setUseIPP(False)
    yield cv2
    cv2.ipp.setUseIPP(old)


def cv2_resize_nhwc(cv2, x, H, W):
    """OpenPose's CPU path: one cv2.resize INTER_CUBIC per image and channel."""
    return np.stack(
        [
            np.stack(
                [
                    cv2.resize(np.ascontiguousarray(x[i, ..., c]), (W, H), interpolation=cv2.INTER_CUBIC)
                    for c in range(x.shape[3])
                ],
                axis=-1,
            )
            for i in range(x.shape[0])
        ]
    )


def sample(maps, idx):
    return maps[0][idx[:, 1], idx[:, 2], idx[:, 0]]


# ------------------------------------------------------------------------------------ golden parity


@pytest.mark.parametrize("build", ["cpu", "cuda"])
@pytest.mark.parametrize("case", GOLDEN_CASES)
def test_golden_parity(case, build, tf_ops):
    g = load_golden(case)
    C, H, W = (int(v) for v in g["heat_shape"])
    ratios = g["meta"]["scale_ratios"]  # absolute scaleInputToNet values
    got_np = numpy_ops.resize_and_merge(g["net_outputs"], ratios, (H, W), openpose_build=build)
    got_tf = tf_ops.resize_and_merge(g["net_outputs"], ratios, (H, W), openpose_build=build).numpy()
    assert got_np.shape == (1, H, W, C)
    np.testing.assert_array_equal(got_tf, got_np)
    idx = g["heat_sample_index"]
    np.testing.assert_allclose(sample(got_np, idx), g[GOLDEN_KEY[build]], rtol=0, atol=1e-5)


def test_golden_default_target_is_8x(tf_ops):
    g = load_golden(GOLDEN_CASES[0])
    C, H, W = (int(v) for v in g["heat_shape"])
    assert numpy_ops.resize_and_merge(g["net_outputs"]).shape == (1, H, W, C)
    assert tuple(tf_ops.resize_and_merge(g["net_outputs"]).shape) == (1, H, W, C)


# ------------------------------------------------------------------------------- cv2 and reference

CV2_SHAPES = [  # (h, w, H, W)
    (46, 82, 368, 656),  # COCO net output -> net input (8x)
    (5, 7, 13, 29),  # odd, non-integer ratios
    (1, 1, 8, 8),  # 1x1 map
    (1, 5, 3, 11),  # one row
    (10, 12, 4, 7),  # downscaling
    (6, 6, 6, 9),  # one axis unchanged
    (9, 4, 9, 4),  # same size: plain copy
]


@pytest.mark.parametrize("h, w, H, W", CV2_SHAPES)
def test_cpu_build_equals_cv2_resize(h, w, H, W, cv2_no_ipp):
    x = np.random.default_rng(h * 100 + w).uniform(-1, 1, (2, h, w, 3)).astype(np.float32)
    got = numpy_ops.resize_and_merge(x, target_size=(H, W))
    np.testing.assert_allclose(got, cv2_resize_nhwc(cv2_no_ipp, x, H, W), rtol=0, atol=1e-6)


def test_cpu_build_close_to_cv2_with_ipp():
    import cv2

    x = np.random.default_rng(3).uniform(-1, 1, (1, 11, 13, 4)).astype(np.float32)
    got = numpy_ops.resize_and_merge(x, target_size=(30, 17))
    np.testing.assert_allclose(got, cv2_resize_nhwc(cv2, x, 30, 17), rtol=0, atol=1e-5)


def test_cpu_multiscale_is_mean_of_cv2_resizes(cv2_no_ipp):
    rng = np.random.default_rng(5)
    xs = [rng.uniform(-1, 1, (1, h, w, 4)).astype(np.float32) for h, w in [(12, 10), (9, 8), (6, 5)]]
    got = numpy_ops.resize_and_merge(xs, [0.9, 0.7, 0.4], (96, 80))
    want = sum(cv2_resize_nhwc(cv2_no_ipp, x, 96, 80) for x in xs) / 3  # ratios ignored
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)


REF_CASES = [  # (list of (h, w), ratios, target or None, build)
    ([(46, 82)], None, None, "cpu"),
    ([(46, 82)], None, None, "cuda"),
    ([(7, 5)], None, (61, 43), "cuda"),  # 8x in integer division, not exact: factor ceil(61/7) = 9
    ([(1, 1)], None, None, "cuda"),
    ([(1, 1)], None, (5, 3), "cpu"),
    ([(3, 9)], None, (3, 9), "cuda"),  # 1x: copy
    ([(13, 11)], None, (17, 40), "cpu"),
    ([(23, 41), (17, 30), (11, 20)], [0.51, 0.3825, 0.255], None, "cuda"),
    ([(23, 41), (17, 30), (11, 20)], [0.51, 0.3825, 0.255], None, "cpu"),
    ([(8, 8), (6, 6)], [1.0, 0.75], (50, 70), "cuda"),  # arbitrary multi-scale target
    ([(8, 8), (9, 9)], [1.0, 1.3], None, "cuda"),  # a larger second scale
    ([(2, 3), (1, 1)], [1.0, 0.5], None, "cuda"),
    ([(8, 8)] * 8, [1.0 - 0.1 * i for i in range(8)], None, "cuda"),  # 8 scales: the CUDA maximum
]


@pytest.mark.parametrize("sizes, ratios, target, build", REF_CASES)
def test_matches_numpy_reference(sizes, ratios, target, build):
    rng = np.random.default_rng(len(sizes) * 1000 + sizes[0][0])
    xs = [rng.uniform(-1, 1, (2, h, w, 5)).astype(np.float32) for h, w in sizes]
    got = numpy_ops.resize_and_merge(xs, ratios, target, build)
    want = resize_and_merge_ref(xs, ratios, target, build)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=0, atol=2e-6)


def test_batch_threads_and_single_image_agree():
    rng = np.random.default_rng(9)
    xs = [rng.random((3, 23, 19, 6), dtype=np.float32), rng.random((3, 17, 14, 6), dtype=np.float32)]
    for build in ("cpu", "cuda"):
        full = numpy_ops.resize_and_merge(xs, [1.0, 0.74], None, build, threads=1)
        np.testing.assert_array_equal(numpy_ops.resize_and_merge(xs, [1.0, 0.74], None, build, threads=2), full)
        for i in range(3):
            one = numpy_ops.resize_and_merge([x[i : i + 1] for x in xs], [1.0, 0.74], None, build)
            np.testing.assert_array_equal(one[0], full[i])


def test_same_size_is_exact_copy():
    x = np.random.default_rng(2).random((2, 5, 6, 3), dtype=np.float32)
    x[0, 2, 3, 1] = np.nan  # a copy does not spread it
    for build in ("cpu", "cuda"):
        np.testing.assert_array_equal(numpy_ops.resize_and_merge(x, target_size=(5, 6), openpose_build=build), x)


def test_float64_and_noncontiguous_inputs_accepted():
    x = np.random.default_rng(4).random((1, 6, 5, 4))
    got = numpy_ops.resize_and_merge(x.transpose(0, 2, 1, 3))  # float64, non-contiguous
    want = numpy_ops.resize_and_merge(np.ascontiguousarray(x.transpose(0, 2, 1, 3), np.float32))
    np.testing.assert_array_equal(got, want)


# ---------------------------------------------------------------------------------------- NaN / Inf


@pytest.mark.parametrize("build", ["cpu", "cuda"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nonfinite_spreads_only_to_pixels_whose_taps_read_it(build, bad, tf_ops):
    x = np.random.default_rng(6).uniform(-1, 1, (1, 9, 10, 2)).astype(np.float32)
    x[0, 4, 5, 0] = bad
    x[0, 0, 9, 1] = bad  # a corner: clamped taps read it several times
    got = numpy_ops.resize_and_merge(x, openpose_build=build)
    np.testing.assert_array_equal(tf_ops.resize_and_merge(x, openpose_build=build).numpy(), got)
    ref = resize_and_merge_ref([np.where(np.isfinite(x), x, 0.0)], None, None, build)
    # Non-finite exactly where the 4x4 taps read a bad input (tap sets, not weights: 0 * Inf = NaN).
    reads = footprint(x.shape, build)
    hit = np.einsum("yxab,nabc->nyxc", reads, (~np.isfinite(x)).astype(np.float64)) > 0
    assert hit.any() and not hit.all()
    np.testing.assert_array_equal(~np.isfinite(got), hit)
    np.testing.assert_allclose(got[~hit], ref[~hit], rtol=0, atol=2e-6)


def footprint(shape, build):
    """reads[y, x, a, b] = True if output (y, x) at 8x reads input (a, b) (docs/algorithms/body.md §4.1 / §4.2 taps)."""
    _, h, w, _ = shape

    def axis(n):
        d = np.arange(8 * n)
        if build == "cpu":
            u = ((d + 0.5) * (n / (8 * n)) - 0.5).astype(np.float32)
            base = np.floor(u).astype(int)
            taps = np.clip(base[:, None] + np.arange(-1, 3), 0, n - 1)
        else:
            u = (d.astype(np.float32) + np.float32(0.5)) / np.float32(8) - np.float32(0.5)
            i1 = np.clip(np.floor(u).astype(int), 0, n - 1)
            i2 = np.minimum(n - 1, i1 + 1)
            taps = np.stack([np.maximum(0, i1 - 1), i1, i2, np.minimum(n - 1, i2 + 1)], 1)
        m = np.zeros((8 * n, n), bool)
        for k in range(4):
            m[d, taps[:, k]] = True
        return m

    ay, ax = axis(h), axis(w)
    return ay[:, None, :, None] & ax[None, :, None, :]


def test_nonfinite_cpu_matches_cv2(cv2_no_ipp):
    x = np.random.default_rng(8).uniform(-1, 1, (1, 7, 9, 2)).astype(np.float32)
    x[0, 3, 2, 0], x[0, 6, 8, 1], x[0, 0, 4, 1] = np.nan, np.inf, -np.inf
    got = numpy_ops.resize_and_merge(x, target_size=(20, 31))
    want = cv2_resize_nhwc(cv2_no_ipp, x, 20, 31)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
    ok = np.isfinite(want)
    np.testing.assert_allclose(got[ok], want[ok], rtol=0, atol=1e-6)


# ------------------------------------------------------------------------- empty batch and TF usage


def test_empty_batch(tf_ops):
    xs = [np.zeros((0, 4, 5, 3), np.float32), np.zeros((0, 3, 3, 3), np.float32)]
    assert numpy_ops.resize_and_merge(xs, [1, 0.7]).shape == (0, 32, 40, 3)
    assert tuple(tf_ops.resize_and_merge(xs, [1, 0.7], openpose_build="cuda").shape) == (0, 32, 40, 3)
    assert numpy_ops.resize_and_merge(xs[0], target_size=(7, 9)).shape == (0, 7, 9, 3)


def test_tf_function_unknown_shapes(tf_ops):
    import tensorflow as tf

    spec = tf.TensorSpec([None, None, None, None], tf.float32)

    @tf.function(input_signature=[spec, spec, tf.TensorSpec([2], tf.float64), tf.TensorSpec([2], tf.int32)])
    def two_scales(a, b, ratios, target):
        return tf_ops.resize_and_merge([a, b], ratios, target, openpose_build="cuda")

    @tf.function(input_signature=[spec])
    def default_target(a):
        out = tf_ops.resize_and_merge(a)
        assert out.shape.rank == 4
        return out

    @tf.function(input_signature=[spec])
    def const_target(a):
        out = tf_ops.resize_and_merge(a, target_size=(30, 20))
        assert out.shape.as_list() == [None, 30, 20, None]  # shape function reads the constant
        return out

    rng = np.random.default_rng(10)
    a = rng.random((2, 6, 7, 3), dtype=np.float32)
    b = rng.random((2, 4, 5, 3), dtype=np.float32)
    got = two_scales(a, b, tf.constant([1.0, 0.7], tf.float64), tf.constant([0, 0], tf.int32)).numpy()
    np.testing.assert_array_equal(got, numpy_ops.resize_and_merge([a, b], [1.0, 0.7], None, "cuda"))
    np.testing.assert_array_equal(default_target(a).numpy(), numpy_ops.resize_and_merge(a))
    np.testing.assert_array_equal(const_target(a).numpy(), numpy_ops.resize_and_merge(a, target_size=(30, 20)))
    # A second, differently sized call reuses the same traced graph.
    a2 = rng.random((1, 3, 9, 3), dtype=np.float32)
    np.testing.assert_array_equal(default_target(a2).numpy(), numpy_ops.resize_and_merge(a2))


def test_tf_data_map(tf_ops):
    import tensorflow as tf

    x = np.random.default_rng(11).random((4, 5, 6, 2), dtype=np.float32)
    ds = tf.data.Dataset.from_tensor_slices(x).batch(2).map(lambda t: tf_ops.resize_and_merge(t))
    got = np.concatenate([b.numpy() for b in ds])
    np.testing.assert_array_equal(got, numpy_ops.resize_and_merge(x))


def test_numpy_ops_does_not_import_tensorflow():
    code = (
        "import sys, numpy as np; from tfpose import numpy_ops; "
        "numpy_ops.resize_and_merge(np.zeros((1, 2, 2, 1), np.float32)); "
        "assert 'tensorflow' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ------------------------------------------------------------------------------------------- errors

F = np.float32


def z(*shape, dtype=F):
    return np.zeros(shape, dtype)


# (net_outputs, kwargs, exception type for the numpy entry, message fragment)
BAD = [
    (z(4, 5, 3), {}, ValueError, "rank 4"),
    ([z(1, 4, 5, 3), z(4, 5, 3)], {"scale_ratios": [1, 1]}, ValueError, "net_outputs\\[1\\]"),
    ([z(1, 4, 5, 3), z(1, 4, 5, 2)], {"scale_ratios": [1, 1]}, ValueError, "C = 3"),
    ([z(1, 4, 5, 3), z(2, 4, 5, 3)], {"scale_ratios": [1, 1]}, ValueError, "N = 1"),
    (z(1, 4, 5, 3, dtype=np.int32), {}, TypeError, "float"),
    (z(1, 0, 5, 3), {}, ValueError, "h >= 1"),
    (z(1, 4, 5, 0), {}, ValueError, "C >= 1"),
    (z(1, 4, 5, 3), {"target_size": (0, 8)}, ValueError, "target_size"),
    (z(1, 4, 5, 3), {"target_size": (-8, 8)}, ValueError, "target_size"),
    (z(1, 4, 5, 3), {"target_size": (8, 8, 8)}, ValueError, "target_size"),
    ([z(1, 4, 5, 3), z(1, 3, 3, 3)], {"scale_ratios": [1.0]}, ValueError, "2 values"),
    ([z(1, 4, 5, 3), z(1, 3, 3, 3)], {"scale_ratios": [1.0, 0.0]}, ValueError, "positive"),
    ([z(1, 4, 5, 3), z(1, 3, 3, 3)], {"scale_ratios": [1.0, np.nan]}, ValueError, "positive"),
    ([z(1, 4, 5, 3), z(1, 3, 3, 3)], {"openpose_build": "cuda"}, ValueError, "one ratio per scale"),
    (z(1, 4, 5, 3), {"target_size": (30, 40), "openpose_build": "cuda"}, ValueError, "8x"),
    (z(1, 4, 5, 3), {"target_size": (32, 39), "openpose_build": "cuda"}, ValueError, "8x"),
    ([z(1, 4, 4, 3)] * 9, {"scale_ratios": [1] * 9, "openpose_build": "cuda"}, ValueError, "at most 8"),
    (z(1, 4, 5, 3), {"openpose_build": "gpu"}, ValueError, "openpose_build"),
    ([], {}, ValueError, "at least one scale"),
]


@pytest.mark.parametrize("nets, kwargs, exc, msg", BAD)
def test_errors_numpy(nets, kwargs, exc, msg):
    with pytest.raises(exc, match=msg):
        numpy_ops.resize_and_merge(nets, **kwargs)


@pytest.mark.parametrize("nets, kwargs, exc, msg", BAD)
def test_errors_tf_wrapper(nets, kwargs, exc, msg, tf_ops):
    import tensorflow as tf

    with pytest.raises((exc, tf.errors.InvalidArgumentError)):
        tf_ops.resize_and_merge(nets, **kwargs)


RAW_BAD = [  # straight to the kernel (unknown static shapes, so only the kernel can check)
    ([z(4, 5, 3)], [1.0], [0, 0], "cpu", "rank 4"),
    ([z(1, 4, 5, 3), z(1, 4, 5, 2)], [1.0, 1.0], [0, 0], "cpu", "C = 3"),
    ([z(1, 4, 5, 3), z(2, 4, 5, 3)], [1.0, 1.0], [0, 0], "cpu", "N = 1"),
    ([z(1, 4, 5, 3), z(1, 4, 5, 3)], [1.0], [0, 0], "cpu", "scale_ratios must have shape \\[2\\]"),
    ([z(1, 4, 5, 3), z(1, 4, 5, 3)], [1.0, -1.0], [0, 0], "cpu", "finite positive"),
    ([z(1, 4, 5, 3)], [np.inf], [0, 0], "cpu", "finite positive"),
    ([z(1, 4, 5, 3)], [1.0], [0, 7], "cpu", "target_size must be positive"),
    ([z(1, 4, 5, 3)], [1.0], [-1, -1], "cpu", "target_size must be positive"),
    ([z(1, 0, 5, 3)], [1.0], [0, 0], "cpu", "h >= 1"),
    ([z(1, 4, 5, 3)], [1.0], [30, 40], "cuda", "8x"),
    ([z(1, 4, 4, 3)] * 9, [1.0] * 9, [0, 0], "cuda", "at most 8"),
    ([z(1, 4, 4, 3)] * 2, [1e-30, 1e30], [0, 0], "cuda", "sampling factors"),  # float32 overflow
]


@pytest.mark.parametrize("nets, ratios, target, build, msg", RAW_BAD)
def test_errors_kernel(nets, ratios, target, build, msg, tf_ops):
    import tensorflow as tf

    raw = tf_ops.op_library().tfpose_resize_and_merge
    spec = [tf.TensorSpec(None, tf.float32)] * len(nets)

    @tf.function(input_signature=[spec, tf.TensorSpec(None, tf.float64), tf.TensorSpec(None, tf.int32)])
    def run(n, r, t):
        return raw(net_outputs=n, scale_ratios=r, target_size=t, openpose_build=build)

    with pytest.raises(tf.errors.InvalidArgumentError, match=msg):
        run([tf.constant(n) for n in nets], tf.constant(ratios, tf.float64), tf.constant(target, tf.int32))


def test_error_messages_name_expected_and_actual():
    with pytest.raises(ValueError, match=r"expected .*8x.*got \(30, 40\)"):
        numpy_ops.resize_and_merge(z(1, 4, 5, 3), target_size=(30, 40), openpose_build="cuda")
    with pytest.raises(ValueError, match=r"expected N = 1 and C = 3 .*got \[1, 4, 5, 2\]"):
        numpy_ops.resize_and_merge([z(1, 4, 5, 3), z(1, 4, 5, 2)], [1, 1])
