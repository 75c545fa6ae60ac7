"""Only settled hours are judged: a partial last hour never alerts, an hour without rows is
an ingestion gap (not a drop), and a tick's rows never change when later data arrives."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.sentry import synthetic as syn
from warroom_pipelines.sentry.engine import ANOMALY_COLUMNS, detect
from warroom_pipelines.sentry.settle import settle_lag

ALERTS = ("warning", "critical")
DAY_START = pd.Timestamp(syn.DAY, tz="UTC")
HOUR = pd.Timedelta(hours=1)


@pytest.fixture(scope="module")
def arrived() -> pd.DataFrame:
    return syn.arriving(syn.history())


def test_a_partial_last_hour_never_alerts(arrived) -> None:
    """At 15:05 only 1 % of 14:00's rows are in: a collapse on every channel if it were
    judged. The watermark (15:05 less the settle lag) leaves it, and the hours before it that
    are still arriving, unscored."""
    tick = DAY_START + pd.Timedelta(hours=15, minutes=5)
    seen = syn.seen_at(arrived, tick - HOUR)
    last = arrived.loc[arrived["hour_start"] == tick - pd.Timedelta(minutes=65)].copy()
    last = syn.scale(last, 0.01).assign(ingested_at=tick)
    rows = detect(pd.concat([seen, last], ignore_index=True), syn.DAY)
    settled = (tick - max(settle_lag("meta_ads"), settle_lag("google_ads"))).floor("h")
    assert (rows["hour_start"] < settled).all()
    assert rows.loc[rows["severity"].isin(ALERTS)].empty


def test_an_hour_without_rows_is_an_ingestion_gap(arrived) -> None:
    gone = (arrived["channel"] == "google_ads") & arrived["hour_start"].isin(
        [DAY_START + pd.Timedelta(hours=h) for h in (10, 11, 12)]
    )
    rows = detect(arrived.loc[~gone], syn.DAY)
    gaps = rows.loc[rows["anomaly_type"] == "ingestion_gap"]
    assert set(gaps["level"]) == {"channel"} and set(gaps["channel"]) == {"google_ads"}
    assert sorted(gaps["hour_start"].dt.hour) == [10, 11, 12]
    assert gaps["severity"].eq("warning").all() and gaps["incident_id"].nunique() == 1
    # Nothing else: no spend, impressions or conversion drop at any level.
    assert set(rows["anomaly_type"]) == {"ingestion_gap"}


def test_cutting_the_history_at_every_hour_leaves_earlier_rows_identical(arrived) -> None:
    """Past-only: what a tick at each hour of the day sees (the rows ingested by then)
    gives the rows of the complete day for the hours it scores; only an open incident's end
    is filled in later."""
    broken = syn.arriving(
        syn.inject(syn.history(), syn.tracking_break, channel="meta_ads", hours=range(6, 20))
    )
    full = detect(broken, syn.DAY)
    assert len(full)
    key = ["level", "channel", "campaign_id", "hour_start", "anomaly_type"]
    columns = [c for c in ANOMALY_COLUMNS if c != "incident_end"]
    for hour in range(1, 25):
        tick = DAY_START + pd.Timedelta(hours=hour, minutes=5)
        partial = detect(syn.seen_at(broken, tick), syn.DAY)
        # Every row a tick raised is the complete day's row for that series-hour ...
        both = partial[columns].merge(full[columns], on=key, how="left", suffixes=("", "_full"))
        for column in set(columns) - set(key):
            pd.testing.assert_series_equal(
                both[column], both[f"{column}_full"], check_names=False, check_dtype=False
            )
        # ... and every hour settled by then (its channel's newest row, less the settle lag;
        # the brand's oldest channel) was raised then.
        seen = syn.seen_at(broken, tick).groupby("channel")["ingested_at"].max()
        until = {c: (t - settle_lag(c)).floor("h") for c, t in seen.items()}
        bound = full["channel"].map(until).where(full["level"] != "brand", min(until.values()))
        settled = full.loc[full["hour_start"] < bound]
        assert len(settled.merge(partial[key], on=key)) == len(settled) == len(partial)
