"""Former home of :class:`Person`, kept so that ``from tfpose.person import Person`` still works: the
class lives in :mod:`tfpose.types` (TensorFlow-free value types)."""

from __future__ import annotations

from tfpose.types import Person

__all__ = ["Person"]
