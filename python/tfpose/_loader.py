"""Loads the TensorFlow op library after checking it was built for the TensorFlow in this process.

TensorFlow has no stable C++ ABI across releases: a library built for another version fails with an
``undefined symbol`` deep inside ``tf.load_op_library``. This module turns that into one ImportError
that says what to do.
"""

from __future__ import annotations

import os
import threading

# Re-entrant: loading imports TensorFlow, whose import runs tfpose's post-import hook in the same
# thread (on_tensorflow_import), which must see the load in progress and return.
_LOCK = threading.RLock()
_LIBRARY = None
_LOADING = False
# Why the post-import hook could not load the library (None: loaded, or never tried).
HOOK_ERROR: Exception | None = None


class OpLibraryError(ImportError):
    """The op library cannot load here (built for another TensorFlow, built without TensorFlow,
    missing, or refused by ``tf.load_op_library``). An ImportError, so ``import tfpose.ops`` fails as
    imports do; the command line prints its message alone, without a traceback."""


_REBUILD_HINT = (
    "Rebuild tfpose against the TensorFlow you run: "
    "pip install --no-build-isolation --force-reinstall --no-deps <path to tfpose source>"
)


def wheel_hint(running: str) -> str:
    """What to install for TensorFlow version ``running`` ("2.20.0"): the tfpose wheel of that minor
    (its version carries the local label ``+tf2.20``, cmake/tfpose_metadata.py), or, for a minor
    without a wheel, the list of minors that have one."""
    import tfpose
    from tfpose import _build_info

    minor = ".".join(running.split(".")[:2])
    supported = getattr(_build_info, "SUPPORTED_TF_MINORS", ())
    if minor in supported:
        return (
            f"Install the tfpose wheel built for TensorFlow {minor} instead "
            f"(pip install --only-binary=:all: 'tfpose=={tfpose.__version__}+tf{minor}', from the folder "
            f"or index that holds the wheels: tfpose-{tfpose.__version__}+tf{minor}-*.whl), or: "
        )
    return (
        f"tfpose has wheels for TensorFlow {', '.join(supported) or 'none'} only; install one of those "
        f"TensorFlow versions with its tfpose wheel, or: "
    )


def _find_library(name: str) -> str:
    import tfpose

    # Editable installs split the package over the source and build trees: search the whole __path__.
    for folder in tfpose.__path__:
        candidate = os.path.join(folder, name)
        if os.path.exists(candidate):
            return candidate
    raise OpLibraryError(
        f"tfpose's TensorFlow op library {name} was not found in {list(tfpose.__path__)}. "
        "It is built only when TensorFlow is importable at build time. " + _REBUILD_HINT
    )


def load_op_library():
    """Imports TensorFlow and returns the loaded op module (``tf.load_op_library`` result). Checks
    the build against the running TensorFlow on every call; loads the library once per process.
    Raises OpLibraryError (an ImportError) saying what to do."""
    global _LOADING
    with _LOCK:
        _LOADING = True
        try:
            return _load()
        finally:
            _LOADING = False


def on_tensorflow_import(_module=None) -> None:
    """Post-import hook on ``tensorflow`` (installed by ``import tfpose``): registers tfpose's ops,
    so that plain ``tf.saved_model.load`` reads tfpose SavedModels. Never raises (an exception here
    would break ``import tensorflow``); a failure is kept in HOOK_ERROR and raised again, with its
    explanation, by anything in tfpose that needs the ops."""
    global HOOK_ERROR
    with _LOCK:
        if _LOADING or _LIBRARY is not None:
            return
        try:
            load_op_library()
            HOOK_ERROR = None
        except Exception as exc:  # noqa: BLE001
            HOOK_ERROR = exc


def _load():
    from tfpose import _build_info

    if not _build_info.HAS_TF_OPS:
        raise OpLibraryError(
            "this tfpose was built without its TensorFlow op library (TensorFlow was not importable "
            "at build time). " + _REBUILD_HINT
        )
    import tensorflow as tf

    built = _build_info.TF_VERSION
    running = tf.__version__
    if built.split(".")[:2] != running.split(".")[:2]:
        raise OpLibraryError(
            f"tfpose's TensorFlow ops were compiled against TensorFlow {built} ({_build_info.TF_DIST}) "
            f"but this process imported TensorFlow {running} from {os.path.dirname(tf.__file__)}. "
            "TensorFlow has no stable C++ ABI across releases. " + wheel_hint(running) + _REBUILD_HINT
        )
    global _LIBRARY
    if _LIBRARY is None:  # the checks above run on every call; the library loads once
        path = _find_library("_tfpose_ops.so")
        try:
            _LIBRARY = tf.load_op_library(path)
        except tf.errors.NotFoundError as exc:
            raise OpLibraryError(f"loading {path} failed: {exc}. " + _REBUILD_HINT) from exc
    return _LIBRARY
