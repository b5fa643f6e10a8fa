"""Package-level guarantees: no TensorFlow at import, the TF-version check of the op library, and
the ops inside tf.function, tf.data and a SavedModel loaded in a fresh process."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest


def run_fresh(code: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        env={"TF_CPP_MIN_LOG_LEVEL": "3", **__import__("os").environ},
    )


def test_import_and_numpy_entry_points_do_not_import_tensorflow():
    r = run_fresh("""
        import sys, numpy as np
        import tfpose
        from tfpose import numpy_ops, models
        x = np.random.rand(1, 8, 8, 3).astype(np.float32)
        numpy_ops.maximum(x)
        numpy_ops.resize_and_merge(x)
        numpy_ops.nms(x)
        models.get("COCO_18")
        print("tensorflow" in sys.modules)
    """)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "False"


def test_build_info_matches_running_tensorflow():
    import tensorflow as tf

    from tfpose import _build_info

    assert _build_info.HAS_TF_OPS
    assert _build_info.TF_VERSION == tf.__version__


def test_version_mismatch_gives_one_actionable_import_error(monkeypatch):
    from tfpose import _build_info, _loader

    monkeypatch.setattr(_build_info, "TF_VERSION", "2.20.0")
    with pytest.raises(
        ImportError, match=r"compiled against TensorFlow 2\.20\.0 .* imported TensorFlow 2\.21.*Rebuild tfpose"
    ):
        _loader.load_op_library()


def test_missing_op_library_is_an_import_error(monkeypatch):
    from tfpose import _loader

    with pytest.raises(ImportError, match="not found"):
        _loader._find_library("_no_such_library.so")


def test_ops_in_tf_function_with_unknown_sizes_and_tf_data():
    import tensorflow as tf

    import tfpose.ops as ops

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, None], tf.float32)])
    def chain(x):
        maps = ops.resize_and_merge(x)
        peaks, counts = ops.nms(maps)
        return maps, peaks, counts, ops.maximum(maps)

    x = np.random.default_rng(0).random((2, 6, 7, 3), dtype=np.float32)
    maps, peaks, counts, mx = chain(x)
    assert maps.shape == (2, 48, 56, 3) and peaks.shape == (2, 3, 127, 3) and counts.shape == (2, 3)
    np.testing.assert_array_equal(mx.numpy(), ops.maximum(maps).numpy())

    ds = tf.data.Dataset.from_tensor_slices(x).batch(1).map(lambda b: ops.maximum(ops.resize_and_merge(b)))
    got = np.concatenate([b.numpy() for b in ds])
    np.testing.assert_array_equal(got, mx.numpy())


@pytest.mark.slow
def test_saved_model_loads_in_fresh_process_only_after_import_tfpose(tmp_path):
    import tensorflow as tf

    import tfpose.ops as ops

    class M(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, None, None, None], tf.float32)])
        def __call__(self, x):
            maps = ops.resize_and_merge(x)
            peaks, counts = ops.nms(maps)
            return {"peaks": peaks, "counts": counts, "maxima": ops.maximum(maps)}

    x = np.random.default_rng(1).random((1, 5, 6, 2), dtype=np.float32)
    expected = {k: v.numpy() for k, v in M()(x).items()}
    tf.saved_model.save(M(), str(tmp_path / "sm"))
    np.save(tmp_path / "x.npy", x)
    code = f"""
        import numpy as np, tensorflow as tf
        {{imp}}
        m = tf.saved_model.load({str(tmp_path / "sm")!r})
        out = m(np.load({str(tmp_path / "x.npy")!r}))
        for k, v in out.items(): np.save({str(tmp_path)!r} + "/got_" + k + ".npy", v.numpy())
    """
    r = run_fresh(code.replace("{imp}", "import tfpose.ops"))
    assert r.returncode == 0, r.stderr
    for k, v in expected.items():
        np.testing.assert_array_equal(np.load(tmp_path / f"got_{k}.npy"), v)
    r = run_fresh(code.replace("{imp}", "pass"))
    assert r.returncode != 0
    assert "Tfpose" in r.stderr  # the unregistered op's name points at the package to import
