"""The dispatcher: from incidents to intents in the delivery log (`alerts.log`), and from due
intents to sends, at least once, that a receiver sees exactly once (see `alerts.log.store`).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from warroom_pipelines import clock
from warroom_pipelines.alerts.destinations import (
    DeliveryError,
    Destination,
    DestinationProvider,
    accepts,
    scrub,
)
from warroom_pipelines.alerts.incidents import Incident, SeriesMemory, VersionPolicy, decide
from warroom_pipelines.alerts.log.store import (
    DEAD_LETTER,
    DELIVERED,
    FAILED,
    HANDED_ON,
    UNREADABLE,
    Claimed,
    DeliveryStore,
    Intent,
    Outcome,
    idempotency_key,
)
from warroom_pipelines.alerts.messages import FailureNotice, IncidentNotice, Notice

# Anomaly types that are data problems (the Sentry's `ingestion_gap`: a channel's rows are
# missing): the platform destination hears of them, not the brand.
DATA_PROBLEMS: frozenset[str] = frozenset({"ingestion_gap"})


@dataclass(frozen=True)
class AlertSettings:
    """Links, retry bounds and the version policy of the alerts."""

    dagster_url: str = "http://127.0.0.1:3000"
    dashboard_url: str = ""
    max_attempts: int = 5
    retry_base: timedelta = timedelta(seconds=30)
    retry_max: timedelta = timedelta(minutes=30)
    claim_lease: timedelta = timedelta(minutes=2)
    batch: int = 10  # sends per claim; outcomes are written after each batch
    policy: VersionPolicy = field(default_factory=VersionPolicy)

    def run_url(self, run_id: str) -> str:
        return f"{self.dagster_url.rstrip('/')}/runs/{run_id}" if run_id else ""

    def dashboard_link(self, brand: str, incident_id: str) -> str:
        if not self.dashboard_url:
            return ""
        return f"{self.dashboard_url.rstrip('/')}/brands/{brand}.html#incident-{incident_id}"

    def backoff(self, attempts: int) -> timedelta:
        """Wait before the next attempt after `attempts` failed ones: base x 2^(n-1), capped."""
        return min(self.retry_base * (2.0 ** max(attempts - 1, 0)), self.retry_max)


@dataclass(frozen=True)
class UnreadableDestinations:
    """Stands in for a brand's destinations that would not decrypt or validate; never sends."""

    reason: str
    name: str = UNREADABLE
    min_severity: str = "info"
    kind: str = "unreadable"

    def secrets(self) -> list[str]:
        return []

    def send(self, notice: Notice, key: str, first_key: str) -> int | None:
        raise DeliveryError(self.reason)


def unreadable_reason(brand: str, exc: Exception) -> str:
    """Why a brand's alerts are held; only the type: the text may hold a secret."""
    return f"alert destinations of brand {brand!r} cannot be read: {type(exc).__name__}"


@dataclass
class DeliveryReport:
    recorded: int = 0
    delivered: Counter[str] = field(default_factory=Counter)  # per brand
    failed: int = 0
    dead_lettered: int = 0
    errors: list[str] = field(default_factory=list)  # scrubbed

    @property
    def attempted(self) -> int:
        return sum(self.delivered.values()) + self.failed + self.dead_lettered


def _retryable(code: int | None) -> bool:
    """Connection errors and 5xx/408/429 may pass later; other 4xx will not."""
    return code is None or code >= 500 or code in (408, 429) or code < 400


class Dispatcher:
    """Turns incidents into logged intents, and due intents into sends."""

    def __init__(
        self,
        log: DeliveryStore,
        provider: DestinationProvider,
        settings: AlertSettings,
        platform: Destination | None = None,
        clock: Callable[[], datetime] = clock.now,
    ) -> None:
        self.log = log
        self.provider = provider
        self.settings = settings
        self.platform = platform
        self.clock = clock
        self._by_brand: dict[str, list[Destination]] = {}
        self.held: list[str] = []  # why brands' alerts were dead-lettered while planning
        self.dead_at_planning = 0

    def destinations(self, brand: str) -> list[Destination]:
        """A brand's destinations, read once per dispatcher (the vault decrypts on each read)."""
        if brand not in self._by_brand:
            self._by_brand[brand] = self.provider.destinations(brand)
        return self._by_brand[brand]

    def plan_brand_days(self, brand_days: Sequence[tuple[str, date, str]]) -> int:
        """Record what each brand must hear about these brand-days (brand, day, the run that
        materialized it: a page of materializations); returns new intents. The page's
        incidents and what the log knows of them are read once.

        A brand whose destinations cannot be read has its alerts logged as dead letters, with
        the reason, and the platform told: the fault stays within the brand."""
        with self.log.session():
            found = self.log.incidents([(brand, day) for brand, day, _ in brand_days])
            planned: dict[str, tuple[Incident, str]] = {}  # the run of its first brand-day
            held: dict[str, UnreadableDestinations] = {}
            for brand, day, run_id in brand_days:
                try:
                    self.destinations(brand)
                except Exception as exc:
                    held[brand] = self._hold(brand, day, run_id, exc)
                for incident in found.get((brand, day), []):
                    planned.setdefault(incident.incident_id, (incident, run_id))
            return self.plan(list(planned.values()), held)

    def _hold(self, brand: str, day: date, run_id: str, exc: Exception) -> UnreadableDestinations:
        """The stand-in for a brand's unreadable destinations, and the platform's notice."""
        reason = unreadable_reason(brand, exc)
        self.held.append(reason)
        self.record_failure(
            run_id=run_id,
            job="alert_dispatch",
            brand=brand,
            day=day.isoformat(),
            error=f"{reason}; its alerts are dead letters until the destinations "
            f"are fixed and re-sent (`warroom alerts retry --brand {brand}`)",
            scope=f"alerts-{brand}-{day.isoformat()}",
        )
        return UnreadableDestinations(reason)

    def plan(
        self,
        incidents: Sequence[tuple[Incident, str]],
        held: Mapping[str, UnreadableDestinations] | None = None,
    ) -> int:
        """Record intents for what changed in these incidents (each with the run that found
        it); a brand in `held` gets one dead letter per alert, to its stand-in."""
        held = held or {}
        notified, reached = self.log.notified([i.incident_id for i, _ in incidents])
        memory = self.log.series_memory(sorted({i.series_key for i, _ in incidents}))
        intents: list[Intent] = []
        # Oldest first, so that within one batch a flapping series meets its own cooldown.
        for incident, run_id in sorted(
            incidents, key=lambda item: (item[0].incident_start, item[0].incident_id)
        ):
            decision = decide(
                incident,
                notified.get(incident.incident_id),
                memory.get(incident.series_key),
                self.settings.policy,
            )
            if decision is None:
                continue
            notice = IncidentNotice(
                incident=incident,
                kind=decision.kind,
                version=decision.version,
                run_url=self.settings.run_url(run_id),
                dashboard_url=self.settings.dashboard_link(incident.brand, incident.incident_id),
            )
            told = reached.get(incident.incident_id)
            planned = len(intents)
            unreadable = held.get(incident.brand)
            targets = [unreadable] if unreadable else self._audience(incident)
            for destination in targets:
                if unreadable is not None:
                    wanted = True  # the stand-in for all of them
                elif decision.kind == "resolved" and told is not None:
                    wanted = destination.name in told  # only those who heard of it hear the end
                else:
                    wanted = accepts(destination, incident.severity)
                if wanted:
                    intents.append(Intent.of_incident(notice, destination))
            if decision.version == 1 and len(intents) > planned:
                memory[incident.series_key] = SeriesMemory(
                    incident.incident_id, incident.incident_start, incident.severity
                )
        recorded = self.log.record(intents, self.clock())
        dead = [
            Outcome(i.key, DEAD_LETTER, None, i.destination.reason, None)
            for i in intents
            if isinstance(i.destination, UnreadableDestinations)
        ]
        if dead:
            self.log.settle(dead, self.clock(), unsent=())
            self.dead_at_planning += len(dead)
        return recorded

    def _hand_on(self, claimed: Claimed) -> list[str]:
        """A re-sent alert of unreadable destinations becomes intents for the brand's
        destinations as they read now; returns their keys (raises if they still do not read)."""
        notice = claimed.notice
        assert isinstance(notice, IncidentNotice)
        intents = [
            Intent.of_incident(notice, destination)
            for destination in self.destinations(claimed.brand)
            if accepts(destination, notice.severity)
        ]
        self.log.record(intents, self.clock())
        return [i.key for i in intents]

    def record_failure(
        self, *, run_id: str, job: str, brand: str, day: str, error: str, scope: str = ""
    ) -> str | None:
        """Log a pipeline-failure notice for the platform destination; returns its key.
        `brand` may list several brands ("acme, globex") and `day` be a range
        ("2026-11-01..2026-11-02"): every listed brand's secrets are scrubbed."""
        if self.platform is None:
            return None
        secrets = self.platform.secrets()
        for name in filter(None, brand.split(", ")):
            try:
                for destination in self.destinations(name):
                    secrets += destination.secrets()
            except Exception:  # the notice must go out even if the brand's settings are broken
                pass
        notice = FailureNotice(
            run_id=run_id,
            job=job,
            brand=brand,
            date=day,
            error=scrub(error, secrets),
            run_url=self.settings.run_url(run_id),
            scope=scope,
        )
        intent = Intent(notice, self.platform, date.fromisoformat(day[:10]) if day else None)
        self.log.record([intent], self.clock())
        return intent.key

    def _audience(self, incident: Incident) -> list[Destination]:
        """Who hears of an incident: the brand's destinations, or for a data problem (rows
        missing from a connector) the platform team, who can fix it."""
        if incident.anomaly_type in DATA_PROBLEMS:
            return [self.platform] if self.platform is not None else []
        return self.destinations(incident.brand)

    def _destination(self, claimed: Claimed) -> Destination | None:
        if isinstance(claimed.notice, FailureNotice):
            return self.platform
        if isinstance(claimed.notice, IncidentNotice) and (
            claimed.notice.incident.anomaly_type in DATA_PROBLEMS
        ):
            return self.platform
        for destination in self.destinations(claimed.brand):
            if destination.name == claimed.destination_name:
                return destination
        return None

    def deliver_due(self, deadline: float, keys: Sequence[str] | None = None) -> DeliveryReport:
        """Send due intents until the monotonic `deadline`, each at most once per call;
        leases this call has no time left for are given back."""
        report = DeliveryReport()
        tried: list[str] = []
        keys = None if keys is None else list(keys)
        while time.monotonic() < deadline:
            batch = self.log.claim_due(
                self.clock(), self.settings.claim_lease, self.settings.batch, keys, tried
            )
            if not batch:
                break
            outcomes: list[Outcome] = []
            try:
                for claimed in batch:
                    if time.monotonic() >= deadline:
                        break
                    outcomes.append(self._attempt(claimed, report, keys))
                    tried.append(claimed.key)
            finally:
                unsent = [c.key for c in batch[len(outcomes) :]]
                self.log.settle(outcomes, self.clock(), unsent)
        return report

    def _attempt(self, claimed: Claimed, report: DeliveryReport, keys: list[str] | None) -> Outcome:
        destination: Destination | None = None
        if claimed.destination_name == UNREADABLE:
            try:
                handed = self._hand_on(claimed)
            except Exception as exc:
                error = DeliveryError(unreadable_reason(claimed.brand, exc))
                return self._failed(claimed, error, report, configured=True)
            if keys is not None:
                keys.extend(handed)  # a re-send sends them in the same call
            return Outcome(claimed.key, HANDED_ON, None, None, None)
        try:
            destination = self._destination(claimed)
            if destination is None:
                raise DeliveryError(
                    f"destination {claimed.destination_name!r} of brand {claimed.brand!r} "
                    "is no longer configured"
                )
            first = idempotency_key(claimed.notice.notice_id, destination.name, 1)
            code = destination.send(claimed.notice, claimed.key, first)
        except DeliveryError as exc:
            return self._failed(claimed, exc, report, destination is not None)
        except Exception as exc:
            # A broken setting or a bug must not stop the other alerts, and may pass (a vault
            # that was unreachable): retry. Its text may hold data, so only the type is kept.
            error = DeliveryError(f"{claimed.destination_name!r}: {type(exc).__name__}")
            return self._failed(claimed, error, report, configured=True)
        report.delivered[claimed.brand] += 1
        return Outcome(claimed.key, DELIVERED, code, None, None)

    def _failed(
        self, claimed: Claimed, exc: DeliveryError, report: DeliveryReport, configured: bool
    ) -> Outcome:
        attempts = claimed.attempt + 1
        dead = (
            not configured
            or attempts >= self.settings.max_attempts
            or not _retryable(exc.response_code)
            or (exc.unsafe_to_repeat and attempts >= 2)
        )
        error = str(exc)
        report.errors.append(error)
        if dead:
            report.dead_lettered += 1
            return Outcome(claimed.key, DEAD_LETTER, exc.response_code, error, None)
        report.failed += 1
        retry_at = self.clock() + self.settings.backoff(attempts)
        return Outcome(claimed.key, FAILED, exc.response_code, error, retry_at)
