"""The scoring consumers: a thin shell that reads ``images.submitted``, runs :func:`core.score`
in a process pool and publishes ``images.verdicts``. Run one replica with ``python -m consumer``."""
