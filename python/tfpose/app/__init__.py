"""What the command line (:mod:`tfpose.cli`) and the Beam pipeline (:mod:`tfpose.beam`) share, in one
place both import: the estimator's argument builders (:mod:`tfpose.app.arguments`), the checks of
output paths that stop a run before any work (:mod:`tfpose.app.checks`) and SIGTERM handled as
Ctrl-C (:mod:`tfpose.app.signals`). Input-kind detection lives with the sources
(:func:`tfpose.sources.media_kind`), every option's default in :data:`tfpose.options.DEFAULTS`.

Nothing here imports TensorFlow, Beam or the command line: ``cli -> app`` and ``beam -> app``, never
the other way (``tfpose beam`` imports :mod:`tfpose.beam` lazily).
"""
