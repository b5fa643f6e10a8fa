"""Importing TensorFlow for the command line, with its start-up notices shown once."""

from __future__ import annotations

import os
import re
import sys
import tempfile

__all__ = ["import_tensorflow"]

# TensorFlow's C++ notices printed before its logging is set up ("oneDNN custom operations are on",
# once per library that logs it, so twice per run) ignore TF_CPP_MIN_LOG_LEVEL; the prefix they
# carry (severity, date, time, thread) is what differs between the copies.
_LOG_PREFIX = re.compile(rb"^[IWEF]\d{4} [\d:.]+\s+\d+ ")


def import_tensorflow() -> None:
    """Import TensorFlow with what it prints on stderr while importing shown once per distinct line
    (everything else is kept, in order)."""
    if "tensorflow" in sys.modules:
        return
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
