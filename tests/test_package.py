"""Package-level guarantees: no TensorFlow at import, the TF-version check of the op library, and
the ops inside tf.function, tf.data and a SavedModel loaded in a fresh process."""

import importlib.util
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from data_paths import REPO


def run_fresh(code: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        env={"TF_CPP_MIN_LOG_LEVEL": "3", **__import__("os").environ},
    )


@pytest.mark.smoke
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


@pytest.mark.smoke
def test_build_info_matches_running_tensorflow():
    import tensorflow as tf

    from tfpose import _build_info

    assert _build_info.HAS_TF_OPS
    assert _build_info.TF_VERSION == tf.__version__  # noqa: SIM300  (the assertion as written: built == running)


@pytest.mark.smoke
def test_version_mismatch_gives_one_actionable_import_error(monkeypatch):
    import tensorflow as tf

    from tfpose import _build_info, _loader

    running = tf.__version__
    minor = ".".join(running.split(".")[:2])
    monkeypatch.setattr(_build_info, "TF_VERSION", "2.18.0")
    with pytest.raises(
        ImportError,
        match=rf"compiled against TensorFlow 2\.18\.0 .* imported TensorFlow {re.escape(running)} .*"
        rf"Install the tfpose wheel built for TensorFlow {re.escape(minor)} instead "
        rf"\(pip install --only-binary=:all: 'tfpose==[^']*\+tf{re.escape(minor)}'.*Rebuild tfpose",
    ):
        _loader.load_op_library()


def test_version_error_for_a_minor_without_a_wheel_lists_the_minors_that_have_one():
    from tfpose import _build_info, _loader

    hint = _loader.wheel_hint("2.99.1")
    assert "built for TensorFlow 2.99" not in hint and "+tf2.99" not in hint
    assert _build_info.SUPPORTED_TF_MINORS  # the list CMake copied from cmake/tfpose_metadata.py
    assert f"wheels for TensorFlow {', '.join(_build_info.SUPPORTED_TF_MINORS)} only" in hint


@pytest.mark.smoke
def test_installed_metadata_names_the_tensorflow_minor_it_was_built_for():
    """A wheel built from the source tree (install.sh, build_dist.sh) says its TensorFlow minor twice:
    the local version label and the cpu/gpu extras. (A wheel built from an sdist keeps the sdist's
    plain version, which this test would reject.)"""
    from importlib import metadata

    import tfpose
    from tfpose import _build_info

    minor = ".".join(_build_info.TF_VERSION.split(".")[:2])
    assert minor in _build_info.SUPPORTED_TF_MINORS
    assert metadata.version("tfpose") == f"{tfpose.__version__}+tf{minor}"
    requires = metadata.metadata("tfpose").get_all("Requires-Dist")
    assert f'tensorflow-cpu=={minor}.*; extra == "cpu"' in requires
    assert f'tensorflow[and-cuda]=={minor}.*; extra == "gpu"' in requires
    # TensorFlow itself is never a hard dependency: tensorflow and tensorflow-cpu share one folder.
    assert not [r for r in requires if r.startswith("tensorflow") and "extra ==" not in r]


def _metadata_provider():
    spec = importlib.util.spec_from_file_location("tfpose_metadata", REPO / "cmake" / "tfpose_metadata.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "state, pkg_info, tf_minor, version",
    [
        ("wheel", False, "2.20", "0.3.1+tf2.20"),
        ("metadata_wheel", False, "2.19", "0.3.1+tf2.19"),
        ("sdist", False, "2.20", "0.3.1"),  # an sdist builds against any supported minor
        ("wheel", True, "2.20", "0.3.1"),  # a wheel built from an sdist keeps the sdist's version
        ("wheel", False, None, "0.3.1"),  # no TensorFlow: no op library, no label
    ],
)
def test_metadata_provider_labels_wheels_with_the_tensorflow_minor(
    tmp_path, monkeypatch, state, pkg_info, tf_minor, version
):
    mod = _metadata_provider()
    (tmp_path / "v.py").write_text('__version__ = "0.3.1"\n')
    if pkg_info:
        (tmp_path / "PKG-INFO").write_text("Metadata-Version: 2.4\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(mod, "installed_tf_minor", lambda: tf_minor)
    provider = mod.Provider()
    provider.build_state(state)
    got = provider.dynamic_metadata({"version-file": "v.py"}, {})
    pin = tf_minor or mod.SUPPORTED_TF_MINORS[-1]
    assert got == {
        "version": version,
        "optional-dependencies": {"cpu": [f"tensorflow-cpu=={pin}.*"], "gpu": [f"tensorflow[and-cuda]=={pin}.*"]},
    }


def test_metadata_provider_rejects_a_file_without_a_version(tmp_path):
    (tmp_path / "v.py").write_text("version = 1\n")
    with pytest.raises(RuntimeError, match=r'expected a line __version__ = "X\.Y\.Z"'):
        _metadata_provider().Provider().dynamic_metadata({"version-file": str(tmp_path / "v.py")}, {})


def test_missing_op_library_is_an_import_error(monkeypatch):
    from tfpose import _loader

    with pytest.raises(ImportError, match="not found"):
        _loader._find_library("_no_such_library.so")


@pytest.mark.smoke
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
