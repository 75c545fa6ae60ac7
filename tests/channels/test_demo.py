"""The demo source is a product feature: realistic, deterministic and honest about incidents."""

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from warroom_pipelines.channels.demo import (
    DemoConfig,
    brand_accounts,
    demo_incidents,
    demo_metrics,
)
from warroom_pipelines.schema import CHANNELS, RAW_COLUMNS, validate_raw

DAY = date(2026, 11, 10)
QUIET = DemoConfig(incident_rate=0.0)


def test_same_brand_and_day_give_identical_rows() -> None:
    pd.testing.assert_frame_equal(demo_metrics("acme", DAY), demo_metrics("acme", DAY))


def test_brands_and_days_differ() -> None:
    a, b = demo_metrics("acme", DAY), demo_metrics("globex", DAY)
    assert set(a["account_id"]).isdisjoint(set(b["account_id"]))
    assert not demo_metrics("acme", DAY + timedelta(days=1))["spend"].equals(a["spend"])


def test_rows_fit_the_unified_schema_and_are_one_utc_day() -> None:
    frame = demo_metrics("acme", DAY)
    assert list(frame.columns) == list(RAW_COLUMNS)
    validate_raw(frame, brand="acme")
    assert str(frame["hour_start"].dt.tz) == "UTC"
    assert (frame["hour_start"].dt.date == DAY).all()
    assert set(frame["channel"]) == set(CHANNELS)


def test_accounts_have_their_own_time_zones_and_campaign_counts_in_range() -> None:
    for brand in ("acme", "globex", "initech", "umbrella", "hooli"):
        accounts = brand_accounts(brand)
        for channel in CHANNELS:
            campaigns = sum(len(a.campaigns) for a in accounts if a.channel == channel)
            assert 5 <= campaigns <= 40
        assert all(a.currency in {"USD", "EUR", "GBP"} for a in accounts)
    zones = {
        a.time_zone
        for b in ("acme", "globex", "initech", "umbrella", "hooli")
        for a in brand_accounts(b)
    }
    assert len(zones) >= 3


@pytest.mark.parametrize(
    ("channel", "ctr", "cpc", "cvr"),
    [
        ("meta_ads", (0.005, 0.03), (0.3, 2.5), (0.01, 0.06)),
        ("google_ads", (0.015, 0.08), (0.4, 3.5), (0.025, 0.11)),
        ("tiktok_ads", (0.003, 0.02), (0.15, 1.5), (0.005, 0.035)),
    ],
)
def test_funnel_ratios_stay_in_plausible_ranges(channel, ctr, cpc, cvr) -> None:
    days = [DAY - timedelta(days=n) for n in range(7)]
    frame = pd.concat(
        [demo_metrics(b, d, QUIET) for b in ("acme", "globex", "initech") for d in days]
    )
    totals = frame.loc[
        frame["channel"] == channel, ["impressions", "clicks", "spend", "conversions"]
    ].sum()
    assert ctr[0] < totals.clicks / totals.impressions < ctr[1]
    assert cpc[0] < totals.spend / totals.clicks < cpc[1]
    assert cvr[0] < totals.conversions / totals.clicks < cvr[1]


def test_counts_are_overdispersed_integers_not_gaussian_noise() -> None:
    frame = demo_metrics("acme", DAY, QUIET)
    assert (frame["impressions"] == frame["impressions"].round()).all()
    assert (frame["clicks"] <= frame["impressions"]).all()
    assert (frame[["impressions", "clicks", "spend", "conversions"]] >= 0).all().all()


def test_night_hours_are_quieter_than_evening_in_local_time() -> None:
    frame = pd.concat([demo_metrics("acme", DAY - timedelta(days=n), QUIET) for n in range(7)])
    account = brand_accounts("acme")[0]
    rows = frame.loc[frame["account_id"] == account.account_id]
    local_hour = rows["hour_start"].dt.tz_convert(account.time_zone).dt.hour
    per_hour = rows.groupby(local_hour)["impressions"].sum()
    assert per_hour.loc[[2, 3, 4]].mean() * 4 < per_hour.loc[[19, 20, 21]].mean()


def test_partial_day_reports_only_ended_hours_and_keeps_them_identical() -> None:
    cut = pd.Timestamp("2026-11-10 13:30Z")
    partial = demo_metrics("acme", DAY, as_of=cut)
    assert partial["hour_start"].max() == pd.Timestamp("2026-11-10 12:00Z")
    full = demo_metrics("acme", DAY)
    pd.testing.assert_frame_equal(
        partial.reset_index(drop=True),
        full.loc[full["hour_start"] < pd.Timestamp("2026-11-10 13:00Z")].reset_index(drop=True),
    )


def test_campaigns_start_and_pause() -> None:
    days = [date(2025, 1, 1) + timedelta(days=n) for n in range(0, 700, 10)]
    counts = [demo_metrics("acme", d, QUIET)["campaign_id"].nunique() for d in days]
    assert len(set(counts)) > 3


def _incident_rows(frame: pd.DataFrame, incident: pd.Series) -> pd.Series:
    mask = (
        (frame["channel"] == incident["channel"])
        & (frame["hour_start"] >= incident["start"])
        & (frame["hour_start"] < incident["end"])
    )
    if incident["campaign_id"] is not None:
        mask &= frame["campaign_id"] == incident["campaign_id"]
    return mask


@pytest.mark.parametrize(
    ("kind", "metric", "direction"),
    [
        ("ctr_collapse", ("clicks", "impressions"), "down"),
        ("cpa_spike", ("spend", "conversions"), "up"),
        ("spend_runaway", ("spend", None), "up"),
        ("tracking_break", ("conversions", None), "zero"),
        ("roas_drop", ("conversion_value", "spend"), "down"),
    ],
)
def test_injected_incidents_are_visible_at_their_labelled_hours(kind, metric, direction) -> None:
    config = DemoConfig(incident_rate=2.0)
    start, end = date(2026, 10, 1), date(2026, 10, 30)
    labels = demo_incidents("acme", start, end, config)
    labels = labels.loc[(labels["incident_type"] == kind) & labels["campaign_id"].isna()]
    assert len(labels), f"no {kind} in a month at a high incident rate"
    incident = labels.iloc[0]
    day = incident["start"].date()
    with_incident = demo_metrics("acme", day, config)
    without = demo_metrics("acme", day, QUIET)
    hit = _incident_rows(with_incident, incident)
    base = _incident_rows(without, incident)
    num, den = metric

    def value(frame: pd.DataFrame) -> float:
        totals = frame.sum(numeric_only=True)
        return float(totals[num] / totals[den]) if den else float(totals[num])

    observed, normal = value(with_incident.loc[hit]), value(without.loc[base])
    if direction == "zero":
        assert observed == 0 and normal > 0
        assert with_incident.loc[hit, "clicks"].sum() > 0  # clicks go on
    elif direction == "down":
        assert observed < 0.6 * normal
    else:
        assert observed > 1.5 * normal
    # Outside every incident window the data is exactly the quiet data.
    nearby = demo_incidents("acme", day - timedelta(days=1), day + timedelta(days=1), config)
    touched_a = np.zeros(len(with_incident), dtype=bool)
    touched_b = np.zeros(len(without), dtype=bool)
    for _, other in nearby.iterrows():
        touched_a |= _incident_rows(with_incident, other).to_numpy()
        touched_b |= _incident_rows(without, other).to_numpy()
    pd.testing.assert_frame_equal(
        with_incident.loc[~touched_a].reset_index(drop=True),
        without.loc[~touched_b].reset_index(drop=True),
    )


def test_labels_are_deterministic_and_inside_their_day() -> None:
    a = demo_incidents("acme", date(2026, 10, 1), date(2026, 10, 30))
    b = demo_incidents("acme", date(2026, 10, 1), date(2026, 10, 30))
    pd.testing.assert_frame_equal(a, b)
    assert len(a) > 0
    assert (a["end"] > a["start"]).all()
    assert set(a["incident_type"]) <= {
        "ctr_collapse",
        "cpa_spike",
        "spend_runaway",
        "tracking_break",
        "roas_drop",
    }
