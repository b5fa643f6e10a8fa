"""``tfpose convert``: the command line of the Caffe-to-TensorFlow converter.

The main CLI registers it with ``add_parser(subparsers)`` and dispatches to ``run(args)``;
``python -m tfpose.convert`` uses the same arguments on its own.
"""

from __future__ import annotations

import argparse
import sys

DESCRIPTION = (
    "Convert an OpenPose Caffe model (prototxt + caffemodel) to a TensorFlow SavedModel or frozen "
    "GraphDef. The result takes 'image' (float32 [N,H,W,3], BGR 0..255, any size) and outputs the "
    "final layer's blob (concat_stage7 for COCO/MPI, net_output for BODY_25). Caffe is not needed."
)


def configure(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Adds the converter's arguments to ``parser``."""
    parser.add_argument("prototxt", help="network definition, e.g. pose_deploy_linevec.prototxt")
    parser.add_argument("caffemodel", help="trained weights, e.g. pose_iter_440000.caffemodel")
    parser.add_argument("output", help="output path: a folder for a SavedModel, a .pb file for a frozen graph")
    parser.add_argument(
        "--format",
        choices=["saved_model", "frozen"],
        default=None,
        help="output format (default: frozen when OUTPUT ends in .pb, else saved_model)",
    )
    parser.add_argument(
        "--output-layer", default=None, help="stop at this layer and name the output after it (default: the last layer)"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace OUTPUT if it exists")
    parser.add_argument("--no-progress", action="store_true", help="do not show a progress bar")
    parser.set_defaults(func=run)
    return parser


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Registers ``convert`` on the main CLI's ``subparsers`` (from ``add_subparsers()``)."""
    parser = subparsers.add_parser(
        "convert", help="convert an OpenPose Caffe model to TensorFlow", description=DESCRIPTION
    )
    return configure(parser)


def run(args: argparse.Namespace) -> int:
    """Runs a conversion from parsed arguments; prints the summary. Returns the exit status."""
    from tfpose.convert import ConversionError, convert

    try:
        summary = convert(
            args.prototxt,
            args.caffemodel,
            args.output,
            format=args.format,
            progress=not args.no_progress,
            output_layer=args.output_layer,
            overwrite=args.overwrite,
        )
    except (ConversionError, OSError) as exc:
        print(f"tfpose convert: error: {exc}", file=sys.stderr)
        return 1
    print(summary)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m tfpose.convert``."""
    parser = configure(argparse.ArgumentParser(prog="python -m tfpose.convert", description=DESCRIPTION))
    return run(parser.parse_args(argv))
