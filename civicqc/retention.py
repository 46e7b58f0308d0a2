"""How long the bucket keeps each kind of object, as S3 lifecycle rules (minio SDK).

| objects | what | default |
| --- | --- | --- |
| ``photos/`` tagged ``civicqc-verdict=pending`` | photos not scored yet; retagged within seconds | 7 days |
| ``photos/`` tagged ``civicqc-verdict=accepted`` | photos that passed, the evidence of an open issue | 180 days |
| ``photos/`` tagged ``civicqc-verdict=rejected`` | photos that failed or could not be decoded | 30 days |
| ``photos/``, any other tags | none expected; the longest of the three above | 180 days |
| ``verdicts/`` | ``verdicts/{id}.json`` served by ``GET /v1/images/{id}`` | 180 days |
| ``idempotency/`` | retry records of ``Idempotency-Key`` | 2 days |
| ``digests/`` | the verdict that identical bytes of a tenant reuse | 180 days |
| ``incoming/``, ``accepted/``, ``rejected/`` | the layout before tags (:mod:`runtime.layout`) | as pending, accepted, rejected |

Where rules overlap, S3 applies the earliest expiration, so a tagged photo gets its
tag's rule and the ``photos/`` rule only catches what carries no verdict tag.
Lifecycle filters on tags are part of S3's API and MinIO applies them; SeaweedFS
(the local stack) accepts and returns them; its enforcement of tag filters is not verified.

Incomplete multipart uploads (a client or replica that died mid-upload) are
aborted after a day. Applying is independent of ``civicqc stack``: any S3 store
that implements ``PutBucketLifecycleConfiguration`` takes it via
:func:`apply_retention`; ``civicqc retention`` is the command.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from minio import Minio
from minio.commonconfig import ENABLED, AndOperator, Filter, Tags
from minio.lifecycleconfig import AbortIncompleteMultipartUpload, Expiration, LifecycleConfig, Rule

from runtime.layout import PENDING, VERDICT_TAG, Folder


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

    def __post_init__(self) -> None:
        """Refused here, not by the store: SeaweedFS keeps a negative expiration as given."""
        negative = [f.name for f in fields(self) if (getattr(self, f.name) or 0) < 0]
        if negative:
            raise ValueError(f"days must be 0 or more (None keeps forever): {negative}")

    def by_prefix(self) -> dict[str, int | None]:
        """Days per folder prefix of :mod:`runtime.layout`, ``photos/`` being the catch-all
        of its tag rules (:meth:`by_verdict_tag`)."""
        days = {
            Folder.PHOTOS: self._photos_days(),
            Folder.VERDICTS: self.verdicts_days,
            Folder.IDEMPOTENCY: self.idempotency_days,
            Folder.DIGESTS: self.digests_days,
            Folder.INCOMING: self.incoming_days,
            Folder.ACCEPTED: self.accepted_days,
            Folder.REJECTED: self.rejected_days,
        }
        return {folder.prefix: days[folder] for folder in Folder}

    def by_verdict_tag(self) -> dict[str, int | None]:
        """Days of a ``photos/`` object per value of its ``civicqc-verdict`` tag."""
        return {
            PENDING: self.incoming_days,
            "accepted": self.accepted_days,
            "rejected": self.rejected_days,
        }

    def _photos_days(self) -> int | None:
        tagged = list(self.by_verdict_tag().values())
        return None if None in tagged else max(d for d in tagged if d is not None)


def lifecycle_config(policy: RetentionPolicy) -> LifecycleConfig:
    """One expiration rule per prefix and per verdict tag with a limit, plus the
    multipart cleanup."""
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
    for value, days in policy.by_verdict_tag().items():
        if days is not None:
            tags = Tags.new_bucket_tags()
            tags[VERDICT_TAG] = value
            rules.append(
                Rule(
                    ENABLED,
                    rule_filter=Filter(and_operator=AndOperator(Folder.PHOTOS.prefix, tags)),
                    rule_id=f"expire-photos-{value}",
                    expiration=Expiration(days=days),
                )
            )
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
    """``prefix -> days`` of a configuration's expiration rules, a tag-filtered rule as
    ``prefix [tag=value]`` (for checks and display)."""
    found: dict[str, int] = {}
    for rule in config.rules:
        if rule.expiration is None or rule.expiration.days is None:
            continue
        found[_filter_name(rule.rule_filter)] = rule.expiration.days
    return found


def multipart_cleanup_days(config: LifecycleConfig) -> int | None:
    """Days after which the store aborts an unfinished multipart upload, if it has the rule."""
    for rule in config.rules:
        abort = rule.abort_incomplete_multipart_upload
        if abort is not None and abort.days_after_initiation is not None:
            return int(abort.days_after_initiation)
    return None


def _filter_name(rule_filter: Filter | None) -> str:
    if rule_filter is None:
        return ""
    both = rule_filter.and_operator
    if both is None:
        return rule_filter.prefix or ""
    tags = ",".join(f"{k}={v}" for k, v in sorted((both.tags or {}).items()))
    return f"{both.prefix or ''} [{tags}]"
