"""What an operator runs by hand: the ``civicqc`` command line and the local stack.

The scoring engine lives in :mod:`core`; what the services share at run time
(settings, rule profiles, API keys, detectors, logging, the bucket layout, the
object store client) in :mod:`runtime`; the ingest API in :mod:`producer_api`;
the stream consumers in :mod:`consumer`. The services never import this
package, so the service image ships without it.
"""
