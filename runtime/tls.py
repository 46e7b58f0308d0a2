"""The TLS client context of every connection the services open (Kafka, the object store).

One recipe, so both dependencies are verified alike: the system's trusted CAs unless a
CA file is named (a city's own CA), host names always checked, and a client certificate
where the server asks for one. The files are read when the context is made, at startup,
so a wrong path stops a service with the setting's name instead of failing its first
request.
"""

from __future__ import annotations

import ssl
from pathlib import Path


def client_context(
    cafile: Path | None,
    *,
    certfile: Path | None = None,
    keyfile: Path | None = None,
    settings: str,
) -> ssl.SSLContext:
    """A verifying client context; ``settings`` names the variables the files come from,
    for the :class:`ValueError` an unreadable or invalid file raises."""
    try:
        context = ssl.create_default_context(cafile=cafile)
        if certfile is not None:
            context.load_cert_chain(certfile, keyfile)
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(f"cannot load the TLS files of {settings}: {exc}") from exc
    return context
