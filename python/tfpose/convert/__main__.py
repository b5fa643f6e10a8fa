"""``python -m tfpose.convert PROTOTXT CAFFEMODEL OUTPUT``."""

import sys

from tfpose.convert.cli import main

sys.exit(main())
