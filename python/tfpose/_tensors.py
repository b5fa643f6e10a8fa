"""TensorFlow conversions shared by the TF wrappers of the ops (tfpose.ops, tfpose.placement).
Private to the package; imports TensorFlow."""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf


def float64_tensor(values: Any) -> tf.Tensor:
    """values as a float64 tensor without a float32 detour: tf.cast(python_float, tf.float64) first
    makes a float32 tensor, which rounds scale factors and affine transforms to 24 bits. A tensor is
    cast (any real dtype); anything else goes through numpy float64 (ValueError/TypeError from numpy
    for what is not numeric)."""
    if tf.is_tensor(values):
        return tf.cast(values, tf.float64)
    return tf.convert_to_tensor(np.asarray(values, np.float64))
