"""Incident grouping, versions, cooldown, scrubbing and back-off: the pure rules."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import pandas as pd
import pytest

from tests.alerts.conftest import anomaly_rows
from warroom_pipelines.alerts.delivery import AlertSettings
from warroom_pipelines.alerts.destinations import EmailDestination, VaultDestinations, scrub
from warroom_pipelines.alerts.incidents import (
    Decision,
    Notified,
    SeriesMemory,
    VersionPolicy,
    decide,
    group_incidents,
)
from warroom_pipelines.alerts.messages import FailureNotice, slack_payload, title
from warroom_pipelines.vault.secret import Secret

POLICY = VersionPolicy(money_growth=2.0, cooldown=timedelta(hours=3))


def _incident(**kwargs: object):  # type: ignore[no-untyped-def]
    return group_incidents(anomaly_rows("acme", "i", "2026-11-02T08:00", 2, **kwargs))[0]  # type: ignore[arg-type]


def test_grouping_takes_the_worst_hour_sums_money_and_spans_days() -> None:
    rows = anomaly_rows("acme", "i", "2026-11-02T22:00", 4, money_per_hour=10.0)
    rows.loc[2, "severity"] = "critical"
    rows.loc[2, "observed"] = 99.0
    (incident,) = group_incidents(rows)
    assert incident.severity == "critical" and incident.observed == 99.0
    assert incident.money_at_stake == 40.0 and incident.hours == 4
    assert incident.date == "2026-11-03" and not incident.resolved


def test_grouping_refuses_an_incident_id_shared_by_two_brands() -> None:
    rows = pd.concat(
        [
            anomaly_rows("acme", "i", "2026-11-02T08:00", 1),
            anomaly_rows("globex", "i", "2026-11-02T08:00", 1),
        ]
    )
    with pytest.raises(ValueError, match="spans brands"):
        group_incidents(rows)


def test_versions_open_update_resolve() -> None:
    opened = _incident()
    assert decide(opened, None, None, POLICY) == Decision("open", 1)
    told = Notified(1, "open", "warning", opened.money_at_stake)
    assert decide(opened, told, None, POLICY) is None
    assert decide(_incident(money_per_hour=80.0), told, None, POLICY) == Decision("update", 2)
    assert decide(_incident(severity="critical"), told, None, POLICY) == Decision("update", 2)
    assert decide(_incident(resolved=True), told, None, POLICY) == Decision("resolved", 2)
    done = Notified(2, "resolved", "warning", 80.0)
    assert decide(_incident(resolved=True), done, None, POLICY) is None


def test_an_incident_first_seen_already_over_is_not_announced() -> None:
    # A backfill finds it ended: no "resolved" out of nowhere, and no "open" of the past.
    assert decide(_incident(resolved=True), None, None, POLICY) is None
    old = SeriesMemory("earlier", datetime(2026, 11, 1, 4, tzinfo=UTC), "warning")
    assert decide(_incident(resolved=True, severity="critical"), None, old, POLICY) is None
    # Once a brand heard of it, its end is still told.
    told = Notified(1, "open", "warning", 80.0)
    assert decide(_incident(resolved=True), told, None, POLICY) == Decision("resolved", 2)


def test_cooldown_holds_a_new_incident_of_the_same_series_unless_it_is_worse() -> None:
    recent = SeriesMemory("earlier", datetime(2026, 11, 2, 7, tzinfo=UTC), "warning")
    assert decide(_incident(), None, recent, POLICY) is None
    assert decide(_incident(severity="critical"), None, recent, POLICY) == Decision("open", 1)
    old = SeriesMemory("earlier", datetime(2026, 11, 2, 4, tzinfo=UTC), "warning")
    assert decide(_incident(), None, old, POLICY) == Decision("open", 1)


def test_scrub_removes_urls_and_secret_values() -> None:
    text = scrub(
        "POST https://hooks.slack.com/services/T/B/xyz failed; key s3cr3t-v4lue", ["s3cr3t-v4lue"]
    )
    assert text == "POST <url> failed; key ****"


def test_backoff_doubles_up_to_a_cap() -> None:
    settings = AlertSettings(retry_base=timedelta(seconds=30), retry_max=timedelta(minutes=5))
    assert [settings.backoff(n).total_seconds() for n in range(1, 6)] == [30, 60, 120, 240, 300]


def test_unknown_severity_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown severity 'urgent'"):
        _incident(severity="urgent")


def test_failure_notice_renders_job_brand_and_date() -> None:
    notice = FailureNotice(
        "r1", "brand_refresh", "acme", "2026-11-02", "ValueError: boom", "http://d/runs/r1"
    )
    assert title(notice) == "[War Room] Pipeline failure: brand_refresh for acme 2026-11-02"
    assert "ValueError: boom" in str(slack_payload(notice))


@dataclass(frozen=True)
class SlackAlerts:  # the vault's model, by its attribute names
    webhook_url: Secret
    min_severity: str = "warning"
    name: ClassVar[str] = "slack"


@dataclass(frozen=True)
class EmailAlerts:
    recipients: tuple[str, ...]
    sender: str
    host: str
    port: int = 587
    username: str | None = None
    password: Secret | None = None
    starttls: bool = True
    min_severity: str = "critical"
    name: ClassVar[str] = "email"


def test_vault_integrations_become_the_brands_destinations() -> None:
    stored = {
        "acme": [
            SlackAlerts(Secret("https://hooks.slack.test/T/B/x")),
            EmailAlerts(("a@acme.test",), "w@acme.test", "smtp.acme.test"),
        ]
    }
    provider = VaultDestinations(lambda brand: stored.get(brand, []))
    slack, email = provider.destinations("acme")
    assert (slack.kind, slack.name, slack.min_severity) == ("slack", "slack", "warning")
    assert isinstance(email, EmailDestination) and email.recipients == ("a@acme.test",)
    assert email.min_severity == "critical" and email.password.reveal() == ""
    assert provider.destinations("globex") == []
