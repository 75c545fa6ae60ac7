"""The analyst views on a real DuckDB file: ratios from totals, currencies apart, incidents."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest

from warroom_pipelines.dashboard import VIEW_NAMES, create_views
from warroom_pipelines.schema import RAW_COLUMNS, finalize
from warroom_pipelines.warehouse import DuckDBWarehouse, LakeFiles, TableRef, analyst_connection

DAY = date(2026, 11, 10)


def _row(
    hour: int,
    campaign: str,
    impressions: int,
    clicks: int,
    spend: float,
    conversions: float,
    value: float,
    *,
    account: str = "acct-1",
    currency: str = "EUR",
) -> dict[str, object]:
    return {
        "brand": "acme",
        "channel": "meta_ads",
        "account_id": account,
        "campaign_id": campaign,
        "campaign_name": f"Campaign {campaign}",
        "account_timezone": "UTC",
        "currency": currency,
        "hour_start": pd.Timestamp(f"{DAY} {hour:02d}:00", tz="UTC"),
        "date": pd.Timestamp(DAY),
        "impressions": impressions,
        "clicks": clicks,
        "spend": spend,
        "conversions": conversions,
        "conversion_value": value,
        "source": "test",
        "conversions_source": "test",
    }


# Uneven hours: a tiny hour with great ratios and a big hour with poor ones. Averaging the
# hourly ratios gives CTR 3.0 %, CPA 10.5 and ROAS 5.13; the totals give 4.96 %, 19.10, 0.27.
UNEVEN = [
    _row(9, "c1", impressions=100, clicks=1, spend=1.0, conversions=1, value=10.0),
    _row(10, "c1", impressions=10_000, clicks=500, spend=400.0, conversions=20, value=100.0),
]


@pytest.fixture
def warehouse(tmp_path: Path) -> DuckDBWarehouse:
    return DuckDBWarehouse(tmp_path / "warehouse.duckdb")


def _write(warehouse: DuckDBWarehouse, rows: list[dict[str, object]]) -> None:
    raw = pd.DataFrame(rows, columns=list(RAW_COLUMNS))
    table = finalize(raw, brand="acme", ingested_at=datetime(2026, 11, 10, 12, tzinfo=UTC))
    warehouse.replace_slice(
        TableRef("main", "unified_performance"), table, brand="acme", dates=[DAY]
    )


def _analyst(path: Path, sql: str) -> pd.DataFrame:
    """What an analyst gets from the file with plain duckdb, read-only."""
    with analyst_connection(LakeFiles(path)) as con:
        return con.execute(sql).df()


def test_daily_performance_computes_ratios_from_totals(warehouse: DuckDBWarehouse) -> None:
    _write(warehouse, UNEVEN)
    assert create_views(warehouse) == list(VIEW_NAMES)
    day = _analyst(warehouse.path, "SELECT * FROM daily_performance").iloc[0]
    assert (day["impressions"], day["clicks"], day["conversions"]) == (10_100, 501, 21)
    assert day["spend"] == pytest.approx(401.0)
    assert day["ctr"] == pytest.approx(501 / 10_100)
    assert day["cpc"] == pytest.approx(401 / 501)
    assert day["cpm"] == pytest.approx(401 / 10_100 * 1000)
    assert day["cpa"] == pytest.approx(401 / 21)
    assert day["cvr"] == pytest.approx(21 / 501)
    assert day["roas"] == pytest.approx(110 / 401)
    averaged = _analyst(
        warehouse.path, "SELECT avg(ctr) AS ctr, avg(cpa) AS cpa FROM unified_performance"
    ).iloc[0]
    assert day["ctr"] != pytest.approx(averaged["ctr"]) and day["cpa"] != pytest.approx(
        averaged["cpa"]
    )


def test_campaign_performance_and_zero_denominators(warehouse: DuckDBWarehouse) -> None:
    _write(warehouse, [*UNEVEN, _row(10, "c2", 500, 0, 0.0, 0, 0.0)])
    create_views(warehouse)
    campaigns = _analyst(
        warehouse.path, "SELECT * FROM campaign_performance ORDER BY campaign_id"
    ).set_index("campaign_id")
    assert campaigns.loc["c1", "cpa"] == pytest.approx(401 / 21)
    assert campaigns.loc["c1", "campaign_name"] == "Campaign c1"
    # No clicks, no spend, no conversions: ratios are null, not 0 or an error.
    assert campaigns.loc["c2", ["cpc", "cpa", "cvr", "roas"]].isna().all()
    assert campaigns.loc["c2", "ctr"] == 0


def test_amounts_in_different_currencies_are_never_added(warehouse: DuckDBWarehouse) -> None:
    _write(
        warehouse,
        [*UNEVEN, _row(9, "c9", 100, 10, 50.0, 1, 80.0, account="acct-usd", currency="USD")],
    )
    create_views(warehouse)
    days = _analyst(warehouse.path, "SELECT currency, spend FROM daily_performance ORDER BY 1")
    assert days.to_dict("list") == {"currency": ["EUR", "USD"], "spend": [401.0, 50.0]}


def _anomaly(incident: str, hour: int, end: str | None, severity: str = "warning") -> dict:
    hour_start = pd.Timestamp(f"{DAY} {hour:02d}:00", tz="UTC")
    return {
        "brand": "acme",
        "date": pd.Timestamp(DAY),
        "level": "channel",
        "channel": "meta_ads",
        "campaign_id": "",
        "campaign_name": "",
        "hour_start": hour_start,
        "metric": "cpa",
        "anomaly_type": "cpa_spike",
        "observed": 30.0,
        "expected": 10.0,
        "expected_low": 8.0,
        "expected_high": 12.0,
        "deviation": 5.0,
        "score": 0.9,
        "severity": severity,
        "money_at_stake": 20.0,
        "currency": "EUR",
        "incident_id": incident,
        "incident_start": pd.Timestamp(f"{DAY} 08:00", tz="UTC"),
        "incident_end": pd.Timestamp(end, tz="UTC") if end else pd.NaT,
        "detector": "test",
        "detected_at": hour_start + pd.Timedelta(hours=1),
    }


def test_open_incidents(warehouse: DuckDBWarehouse) -> None:
    _write(warehouse, UNEVEN)
    create_views(warehouse)
    # Before the Sentry has written anything, the view exists and is empty.
    empty = _analyst(warehouse.path, "SELECT * FROM open_incidents")
    assert empty.empty and {"incident_id", "severity", "money_at_stake"} <= set(empty.columns)

    rows = [
        _anomaly("still-open", 8, None),
        _anomaly("still-open", 9, None, "critical"),
        # Written while open (an earlier run), then closed by a later run's rows.
        _anomaly("closed", 8, None),
        _anomaly("closed", 9, f"{DAY} 10:00"),
    ]
    frame = pd.DataFrame(rows)
    for column in ("hour_start", "incident_start", "incident_end", "detected_at"):
        frame[column] = frame[column].astype("datetime64[us, UTC]")
    warehouse.replace_slice(
        TableRef("main", "performance_anomalies"), frame, brand="acme", dates=[DAY]
    )
    create_views(warehouse)
    incidents = _analyst(warehouse.path, "SELECT * FROM open_incidents")
    assert incidents["incident_id"].tolist() == ["still-open"]
    only = incidents.iloc[0]
    assert (only["severity"], only["anomalous_hours"], only["status"]) == ("critical", 2, "open")
    assert only["money_at_stake"] == pytest.approx(40.0)


def test_no_views_before_the_unified_table_exists(warehouse: DuckDBWarehouse) -> None:
    assert create_views(warehouse) == []
