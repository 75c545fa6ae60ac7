"""One contract, both delivery logs: the local one in the DuckDB file beside a real lake, and
BigQuery's, whose own statements (MERGE, lease, claim read-back) run on DuckDB
(bigquery_on_duckdb.py). Every test runs against both."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from tests.alerts.bigquery_on_duckdb import BigQueryOnDuckDB
from tests.alerts.conftest import anomaly_rows
from warroom_pipelines.alerts.destinations import FileDestination
from warroom_pipelines.alerts.incidents import group_incidents
from warroom_pipelines.alerts.log.local import local_delivery_log
from warroom_pipelines.alerts.log.sql import SqlDeliveryLog
from warroom_pipelines.alerts.log.store import (
    DEAD_LETTER,
    DELIVERED,
    FAILED,
    Intent,
    Outcome,
)
from warroom_pipelines.alerts.messages import IncidentNotice
from warroom_pipelines.warehouse import DuckDBWarehouse
from warroom_pipelines.warehouse.tables import ANOMALIES, DELIVERIES

NOW = datetime(2026, 3, 2, 12, 5, tzinfo=UTC)
LEASE = timedelta(minutes=2)


@dataclass
class Backend:
    log: SqlDeliveryLog
    write_anomalies: Callable[[pd.DataFrame], None]


@pytest.fixture(params=["duckdb", "bigquery"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "duckdb":
        warehouse = DuckDBWarehouse(tmp_path / "warehouse.ducklake")

        def write(frame: pd.DataFrame) -> None:
            days = sorted(set(pd.to_datetime(frame["date"]).dt.date))
            for brand in sorted(set(frame["brand"])):
                rows = frame.loc[frame["brand"] == brand]
                warehouse.replace_slice(ANOMALIES, rows, brand=brand, dates=days)

        yield Backend(local_delivery_log(warehouse), write)
    else:
        runner = BigQueryOnDuckDB()
        yield Backend(
            SqlDeliveryLog(runner, DELIVERIES),
            lambda frame: runner.add_table(ANOMALIES.table, frame),
        )


def _intents(*incidents: str, destinations: tuple[str, ...] = ("ops-hook",)) -> list[Intent]:
    """Version 1 of each incident (acme's unless the id names globex) to each destination."""
    intents = []
    for n, incident_id in enumerate(incidents):
        brand = "globex" if incident_id.startswith("globex") else "acme"
        start = f"2026-03-02T{n:02d}:00"
        (incident,) = group_incidents(
            anomaly_rows(brand, incident_id, start, 2, campaign_id=f"c{n}")
        )
        notice = IncidentNotice(incident, "open", 1, run_url="", dashboard_url="")
        for name in destinations:
            intents.append(Intent.of_incident(notice, FileDestination(name, Path("unused"))))
    return intents


def test_an_intent_is_recorded_once_whatever_repeats_it(backend: Backend) -> None:
    log = backend.log
    assert log.record(_intents("inc-1", "inc-2"), NOW) == 2
    assert log.record(_intents("inc-1", "inc-2", "inc-3"), NOW) == 1
    rows = log.rows()
    assert list(rows["incident_id"]) == ["inc-1", "inc-2", "inc-3"]
    assert set(rows["status"]) == {"pending"} and set(rows["attempt"]) == {0}
    assert list(log.rows("globex")["incident_id"]) == []


def test_a_claim_leases_due_rows_until_settled_or_the_lease_ends(backend: Backend) -> None:
    log = backend.log
    log.record(_intents("inc-1", "inc-2", "inc-3"), NOW)
    first = log.claim_due(NOW, LEASE, limit=2)
    assert [c.key for c in first] == ["inc-1:ops-hook:v1", "inc-2:ops-hook:v1"]
    notice = first[0].notice
    assert isinstance(notice, IncidentNotice) and notice.incident.incident_id == "inc-1"
    assert (first[0].brand, first[0].destination_name, first[0].attempt) == ("acme", "ops-hook", 0)
    # Leased rows are not due for anyone else; the rest is.
    assert [c.key for c in log.claim_due(NOW, LEASE, limit=10)] == ["inc-3:ops-hook:v1"]
    assert log.claim_due(NOW, LEASE, limit=10) == []
    # A claimer that died: its rows are due again once the lease has ended.
    later = log.claim_due(NOW + LEASE + timedelta(seconds=1), LEASE, limit=10)
    assert len(later) == 3


def test_a_claim_can_be_limited_to_keys_and_skip_what_was_tried(backend: Backend) -> None:
    log = backend.log
    log.record(_intents("inc-1", "inc-2", "inc-3"), NOW)
    keys = ["inc-2:ops-hook:v1", "inc-3:ops-hook:v1"]
    claimed = log.claim_due(NOW, LEASE, limit=10, keys=keys, skip=["inc-3:ops-hook:v1"])
    assert [c.key for c in claimed] == ["inc-2:ops-hook:v1"]


def test_settling_writes_outcomes_and_gives_back_unused_leases(backend: Backend) -> None:
    log = backend.log
    log.record(_intents("inc-1", "inc-2", "inc-3"), NOW)
    log.claim_due(NOW, LEASE, limit=10)
    retry_at = NOW + timedelta(minutes=1)  # before the lease claimed below ends
    log.settle(
        [
            Outcome("inc-1:ops-hook:v1", DELIVERED, 200, None, None),
            Outcome("inc-2:ops-hook:v1", FAILED, 503, "503 from the receiver", retry_at),
        ],
        NOW,
        unsent=["inc-3:ops-hook:v1"],
    )
    rows = log.rows().set_index("incident_id")
    assert rows.loc["inc-1", "status"] == "delivered" and rows.loc["inc-1", "attempt"] == 1
    assert rows.loc["inc-2", ["status", "response_code", "error"]].tolist() == [
        "failed",
        503,
        "503 from the receiver",
    ]
    assert rows.loc["inc-3", "attempt"] == 0 and rows.loc["inc-3", "status"] == "pending"
    assert pd.Timestamp(rows.loc["inc-1", "first_attempt_at"]) == pd.Timestamp(NOW)
    # The unused lease is due at once; the failure after its back-off; the delivery never.
    assert [c.key for c in log.claim_due(NOW, LEASE, limit=10)] == ["inc-3:ops-hook:v1"]
    due_later = log.claim_due(retry_at, LEASE, limit=10)
    assert [c.key for c in due_later] == ["inc-2:ops-hook:v1"]
    assert due_later[0].attempt == 1


def test_dead_letters_are_counted_per_brand_and_requeued_per_brand(backend: Backend) -> None:
    log = backend.log
    log.record(_intents("inc-1", "globex-1"), NOW)
    log.claim_due(NOW, LEASE, limit=10)
    log.settle(
        [
            Outcome("inc-1:ops-hook:v1", DEAD_LETTER, 400, "400 from the receiver", None),
            Outcome("globex-1:ops-hook:v1", DEAD_LETTER, 410, "410 from the receiver", None),
        ],
        NOW,
        unsent=[],
    )
    assert log.dead_letters_by_brand() == {"acme": 1, "globex": 1}
    assert log.claim_due(NOW + timedelta(days=1), LEASE, limit=10) == []
    assert log.requeue_dead_letters("acme") == ["inc-1:ops-hook:v1"]
    assert log.dead_letters_by_brand() == {"globex": 1}
    (again,) = log.claim_due(NOW, LEASE, limit=10)
    assert (again.key, again.attempt) == ("inc-1:ops-hook:v1", 0)
    assert log.requeue_dead_letters() == ["globex-1:ops-hook:v1"]


def test_what_was_promised_per_incident_and_per_series(backend: Backend) -> None:
    log = backend.log
    (v1,) = _intents("inc-1")
    log.record([v1, *_intents("inc-1", destinations=("email",))], NOW)
    assert isinstance(v1.notice, IncidentNotice)
    worse = IncidentNotice(v1.notice.incident, "update", 2, run_url="", dashboard_url="")
    log.record([Intent.of_incident(worse, v1.destination)], NOW)
    notified, reached = log.notified(["inc-1", "inc-unknown"])
    assert list(notified) == ["inc-1"]
    assert (notified["inc-1"].version, notified["inc-1"].message_kind) == (2, "update")
    assert reached == {"inc-1": {"ops-hook", "email"}}
    series = v1.notice.incident.series_key
    memory = log.series_memory([series, "acme|campaign|x|y|z"])
    assert list(memory) == [series]
    assert memory[series].incident_id == "inc-1"
    assert memory[series].incident_start == datetime(2026, 3, 2, 0, 0, tzinfo=UTC)


def test_incidents_of_a_page_of_brand_days_in_one_read(backend: Backend) -> None:
    backend.write_anomalies(
        pd.concat(
            [
                anomaly_rows("acme", "acme-night", "2026-03-01T22:00", 4),  # across midnight
                anomaly_rows("acme", "acme-day", "2026-03-02T09:00", 2, campaign_id="c2"),
                anomaly_rows("globex", "globex-1", "2026-03-02T09:00", 2),
            ]
        )
    )
    page = [("acme", date(2026, 3, 1)), ("acme", date(2026, 3, 2))]
    found = backend.log.incidents(page)
    assert {day: [i.incident_id for i in found[day]] for day in found} == {
        ("acme", date(2026, 3, 1)): ["acme-night"],
        ("acme", date(2026, 3, 2)): ["acme-day", "acme-night"],
    }
    night = found[("acme", date(2026, 3, 1))][0]
    assert night.hours == 4 and night.date == "2026-03-02"  # all of its hours, both days
    assert backend.log.incidents([("initech", date(2026, 3, 2))]) == {}
