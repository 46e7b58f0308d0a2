"""How long the bucket keeps each kind of object, as S3 lifecycle rules (minio SDK).

| prefix | what | default |
| --- | --- | --- |
| ``incoming/`` | photos not scored yet; normally empty within seconds | 7 days |
| ``accepted/`` | photos that passed, the evidence of an open issue | 180 days |
| ``rejected/`` | photos that failed or could not be decoded | 30 days |
| ``verdicts/`` | ``verdicts/{id}.json`` served by ``GET /v1/images/{id}`` | 180 days |
| ``idempotency/`` | retry records of ``Idempotency-Key`` | 2 days |

Incomplete multipart uploads (a client or replica that died mid-upload) are
aborted after a day. Applying is independent of ``civicqc stack``: any S3 store
that implements ``PutBucketLifecycleConfiguration`` (MinIO, AWS, SeaweedFS's
prefix expirations) takes it via :func:`apply_retention`; ``civicqc retention``
is the command.
"""

from __future__ import annotations

from dataclasses import dataclass

from minio import Minio
from minio.commonconfig import ENABLED, Filter
from minio.lifecycleconfig import AbortIncompleteMultipartUpload, Expiration, LifecycleConfig, Rule

from runtime.layout import Folder


@dataclass(frozen=True)
class RetentionPolicy:
    """Days each prefix is kept; ``None`` keeps it forever."""

    incoming_days: int | None = 7
    accepted_days: int | None = 180
    rejected_days: int | None = 30
    verdicts_days: int | None = 180
    idempotency_days: int | None = 2
    digests_days: int | None = 180
    abort_multipart_days: int | None = 1

    def by_prefix(self) -> dict[str, int | None]:
        """Days per folder prefix of :mod:`runtime.layout` (every folder has a rule)."""
        days = {
            Folder.INCOMING: self.incoming_days,
            Folder.ACCEPTED: self.accepted_days,
            Folder.REJECTED: self.rejected_days,
            Folder.VERDICTS: self.verdicts_days,
            Folder.IDEMPOTENCY: self.idempotency_days,
            Folder.DIGESTS: self.digests_days,
        }
        return {folder.prefix: days[folder] for folder in Folder}


def lifecycle_config(policy: RetentionPolicy) -> LifecycleConfig:
    """One expiration rule per prefix with a limit, plus the multipart cleanup."""
    rules = [
        Rule(
            ENABLED,
            rule_filter=Filter(prefix=prefix),
            rule_id=f"expire-{prefix.rstrip('/')}",
            expiration=Expiration(days=days),
        )
        for prefix, days in policy.by_prefix().items()
        if days is not None
    ]
    if policy.abort_multipart_days is not None:
        rules.append(
            Rule(
                ENABLED,
                rule_filter=Filter(prefix=""),
                rule_id="abort-incomplete-multipart",
                abort_incomplete_multipart_upload=AbortIncompleteMultipartUpload(
                    days_after_initiation=policy.abort_multipart_days
                ),
            )
        )
    return LifecycleConfig(rules)


def apply_retention(client: Minio, bucket: str, policy: RetentionPolicy) -> LifecycleConfig:
    """Replace the bucket's lifecycle configuration; returns what the store now reports."""
    client.set_bucket_lifecycle(bucket, lifecycle_config(policy))
    current: LifecycleConfig | None = client.get_bucket_lifecycle(bucket)
    if current is None:
        raise RuntimeError(f"{bucket}: the store accepted lifecycle rules but reports none")
    return current


def expirations(config: LifecycleConfig) -> dict[str, int]:
    """``prefix -> days`` of a configuration's expiration rules (for checks and display)."""
    found: dict[str, int] = {}
    for rule in config.rules:
        prefix = rule.rule_filter.prefix if rule.rule_filter is not None else None
        if rule.expiration is not None and rule.expiration.days is not None:
            found[prefix or ""] = rule.expiration.days
    return found
