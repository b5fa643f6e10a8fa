"""Reads Caffe network definitions (prototxt) and trained weights (caffemodel) without Caffe.

Only what OpenPose's body models need is read: the layer list with its parameters from the prototxt
(protobuf text format), and each layer's name, type and weight blobs from the caffemodel (protobuf
binary wire format). Both the current ``layer {}`` (LayerParameter) and the V1 ``layers {}``
(V1LayerParameter) forms are understood.

The caffemodel reader never copies the file: it maps it into memory and hands out numpy views of
packed float data, so a 200 MB model costs about 200 MB of (file-backed) memory to read.
"""

from __future__ import annotations

import mmap
import os
import re
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np


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


# ----------------------------------------------------------------------------------------------
# Protobuf text format
# ----------------------------------------------------------------------------------------------


class Ident(str):
    """An unquoted scalar token of the text format (number, enum name, true/false)."""


class Message:
    """One text-format message: its fields in file order, repeated names allowed.

    Values are ``str`` (quoted strings), :class:`Ident` (unquoted scalars) or :class:`Message`.
    Without a schema the text format cannot say whether ``1`` is an int or a float, so typed
    getters convert at the point of use and name the field when the value does not fit.
    """

    def __init__(self, fields: list[tuple[str, object]] | None = None, where: str = ""):
        self.fields = fields if fields is not None else []
        self.where = where

    def all(self, name: str) -> list:
        """Every value of field ``name`` in order (empty when absent)."""
        return [v for k, v in self.fields if k == name]

    def has(self, name: str) -> bool:
        return any(k == name for k, _ in self.fields)

    def get(self, name: str, default=None):
        """The last value of ``name`` (protobuf's rule for a repeated singular field), or default."""
        values = self.all(name)
        return values[-1] if values else default

    def message(self, name: str) -> "Message":
        """Sub-message ``name``, or an empty message when absent."""
        value = self.get(name)
        if value is None:
            return Message(where=f"{self.where}.{name}")
        if not isinstance(value, Message):
            raise ConversionError(
                f"field {self.where}.{name} should be a message {{...}}", expected="a message", actual=repr(value)
            )
        return value

    def _scalar(self, name: str, value, kind, convert):
        if isinstance(value, Message):
            raise ConversionError(
                f"field {self.where}.{name} should be a {kind}", expected=f"a {kind}", actual="a message"
            )
        try:
            return convert(value)
        except (TypeError, ValueError):
            raise ConversionError(
                f"field {self.where}.{name} should be a {kind}", expected=f"a {kind}", actual=repr(str(value))
            ) from None

    def int(self, name: str, default: int | None = None) -> int | None:
        value = self.get(name)
        return default if value is None else self._scalar(name, value, "integer", _to_int)

    def ints(self, name: str) -> list[int]:
        return [self._scalar(name, v, "integer", _to_int) for v in self.all(name)]

    def float(self, name: str, default: float | None = None) -> float | None:
        value = self.get(name)
        return default if value is None else self._scalar(name, value, "number", _to_float)

    def bool(self, name: str, default: bool) -> bool:
        value = self.get(name)
        return default if value is None else self._scalar(name, value, "boolean", _to_bool)

    def str(self, name: str, default: str | None = None) -> str | None:
        value = self.get(name)
        return default if value is None else self._scalar(name, value, "string or enum name", str)

    def strs(self, name: str) -> list[str]:
        return [self._scalar(name, v, "string", str) for v in self.all(name)]


def _to_int(value) -> int:
    text = str(value)
    try:
        return int(text)
    except ValueError:
        return int(text, 0)  # hexadecimal and octal forms


def _to_float(value) -> float:
    text = str(value)
    if text[-1:] in "fF" and not text.lower().endswith("inf"):
        text = text[:-1]  # the text format allows a C-style float suffix
    return float(text)


def _to_bool(value) -> bool:
    text = str(value).lower()
    if text in ("true", "t", "1"):
        return True
    if text in ("false", "f", "0"):
        return False
    raise ValueError(text)


_TOKEN = re.compile(
    r"""
    (?P<ws>[\s,;]+|\#[^\n]*)
  | (?P<str>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<punct>[{}<>:\[\]])
  | (?P<word>[-+]?[A-Za-z0-9_.+-]+)
    """,
    re.VERBOSE,
)

_ESCAPES = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "v": "\v",
    "?": "?",
}


def _unescape(body: str) -> str:
    out = []
    i = 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        elif nxt in "xX":
            m = re.match(r"[0-9a-fA-F]{1,2}", body[i + 2 :])
            out.append(chr(int(m.group(0), 16)) if m else "x")
            i += 2 + (len(m.group(0)) if m else 0)
        else:
            m = re.match(r"[0-7]{1,3}", body[i + 1 :])
            out.append(chr(int(m.group(0), 8)) if m else nxt)
            i += 1 + (len(m.group(0)) if m else 1)
    return "".join(out)


def _tokenize(text: str, source: str) -> Iterator[tuple[str, str, int]]:
    pos = 0
    line = 1
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ConversionError(f"{source}:{line}: cannot parse text starting at {text[pos : pos + 20]!r}")
        kind = m.lastgroup
        value = m.group(kind)
        if kind != "ws":
            yield kind, value, line
        line += value.count("\n")
        pos = m.end()


def parse_text(text: str, source: str = "<text>") -> Message:
    """Parses protobuf text format into a :class:`Message` tree (no schema needed)."""
    tokens = list(_tokenize(text, source))
    stack = [Message(where="")]
    closers = []
    i = 0
    n = len(tokens)
    while i < n:
        kind, value, line = tokens[i]
        if kind == "punct" and value in "}>":
            if not closers or closers[-1] != value:
                raise ConversionError(f"{source}:{line}: unbalanced {value!r}")
            closers.pop()
            stack.pop()
            i += 1
            continue
        if kind != "word":
            raise ConversionError(f"{source}:{line}: expected a field name, got {value!r}")
        name = value
        i += 1
        if i < n and tokens[i][:2] == ("punct", ":"):
            i += 1
        if i >= n:
            raise ConversionError(f"{source}:{line}: field {name!r} has no value (file ends)")
        kind, value, line = tokens[i]
        if kind == "punct" and value in "{<":
            child = Message(where=f"{stack[-1].where}.{name}".lstrip("."))
            stack[-1].fields.append((name, child))
            stack.append(child)
            closers.append("}" if value == "{" else ">")
        elif kind == "punct" and value == "[":
            # A list of scalars: `dim: [1, 3, 4]`.
            i += 1
            while i < n and tokens[i][:2] != ("punct", "]"):
                k2, v2, _ = tokens[i]
                if k2 == "str":
                    stack[-1].fields.append((name, _unescape(v2[1:-1])))
                elif k2 == "word":
                    stack[-1].fields.append((name, Ident(v2)))
                else:
                    raise ConversionError(f"{source}:{line}: unexpected {v2!r} in list of {name!r}")
                i += 1
            if i >= n:
                raise ConversionError(f"{source}:{line}: list of {name!r} is not closed")
        elif kind == "str":
            # Adjacent string literals concatenate, as in C.
            parts = [_unescape(value[1:-1])]
            while i + 1 < n and tokens[i + 1][0] == "str":
                i += 1
                parts.append(_unescape(tokens[i][1][1:-1]))
            stack[-1].fields.append((name, "".join(parts)))
        elif kind == "word":
            stack[-1].fields.append((name, Ident(value)))
        else:
            raise ConversionError(f"{source}:{line}: field {name!r} has no value, got {value!r}")
        i += 1
    if closers:
        raise ConversionError(f"{source}: file ends inside a message ({len(closers)} unclosed)")
    return stack[0]


# ----------------------------------------------------------------------------------------------
# Network definition (prototxt)
# ----------------------------------------------------------------------------------------------

# V1LayerParameter's LayerType enum: names in V1 prototxts and numbers in V1 caffemodels,
# mapped to the type strings of the current format.
V1_TYPES = {
    0: "None",
    1: "Accuracy",
    2: "BNLL",
    3: "Concat",
    4: "Convolution",
    5: "Data",
    6: "Dropout",
    7: "EuclideanLoss",
    8: "Flatten",
    9: "HDF5Data",
    10: "HDF5Output",
    11: "Im2col",
    12: "ImageData",
    13: "InfogainLoss",
    14: "InnerProduct",
    15: "LRN",
    16: "MultinomialLogisticLoss",
    17: "Pooling",
    18: "ReLU",
    19: "Sigmoid",
    20: "Softmax",
    21: "SoftmaxWithLoss",
    22: "Split",
    23: "TanH",
    24: "WindowData",
    25: "Eltwise",
    26: "Power",
    27: "SigmoidCrossEntropyLoss",
    28: "HingeLoss",
    29: "MemoryData",
    30: "ArgMax",
    31: "Threshold",
    32: "DummyData",
    33: "Slice",
    34: "MVN",
    35: "AbsVal",
    36: "Silence",
    37: "ContrastiveLoss",
    38: "Exp",
    39: "Deconvolution",
}
_V1_NAMES = {
    "CONCAT": "Concat",
    "CONVOLUTION": "Convolution",
    "POOLING": "Pooling",
    "RELU": "ReLU",
    "DATA": "Data",
    "DROPOUT": "Dropout",
    "INNER_PRODUCT": "InnerProduct",
    "SPLIT": "Split",
    "SOFTMAX": "Softmax",
    "SIGMOID": "Sigmoid",
    "TANH": "TanH",
    "ELTWISE": "Eltwise",
    "LRN": "LRN",
    "DECONVOLUTION": "Deconvolution",
    "FLATTEN": "Flatten",
    "POWER": "Power",
    "SLICE": "Slice",
}


@dataclass
class LayerDef:
    """One layer of a prototxt: type string (current names), blobs in and out, its parameters."""

    name: str
    type: str
    bottoms: list[str]
    tops: list[str]
    params: Message


@dataclass
class NetDef:
    """A parsed prototxt: declared inputs (name, NCHW shape or None) and the layers in order."""

    name: str
    inputs: list[tuple[str, list[int] | None]]
    layers: list[LayerDef]


def _in_test_phase(layer: Message) -> bool:
    # Deploy nets run in TEST phase; a layer restricted to TRAIN (include) or excluded from TEST
    # is not part of the deployed network.
    for rule in layer.all("include"):
        if isinstance(rule, Message) and rule.str("phase", "TEST") != "TEST":
            return False
    for rule in layer.all("exclude"):
        if isinstance(rule, Message) and rule.str("phase", "") == "TEST":
            return False
    return True


def parse_prototxt(path: str | os.PathLike) -> NetDef:
    """Reads a Caffe network definition (protobuf text format) from ``path``."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except UnicodeDecodeError as exc:
        raise ConversionError(
            f"prototxt {os.fspath(path)!r} is not text ({exc}); is it a caffemodel given in place of the prototxt?"
        ) from None
    return parse_prototxt_text(text, source=os.fspath(path))


def parse_prototxt_text(text: str, source: str = "<prototxt>") -> NetDef:
    """Parses a Caffe network definition from a string (see :func:`parse_prototxt`)."""
    root = parse_text(text, source)
    inputs: list[tuple[str, list[int] | None]] = []
    names = root.strs("input")
    dims = root.ints("input_dim")
    shapes = [s.ints("dim") for s in root.all("input_shape") if isinstance(s, Message)]
    if dims:
        if len(dims) != 4 * len(names):
            raise ConversionError(
                f"{source}: input_dim must give 4 values per input", expected=4 * len(names), actual=len(dims)
            )
        shapes = [dims[4 * i : 4 * i + 4] for i in range(len(names))]
    for i, name in enumerate(names):
        inputs.append((name, shapes[i] if i < len(shapes) else None))

    layers: list[LayerDef] = []
    new = [m for m in root.all("layer") if isinstance(m, Message)]
    old = [m for m in root.all("layers") if isinstance(m, Message)]
    if new and old:
        raise ConversionError(f"{source}: mixes 'layer' and V1 'layers' entries; use one format")
    for index, msg in enumerate(new or old):
        name = msg.str("name", f"layer{index}")
        if not _in_test_phase(msg):
            continue
        type_ = msg.str("type")
        if type_ is None:
            raise ConversionError("has no type", layer=name)
        if old:
            type_ = _V1_NAMES.get(type_, type_)
        if type_ == "Input":
            for top, shape in zip(
                msg.strs("top"), msg.message("input_param").all("shape") or [None] * len(msg.strs("top"))
            ):
                inputs.append((top, shape.ints("dim") if isinstance(shape, Message) else None))
            continue
        layers.append(LayerDef(name=name, type=type_, bottoms=msg.strs("bottom"), tops=msg.strs("top"), params=msg))
    if not layers:
        raise ConversionError(f"{source}: contains no layers (is it a Caffe prototxt?)")
    return NetDef(name=root.str("name", ""), inputs=inputs, layers=layers)


# ----------------------------------------------------------------------------------------------
# Protobuf wire format (caffemodel)
# ----------------------------------------------------------------------------------------------

_VARINT, _FIXED64, _LEN, _GROUP_START, _GROUP_END, _FIXED32 = 0, 1, 2, 3, 4, 5


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
            return result, pos
        shift += 7
        if shift >= 70:
            raise _Corrupt(f"varint longer than 10 bytes at byte {pos}")


def _next_field(buf, pos: int, end: int) -> tuple[int, int, object, int]:
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
        pos = field_[3]
        yield field_


def _packed_varints(buf, begin: int, end: int) -> list[int]:
    out = []
    pos = begin
    while pos < end:
        value, pos = _varint(buf, pos, end)
        out.append(value)
    return out


def _run_of_fixed(buf, pos: int, end: int, tag: int, size: int, dtype: str) -> np.ndarray:
    """The longest run of unpacked repeated fixed-size values starting at the key at ``pos``.

    Unpacked repeated floats are (1-byte key, 4-byte value) records back to back; viewing them as
    a structured array avoids a Python loop over tens of millions of fields.
    """
    count = (end - pos) // (1 + size)
    records = np.frombuffer(buf, dtype=np.dtype([("key", "u1"), ("value", dtype)]), count=count, offset=pos)
    mismatch = np.flatnonzero(records["key"] != tag)
    n = int(mismatch[0]) if mismatch.size else count
    return records["value"][:n]


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
                    dims.extend(_packed_varints(buf, *v2))
                elif n2 == 1 and w2 == _VARINT:
                    dims.append(v2)
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
            chunks.append(run)
            after = pos + 5 * len(run)
        elif number == 8 and wire == _LEN:
            b0, b1 = value
            if (b1 - b0) % 8:
                raise _Corrupt(f"packed double data of {b1 - b0} bytes is not a multiple of 8")
            chunks.append(np.frombuffer(buf, dtype="<f8", count=(b1 - b0) // 8, offset=b0))
        elif number == 8 and wire == _FIXED64:
            run = _run_of_fixed(buf, pos, end, 0x41, 8, "<f8")
            chunks.append(run)
            after = pos + 9 * len(run)
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
        self._file = open(self.path, "rb")
        self._map = None
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
        try:
            top = list(_fields(buf, 0, len(buf)))
        except _Corrupt as exc:
            raise ConversionError(f"caffemodel {self.path!r} is corrupt or truncated: {exc}") from None
        for number, wire, value, _ in top:
            # NetParameter: layer 100 (LayerParameter), layers 2 (V1LayerParameter).
            if wire != _LEN or number not in (100, 2):
                continue
            try:
                layer = _parse_layer(buf, *value, v1=(number == 2))
            except _Corrupt as exc:
                raise ConversionError(f"caffemodel {self.path!r} is corrupt or truncated: {exc}") from None
            if not layer.name:
                continue
            if layer.name not in self.layers:
                self.order.append(layer.name)
            self.layers[layer.name] = layer
        if not self.layers:
            raise ConversionError(f"caffemodel {self.path!r} holds no layers (is it a Caffe NetParameter?)")

    def close(self) -> None:
        """Releases the file mapping; blob views must not be used afterwards."""
        self.layers = {}
        if self._map is not None:
            try:
                self._map.close()
            except BufferError:
                # A caller still holds a view: the mapping is released when that view dies.
                pass
            self._map = None
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> "CaffeModel":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_caffemodel(path: str | os.PathLike) -> CaffeModel:
    """Opens a caffemodel (binary NetParameter) and indexes its layers' blobs; see :class:`CaffeModel`."""
    return CaffeModel(path)
