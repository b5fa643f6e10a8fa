"""Apache Beam: tfpose in ``RunInference``, and a ready pipeline over images and videos.

:class:`PoseModelHandler` is a ``ModelHandler`` for ``apache_beam.ml.inference.base.RunInference``.
Each worker loads the model once (a tfpose SavedModel from ``tfpose export``, or a network with
Estimator options), which loads tfpose's op library there; a batch runs as sub-batches of
same-size images (one graph call per size, as :meth:`tfpose.Estimator.estimate_batch`). Wrap it in
Beam's ``KeyedModelHandler`` to carry keys, so results join back to their inputs.

The pipeline (``python -m tfpose.beam`` or ``tfpose beam``, :func:`main`):

    plan (:func:`plan_inputs`, on the launching machine: files matched, each file once, kinds by
    content as ``tfpose estimate``, each video's frames counted by decoding it, work units = images
    and frame ranges of at most ``--frames-per-range`` frames within that count, output names by
    :func:`tfpose.io.output_stems`) -> Create(units) -> Reshuffle -> decode (batches of one unit's
    frames; an undecodable frame is a dead letter with its index) -> RunInference -> OpenPose JSON
    per image/frame; dead letters and the optional COCO results JSON are written by one last step
    -> :func:`reconcile`: every planned image/frame written or dead-lettered, else exit 1 naming
    what is missing.

The steps are the ones every Beam runner supports reliably; it runs on the DirectRunner (both
modes) and on Beam's DaskRunner (README: Beam runners). Beam's stock TensorFlow handler is not
used: it loads models through Keras and imports tensorflow_hub, and cannot register tfpose's custom
ops.

Metrics (namespace ``tfpose``, where a runner reports metrics): ``images`` (images and video frames
run), ``people``, ``failures`` (dead-letter records).

The modules: :mod:`~tfpose.beam.handler` (the handler), :mod:`~tfpose.beam.planning` (the plan),
:mod:`~tfpose.beam.pipeline` (the steps), :mod:`~tfpose.beam.reconciliation` (the check after a run),
:mod:`~tfpose.beam.runners` (running, logs and errors), :mod:`~tfpose.beam.command` (the command).
What it shares with ``tfpose estimate`` is in :mod:`tfpose.app`.

Needs apache-beam (``pip install 'tfpose[beam]'``). No TensorFlow import until a model is loaded.
"""

from __future__ import annotations

import logging


class _DropApitoolsNotice(logging.Filter):
    # Importing Beam without its GCP extra logs "apitools not found ..." on the root logger, a
    # notice about BigQuery that no tfpose job uses; only that record is dropped.
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("apitools not found")


_apitools_filter = _DropApitoolsNotice()
logging.getLogger().addFilter(_apitools_filter)
try:
    import apache_beam  # noqa: F401  (first, here: every module of this package needs it)
    from apache_beam.ml.inference.base import RunInference  # noqa: F401
except ImportError as _exc:  # pragma: no cover - exercised only without Beam
    raise ImportError(
        f"tfpose.beam needs Apache Beam ({_exc}). Install it with: pip install 'tfpose[beam]' "
        "(or: pip install 'apache-beam==2.77.*')"
    ) from _exc
finally:
    logging.getLogger().removeFilter(_apitools_filter)

from tfpose.beam.command import build_parser, main
from tfpose.beam.command import given_estimator_options as _estimator_options  # noqa: F401  (tests reach it here)
from tfpose.beam.handler import METRICS_NAMESPACE, InferenceError, PoseModelHandler, check_saved_model_signature
from tfpose.beam.pipeline import _Decode, _WriteOpenPoseJson, build_pipeline  # noqa: F401  (tests reach the steps here)
from tfpose.beam.planning import Plan, plan_inputs
from tfpose.beam.reconciliation import Reconciliation, reconcile
from tfpose.beam.runners import summarise_failure as _summarise_failure  # noqa: F401  (tests reach it here)

__all__ = [
    "PoseModelHandler",
    "InferenceError",
    "build_pipeline",
    "build_parser",
    "check_saved_model_signature",
    "main",
    "plan_inputs",
    "Plan",
    "reconcile",
    "Reconciliation",
    "METRICS_NAMESPACE",
]
