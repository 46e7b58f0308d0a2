"""The ingest API: an HTTP shell that stores uploads in object storage and announces them on Kafka.

Scoring never happens here; see :mod:`core` and the consumers.
"""
