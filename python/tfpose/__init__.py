"""tfpose: OpenPose's multi-person pose post-processing as C++ TensorFlow ops.

Importing this package does not import TensorFlow. TensorFlow is imported on first use of
``tfpose.ops`` (the op wrappers), ``tfpose.Estimator``/``tfpose.estimate`` with a TensorFlow
network (the bundled one, a .pb, a SavedModel) and ``tfpose.export_saved_model``; with a ``.tflite``
network they run in LiteRT and never import it, so they work where TensorFlow is not installed.
``tfpose.numpy_ops`` and ``tfpose.models`` run the same C++ core on numpy arrays without
TensorFlow; ``tfpose.cuda`` runs the CUDA kernels on CuPy/PyTorch GPU arrays (builds with CUDA
kernels only).

Importing this package also registers a post-import hook on ``tensorflow`` (``wrapt``): as soon as
TensorFlow is imported, before or after tfpose, tfpose's op library is loaded into it, so that a
plain ``tf.saved_model.load`` reads SavedModels written by ``tfpose export``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__version__ = "0.1.0"  # the one source of the version (pyproject.toml reads it)

# name -> (module, attribute or None for the module itself)
_LAZY = {
    "ops": ("tfpose.ops", None),
    "numpy_ops": ("tfpose.numpy_ops", None),
    "cuda": ("tfpose.cuda", None),
    "models": ("tfpose.models", None),
    "Estimator": ("tfpose.estimator", "Estimator"),
    "Person": ("tfpose.types", "Person"),
    "estimate": ("tfpose.estimator", "estimate"),
    "export_saved_model": ("tfpose.export", "export_saved_model"),
    "load_saved_model": ("tfpose.export", "load_saved_model"),
    "sizing": ("tfpose.sizing", None),
    "io": ("tfpose.io", None),
    "options": ("tfpose.options", None),
    "data": ("tfpose.data", None),
    "draw": ("tfpose.draw", "draw"),
    "PoseTracker": ("tfpose.tracking", "PoseTracker"),
    "tracking": ("tfpose.tracking", None),
    "sources": ("tfpose.sources", None),
}
# Package attributes that are functions living in a submodule of the same name. Importing the
# submodule (``import tfpose.draw``) makes Python set the package attribute to the module; the
# package's module class below keeps the function there instead, so ``tfpose.draw`` is the
# drawing function whatever was imported before. The module stays importable by its full name
# (``from tfpose.draw import draw_controlnet``).
_FUNCTION_OVER_MODULE = {"draw"}

__all__ = sorted(_LAZY) + ["__version__"]


def _install_tensorflow_hook() -> None:
    # wrapt calls the hook at once when TensorFlow is already imported, else right after its import;
    # tfpose itself does not import TensorFlow here.
    import wrapt

    from tfpose import _loader

    wrapt.register_post_import_hook(_loader.on_tensorflow_import, "tensorflow")


_install_tensorflow_hook()


def __getattr__(name: str):
    try:
        module_name, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'tfpose' has no attribute {name!r}") from None
    module = importlib.import_module(module_name)
    value = module if attr is None else getattr(module, attr)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


class _Package(ModuleType):
    def __setattr__(self, name, value):
        if name in _FUNCTION_OVER_MODULE and isinstance(value, ModuleType):
            module_name, attr = _LAZY[name]
            assert attr is not None  # each name of _FUNCTION_OVER_MODULE is a function
            value = getattr(value, attr)
        super().__setattr__(name, value)


import sys as _sys  # noqa: E402

_sys.modules[__name__].__class__ = _Package
del _sys
