"""Importing TensorFlow for the command line, with its start-up notices shown once, or one clear
error where TensorFlow is not installed (the TensorFlow-free install runs .tflite networks only)."""

from __future__ import annotations

import os
import re
import sys
import tempfile

__all__ = ["import_tensorflow", "TensorFlowMissing"]

# TensorFlow's C++ notices printed before its logging is set up ("oneDNN custom operations are on",
# once per library that logs it, so twice per run) ignore TF_CPP_MIN_LOG_LEVEL; the prefix they
# carry (severity, date, time, thread) is what differs between the copies.
_LOG_PREFIX = re.compile(rb"^[IWEF]\d{4} [\d:.]+\s+\d+ ")


class TensorFlowMissing(ImportError):
    """TensorFlow cannot be imported, and the command needs it; the message says what for and what
    runs without it."""


def import_tensorflow(needed_for: str) -> None:
    """Import TensorFlow with what it prints on stderr while importing shown once per distinct line
    (everything else is kept, in order). ``needed_for`` names the work that needs it ("tfpose
    export"); raises :class:`TensorFlowMissing` naming it when TensorFlow cannot be imported."""
    if "tensorflow" in sys.modules:
        return
    try:
        _import_quietly()
    except ImportError as exc:
        raise TensorFlowMissing(
            f"{needed_for} needs TensorFlow, which cannot be imported here ({exc}); install TensorFlow "
            "and tfpose built against it (README), or run a LiteRT network: tfpose estimate --model X.tflite"
        ) from None


def _import_quietly() -> None:
    sys.stderr.flush()
    with tempfile.TemporaryFile() as captured:
        saved = os.dup(2)
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow  # noqa: F401
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            seen, kept = set(), []
            for line in captured.read().splitlines(keepends=True):
                key = _LOG_PREFIX.sub(b"", line)
                if key not in seen:
                    seen.add(key)
                    kept.append(line)
            sys.stderr.buffer.write(b"".join(kept)) if hasattr(sys.stderr, "buffer") else sys.stderr.write(
                b"".join(kept).decode(errors="replace")
            )
            sys.stderr.flush()
