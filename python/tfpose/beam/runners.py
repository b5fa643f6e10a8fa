"""Running a Beam job for ``tfpose beam``: the runner's arguments (the DaskRunner spelled as Beam can
load it, one unit per Dask partition), a scheduler that cannot be reached found first, Beam's logs
kept quiet, a runner's long error summarised in one line, and the Ctrl-C/SIGTERM among its causes.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

from tfpose.beam.handler import METRICS_NAMESPACE

__all__ = [
    "summarise_failure",
    "quiet_beam_logs",
    "runner_args",
    "people_count",
    "interrupt_in",
    "scheduler_unreachable",
]


_MISSING_TFPOSE = ("No module named 'tfpose'", "tfpose cannot run on this worker")
_WORKER_HINT = (
    " Every worker needs tfpose, built against the worker's TensorFlow: see the README's "
    "Apache Beam section (--extra_package with a tfpose wheel, or --sdk_container_image with tfpose installed)."
)


def _first_cause(exc: BaseException) -> BaseException:
    seen = set()
    while id(exc) not in seen:
        cause = exc.__cause__ or exc.__context__
        if cause is None:
            break
        seen.add(id(exc))
        exc = cause
    return exc


# The line that names an exception in a traceback relayed as text (a worker's, by the runner).
_EXCEPTION_LINE = re.compile(r"^\s*((?:\w+\.)*\w*(?:Error|Exception|Exit|Interrupt)): (.+)$", re.M)
_STEP = re.compile(r"\[while running '([^']+)'\]")


def summarise_failure(exc: BaseException) -> str:
    """The first cause of a runner's (often very long, often chained) error in one line, with the
    step it came from where the runner names it, plus what to do when the cause is a worker without
    a working tfpose. A secondary error raised while handling the first never hides it."""
    root = _first_cause(exc)
    texts = [str(root), str(exc)]
    for marker in _MISSING_TFPOSE:
        for line in "\n".join(texts).splitlines():
            if marker in line:
                return line.strip() + _WORKER_HINT
    step = next((m.group(1) for t in texts for m in [_STEP.search(t)] if m), None)
    relayed = _EXCEPTION_LINE.search(texts[0])
    if relayed:  # a worker's traceback as text: its first exception line is the cause
        what = f"{relayed.group(1)}: {_STEP.sub('', relayed.group(2)).strip()}"
    else:
        lines = [ln.strip() for ln in _STEP.sub("", texts[0]).splitlines() if ln.strip()]
        what = f"{type(root).__name__}: {lines[0] if lines else ''}".rstrip(": ")
        top = [ln.strip() for ln in _STEP.sub("", texts[1]).splitlines() if ln.strip()]
        if root is not exc and top and lines and lines[0] not in top[0]:
            # The later error often says where (the Dask scheduler's address, the file ...).
            what += f" (then {type(exc).__name__}: {top[0]})"
    return what + (f" (in step {step!r})" if step else "")


# Beam's loggers at the default level print dozens of lines for a small job (runner start, worker
# processes, bundle sizes, "apitools not found"); the user needs warnings of their own job only.
_QUIET_LOGGERS = ("apache_beam", "distributed", "root")


@contextmanager
def quiet_beam_logs(level: int) -> Iterator[None]:
    """Beam's, Dask's and the root logger at ``level`` or quieter inside the block; the traceback Beam
    logs for a step stopped by Ctrl-C or SIGTERM dropped."""
    previous = {}
    for name in _QUIET_LOGGERS:
        logger = logging.getLogger(None if name == "root" else name)
        previous[logger] = logger.level
        logger.setLevel(max(level, logger.getEffectiveLevel()))
    # Beam logs the error of a step with its traceback before re-raising it; for a Ctrl-C or
    # SIGTERM the job's own line says it all. (A logger's filter sees only its own records.)
    steps = logging.getLogger("apache_beam.runners.common")
    steps.addFilter(_not_an_interrupt)
    try:
        yield
    finally:
        steps.removeFilter(_not_an_interrupt)
        for logger, old in previous.items():
            logger.setLevel(old)


def _not_an_interrupt(record: logging.LogRecord) -> bool:
    exc = record.exc_info[1] if record.exc_info else None
    return exc is None or interrupt_in(exc) is None


_DASK_RUNNER = "apache_beam.runners.dask.dask_runner.DaskRunner"


def runner_args(beam_args: list) -> tuple[list, bool]:
    """Beam's arguments with ``--runner DaskRunner`` spelled as the class Beam can load,
    ``--dask_partition_size 1`` unless a partitioning is given (else Beam's default of 128 units per
    Dask partition runs a small job on one worker and holds a partition's frames at once), and SDK
    workers that log errors only unless a level is given; and whether the runner is the DaskRunner."""
    args, dask = [], False
    i = 0
    while i < len(beam_args):
        a = beam_args[i]
        if a == "--runner" and i + 1 < len(beam_args):
            a, i = f"--runner={beam_args[i + 1]}", i + 1
        if a.startswith("--runner="):
            name = a.split("=", 1)[1]
            if name in ("DaskRunner", _DASK_RUNNER):
                a, dask = f"--runner={_DASK_RUNNER}", True
        args.append(a)
        i += 1
    if dask and not any(a.startswith(("--dask_partition_size", "--dask_npartitions")) for a in args):
        args.append("--dask_partition_size=1")
    if not any(a.startswith("--default_sdk_harness_log_level") for a in args):
        # Beam's SDK workers (multi_processing mode, portable runners) log each channel they open at
        # INFO and platform notices at WARNING; a worker's error still reaches the launcher.
        args.append("--default_sdk_harness_log_level=ERROR")
    return args, dask


def people_count(result) -> int | None:
    """The people counted by the job's metrics; None where the runner reports none (DaskRunner)."""
    from apache_beam.metrics.metric import MetricsFilter

    try:
        counters = result.metrics().query(MetricsFilter().with_namespace(METRICS_NAMESPACE))["counters"]
    except NotImplementedError:  # the DaskRunner reports no metrics
        return None
    total = 0
    for metric in counters:
        if metric.key.metric.name == "people":
            value = metric.committed if metric.committed is not None else metric.attempted
            total += int(value or 0)
    return total


def interrupt_in(exc: BaseException) -> BaseException | None:
    """The Ctrl-C/SIGTERM (a KeyboardInterrupt) among ``exc``'s causes: runners re-raise it wrapped
    in their own error, with the step it interrupted."""
    seen = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, KeyboardInterrupt):
            return cur
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return None


def scheduler_unreachable(beam_args: list) -> str | None:
    """Why the ``--dask_client_address`` given cannot be reached (one TCP connect), else None: the
    DaskRunner itself waits for it and then fails with a long CommClosedError traceback."""
    import socket
    from urllib.parse import urlsplit

    address = None
    for i, a in enumerate(beam_args):
        if a.startswith("--dask_client_address="):
            address = a.split("=", 1)[1]
        elif a == "--dask_client_address" and i + 1 < len(beam_args):
            address = beam_args[i + 1]
    if not address:
        return None
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    if parts.scheme not in ("tcp", "tls") or not parts.hostname or parts.port is None:
        return None  # inproc://, ucx:// ...: left to Dask
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=10).close()
    except OSError as exc:
        return f"could not start: the Dask scheduler at {address} cannot be reached ({exc.strerror or exc})"
    return None
