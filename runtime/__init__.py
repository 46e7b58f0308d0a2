"""What the services share at run time: the one home of each concept they both use.

* :mod:`runtime.settings`: the shared environment variables (pydantic-settings);
* :mod:`runtime.rulebook`: rule profiles, loaded in one place;
* :mod:`runtime.apikeys`: the API key format and the keys file;
* :mod:`runtime.detectors`: the detector a profile needs, once per process;
* :mod:`runtime.logs`: structured JSON logs with one set of field names;
* :mod:`runtime.ids` and :mod:`runtime.layout`: image ids and every bucket key;
* :mod:`runtime.object_store`: the object store client and its two error kinds;
* :mod:`runtime.producer_renewal`: an idempotent Kafka producer that starts over when
  the broker refuses its sequence;
* :mod:`runtime.cpus`: the cores this process may use.

The ingest API, the consumers and the CLI import it; it imports only :mod:`core`
(``tests/test_layering.py`` checks), so the service image needs no CLI.
"""
