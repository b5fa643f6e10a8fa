"""Reads Caffe's trained weights (caffemodel: a NetParameter in protobuf binary wire format) without Caffe.

Only each layer's name, type and weight blobs are read, from the current ``layer`` (LayerParameter)
and the V1 ``layers`` (V1LayerParameter) forms. The reader never copies the file: it maps it into
memory and hands out numpy views of packed float data, so a 200 MB model costs about 200 MB of
(file-backed) memory to read.
"""

from __future__ import annotations

import contextlib
import mmap
import os
from dataclasses import dataclass, field
from typing import IO, Any

import numpy as np

from tfpose.convert.caffe_v1 import V1_TYPES
from tfpose.convert.errors import ConversionError

_VARINT, _FIXED64, _LEN, _GROUP_START, _GROUP_END, _FIXED32 = 0, 1, 2, 3, 4, 5
# Caffe's kMaxBlobAxes: a BlobShape with more dimensions is rejected by Caffe itself.
MAX_BLOB_AXES = 32


class _Corrupt(Exception):
    """Internal: raised by the wire reader; turned into a ConversionError with context."""


def _varint(buf, pos: int, end: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if pos >= end:
            raise _Corrupt(f"varint runs past the end of its message at byte {pos}")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            if result >> 64:
                raise _Corrupt(f"varint at byte {pos} exceeds 64 bits")
            return result, pos
        shift += 7
        if shift >= 70:
            raise _Corrupt(f"varint longer than 10 bytes at byte {pos}")


def _next_field(buf, pos: int, end: int) -> tuple[int, int, Any, int]:
    """Reads one field at ``pos``: (field number, wire type, value, position after it).

    value: int for varints, the payload offset for fixed32/fixed64, (begin, stop) for
    length-delimited fields.
    """
    key, pos = _varint(buf, pos, end)
    number, wire = key >> 3, key & 7
    if number == 0:
        raise _Corrupt(f"field number 0 at byte {pos}")
    if wire == _VARINT:
        value, pos = _varint(buf, pos, end)
        return number, wire, value, pos
    if wire == _LEN:
        length, pos = _varint(buf, pos, end)
        if pos + length > end:
            raise _Corrupt(
                f"field {number} at byte {pos} claims {length} bytes but only {end - pos} remain (file truncated?)"
            )
        return number, wire, (pos, pos + length), pos + length
    size = {_FIXED32: 4, _FIXED64: 8}.get(wire)
    if size is None:
        raise _Corrupt(f"unsupported wire type {wire} for field {number} at byte {pos}")
    if pos + size > end:
        raise _Corrupt(f"fixed-size field {number} at byte {pos} runs past the end (file truncated?)")
    return number, wire, pos, pos + size


def _fields(buf, start: int, end: int):
    """Yields every field of the message in buf[start:end] (see :func:`_next_field`)."""
    pos = start
    while pos < end:
        field_ = _next_field(buf, pos, end)
        pos = field_[3]  # always past the key: every field consumes at least one byte
        yield field_


def _packed_varints(buf, begin: int, end: int, limit: int) -> list[int]:
    """The varints packed in buf[begin:end]; _Corrupt once there are more than ``limit``."""
    out = []
    pos = begin
    while pos < end:
        value, pos = _varint(buf, pos, end)
        out.append(value)
        if len(out) > limit:
            raise _Corrupt(f"more than {limit} packed values at byte {begin}")
    return out


def _run_of_fixed(buf, pos: int, end: int, tag: int, size: int, dtype: str) -> np.ndarray:
    """The longest run of unpacked repeated fixed-size values starting at the key at ``pos``.

    Unpacked repeated floats are (1-byte key, 4-byte value) records back to back; viewing them as
    a structured array avoids a Python loop over tens of millions of fields. The run is searched
    in windows that double in size, so that the cost is proportional to the run, not to the rest
    of the message (many short runs would otherwise cost quadratic time). The run is empty when
    the key at ``pos`` is not the one-byte ``tag`` (a valid but non-canonical longer key).
    """
    record = np.dtype([("key", "u1"), ("value", dtype)])
    available = (end - pos) // (1 + size)
    n = 0
    window = 256
    while n < available:
        count = min(window, available - n)
        keys = np.frombuffer(buf, dtype=record, count=count, offset=pos + n * (1 + size))["key"]
        mismatch = np.flatnonzero(keys != tag)
        if mismatch.size:
            n += int(mismatch[0])
            break
        n += count
        window *= 2
    return np.frombuffer(buf, dtype=record, count=n, offset=pos)["value"]


@dataclass
class Blob:
    """One weight blob: its shape (Caffe order), whether that shape came from the legacy
    num/channels/height/width fields, and its values as float32 (a view of the file when packed)."""

    shape: tuple[int, ...]
    legacy: bool
    data: np.ndarray

    def array(self) -> np.ndarray:
        """The values reshaped to ``shape`` (a view where possible)."""
        return self.data.reshape(self.shape)


@dataclass
class ModelLayer:
    """A layer found in a caffemodel: its type (current names; "" when the file has none) and blobs."""

    name: str
    type: str
    blobs: list[Blob] = field(default_factory=list)


def _parse_blob(buf, begin: int, end: int) -> Blob:
    # BlobProto: num 1, channels 2, height 3, width 4 (legacy shape), data 5 (float),
    # double_data 8, shape 7 (BlobShape: dim 1).
    shape = None
    legacy = [None, None, None, None]
    chunks: list[np.ndarray] = []
    pos = begin
    while pos < end:
        number, wire, value, after = _next_field(buf, pos, end)
        if number == 7 and wire == _LEN:
            dims: list[int] = []
            for n2, w2, v2, _ in _fields(buf, *value):
                if n2 == 1 and w2 == _LEN:
                    dims.extend(_packed_varints(buf, v2[0], v2[1], MAX_BLOB_AXES))
                elif n2 == 1 and w2 == _VARINT:
                    dims.append(v2)
                if len(dims) > MAX_BLOB_AXES:
                    raise _Corrupt(f"blob shape has more than {MAX_BLOB_AXES} axes (Caffe's limit)")
            if any(d >= 1 << 63 for d in dims):
                raise _Corrupt(f"blob shape {dims} has a dimension beyond int64 (negative in Caffe)")
            shape = tuple(dims)
        elif number in (1, 2, 3, 4) and wire == _VARINT:
            legacy[number - 1] = value
        elif number == 5 and wire == _LEN:
            b0, b1 = value
            if (b1 - b0) % 4:
                raise _Corrupt(f"packed float data of {b1 - b0} bytes is not a multiple of 4")
            chunks.append(np.frombuffer(buf, dtype="<f4", count=(b1 - b0) // 4, offset=b0))
        elif number == 5 and wire == _FIXED32:
            run = _run_of_fixed(buf, pos, end, 0x2D, 4, "<f4")
            if len(run):
                after = pos + 5 * len(run)
            else:  # a non-canonical key: this one value only (``after`` from _next_field)
                run = np.frombuffer(buf, dtype="<f4", count=1, offset=value)
            chunks.append(run)
        elif number == 8 and wire == _LEN:
            b0, b1 = value
            if (b1 - b0) % 8:
                raise _Corrupt(f"packed double data of {b1 - b0} bytes is not a multiple of 8")
            chunks.append(np.frombuffer(buf, dtype="<f8", count=(b1 - b0) // 8, offset=b0))
        elif number == 8 and wire == _FIXED64:
            run = _run_of_fixed(buf, pos, end, 0x41, 8, "<f8")
            if len(run):
                after = pos + 9 * len(run)
            else:  # a non-canonical key, as above
                run = np.frombuffer(buf, dtype="<f8", count=1, offset=value)
            chunks.append(run)
        if after <= pos:  # cannot happen (every branch consumes its field); a hang if it did
            raise _Corrupt(f"reader did not advance at byte {pos}")
        pos = after
    return _finish_blob(shape, legacy, chunks)


def _finish_blob(shape, legacy, chunks) -> Blob:
    is_legacy = shape is None
    if is_legacy:
        shape = tuple(0 if v is None else v for v in legacy) if any(v is not None for v in legacy) else ()
    if not chunks:
        data = np.zeros(0, np.float32)
    elif len(chunks) == 1:
        data = chunks[0]
    else:
        data = np.concatenate([c.astype(np.float32, copy=False) for c in chunks])
    if data.dtype != np.float32:
        # Double blobs and unpacked runs (strided views) become plain float32 arrays.
        data = data.astype(np.float32)
    return Blob(shape=tuple(int(d) for d in shape), legacy=is_legacy, data=data)


def _text(buf, begin: int, end: int) -> str:
    return bytes(buf[begin:end]).decode("utf-8", errors="replace")


def _parse_layer(buf, begin: int, end: int, v1: bool) -> ModelLayer:
    # LayerParameter: name 1, type 2 (string), blobs 7.
    # V1LayerParameter: name 4, type 5 (enum), blobs 6.
    name_field, type_field, blobs_field = (4, 5, 6) if v1 else (1, 2, 7)
    name = ""
    type_ = ""
    blob_ranges = []
    for number, wire, value, _ in _fields(buf, begin, end):
        if number == name_field and wire == _LEN:
            name = _text(buf, *value)
        elif number == type_field and wire == (_VARINT if v1 else _LEN):
            type_ = V1_TYPES.get(value, f"V1 type {value}") if v1 else _text(buf, *value)
        elif number == blobs_field and wire == _LEN:
            blob_ranges.append(value)
    layer = ModelLayer(name=name, type=type_)
    for i, (b0, b1) in enumerate(blob_ranges):
        try:
            layer.blobs.append(_parse_blob(buf, b0, b1))
        except _Corrupt as exc:
            raise ConversionError(f"caffemodel is corrupt: {exc}", layer=name, blob=i) from None
    return layer


class CaffeModel:
    """Trained weights of a caffemodel, by layer name; use as a context manager (or call close()).

    The file is memory-mapped; blob data are views into it and become invalid after close(),
    so copy what you keep.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = os.fspath(path)
        # Open for the object's lifetime (the mapping needs it), closed by close() or __exit__.
        self._file: IO[bytes] | None = open(self.path, "rb")  # noqa: SIM115
        self._map: mmap.mmap | None = None
        self.layers: dict[str, ModelLayer] = {}
        self.order: list[str] = []
        try:
            size = os.fstat(self._file.fileno()).st_size
            self.size = size
            if size == 0:
                raise ConversionError(f"caffemodel {self.path!r} is empty")
            self._map = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ)
            self._read(memoryview(self._map))
        except BaseException:
            self.close()
            raise

    def _read(self, buf) -> None:
        # Fields are read one at a time (not listed first): memory then grows with the layers kept,
        # not with the number of fields in the file.
        try:
            for number, wire, value, _ in _fields(buf, 0, len(buf)):
                # NetParameter: layer 100 (LayerParameter), layers 2 (V1LayerParameter).
                if wire == _LEN and number in (100, 2):
                    begin, stop = value
                    self._add(_parse_layer(buf, begin, stop, v1=(number == 2)))
        except _Corrupt as exc:
            raise ConversionError(f"caffemodel {self.path!r} is corrupt or truncated: {exc}") from None
        if not self.layers:
            raise ConversionError(f"caffemodel {self.path!r} holds no layers (is it a Caffe NetParameter?)")

    def _add(self, layer: ModelLayer) -> None:
        if not layer.name:
            return
        if layer.name not in self.layers:
            self.order.append(layer.name)
        self.layers[layer.name] = layer

    def close(self) -> None:
        """Releases the file mapping; blob views must not be used afterwards."""
        self.layers = {}
        if self._map is not None:
            # BufferError: a caller still holds a view; the mapping is released when that view dies.
            with contextlib.suppress(BufferError):
                self._map.close()
            self._map = None
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> CaffeModel:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_caffemodel(path: str | os.PathLike) -> CaffeModel:
    """Opens a caffemodel (binary NetParameter) and indexes its layers' blobs; see :class:`CaffeModel`."""
    return CaffeModel(path)
