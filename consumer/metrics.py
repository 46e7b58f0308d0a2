"""Every consumer metric, recorded in the main process only.

Scoring runs in worker processes, but they return timings as data and the main
process records them, so plain in-process metrics stay correct without
prometheus_client's multiprocess mode. Label sets are bounded: verdicts and DLQ
reasons are enums, checks are the engine's (``core.rules.Checks``), tenants are the configured
municipalities (any other tenant an event names counts as ``other``), partitions are
the topic's.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import UTC, datetime

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

from core.events import VerdictEvent
from core.schema import CheckResult, Outcome, Verdict

#: The ``tenant`` label value for tenants not named in the settings.
OTHER_TENANT = "other"
#: Scoring a 12 MP photo takes a few hundred ms on one core; small ones far less.
_SCORING_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: Submit-to-verdict spans queueing as well: the SLO is 1 s at p99, alerts look above it.
_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0)


class ConsumerMetrics:
    """The consumer's metrics on one registry (tests pass a fresh ``CollectorRegistry``)."""

    def __init__(
        self, registry: CollectorRegistry = REGISTRY, known_tenants: Collection[str] = ("default",)
    ) -> None:
        """``known_tenants`` get their own ``tenant`` label value; any other is ``other``,
        so an event cannot grow the label set."""
        self._known_tenants = frozenset(known_tenants)
        self._define_event_metrics(registry)
        self._define_stream_metrics(registry)
        self._define_shadow_metrics(registry)

    def _define_event_metrics(self, registry: CollectorRegistry) -> None:
        self.images_scored = Counter(
            "civicqc_images_scored",
            "Verdicts published, by outcome and tenant; exact duplicates included "
            "(civicqc_duplicate_verdicts counts those, civicqc_scoring_duration_seconds "
            "only what was scored).",
            ["verdict", "tenant"],
            registry=registry,
        )
        self.check_failures = Counter(
            "civicqc_check_failures",
            "Failed quality checks, by check.",
            ["check"],
            registry=registry,
        )
        self.duplicates = Counter(
            "civicqc_duplicate_verdicts",
            "Verdicts reused for identical bytes instead of scoring again, by tenant.",
            ["tenant"],
            registry=registry,
        )
        self.near_duplicates = Counter(
            "civicqc_near_duplicate_verdicts",
            "Scored photos whose verdict lists at least one near-duplicate (an earlier photo "
            "of the tenant that looks alike), by tenant; counted when found.",
            ["tenant"],
            registry=registry,
        )
        self.scoring_duration = Histogram(
            "civicqc_scoring_duration_seconds",
            "Engine time to score one image (decode and checks), as the engine reports it.",
            buckets=_SCORING_BUCKETS,
            registry=registry,
        )
        self.end_to_end_latency = Histogram(
            "civicqc_end_to_end_latency_seconds",
            "From the event's submitted_at to its verdict being published.",
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )

    def _define_stream_metrics(self, registry: CollectorRegistry) -> None:
        self.inflight_images = Gauge(
            "civicqc_inflight_images",
            "Events this replica has taken from Kafka and not finished yet.",
            registry=registry,
        )
        self.retries = Counter(
            "civicqc_retries",
            "Retries of transient failures, by operation.",
            ["operation"],
            registry=registry,
        )
        self.dlq_messages = Counter(
            "civicqc_dlq_messages",
            "Events sent to the dead-letter topic, by reason.",
            ["reason"],
            registry=registry,
        )
        self.consumer_lag = Gauge(
            "civicqc_consumer_lag_messages",
            "End offset minus committed offset of each partition this replica owns.",
            ["topic", "partition"],
            registry=registry,
        )
        self.near_duplicate_fingerprints = Gauge(
            "civicqc_near_duplicate_fingerprints",
            "Photos in this replica's near-duplicate indexes, all tenants (each costs about "
            "50 bytes; expired ones are forgotten).",
            registry=registry,
        )
        self.pool_busy_workers = Gauge(
            "civicqc_worker_pool_busy_workers",
            "Scoring processes working on an image right now.",
            registry=registry,
        )
        self.pool_workers = Gauge(
            "civicqc_worker_pool_workers",
            "Scoring processes in this replica's pool.",
            registry=registry,
        )
        self.pool_peak_rss = Gauge(
            "civicqc_worker_pool_peak_rss_bytes",
            "The most resident memory any scoring process of this replica has held.",
            registry=registry,
        )

    def _define_shadow_metrics(self, registry: CollectorRegistry) -> None:
        self.shadow_verdicts = Counter(
            "civicqc_shadow_verdicts",
            "Photos scored with their tenant's candidate profile too, by tenant and by the "
            "live and the candidate's outcome (equal outcomes: the two agree).",
            ["tenant", "live_outcome", "shadow_outcome"],
            registry=registry,
        )
        self.shadow_check_agreement = Counter(
            "civicqc_shadow_check_agreement",
            "Checks run by both the live and the candidate profile on a shadowed photo, by "
            "check and whether both passed or both failed it (agree) or not.",
            ["check", "agree"],
            registry=registry,
        )
        self.shadow_failures = Counter(
            "civicqc_shadow_failures",
            "Shadow verdicts lost, by stage (score: the candidate raised; publish: the "
            "shadow topic did not acknowledge). The live verdict was published regardless.",
            ["stage"],
            registry=registry,
        )

    def tenant_label(self, tenant: str) -> str:
        return tenant if tenant in self._known_tenants else OTHER_TENANT

    def record_verdict(self, verdict: Verdict, tenant: str, submitted_at: datetime) -> None:
        """Count a newly published verdict; a republished stored one is not counted again."""
        self._record(verdict.verdict, verdict.checks.values(), tenant, submitted_at)
        self.scoring_duration.observe(verdict.timings.total_ms / 1000.0)

    def record_shadow(self, live: Verdict, shadow: Verdict, tenant: str) -> None:
        """Compare a shadow verdict with the live one: outcomes, then each check both ran."""
        self.shadow_verdicts.labels(
            self.tenant_label(tenant), live.verdict.value, shadow.verdict.value
        ).inc()
        for name, check in live.checks.items():
            other = shadow.checks.get(name)
            if other is not None:
                agree = "true" if other.passed == check.passed else "false"
                self.shadow_check_agreement.labels(name, agree).inc()

    def record_duplicate(self, event: VerdictEvent, submitted_at: datetime) -> None:
        """Count a verdict reused for identical bytes: a verdict, but no scoring."""
        tenant = event.metadata.tenant
        self._record(event.outcome, event.checks.values(), tenant, submitted_at)
        self.duplicates.labels(self.tenant_label(tenant)).inc()

    def record_near_duplicates(self, tenant: str, found: int) -> None:
        """Count a scored photo that looks like ``found`` earlier ones (none: not counted)."""
        if found:
            self.near_duplicates.labels(self.tenant_label(tenant)).inc()

    def _record(
        self, outcome: Outcome, checks: Iterable[CheckResult], tenant: str, submitted_at: datetime
    ) -> None:
        self.images_scored.labels(outcome.value, self.tenant_label(tenant)).inc()
        for check in checks:
            if not check.passed:
                self.check_failures.labels(check.name).inc()
        if submitted_at.tzinfo is None:
            submitted_at = submitted_at.replace(tzinfo=UTC)
        waited = (datetime.now(UTC) - submitted_at).total_seconds()
        self.end_to_end_latency.observe(max(0.0, waited))
