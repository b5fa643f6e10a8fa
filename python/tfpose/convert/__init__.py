"""Converts OpenPose's Caffe models (prototxt + caffemodel) to TensorFlow graphs, without Caffe.

``convert(prototxt, caffemodel, output, format=None, progress=True)`` writes a SavedModel or a frozen
GraphDef whose input ``image`` takes float32 [N, H, W, 3] BGR 0..255 and whose output is named after
the network's final layer (``concat_stage7`` for COCO/MPI, ``net_output`` for BODY_25).

Importing this package does not import TensorFlow (it is imported when a conversion runs).
"""

from __future__ import annotations

from tfpose.convert.caffe_proto import ConversionError, parse_prototxt, read_caffemodel
from tfpose.convert.caffe_to_tf import SUPPORTED_TYPES, ConversionSummary, convert, plan_network

__all__ = [
    "ConversionError",
    "ConversionSummary",
    "SUPPORTED_TYPES",
    "convert",
    "parse_prototxt",
    "plan_network",
    "read_caffemodel",
]
