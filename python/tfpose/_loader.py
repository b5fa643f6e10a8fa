"""Loads the TensorFlow op library after checking it was built for the TensorFlow in this process.

TensorFlow has no stable C++ ABI across releases: a library built for another version fails with an
``undefined symbol`` deep inside ``tf.load_op_library``. This module turns that into one ImportError
that says what to do.
"""

from __future__ import annotations

import os

_REBUILD_HINT = (
    "Rebuild tfpose against the TensorFlow you run: "
    "pip install --no-build-isolation --force-reinstall --no-deps <path to tfpose source>"
)


def _find_library(name: str) -> str:
    import tfpose

    # Editable installs split the package over the source and build trees: search the whole __path__.
    for folder in tfpose.__path__:
        candidate = os.path.join(folder, name)
        if os.path.exists(candidate):
            return candidate
    raise ImportError(
        f"tfpose's TensorFlow op library {name} was not found in {list(tfpose.__path__)}. "
        "It is built only when TensorFlow is importable at build time. " + _REBUILD_HINT
    )


def load_op_library():
    """Imports TensorFlow and returns the loaded op module (``tf.load_op_library`` result)."""
    from tfpose import _build_info

    if not _build_info.HAS_TF_OPS:
        raise ImportError(
            "this tfpose was built without its TensorFlow op library (TensorFlow was not importable "
            "at build time). " + _REBUILD_HINT
        )
    import tensorflow as tf

    built = _build_info.TF_VERSION
    running = tf.__version__
    if built.split(".")[:2] != running.split(".")[:2]:
        raise ImportError(
            f"tfpose's TensorFlow ops were compiled against TensorFlow {built} ({_build_info.TF_DIST}) "
            f"but this process imported TensorFlow {running} from {os.path.dirname(tf.__file__)}. "
            "TensorFlow has no stable C++ ABI across releases. " + _REBUILD_HINT
        )
    path = _find_library("_tfpose_ops.so")
    try:
        return tf.load_op_library(path)
    except tf.errors.NotFoundError as exc:
        raise ImportError(f"loading {path} failed: {exc}. " + _REBUILD_HINT) from exc
