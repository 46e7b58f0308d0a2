"""``python -m civicqc``: the ``civicqc`` command, e.g. under ``-X importtime``."""

from civicqc.cli import entry

entry()
