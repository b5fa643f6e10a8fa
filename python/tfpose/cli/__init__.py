"""Command line: ``tfpose estimate``, ``tfpose export``, ``tfpose beam`` (and ``tfpose convert`` when
available). ``tfpose beam`` hands its arguments to :func:`tfpose.beam.main`.

``tfpose estimate`` works in three steps, so that nothing is lost silently:

1. check: every option (:func:`tfpose.options.check_estimator_options` and the output options), the
   inputs (recognised by content: whatever the installed OpenCV reads as an image or a video) and
   every output path (folders created and written to, the video writer opened) before the model
   loads; any problem stops the run with one message and exit status 2;
2. plan the output names (:func:`tfpose.io.output_stems`: distinct for same-stem inputs);
3. run; every input or frame that is skipped is named with the reason and counted in the summary,
   and the exit status is 1 when anything was skipped.

The modules: :mod:`~tfpose.cli.parser` (the parser), :mod:`~tfpose.cli.checks` (options),
:mod:`~tfpose.cli.inputs` (input discovery), :mod:`~tfpose.cli.plan` (output planning),
:mod:`~tfpose.cli.frames` (decoding), :mod:`~tfpose.cli.writers` (outputs), :mod:`~tfpose.cli.run`
(the run), :mod:`~tfpose.cli.summary` (summary and reconciliation), :mod:`~tfpose.cli.command` (the
command). What ``tfpose beam`` shares with it is in :mod:`tfpose.app`.
"""

from __future__ import annotations

# The names tests and older callers reach here (tfpose.cli._options ...): one owner each, elsewhere.
from tfpose.app.arguments import ACCURACY_COST as _ACCURACY_COST  # noqa: F401
from tfpose.app.arguments import body_options as _body_options  # noqa: F401
from tfpose.app.arguments import estimator_options as _options  # noqa: F401
from tfpose.app.arguments import join_negative_values as _join_negative_values  # noqa: F401
from tfpose.app.signals import Terminated as _Terminated  # noqa: F401
from tfpose.cli.command import main
from tfpose.cli.parser import build_parser
from tfpose.cli.plan import DEFAULT_VIDEO_FPS  # noqa: F401  (public in the old cli.py)
from tfpose.cli.run import NO_OUTPUT_HINT as _NO_OUTPUT_HINT  # noqa: F401
from tfpose.sources import media_kind as _media_kind  # noqa: F401

__all__ = ["main", "build_parser"]
