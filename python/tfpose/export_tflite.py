"""``tfpose export --format tflite``: a network as a LiteRT (TensorFlow Lite) ``.tflite`` file.

The file holds the network alone (BGR 0..255 float32 [1, H, W, 3] -> [1, H/8, W/8, C], the
normalization of the source network folded in) with H and W left dynamic (-1), so
:class:`tfpose.litert.LiteRTEstimator` resizes its input to OpenPose's sizing of each image. The
post-processing stays in tfpose's numpy entry (a TFLite custom op would be needed to carry it inside).
"""

from __future__ import annotations

import os

__all__ = ["TFLITE_QUANTIZATIONS", "export_tflite"]

# float32: as converted; float16: weights stored as float16 (dequantized to float32 at load by
# XNNPACK); int8: dynamic-range quantization (int8 weights, activations quantized per call).
TFLITE_QUANTIZATIONS = ("float32", "float16", "int8")


def export_tflite(model, path, quantization: str = "float32", **network_options) -> str:
    """Write ``model`` (a frozen .pb, a SavedModel directory or None for the bundled mobilenet_thin)
    as a ``.tflite`` file at ``path``; returns the path.

    quantization: one of :data:`TFLITE_QUANTIZATIONS` (TensorFlow Lite converter's post-training
    float16 / dynamic-range quantization). network_options: pose_model, normalization, input_name,
    output_name of :func:`tfpose.network.load_network`. Raises ValueError for an unknown
    quantization or a path not ending in .tflite; the converter's errors pass through."""
    import tensorflow as tf

    from tfpose import network

    if quantization not in TFLITE_QUANTIZATIONS:
        raise ValueError(f"quantization: expected one of {TFLITE_QUANTIZATIONS}, got {quantization!r}")
    path = os.fspath(path)
    if not path.lower().endswith(".tflite"):
        raise ValueError(f"output path: expected a file name ending in .tflite, got {path!r}")
    if model is None:
        from tfpose import data

        model = data.default_model()
    net = network.load_network(model, **network_options)
    holder = tf.Module()
    holder.net_fn = net.fn  # keeps the imported graph's variables alive for the converter

    @tf.function(input_signature=[tf.TensorSpec([1, None, None, 3], tf.float32, name="image")])
    def serve(image):
        return net(image)

    converter = tf.lite.TFLiteConverter.from_concrete_functions([serve.get_concrete_function()], holder)
    if quantization != "float32":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantization == "float16":
        converter.target_spec.supported_types = [tf.float16]
    data_bytes = converter.convert()
    tmp = path + ".part"
    with open(tmp, "wb") as f:
        f.write(data_bytes)
    os.replace(tmp, path)  # a failed write never leaves a truncated .tflite behind
    return path
