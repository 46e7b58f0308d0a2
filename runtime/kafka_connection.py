"""How every Kafka client of the services connects: brokers, TLS and SASL, from one place.

A city's Kafka rarely takes anonymous plaintext: Strimzi and most managed clusters want
TLS, SASL (SCRAM or PLAIN) or a client certificate. The API, the consumers and the
operator's CLI each build several aiokafka clients (producer, group consumer, followers);
building their connection options here, once, from the ``KAFKA_*`` settings means no
client can be the one that forgets the credentials.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from runtime.tls import client_context

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]

#: The protocols that speak TLS, and those that authenticate with SASL.
TLS_PROTOCOLS: frozenset[str] = frozenset({"SSL", "SASL_SSL"})
SASL_PROTOCOLS: frozenset[str] = frozenset({"SASL_PLAINTEXT", "SASL_SSL"})


class KafkaSettingsError(ValueError):
    """The Kafka settings cannot work together (names the settings, never a secret)."""


@dataclass(frozen=True, slots=True)
class KafkaConnection:
    """The part of every aiokafka client's arguments that says where and as whom.

    Build it with :func:`kafka_connection`; pass :meth:`options` to each client. The
    password is left out of ``repr`` so a logged connection never shows it.
    """

    bootstrap_servers: str
    security_protocol: SecurityProtocol = "PLAINTEXT"
    ssl_context: ssl.SSLContext | None = None
    sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    sasl_username: str = ""
    sasl_password: str = field(default="", repr=False)

    def options(self) -> dict[str, Any]:
        """Keyword arguments that AIOKafkaProducer, AIOKafkaConsumer and the admin client take."""
        options: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap_servers,
            "security_protocol": self.security_protocol,
        }
        if self.ssl_context is not None:
            options["ssl_context"] = self.ssl_context
        if self.security_protocol in SASL_PROTOCOLS:
            options["sasl_mechanism"] = self.sasl_mechanism
            options["sasl_plain_username"] = self.sasl_username
            options["sasl_plain_password"] = self.sasl_password
        return options


def check_kafka_security(
    security_protocol: SecurityProtocol,
    *,
    sasl_username: str,
    sasl_password: str,
    ssl_cafile: Path | None,
    ssl_certfile: Path | None,
    ssl_keyfile: Path | None,
) -> None:
    """Refuse ``KAFKA_*`` combinations that would not do what the operator meant: a CA
    file or credentials that a plaintext connection would silently ignore, SASL without
    credentials, half a client certificate."""
    given_tls = [
        name
        for name, value in (
            ("KAFKA_SSL_CAFILE", ssl_cafile),
            ("KAFKA_SSL_CERTFILE", ssl_certfile),
            ("KAFKA_SSL_KEYFILE", ssl_keyfile),
        )
        if value is not None
    ]
    if given_tls and security_protocol not in TLS_PROTOCOLS:
        raise KafkaSettingsError(
            f"{', '.join(given_tls)} set, but KAFKA_SECURITY_PROTOCOL={security_protocol} does "
            "not use TLS: set it to SSL or SASL_SSL"
        )
    sasl = security_protocol in SASL_PROTOCOLS
    if (sasl_username or sasl_password) and not sasl:
        raise KafkaSettingsError(
            "KAFKA_SASL_USERNAME or KAFKA_SASL_PASSWORD set, but KAFKA_SECURITY_PROTOCOL="
            f"{security_protocol} does not use SASL: set it to SASL_SSL or SASL_PLAINTEXT"
        )
    if sasl and not (sasl_username and sasl_password):
        raise KafkaSettingsError(
            f"KAFKA_SECURITY_PROTOCOL={security_protocol} needs KAFKA_SASL_USERNAME and "
            "KAFKA_SASL_PASSWORD"
        )
    if (ssl_certfile is None) != (ssl_keyfile is None):
        raise KafkaSettingsError(
            "a client certificate needs both KAFKA_SSL_CERTFILE and KAFKA_SSL_KEYFILE"
        )


def kafka_connection(
    bootstrap_servers: str,
    *,
    security_protocol: SecurityProtocol = "PLAINTEXT",
    sasl_mechanism: SaslMechanism = "SCRAM-SHA-512",
    sasl_username: str = "",
    sasl_password: str = "",
    ssl_cafile: Path | None = None,
    ssl_certfile: Path | None = None,
    ssl_keyfile: Path | None = None,
) -> KafkaConnection:
    """A checked connection (:func:`check_kafka_security`) with its TLS context built.

    With TLS and no ``ssl_cafile`` the system's trusted CAs verify the brokers; host names
    are always checked. The files are read here, so an unreadable one stops a service at
    startup (:class:`KafkaSettingsError`), not at its first request.
    """
    check_kafka_security(
        security_protocol,
        sasl_username=sasl_username,
        sasl_password=sasl_password,
        ssl_cafile=ssl_cafile,
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
    )
    context = None
    if security_protocol in TLS_PROTOCOLS:
        try:
            context = client_context(
                ssl_cafile,
                certfile=ssl_certfile,
                keyfile=ssl_keyfile,
                settings="KAFKA_SSL_CAFILE, KAFKA_SSL_CERTFILE, KAFKA_SSL_KEYFILE",
            )
        except ValueError as exc:
            raise KafkaSettingsError(str(exc)) from exc
    return KafkaConnection(
        bootstrap_servers=bootstrap_servers,
        security_protocol=security_protocol,
        ssl_context=context,
        sasl_mechanism=sasl_mechanism,
        sasl_username=sasl_username,
        sasl_password=sasl_password,
    )
