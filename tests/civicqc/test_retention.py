"""civicqc/retention.py: lifecycle rules per prefix, applied to the real object store."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from minio import Minio

from civicqc.cli import main as cli_main
from civicqc.retention import RetentionPolicy, apply_retention, expirations, lifecycle_config
from runtime.layout import Folder
from tests.fixtures.services import S3Service


def test_one_expiration_per_kept_prefix_and_verdict_tag_plus_multipart_cleanup() -> None:
    config = lifecycle_config(RetentionPolicy(accepted_days=None))
    assert expirations(config) == {
        "photos/ [civicqc-verdict=pending]": 7,
        "photos/ [civicqc-verdict=rejected]": 30,
        Folder.INCOMING.prefix: 7,
        Folder.REJECTED.prefix: 30,
        Folder.VERDICTS.prefix: 180,
        Folder.IDEMPOTENCY.prefix: 2,
        Folder.DIGESTS.prefix: 180,
    }  # accepted photos kept forever: so no catch-all rule for photos/ either
    assert any(rule.abort_incomplete_multipart_upload is not None for rule in config.rules)


def test_photos_without_a_verdict_tag_expire_with_the_longest_tag_rule() -> None:
    shown = expirations(lifecycle_config(RetentionPolicy()))
    assert shown[Folder.PHOTOS.prefix] == 180
    assert shown["photos/ [civicqc-verdict=accepted]"] == 180


def test_negative_days_are_refused_before_the_store_sees_them(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """SeaweedFS stores ``Days -1`` as given; an operator's typo is a usage error instead."""
    with pytest.raises(ValueError, match="accepted_days"):
        RetentionPolicy(accepted_days=-1)
    with pytest.raises(SystemExit) as exit_:
        cli_main(["retention", "apply", "--rejected-days", "-1"])
    assert exit_.value.code == 2
    assert "days must be 0 (keep forever) or more" in capsys.readouterr().err


@pytest.mark.integration
def test_the_store_keeps_the_rules_it_was_given(
    s3_client: Minio, make_bucket: Callable[[], str]
) -> None:
    bucket = make_bucket()
    policy = RetentionPolicy(rejected_days=14)
    current = apply_retention(s3_client, bucket, policy)
    assert expirations(current) == expirations(lifecycle_config(policy))


@pytest.mark.integration
def test_retention_command_applies_and_shows(
    s3_service: S3Service,
    make_bucket: Callable[[], str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in {
        "S3_ENDPOINT": s3_service.endpoint,
        "S3_ACCESS_KEY": s3_service.access_key,
        "S3_SECRET_KEY": s3_service.secret_key,
        "S3_BUCKET": make_bucket(),
    }.items():
        monkeypatch.setenv(name, value)
    assert cli_main(["retention", "show"]) == 0
    before = capsys.readouterr()
    assert (before.out, "has no lifecycle rules" in before.err) == ("", True)
    assert cli_main(["retention", "apply", "--accepted-days", "90", "--verdicts-days", "0"]) == 0
    capsys.readouterr()
    assert cli_main(["retention", "show"]) == 0
    shown = capsys.readouterr().out
    assert "photos/ [civicqc-verdict=accepted]\t90 days" in shown
    assert Folder.VERDICTS.prefix not in shown
    assert "(unfinished multipart uploads)\t1 days" in shown  # what the store reports back
