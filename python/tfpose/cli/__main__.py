"""``python -m tfpose.cli``: the ``tfpose`` command."""

import sys

from tfpose.cli.command import main

sys.exit(main())
