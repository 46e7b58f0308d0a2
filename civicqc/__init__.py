"""Command-line tools and shared service configuration for civicqc.

The scoring engine lives in :mod:`core`; the ingest API in :mod:`producer_api`;
the stream consumers in :mod:`consumer`. This package holds what an operator
runs by hand (``civicqc score``, ``civicqc stack``, ``civicqc verdicts``).
"""
