"""Protobuf text format without a schema: the reader of Caffe's prototxt files.

Caffe's network definitions are protobuf text; without caffe.proto at hand the parser keeps every
field as text (:class:`Ident` for unquoted scalars) and :class:`Message`'s typed getters convert at
the point of use, naming the field when a value does not fit.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Iterator
from typing import cast, overload

from tfpose.convert.errors import ConversionError


class Ident(str):
    """An unquoted scalar token of the text format (number, enum name, true/false)."""


class Message:
    """One text-format message: its fields in file order, repeated names allowed.

    Values are ``str`` (quoted strings), :class:`Ident` (unquoted scalars) or :class:`Message`.
    Without a schema the text format cannot say whether ``1`` is an int or a float, so typed
    getters convert at the point of use and name the field when the value does not fit.
    """

    __slots__ = ("fields", "_parent", "_name")

    def __init__(self, fields: list[tuple[str, object]] | None = None, parent: Message | None = None, name: str = ""):
        self.fields = fields if fields is not None else []
        # The dotted path is built only when a message names itself in an error: storing it per
        # message would cost O(depth^2) memory for deeply nested input.
        self._parent = parent
        self._name = name

    @property
    def where(self) -> str:
        """Dotted path of this message from the root ("" for the root)."""
        names = []
        m: Message | None = self
        while m is not None and m._name:
            names.append(m._name)
            m = m._parent
        return ".".join(reversed(names))

    def all(self, name: str) -> list:
        """Every value of field ``name`` in order (empty when absent)."""
        return [v for k, v in self.fields if k == name]

    def has(self, name: str) -> bool:
        """Whether field ``name`` is present."""
        return any(k == name for k, _ in self.fields)

    def get(self, name: str, default=None):
        """The last value of ``name`` (protobuf's rule for a repeated singular field), or default."""
        values = self.all(name)
        return values[-1] if values else default

    def message(self, name: str) -> Message:
        """Sub-message ``name``, or an empty message when absent."""
        value = self.get(name)
        if value is None:
            return Message(parent=self, name=name)
        if not isinstance(value, Message):
            raise ConversionError(
                f"field {self._path(name)} should be a message {{...}}", expected="a message", actual=repr(value)
            )
        return value

    def _path(self, name: str) -> str:
        where = self.where
        return f"{where}.{name}" if where else name

    def _scalar(self, name: str, value, kind, convert):
        if isinstance(value, Message):
            raise ConversionError(
                f"field {self._path(name)} should be a {kind}", expected=f"a {kind}", actual="a message"
            )
        try:
            return convert(value)
        except (TypeError, ValueError, OverflowError):
            raise ConversionError(
                f"field {self._path(name)} should be a {kind}", expected=f"a {kind}", actual=repr(str(value))
            ) from None

    # The getters are named after the types they return, so inside this class ``int``, ``float``,
    # ``bool`` and ``str`` in annotations would name the methods: annotations say ``builtins.``.
    # The overloads tell a type checker that a getter with a default never returns None.

    @overload
    def int(self, name: builtins.str, default: builtins.int) -> builtins.int: ...
    @overload
    def int(self, name: builtins.str, default: None = None) -> builtins.int | None: ...
    def int(self, name: builtins.str, default: builtins.int | None = None) -> builtins.int | None:
        """Integer field ``name`` (decimal, hex or octal), or default; ConversionError if not an integer."""
        value = self.get(name)
        return default if value is None else self._scalar(name, value, "integer", _to_int)

    def ints(self, name: builtins.str) -> list[builtins.int]:
        """Every value of integer field ``name``; ConversionError naming the field if one is not."""
        return [self._scalar(name, v, "integer", _to_int) for v in self.all(name)]

    @overload
    def float(self, name: builtins.str, default: builtins.float) -> builtins.float: ...
    @overload
    def float(self, name: builtins.str, default: None = None) -> builtins.float | None: ...
    def float(self, name: builtins.str, default: builtins.float | None = None) -> builtins.float | None:
        """Number field ``name`` (a C-style ``f`` suffix allowed), or default; ConversionError if not a number."""
        value = self.get(name)
        return default if value is None else self._scalar(name, value, "number", _to_float)

    def bool(self, name: builtins.str, default: builtins.bool) -> builtins.bool:
        """Boolean field ``name`` (true/false, t/f, 1/0), or default; ConversionError otherwise."""
        value = self.get(name)
        return default if value is None else self._scalar(name, value, "boolean", _to_bool)

    @overload
    def str(self, name: builtins.str, default: builtins.str) -> builtins.str: ...
    @overload
    def str(self, name: builtins.str, default: None = None) -> builtins.str | None: ...
    def str(self, name: builtins.str, default: builtins.str | None = None) -> builtins.str | None:
        """String or enum-name field ``name``, or default; ConversionError if it is a message."""
        value = self.get(name)
        return default if value is None else self._scalar(name, value, "string or enum name", str)

    def strs(self, name: builtins.str) -> list[builtins.str]:
        """Every value of string field ``name``; ConversionError naming the field if one is a message."""
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
        kind = cast(str, m.lastgroup)  # every alternative of _TOKEN is a named group
        value = m.group(kind)
        if kind != "ws":
            yield kind, value, line
        line += value.count("\n")
        pos = m.end()


# Deepest nesting of messages accepted in a prototxt (protobuf's own parsers stop at 100 too);
# Caffe's network definitions nest 3 or 4 levels.
MAX_NESTING = 100


def parse_text(text: str, source: str = "<text>") -> Message:
    """Parses protobuf text format into a :class:`Message` tree (no schema needed).

    Raises ConversionError for malformed text or messages nested deeper than :data:`MAX_NESTING`.
    """
    tokens = list(_tokenize(text, source))
    stack = [Message()]
    closers: list[str] = []
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
            if len(stack) > MAX_NESTING:
                raise ConversionError(
                    f"{source}:{line}: messages nested too deeply at {name!r}",
                    expected=f"at most {MAX_NESTING} levels",
                    actual=f"level {len(stack)}",
                )
            child = Message(parent=stack[-1], name=name)
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
