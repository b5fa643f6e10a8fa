"""SIGTERM delivered like Ctrl-C, for ``tfpose estimate``, ``tfpose export`` and ``tfpose beam``: a
run stopped by ``docker stop``, systemd or ``timeout`` ends the same clean way as one stopped by
Ctrl-C (stop reading, write what was decoded, close the outputs), with exit status 128 + 15 (130
for Ctrl-C). While outputs are being finalised (:func:`sigterm_deferred`) a SIGTERM is ignored so
that they finish.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

__all__ = ["Terminated", "on_sigterm", "signal_name", "stop_signal", "sigterm_as_interrupt", "sigterm_deferred"]


class Terminated(KeyboardInterrupt):
    """SIGTERM, delivered like Ctrl-C so that the run stops the same clean way (exit 128 + 15)."""

    signum = signal.SIGTERM


_STATE = {"defer": False}


def on_sigterm(signum, frame) -> None:
    """The SIGTERM handler: raises :class:`Terminated` in the main thread, unless deferred."""
    if _STATE["defer"]:  # the outputs are being finalised: let them finish
        return
    raise Terminated()


def signal_name(signum: int) -> str:
    """How a stop is named to the user: "Ctrl-C" for SIGINT, "SIGTERM", else "signal N"."""
    names: dict[int, str] = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}
    return names.get(signum, f"signal {signum}")


def stop_signal(interrupted) -> int:
    """The signal number an interruption stands for (SIGINT unless it carries ``signum``)."""
    return getattr(interrupted, "signum", signal.SIGINT)


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM raises :class:`Terminated` inside the block (installed from the main thread only; the
    previous handler comes back after it)."""
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def sigterm_deferred() -> Iterator[None]:
    """SIGTERM ignored inside the block: the outputs being finalised there finish."""
    _STATE["defer"] = True
    try:
        yield
    finally:
        _STATE["defer"] = False
