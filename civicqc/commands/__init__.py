"""Sub-commands of the ``civicqc`` CLI: one module per command, each exposing ``register``."""
