"""``python -m tfpose.beam``: the Beam pipeline's command (:func:`tfpose.beam.main`)."""

import logging
import sys

from tfpose.beam.command import main

logging.getLogger().setLevel(logging.WARNING)
sys.exit(main())
