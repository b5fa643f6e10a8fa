"""``python -m tfpose``: the same command line as the ``tfpose`` script."""

import sys

from tfpose.cli import main

sys.exit(main())
