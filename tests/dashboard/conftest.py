"""A real DuckDB warehouse with two demo brands, 15 days, and Sentry-shaped anomaly rows.

The anomaly rows follow the `performance_anomalies` contract and are derived from the demo's
ground-truth incidents (plus one open incident with a hostile campaign name), so the
dashboard is tested against the table it will read, before the Sentry itself is merged.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from tests.dashboard.browser import Chromium
from warroom_pipelines.channels.demo import demo_incidents, demo_metrics
from warroom_pipelines.dashboard import Published, publish
from warroom_pipelines.schema import finalize
from warroom_pipelines.warehouse import DuckDBWarehouse, TableRef

NOW = pd.Timestamp("2026-11-15 14:37", tz="UTC")
FIRST_DAY = date(2026, 11, 1)
DAYS = [FIRST_DAY + timedelta(days=n) for n in range((NOW.date() - FIRST_DAY).days + 1)]
BRANDS = ("acme", "globex")
HOSTILE_CAMPAIGN = "<script>alert('x')</script> & \"Co\""

UNIFIED = TableRef("main", "unified_performance")
ANOMALIES = TableRef("main", "performance_anomalies")
_KIND = {
    "ctr_collapse": ("ctr", "ctr_drop", "critical"),
    "cpa_spike": ("cpa", "cpa_spike", "warning"),
    "spend_runaway": ("spend", "spend_spike", "critical"),
    "tracking_break": ("conversions", "conversion_drop", "critical"),
    "roas_drop": ("roas", "roas_drop", "warning"),
}


def write_unified(warehouse: DuckDBWarehouse, brand: str, days: list[date]) -> pd.DataFrame:
    frames = []
    for day in days:
        table = finalize(
            demo_metrics(brand, day),
            brand=brand,
            ingested_at=datetime(2026, 11, 15, 14, 20, tzinfo=UTC),
        )
        warehouse.replace_slice(UNIFIED, table, brand=brand, dates=[day])
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


def anomaly_rows(unified: pd.DataFrame, brand: str) -> pd.DataFrame:
    """One row per anomalous hour of each ground-truth incident (up to NOW)."""
    truth = demo_incidents(brand, DAYS[0], DAYS[-1])
    currency = str(unified["currency"].iloc[0])
    extra = pd.DataFrame(
        [
            {
                "incident_id": f"open-{brand}-1",
                "brand": brand,
                "incident_type": "cpa_spike",
                "channel": "meta_ads",
                "campaign_id": "hostile-1",
                "start": NOW.floor("h") - pd.Timedelta(hours=3),
                "end": NOW.floor("h") + pd.Timedelta(hours=5),
            }
        ]
    )
    rows = []
    for inc in pd.concat([truth, extra], ignore_index=True).to_dict("records"):
        metric, anomaly_type, severity = _KIND[str(inc["incident_type"])]
        campaign = inc["campaign_id"]
        level = "channel" if campaign is None or pd.isna(campaign) else "campaign"
        start, end = pd.Timestamp(inc["start"]), pd.Timestamp(inc["end"])
        rows += incident_hours(
            brand,
            str(inc["incident_id"]),
            level=level,
            channel=str(inc["channel"]),
            campaign_id="" if level == "channel" else str(campaign),
            campaign_name=HOSTILE_CAMPAIGN if campaign == "hostile-1" else "",
            kind=(metric, anomaly_type, severity),
            start=start,
            end=end,
            settled=NOW.floor("h"),
            currency=currency,
        )
    return typed_anomalies(rows)


def incident_hours(
    brand: str,
    incident_id: str,
    *,
    level: str,
    channel: str,
    campaign_id: str,
    campaign_name: str,
    kind: tuple[str, str, str],
    start: pd.Timestamp,
    end: pd.Timestamp,
    settled: pd.Timestamp,
    currency: str,
) -> list[dict]:
    """The Sentry's rows of one incident's anomalous hours [start, end), up to `settled`: its
    end is written only where the Sentry saw its first normal hour (before `settled`)."""
    metric, anomaly_type, severity = kind
    ended = end if end <= settled else pd.NaT
    return [
        {
            "brand": brand,
            "date": hour.tz_convert(None).normalize(),
            "level": level,
            "channel": channel,
            "campaign_id": campaign_id,
            "campaign_name": campaign_name,
            "hour_start": hour,
            "metric": metric,
            "anomaly_type": anomaly_type,
            "observed": 1.0,
            "expected": 2.0,
            "expected_low": 1.5,
            "expected_high": 2.5,
            "deviation": -4.0,
            "score": 0.9,
            "severity": severity,
            "money_at_stake": 12.5,
            "currency": currency,
            "incident_id": incident_id,
            "incident_start": start,
            "incident_end": ended,
            "detector": "test",
            "detected_at": hour + pd.Timedelta(minutes=65),
        }
        for hour in pd.date_range(start, min(end, settled), freq="h", inclusive="left")
    ]


def typed_anomalies(rows: list[dict]) -> pd.DataFrame:
    """Rows in the `performance_anomalies` table's types."""
    frame = pd.DataFrame(rows)
    for column in ("hour_start", "incident_start", "incident_end", "detected_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True).astype("datetime64[us, UTC]")
    frame["date"] = frame["date"].astype("datetime64[us]")
    return frame


def write_anomalies(warehouse: DuckDBWarehouse, frame: pd.DataFrame, brand: str) -> None:
    warehouse.replace_slice(ANOMALIES, frame, brand=brand, dates=sorted(set(frame["date"].dt.date)))


@pytest.fixture(scope="session")
def two_brand_warehouse(tmp_path_factory: pytest.TempPathFactory) -> DuckDBWarehouse:
    """acme and globex, 2026-11-01 .. 2026-11-15 (today, NOW = 14:37 UTC), with anomalies."""
    path = Path(tmp_path_factory.mktemp("warehouse")) / "warehouse.duckdb"
    warehouse = DuckDBWarehouse(path)
    for brand in BRANDS:
        unified = write_unified(warehouse, brand, DAYS)
        write_anomalies(warehouse, anomaly_rows(unified, brand), brand)
    return warehouse


@pytest.fixture(scope="session")
def unified_only_warehouse(tmp_path_factory: pytest.TempPathFactory) -> DuckDBWarehouse:
    """One brand, no Sentry table yet."""
    path = Path(tmp_path_factory.mktemp("unified_only")) / "warehouse.duckdb"
    warehouse = DuckDBWarehouse(path)
    write_unified(warehouse, "acme", DAYS[-8:])
    return warehouse


@pytest.fixture(scope="session")
def pages(two_brand_warehouse: DuckDBWarehouse, tmp_path_factory) -> Published:
    """The two brands' pages and the overview, as published at NOW."""
    return publish(two_brand_warehouse, tmp_path_factory.mktemp("pages"), now=NOW)


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    """One headless Chromium for the session; each page opens in a new tab."""
    chromium = Chromium(tmp_path_factory.mktemp("chromium") / "profile")
    try:
        yield chromium
    finally:
        chromium.close()
