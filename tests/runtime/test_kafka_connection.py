"""The ``KAFKA_*`` security settings: what each client is given, and what is refused."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from pydantic import ValidationError

from civicqc.cli import main
from runtime.kafka_connection import KafkaSettingsError
from runtime.settings import CommonSettings

SECRET = "hunter2-do-not-print"
SYSTEM_CA = Path(ssl.get_default_verify_paths().cafile or "/etc/ssl/certs/ca-certificates.crt")


def _settings(**env: str) -> CommonSettings:
    return CommonSettings.model_validate({k.lower(): v for k, v in env.items()})


def test_plaintext_by_default_gives_clients_only_the_brokers() -> None:
    options = _settings(KAFKA_BOOTSTRAP_SERVERS="k1:9092,k2:9092").kafka().options()
    assert options == {"bootstrap_servers": "k1:9092,k2:9092", "security_protocol": "PLAINTEXT"}


def test_sasl_ssl_gives_every_client_a_verifying_context_and_the_login() -> None:
    connection = _settings(
        KAFKA_SECURITY_PROTOCOL="SASL_SSL",
        KAFKA_SASL_MECHANISM="SCRAM-SHA-256",
        KAFKA_SASL_USERNAME="civicqc",
        KAFKA_SASL_PASSWORD=SECRET,
    ).kafka()
    options = connection.options()
    context = options.pop("ssl_context")
    assert options == {
        "bootstrap_servers": "127.0.0.1:9092",
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-256",
        "sasl_plain_username": "civicqc",
        "sasl_plain_password": SECRET,
    }
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert SECRET not in repr(connection)


def test_sasl_mechanism_defaults_to_scram_sha_512() -> None:
    connection = _settings(
        KAFKA_SECURITY_PROTOCOL="SASL_PLAINTEXT",
        KAFKA_SASL_USERNAME="civicqc",
        KAFKA_SASL_PASSWORD=SECRET,
    ).kafka()
    assert connection.options()["sasl_mechanism"] == "SCRAM-SHA-512"
    assert connection.ssl_context is None


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}, "needs KAFKA_SASL_USERNAME and"),
        (
            {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_USERNAME": "civicqc"},
            "needs KAFKA_SASL_USERNAME and",
        ),
        ({"KAFKA_SASL_USERNAME": "civicqc", "KAFKA_SASL_PASSWORD": SECRET}, "does not use SASL"),
        ({"KAFKA_SSL_CAFILE": str(SYSTEM_CA)}, "KAFKA_SSL_CAFILE set, but"),
        (
            {
                "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
                "KAFKA_SASL_USERNAME": "civicqc",
                "KAFKA_SASL_PASSWORD": SECRET,
                "KAFKA_SSL_CAFILE": str(SYSTEM_CA),
            },
            "does not use TLS",
        ),
        (
            {"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CERTFILE": str(SYSTEM_CA)},
            "needs both KAFKA_SSL_CERTFILE and KAFKA_SSL_KEYFILE",
        ),
        ({"KAFKA_SECURITY_PROTOCOL": "TLS"}, "'PLAINTEXT', 'SSL', 'SASL_PLAINTEXT' or 'SASL_SSL'"),
        (
            {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "GSSAPI"},
            "'PLAIN', 'SCRAM-SHA-256' or 'SCRAM-SHA-512'",
        ),
    ],
)
def test_settings_that_would_not_do_what_was_meant_are_refused_at_startup(
    env: dict[str, str], named: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as refused:
        CommonSettings()
    assert named in str(refused.value)
    assert SECRET not in str(refused.value)


def test_a_blank_tls_file_setting_is_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_SSL_CAFILE", "")
    monkeypatch.setenv("KAFKA_SSL_CERTFILE", " ")
    settings = CommonSettings()
    assert settings.kafka_ssl_cafile is None
    assert settings.kafka_ssl_certfile is None


def test_an_unreadable_ca_file_stops_the_start_naming_the_setting(tmp_path: Path) -> None:
    settings = _settings(KAFKA_SECURITY_PROTOCOL="SSL", KAFKA_SSL_CAFILE=str(tmp_path / "no.pem"))
    with pytest.raises(KafkaSettingsError, match="KAFKA_SSL_CAFILE"):
        settings.kafka()
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    settings = _settings(KAFKA_SECURITY_PROTOCOL="SSL", KAFKA_SSL_CAFILE=str(garbage))
    with pytest.raises(KafkaSettingsError, match="cannot load the TLS files of KAFKA_SSL_CAFILE"):
        settings.kafka()


@pytest.mark.parametrize("command", [["verdicts", "tail"], ["shadow", "report"]])
def test_the_cli_refuses_bad_kafka_settings_in_one_line_without_the_secret(
    command: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", SECRET)  # a password, but no SASL protocol
    with pytest.raises(SystemExit) as stopped:
        main(command)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"civicqc {' '.join(command)}: invalid settings: ")
    assert "does not use SASL" in err
    assert err.count("\n") == 1
    assert SECRET not in err
