"""The converter's one error type: what is wrong with a Caffe model, for people and programs."""

from __future__ import annotations


class ConversionError(ValueError):
    """A Caffe model cannot be read or converted.

    The message names what is wrong; ``layer``, ``blob``, ``expected`` and ``actual`` hold the
    same facts for programs (None where they do not apply).
    """

    def __init__(
        self, message: str, *, layer: str | None = None, blob: int | str | None = None, expected=None, actual=None
    ):
        parts = []
        if layer is not None:
            parts.append(f"layer {layer!r}")
        if blob is not None:
            parts.append(f"blob {blob}")
        text = (", ".join(parts) + ": " if parts else "") + message
        if expected is not None or actual is not None:
            text += f": expected {expected}, got {actual}"
        super().__init__(text)
        self.layer = layer
        self.blob = blob
        self.expected = expected
        self.actual = actual
