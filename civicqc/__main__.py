"""``python -m civicqc``: the ``civicqc`` command, e.g. under ``-X importtime``."""

import sys

from civicqc.cli import main

sys.exit(main())
