"""Checks a caffemodel's blobs against a conversion plan and converts them to TensorFlow's layouts."""

from __future__ import annotations

import math

import numpy as np

from tfpose.convert.caffe_proto import Blob, CaffeModel
from tfpose.convert.errors import ConversionError
from tfpose.convert.plan import Plan, PlannedLayer


def _shape_matches(blob: Blob, expected: tuple[int, ...]) -> bool:
    if blob.shape == expected:
        return True
    # Legacy blobs are always 4-D (num, channels, height, width); Caffe compares the expected shape
    # padded on the left with ones.
    return blob.legacy and len(expected) <= 4 and blob.shape == (1,) * (4 - len(expected)) + expected


def check_weights(plan: Plan, model: CaffeModel) -> list[str]:
    """Verifies that the caffemodel has every blob the plan needs with the right shape and size.

    Returns the names of caffemodel layers that the plan does not use. Raises ConversionError
    naming layer, blob, expected and actual on the first mismatch.
    """
    used = set()
    for pl in plan.layers:
        name = pl.layer.name
        if not pl.blob_shapes:
            entry = model.layers.get(name)
            if entry is not None and entry.blobs:
                raise ConversionError(
                    f"{pl.layer.type} has no parameters but the caffemodel gives blobs",
                    layer=name,
                    expected="0 blobs",
                    actual=f"{len(entry.blobs)} blobs",
                )
            used.add(name)
            continue
        entry = model.layers.get(name)
        expected_desc = ", ".join(f"{n} {list(s)}" for n, s in zip(pl.blob_names, pl.blob_shapes, strict=True))
        if entry is None:
            raise ConversionError(
                "missing from the caffemodel",
                layer=name,
                expected=f"{len(pl.blob_shapes)} blobs ({expected_desc})",
                actual="no layer of that name",
            )
        used.add(name)
        if entry.type and entry.type != pl.layer.type:
            raise ConversionError(
                "has a different type in the caffemodel", layer=name, expected=pl.layer.type, actual=entry.type
            )
        if len(entry.blobs) != len(pl.blob_shapes):
            raise ConversionError(
                "wrong number of blobs in the caffemodel",
                layer=name,
                expected=f"{len(pl.blob_shapes)} ({expected_desc})",
                actual=f"{len(entry.blobs)} {[list(b.shape) for b in entry.blobs]}",
            )
        for i, (blob, shape, bname) in enumerate(zip(entry.blobs, pl.blob_shapes, pl.blob_names, strict=True)):
            if not _shape_matches(blob, shape):
                raise ConversionError(
                    "wrong shape", layer=name, blob=f"{i} ({bname})", expected=list(shape), actual=list(blob.shape)
                )
            if blob.data.size != math.prod(shape):
                raise ConversionError(
                    "data size does not match the blob's shape",
                    layer=name,
                    blob=f"{i} ({bname})",
                    expected=f"{math.prod(shape)} values",
                    actual=f"{blob.data.size} values",
                )
    return [n for n in model.order if n not in used]


def tf_weights(pl: PlannedLayer, model: CaffeModel) -> list[np.ndarray]:
    """The layer's blobs as new float32 arrays in TensorFlow's layout (HWIO filters, [C] vectors)."""
    out = []
    for blob, shape, bname in zip(model.layers[pl.layer.name].blobs, pl.blob_shapes, pl.blob_names, strict=False):
        data = blob.data.reshape(shape)
        if bname == "weights":
            out.append(np.ascontiguousarray(data.transpose(2, 3, 1, 0), dtype=np.float32))  # OIHW -> HWIO
        else:
            out.append(np.array(data, dtype=np.float32, copy=True))
    return out


def tf_shapes(pl: PlannedLayer) -> list[tuple[int, ...]]:
    """The shapes :func:`tf_weights` returns for ``pl``, without reading them (HWIO filters)."""
    return [
        (s[2], s[3], s[1], s[0]) if n == "weights" else s for n, s in zip(pl.blob_names, pl.blob_shapes, strict=True)
    ]
