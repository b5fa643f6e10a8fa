"""The ``tfpose`` command: parse, then hand over to ``estimate`` (:mod:`tfpose.cli.run`), ``export``,
``beam`` (:func:`tfpose.beam.main`, imported only then) or ``convert``."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence

from tfpose.app.arguments import body_options, estimator_options, join_negative_values
from tfpose.app.signals import signal_name, sigterm_as_interrupt
from tfpose.cli.parser import build_parser
from tfpose.cli.run import run_estimate
from tfpose.cli.tensorflow_import import TensorFlowMissing, import_tensorflow

__all__ = ["main"]


def run_export(args: argparse.Namespace) -> int:
    """``tfpose export``: a SavedModel of the whole pipeline (options checked by
    :func:`tfpose.export.export_saved_model`), or with --format tflite the network alone. Returns 0,
    or 2 after one line naming what failed (TensorFlowMissing where TensorFlow cannot be imported)."""
    refused = _options_export_ignores(args)
    if refused:
        print(f"tfpose: {refused}", file=sys.stderr)
        return 2
    import_tensorflow("tfpose export")
    from tfpose.export import export_saved_model

    if args.format == "tflite":
        from tfpose.export_tflite import export_tflite

        quantization = args.tflite_quantization or "float32"
        try:
            body = body_options(args)
            export_tflite(
                args.model,
                args.export_dir,
                quantization,
                pose_model=body["pose_model"],
                normalization=body["normalization"],
            )
        except (OSError, ValueError, TypeError) as exc:
            print(f"tfpose: export failed: {exc}", file=sys.stderr)
            return 2
        print(f"tfpose: exported {quantization} .tflite network to {args.export_dir}")
        return 0
    try:
        export_saved_model(args.model, args.export_dir, **_export_options(args))
    except (OSError, ValueError, TypeError) as exc:
        print(f"tfpose: export failed: {exc}", file=sys.stderr)
        return 2
    print(f"tfpose: exported SavedModel to {args.export_dir}")
    return 0


# What ``tfpose export --format tflite`` applies: the network alone (its pose model and input
# normalization, folded in); every post-processing option belongs to the SavedModel export.
_TFLITE_EXPORT_USES = frozenset({"model", "export_dir", "format", "tflite_quantization", "pose_model", "normalization"})


def _options_export_ignores(args: argparse.Namespace) -> str | None:
    """Why ``args`` of ``tfpose export`` hold an option the chosen --format would ignore (a silent
    export of something else than asked), or None: --tflite-quantization without --format tflite;
    with --format tflite, any option given other than those it applies (a value other than the
    parser's default)."""
    if args.format != "tflite":
        if args.tflite_quantization is not None:
            return (
                f"--tflite-quantization {args.tflite_quantization}: only with --format tflite "
                "(a SavedModel export is float32); expected --format tflite or no --tflite-quantization"
            )
        return None
    defaults = vars(build_parser().parse_args(["export", os.fsdecode(args.export_dir)]))
    given = sorted(
        k for k, v in vars(args).items() if k in defaults and k not in _TFLITE_EXPORT_USES and v != defaults[k]
    )
    if not given:
        return None
    names = ", ".join(("--no-" if vars(args)[k] is False else "--") + k.replace("_", "-") for k in given)
    return (
        f"{names}: not applied by --format tflite, which writes the network alone (its pose model and "
        "--normalization); expected them left out, or --format saved_model (the whole pipeline)"
    )


def _export_options(args: argparse.Namespace) -> dict:
    """The Estimator options of ``tfpose export``, unchecked: :func:`tfpose.export.export_saved_model`
    checks them, once. When --hand/--face are wrong too, a bad body option is still the one named."""
    from tfpose import options

    try:
        return estimator_options(args)
    except ValueError:
        options.check_estimator_options(**body_options(args))
        raise


def run_beam(argv: Sequence[str]) -> int:
    """``tfpose beam``: its arguments go unparsed to :func:`tfpose.beam.main` (imported here only:
    Beam is an optional extra); 2 when Beam is missing."""
    try:
        from tfpose.beam import main as beam_main
    except ImportError as exc:
        print(f"tfpose: {exc}", file=sys.stderr)
        return 2
    return beam_main(list(argv))


def main(argv: Sequence[str] | None = None) -> int:
    """The ``tfpose`` command (``argv`` without the program name; default ``sys.argv[1:]``); returns
    the exit status. SIGTERM is handled as Ctrl-C while it runs (the main thread only): stop
    reading, write what was decoded, finalise the outputs, exit status 143 (130 for Ctrl-C)."""
    with sigterm_as_interrupt():
        try:
            return _main(argv)
        except KeyboardInterrupt as exc:  # before or after the run (loading the model, say)
            signum = getattr(exc, "signum", signal.SIGINT)
            print(f"tfpose: stopped by {signal_name(signum)}", file=sys.stderr)
            return 128 + signum


def _main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # A source that cannot be opened is reported once, by tfpose; OpenCV's and FFmpeg's own lines
    # about it come back with OPENCV_LOG_LEVEL=INFO / OPENCV_FFMPEG_LOGLEVEL=32.
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["beam"]:
        return run_beam(argv[1:])
    parser = build_parser()
    args = parser.parse_args(join_negative_values(argv))
    from tfpose._loader import OpLibraryError

    try:
        if args.command == "estimate":
            return run_estimate(args)
        if args.command == "export":
            return run_export(args)
        if args.command == "convert":
            return int(args._convert.run(args) or 0)
    except (OpLibraryError, TensorFlowMissing) as exc:
        # e.g. a wheel for another TensorFlow: the message names both versions and what to install;
        # or no TensorFlow at all (the TensorFlow-free install): what needs it and what runs without
        print(f"tfpose: {exc}", file=sys.stderr)
        return 2
    parser.error(f"unknown command {args.command}")  # exits (status 2)
