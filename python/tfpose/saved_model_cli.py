"""TensorFlow's ``saved_model_cli`` with tfpose's ops registered.

A SavedModel written by ``tfpose export`` calls tfpose's C++ ops (``TfposeSizing``,
``TfposeNetOutputToPeople``, ...). TensorFlow's own ``saved_model_cli run`` does not load op
libraries, so on such a model it stops with ``Op type not registered 'TfposeSizing'``. This entry
loads tfpose's op library into TensorFlow first and then hands every argument, unchanged, to
TensorFlow's ``saved_model_cli`` (``show``, ``run``, ``scan``, ...)::

    python -m tfpose.saved_model_cli show --dir exported --all
    python -m tfpose.saved_model_cli run --dir exported --tag_set serve \\
        --signature_def serving_default --input_exprs 'images=np.zeros((1,240,320,3),np.uint8)'

The op library must match the running TensorFlow (tfpose's loader says which wheel to install
otherwise, see ``tfpose._loader``).
"""

from __future__ import annotations

import sys

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Run TensorFlow's ``saved_model_cli`` with tfpose's op library loaded.

    ``argv`` is the argument list without the program name (default ``sys.argv[1:]``), exactly as
    ``saved_model_cli`` takes it. Returns the exit status (0 on success); TensorFlow's tool exits
    through ``absl.app``, whose ``SystemExit`` code is returned. Raises ``ImportError`` when the op
    library cannot be loaded into this TensorFlow (built for another TensorFlow version).
    """
    from tfpose._loader import load_op_library

    # Import order matters only in that the ops must be registered before the tool loads a
    # SavedModel: loading the library imports TensorFlow and registers every Tfpose* op.
    load_op_library()
    from tensorflow.python.tools import saved_model_cli

    args = sys.argv[1:] if argv is None else list(argv)
    saved = sys.argv
    # absl's app.run and the tool's argparse both read sys.argv; give them the tool's own name.
    sys.argv = ["saved_model_cli", *args]
    try:
        saved_model_cli.main()
    except SystemExit as stop:
        code = stop.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        print(code, file=sys.stderr)
        return 1
    finally:
        sys.argv = saved
    return 0


if __name__ == "__main__":
    sys.exit(main())
