"""Numeric precision of the network, through TensorFlow's own automatic mixed precision (Grappler).

Precisions:

* ``"float32"`` (default): the graph as given.
* ``"bfloat16"``: Grappler's ``auto_mixed_precision_onednn_bfloat16`` pass rewrites the network's
  convolutions and matrix products (and the element-wise ops between them) to bfloat16 on the CPU
  with oneDNN. Needs a CPU with AVX-512 BF16 or AMX-BF16 instructions and TensorFlow's oneDNN
  optimisations on (``TF_ENABLE_ONEDNN_OPTS`` not 0); elsewhere a ``ValueError`` says so instead of
  running a slow emulation.
* ``"float16"``: Grappler's ``auto_mixed_precision`` pass (CUDA float16); needs a visible GPU.

Only ops on the passes' lists change type: the placement (gathers, sums, rounding) before the
network and tfpose's post-processing ops after it stay float32, so the people are exactly
OpenPose's post-processing of whatever the network returned.

Scope: ``tf.config.optimizer.set_experimental_options`` would switch a pass on for the whole
process. :func:`precision_scope` instead sets it in the calling thread's function-call options
(the per-thread config TensorFlow attaches to every ``tf.function`` call, the mechanism of
TensorFlow's own ``function_executor_type``), so two estimators of different precisions can share a
process. Grappler optimises a function once per distinct config.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import os

__all__ = ["PRECISIONS", "DEFAULT_PRECISION", "check_precision", "precision_scope", "cpu_flags"]

PRECISIONS = ("float32", "bfloat16", "float16")
DEFAULT_PRECISION = "float32"
# Grappler's RewriterConfig field switched on for each reduced precision.
_REWRITER_FIELD = {"bfloat16": "auto_mixed_precision_onednn_bfloat16", "float16": "auto_mixed_precision"}
# /proc/cpuinfo flags of the instructions oneDNN runs bfloat16 convolutions with.
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


@functools.lru_cache(maxsize=1)
def cpu_flags() -> frozenset:
    """The CPU's feature flags from /proc/cpuinfo (empty where the file is absent)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def _onednn_enabled() -> bool:
    from tensorflow.python.util import _pywrap_util_port

    return bool(_pywrap_util_port.IsMklEnabled())


def check_precision(precision: str) -> str:
    """Validate ``precision`` for this machine and return it.

    Raises ValueError naming the expected values for an unknown name, and for "bfloat16" without
    the CPU instructions or with oneDNN off, "float16" without a GPU."""
    if not isinstance(precision, str) or precision not in PRECISIONS:
        raise ValueError(f"precision: expected one of {PRECISIONS}, got {precision!r}")
    if precision == "bfloat16":
        flags = cpu_flags()
        if not any(f in flags for f in BF16_CPU_FLAGS):
            raise ValueError(
                "precision 'bfloat16': expected a CPU with AVX-512 BF16 or AMX-BF16 instructions "
                f"(/proc/cpuinfo flags {' or '.join(BF16_CPU_FLAGS)}); this CPU has neither, so the "
                "network would run an emulation slower than float32. Use precision='float32'."
            )
        if not _onednn_enabled() or os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1") in ("0", "false", "False"):
            raise ValueError(
                "precision 'bfloat16': expected TensorFlow's oneDNN optimisations on (this TensorFlow "
                "build has them off or TF_ENABLE_ONEDNN_OPTS=0); the bfloat16 rewrite needs them"
            )
    if precision == "float16":
        import tensorflow as tf

        if not tf.config.list_logical_devices("GPU"):
            raise ValueError(
                "precision 'float16': expected a visible GPU (TensorFlow's float16 mixed "
                "precision is a CUDA rewrite); none found. Use 'float32' or 'bfloat16' on CPU."
            )
    return precision


@contextlib.contextmanager
def precision_scope(precision: str):
    """Within the block, ``tf.function`` calls made by this thread run with the Grappler pass of
    ``precision`` switched on ("float32": no change). ``precision`` must have passed
    :func:`check_precision`."""
    field = _REWRITER_FIELD.get(precision)
    if field is None:
        yield
        return
    from tensorflow.core.protobuf import rewriter_config_pb2
    from tensorflow.python.eager import context

    ctx = context.context()
    old = ctx.function_call_options
    opts = copy.copy(old)
    config = copy.deepcopy(old.config_proto_serialized)
    from tensorflow.core.protobuf import config_pb2

    proto = config_pb2.ConfigProto()
    proto.ParseFromString(config)
    setattr(proto.graph_options.rewrite_options, field, rewriter_config_pb2.RewriterConfig.ON)
    opts.config_proto_serialized = proto
    ctx.function_call_options = opts
    try:
        yield
    finally:
        ctx.function_call_options = old
