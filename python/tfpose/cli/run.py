"""``tfpose estimate``'s run, in three steps so that nothing is lost silently: check every option,
input and output before the model loads (:mod:`tfpose.cli.checks`, :mod:`tfpose.cli.inputs`,
:mod:`tfpose.cli.plan`); run, decoding, the network and writing overlapped (:mod:`tfpose.runner`);
then the summary and the reconciliation (:mod:`tfpose.cli.summary`).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tfpose import sizing
from tfpose.app.arguments import estimator_options
from tfpose.app.checks import Stop, remove_created
from tfpose.app.signals import sigterm_deferred, stop_signal
from tfpose.base_estimator import OptionRefused
from tfpose.cli.checks import check_options, check_pose_model_outputs
from tfpose.cli.frames import expected_frames, frames
from tfpose.cli.inputs import Source, collect
from tfpose.cli.plan import Plan, plan_outputs
from tfpose.cli.summary import new_counters, reconcile, summary
from tfpose.cli.tensorflow_import import import_tensorflow
from tfpose.cli.writers import Writers
from tfpose.litert import is_tflite
from tfpose.options import DEFAULTS

__all__ = ["run_estimate", "check_tflite_options", "refused_flag", "NO_OUTPUT_HINT", "TRACKING_IMAGES_NOTE"]

TRACKING_IMAGES_NOTE = (
    "tfpose: note: --tracking: each still image is a sequence of its own (ids do not carry from one "
    "image to the next, even in a folder); frames saved as images carry their ids once made a video"
)
NO_OUTPUT_HINT = (
    "tfpose: note: no output option was given, so nothing will be written (only the summary); add "
    "--write-json DIR, --write-images DIR, --write-video FILE, --write-coco-json FILE or --write-heatmaps DIR"
)

Log = Callable[[str], None]


def run_estimate(args: argparse.Namespace) -> int:
    """Run ``tfpose estimate`` with the parsed ``args``; returns the exit status: 0 all written, 1
    something skipped or unaccounted for (named on stderr), 2 the run could not start or a write
    failed, 128 + signal when stopped by Ctrl-C or SIGTERM. One summary line goes to stdout."""
    from tqdm import tqdm

    log = lambda msg: tqdm.write(msg, file=sys.stderr)  # noqa: E731  (keeps the bar intact)
    inputs = list(args.inputs)
    tflite = is_tflite(args.model)
    if not tflite:  # a .tflite network runs in LiteRT: TensorFlow is neither needed nor imported
        import_tensorflow("a TensorFlow network (.pb, SavedModel, the bundled one)")  # first: the checks import it
    created: list = []  # output folders this run made: removed when it stops before any work
    try:
        check_options(args)
        if tflite:
            check_tflite_options(args)
        if args.sample:
            from tfpose import data

            inputs.append(str(data.sample_image()))
        if not inputs and args.camera is None:
            raise Stop("no input: expected images, folders, videos or stream URLs (or --sample, --camera N)")
        sources, skipped = collect(inputs, log, args.camera)
        plan = plan_outputs(args, sources, log, created)
    except (Stop, FileNotFoundError) as exc:
        remove_created(created)
        log(f"tfpose: {exc}")
        return 2
    if not sources:
        remove_created(created)
        log(f"tfpose: nothing to do: no readable inputs ({skipped} skipped)")
        return 1
    if not any((plan.json_dir, plan.img_dir, plan.heat_dir, plan.video, plan.coco)):
        log(NO_OUTPUT_HINT)
    if (args.tracking or args.smooth) and sum(s.kind == "image" for s in sources) > 1:
        log(TRACKING_IMAGES_NOTE)
    est = _load_estimator(args, log, created)
    if est is None:
        return 2
    show_bar = not args.no_progress and (
        len(sources) > 1 or any(s.kind != "image" for s in sources) or any(Path(i).is_dir() for i in inputs)
    )
    return _Run(args, est, sources, plan, new_counters(skipped), log, show_bar).run()


def check_tflite_options(args: argparse.Namespace) -> None:
    """The options of ``tfpose estimate`` that a ``.tflite`` network (LiteRT) cannot honour and that
    :class:`tfpose.litert.LiteRTEstimator` does not see (outputs that need ``estimate_details``) or
    knows by another name (--hand, --face): Stop naming the flag, before any folder is made or the
    model loads. The Estimator's own refusals (batch_size, precision, flip; its
    :class:`tfpose.base_estimator.OptionRefused`) come when it loads, worded by :func:`refused_flag`."""
    for part in ("hand", "face"):
        if getattr(args, part, False):
            raise Stop(f"--{part}: expected a TensorFlow body network; a .tflite one runs without hands and face")
    for flag, given in (("--part-candidates", args.part_candidates), ("--write-heatmaps", args.write_heatmaps)):
        if given:
            raise Stop(f"{flag}: expected a TensorFlow network; a .tflite one gives people only")
    for name in ("hand_scale_number", "hand_scale_range"):
        if getattr(args, name) != DEFAULTS[name]:
            flag = "--" + name.replace("_", "-")
            raise Stop(f"{flag}: sets the hands, which a .tflite network runs without; expected it left out")


def _flag_value(option: str, value) -> str:
    # An Estimator keyword and value as tfpose estimate's option: each keyword the command passes on
    # is its flag with "-" for "_"; None is the flag left out, a bool --x / --no-x, a size WxH.
    flag = "--" + option.replace("_", "-")
    if value is None:
        return f"{flag} left out"
    if isinstance(value, bool):
        return flag if value else f"--no-{flag[2:]}"
    if isinstance(value, tuple):
        return f"{flag} {'x'.join(str(v) for v in value)}"
    return f"{flag} {value}"


def refused_flag(exc: OptionRefused) -> str:
    """An option the model's implementation refused (:class:`tfpose.base_estimator.OptionRefused`, in
    Python's words) in ``tfpose estimate``'s flags: "--flip: why; expected --no-flip (--accuracy best
    turns it on)"."""
    expected = " or ".join(_flag_value(exc.option, v) for v in exc.accepted) or "it left out"
    by = "" if exc.cause is None else f" ({_flag_value(*exc.cause)} turns it on)"
    return f"{_flag_value(exc.option, exc.value)}: {exc.why}; expected {expected}{by}"


def _load_estimator(args: argparse.Namespace, log: Log, created: list):
    """The estimator of ``args`` (:class:`tfpose.Estimator`: LiteRT for a .tflite network), its pose
    model's output rules checked; None (after saying why, and removing the folders made) when it
    cannot be used."""
    from tfpose.estimator import Estimator

    options = estimator_options(args)
    if is_tflite(args.model) and sizing.parse_net_resolution(options["net_resolution"]) == DEFAULTS["net_resolution"]:
        # --net-resolution left at OpenPose's default: a fixed-size .tflite takes its own size
        # (the parser cannot tell a default from the same value given)
        options["net_resolution"] = None
    try:
        est = Estimator(
            args.model,
            batch_size=args.batch_size,
            number_people_max=args.number_people_max,
            precision=args.precision,
            **options,
        )
    except OptionRefused as exc:
        remove_created(created)
        log(f"tfpose: {refused_flag(exc)}")
        return None
    except (OSError, ValueError, TypeError) as exc:
        remove_created(created)
        log(f"tfpose: cannot load the model: {exc}")
        return None
    except ImportError as exc:
        # a .tflite without the LiteRT runtime; the op library's own ImportError (built for another
        # TensorFlow) goes to the caller, which prints it as it is: it names the wheel to install
        if not is_tflite(args.model):
            raise
        remove_created(created)
        log(f"tfpose: cannot load the model: {exc}")
        return None
    try:  # the rules that need the pose model, which may come from the network
        check_pose_model_outputs(args, est.pose_model)
    except Stop as exc:
        remove_created(created)
        log(f"tfpose: {exc}")
        return None
    return est


class _Run:
    """One run over checked sources: each result tracked (when asked), written and counted; each
    failure named and counted under the summary's one rule (an image is an input, a video's frame a
    frame)."""

    def __init__(self, args, est, sources: list[Source], plan: Plan, counters: dict, log: Log, show_bar: bool):
        self.args, self.est, self.sources, self.counters, self.log = args, est, sources, counters, log
        self.details_wanted = args.part_candidates or plan.heat_dir is not None
        self.writers = Writers(args, plan, est, sources)
        self.tracker = None
        if args.tracking or args.smooth:
            from tfpose.tracking import PoseTracker

            self.tracker = PoseTracker(est.pose_model, smooth=args.smooth)
        self.tracked: Source | None = None  # the source whose tracking sequence is running
        self.expected = expected_frames(sources, args)
        self.show_bar = show_bar
        # The bar starts with the first frame: a run that fails before one (an unreachable stream)
        # prints its error line alone, not between the "0frame [00:00, ?frame/s]" redraws of tqdm.write.
        self.bar: Any = None
        self.started = time.time()  # (tqdm's clock; run() sets it again when the work starts)

    def _advance_bar(self) -> None:
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=self.expected, unit="frame", disable=not self.show_bar, file=sys.stderr)
            # its clock from the run's start, as the summary's: the first frame's wait (the graph's
            # warm-up) is part of the rate
            self.bar.start_t = self.started
        self.bar.update(1)

    def write(self, item, result) -> None:
        src, frame, img, fps, stamp, _ = item
        people, det = (result.people, result) if self.details_wanted else (result, None)
        if self.tracker is not None:  # in frame order; each video and each still image is its own sequence
            if src is not self.tracked:
                self.tracker.reset()  # ids keep counting: unique across the run
                self.tracked = src
            self.tracker.update(people, timestamp=stamp, image_size=img.shape[:2])
        self.writers.write(src, frame, img, fps, people, det)
        self.counters["frames"] += 1
        self.counters["people"] += len(people)
        self._advance_bar()

    def on_error(self, item, exc) -> None:
        src, frame = item[0], item[1]
        label = src.shown if frame is None else f"{src.shown} frame {frame}"
        self.log(f"tfpose: skipping {label}: {exc}")
        self.counters["frames_failed"] += 1
        # one rule for the summary: an image is an input (skipped once), a video's frame a frame
        if frame is None:
            self.counters["inputs_skipped"] += 1
        else:
            self.counters["frames_rejected"] += 1
        self._advance_bar()

    def run(self) -> int:
        """Decode, estimate and write everything, then finish the outputs; the exit status."""
        from tfpose import runner

        est, args, counters = self.est, self.args, self.counters
        # Decoding, the graph and writing overlap (tfpose.runner); details need one graph call per image.
        estimate = (lambda images: [est.estimate_details(im) for im in images]) if self.details_wanted else None
        start, self.started = time.perf_counter(), time.time()
        stopped = interrupted = None
        complete = False
        try:
            runner.run_overlapped(
                est,
                frames(self.sources, args, self.log, counters),
                self.write,
                self.on_error,
                batch_size=args.batch_size,
                estimate=estimate,
            )
        except OSError as exc:
            stopped = exc
        except runner.Interrupted as exc:
            interrupted = exc
        finally:
            if self.bar is not None:
                self.bar.close()
        if stopped is None:
            try:  # after a clean stop too: the video is finalised so it plays, the COCO file written
                with sigterm_deferred():
                    complete = self.writers.close(self.log)
            except OSError as exc:
                stopped = exc
        if stopped is not None:
            self.writers.abort()
        return self._finish(time.perf_counter() - start, complete, stopped, interrupted)

    def _finish(self, elapsed: float, complete: bool, stopped, interrupted) -> int:
        counters, log = self.counters, self.log
        if interrupted is not None:
            log(f"tfpose: {interrupted} ({counters['people']} people); the outputs written are complete")
        print(summary(counters, self.expected, elapsed, self.tracker, interrupted, stopped))
        if stopped is not None:
            log(f"tfpose: stopped: {stopped}")
            return 2
        if interrupted is not None:
            return 128 + stop_signal(interrupted)
        reconciled = reconcile(counters, self.expected, log)
        bad = counters["inputs_skipped"] or counters["frames_failed"] or not complete or not reconciled
        return 1 if bad else 0
