"""The Sentry on constructed series: right type, quiet when normal, no leakage, deterministic."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pandas as pd
import pytest

from tests.sentry import synthetic as syn
from warroom_pipelines.sentry.detectors import DETECTORS, DetectorConfig
from warroom_pipelines.sentry.engine import ANOMALY_COLUMNS, detect

ALERTS = ("warning", "critical")
DEFAULT = DetectorConfig()


@pytest.fixture(scope="module")
def normal() -> pd.DataFrame:
    return syn.history()


def test_the_default_detector_is_a_pyod_model() -> None:
    assert DEFAULT.detector in DETECTORS and DEFAULT.detector != "robust_z"


@pytest.mark.parametrize("detector", [DEFAULT.detector, "robust_z"])
@pytest.mark.parametrize(
    ("effect", "expected"),
    [
        (syn.ctr_collapse, "ctr_drop"),
        (syn.cpa_spike, "cpa_spike"),
        (syn.spend_runaway, "spend_spike"),
        (syn.tracking_break, "conversion_drop"),
        (syn.roas_drop, "roas_drop"),
    ],
)
def test_each_anomaly_type_is_detected_and_typed(normal, effect, expected, detector) -> None:
    broken = syn.inject(normal, effect, channel="meta_ads")
    rows = detect(broken, syn.DAY, replace(DEFAULT, detector=detector))
    assert (rows["detector"] == detector).all()
    loud = rows.loc[rows["severity"].isin(ALERTS) & (rows["level"] != "campaign")]
    channel = loud.loc[(loud["level"] == "channel") & (loud["channel"] == "meta_ads")]
    assert set(loud["anomaly_type"]) == {expected}
    onset = pd.Timestamp(syn.DAY, tz="UTC") + pd.Timedelta(hours=10)
    assert channel["hour_start"].min() <= onset + pd.Timedelta(hours=2)
    assert (loud["hour_start"] >= onset).all()
    assert (loud["hour_start"] < onset + pd.Timedelta(hours=8)).all()
    first = channel.iloc[0]
    assert first["expected_low"] <= first["expected"] <= first["expected_high"]
    assert not first["expected_low"] <= first["observed"] <= first["expected_high"]
    assert first["money_at_stake"] > 0
    # One incident per series and type, with a start and an end once the hours are normal.
    ids = channel.loc[channel["anomaly_type"] == expected, "incident_id"].unique()
    assert len(ids) == 1
    incident = rows.loc[rows["incident_id"] == ids[0]]
    assert incident["incident_start"].iloc[0] == incident["hour_start"].min()
    assert incident["incident_end"].iloc[0] == incident["hour_start"].max() + pd.Timedelta(hours=1)


def test_output_has_the_contract_columns_and_types(normal) -> None:
    rows = detect(syn.inject(normal, syn.tracking_break, channel="google_ads"), syn.DAY)
    assert list(rows.columns) == list(ANOMALY_COLUMNS)
    assert {str(t) for t in rows.dtypes} >= {"datetime64[us, UTC]", "float64"}
    assert (rows["brand"] == "acme").all() and (rows["date"] == pd.Timestamp(syn.DAY)).all()
    assert set(rows["level"]) <= {"brand", "channel", "campaign"}
    assert (rows.loc[rows["level"] == "brand", "channel"] == "").all()
    assert (rows.loc[rows["level"] != "campaign", "campaign_id"] == "").all()
    assert (rows["detected_at"] == rows["hour_start"] + pd.Timedelta(hours=1)).all()


def test_a_stable_seasonal_series_raises_nothing(normal) -> None:
    for day in (syn.DAY - timedelta(days=2), syn.DAY - timedelta(days=1), syn.DAY):
        assert detect(normal, day).empty


def test_a_tiny_campaigns_noisy_ctr_raises_nothing() -> None:
    frame = syn.history(campaigns=(*syn.CAMPAIGNS, syn.TINY))
    tiny = frame["campaign_id"] == "acme-tiny"
    today = frame["date"] == pd.Timestamp(syn.DAY)
    # Its CTR swings from zero to ten times normal: 40 impressions an hour is no evidence.
    frame.loc[tiny & today & (frame["hour_start"].dt.hour % 2 == 0), "clicks"] = 0
    frame.loc[tiny & today & (frame["hour_start"].dt.hour % 2 == 1), "clicks"] = (
        frame.loc[tiny & today, "impressions"] // 3
    )
    rows = detect(frame, syn.DAY)
    assert rows.loc[rows["campaign_id"] == "acme-tiny"].empty
    assert rows.empty


def test_later_data_leaves_a_days_scores_unchanged(normal) -> None:
    """Neither the rest of the day (hour by hour, as the schedule runs) nor the next day
    change what was raised for an hour; only an open incident gets its end."""
    broken = syn.inject(normal, syn.tracking_break, channel="meta_ads", hours=range(20, 24))
    nxt = syn.history(days=1, end=syn.DAY + timedelta(days=1), seed=99)
    nxt = syn.inject(
        nxt,
        syn.tracking_break,
        channel="meta_ads",
        day=syn.DAY + timedelta(days=1),
        hours=range(0, 3),
    )
    full = detect(broken, syn.DAY)
    assert len(full) and full["incident_end"].isna().any()  # still open at midnight
    later = detect(pd.concat([broken, nxt], ignore_index=True), syn.DAY)
    pd.testing.assert_frame_equal(later, full)
    day_start = pd.Timestamp(syn.DAY, tz="UTC")
    for hour in (21, 22, 23):
        cut = day_start + pd.Timedelta(hours=hour)
        partial = detect(broken.loc[broken["hour_start"] < cut], syn.DAY)
        expected = full.loc[full["hour_start"] < cut]
        assert len(partial) == len(expected)
        columns = [c for c in ANOMALY_COLUMNS if c != "incident_end"]
        pd.testing.assert_frame_equal(
            partial[columns].reset_index(drop=True), expected[columns].reset_index(drop=True)
        )


def test_an_incident_across_midnight_keeps_its_id(normal) -> None:
    broken = syn.inject(normal, syn.tracking_break, channel="meta_ads", hours=range(21, 24))
    nxt = syn.history(days=1, end=syn.DAY + timedelta(days=1), seed=99)
    nxt = syn.inject(
        nxt,
        syn.tracking_break,
        channel="meta_ads",
        day=syn.DAY + timedelta(days=1),
        hours=range(0, 4),
    )
    both = pd.concat([broken, nxt], ignore_index=True)
    today = detect(both, syn.DAY)
    tomorrow = detect(both, syn.DAY + timedelta(days=1))
    key = (today["level"] == "channel") & (today["anomaly_type"] == "conversion_drop")
    key2 = (tomorrow["level"] == "channel") & (tomorrow["anomaly_type"] == "conversion_drop")
    assert set(today.loc[key, "incident_id"]) == set(tomorrow.loc[key2, "incident_id"])
    assert len(set(today.loc[key, "incident_id"])) == 1
    assert tomorrow.loc[key2, "incident_start"].min() < pd.Timestamp(
        syn.DAY + timedelta(days=1), tz="UTC"
    )
    assert tomorrow.loc[key2, "incident_end"].notna().all()


@pytest.mark.parametrize("detector", ["ecod", "copod", "hbos", "iforest", "knn", "robust_z"])
def test_same_input_same_output(normal, detector) -> None:
    broken = syn.inject(normal, syn.cpa_spike, channel="google_ads")
    config = DetectorConfig(detector=detector)
    first = detect(broken, syn.DAY, config)
    second = detect(broken.sample(frac=1.0, random_state=3), syn.DAY, config)
    pd.testing.assert_frame_equal(first, second)
    assert len(first)


def test_one_brand_at_a_time(normal) -> None:
    other = syn.history(brand="globex", days=2)
    with pytest.raises(ValueError, match="one brand"):
        detect(pd.concat([normal, other]), syn.DAY)


def test_unknown_detector_is_refused(normal) -> None:
    with pytest.raises(ValueError, match="unknown detector 'nope'"):
        detect(
            syn.inject(normal, syn.tracking_break, channel="meta_ads"),
            syn.DAY,
            DetectorConfig(detector="nope"),
        )
