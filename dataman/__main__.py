"""``python -m dataman`` is the ``dataman`` command."""

import sys

from dataman.cli import main

sys.exit(main())
