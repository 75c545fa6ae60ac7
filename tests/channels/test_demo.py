"""The demo source is a product feature: realistic, deterministic and honest about incidents."""

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from warroom_pipelines.channels.budgets import BUDGET_COLUMNS
from warroom_pipelines.channels.demo import (
    BENIGN_KINDS,
    HELD_OUT,
    DemoConfig,
    brand_accounts,
    demo_benign_events,
    demo_budgets,
    demo_incidents,
    demo_metrics,
    demo_rows,
)
from warroom_pipelines.channels.registry import names
from warroom_pipelines.schema import RAW_COLUMNS, validate_raw

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
    assert set(frame["channel"]) == set(names())


def test_accounts_have_their_own_time_zones_and_campaign_counts_in_range() -> None:
    for brand in ("acme", "globex", "initech", "umbrella", "hooli"):
        accounts = brand_accounts(brand)
        for channel in names():
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


def test_a_tick_sees_only_rows_arrived_by_then_and_a_partial_last_hour() -> None:
    tick = pd.Timestamp("2026-11-10 13:05Z")
    seen = demo_metrics("acme", DAY, QUIET, as_of=tick)
    full = demo_metrics("acme", DAY, QUIET)
    rows = demo_rows("acme", DAY, QUIET)
    assert (rows["arrives_at"] > rows["hour_start"] + pd.Timedelta(hours=1)).all()
    # Nothing of the hour that ended five minutes ago, part of the hour before, and the
    # morning complete.
    per_hour_seen = seen.groupby("hour_start").size()
    per_hour_full = full.groupby("hour_start").size()
    assert pd.Timestamp("2026-11-10 12:00Z") not in per_hour_seen.index
    last = pd.Timestamp("2026-11-10 11:00Z")
    assert 0 < per_hour_seen.get(last, 0) < per_hour_full[last]
    morning = per_hour_full.loc[: pd.Timestamp("2026-11-10 07:00Z")]
    pd.testing.assert_series_equal(per_hour_seen.loc[morning.index], morning)
    # What had arrived is what the final report says (no restatement in this account-day).
    key = ["account_id", "campaign_id", "hour_start"]
    merged = seen.merge(full, on=key, suffixes=("", "_final"))
    assert len(merged) == len(seen)
    assert (merged["spend"] == merged["spend_final"]).all()
    # Asking after everything arrived gives the final report.
    later = demo_metrics("acme", DAY, QUIET, as_of=pd.Timestamp("2026-11-20", tz="UTC"))
    pd.testing.assert_frame_equal(later, full)


def test_a_restated_day_shows_its_first_report_until_the_restatement_lands() -> None:
    events = demo_benign_events("acme", date(2026, 10, 1), date(2026, 10, 28))
    restated = events.loc[events["kind"] == "restatement"].iloc[0]
    day = (restated["start"] + pd.Timedelta(hours=12)).date()
    rows = demo_rows("acme", day, QUIET)
    first = rows.loc[rows["superseded_at"].notna()]
    assert len(first) and (first["channel"] == restated["channel"]).all()
    landed = first["superseded_at"].iloc[0]
    before = demo_metrics("acme", day, QUIET, as_of=landed - pd.Timedelta(minutes=1))
    after = demo_metrics("acme", day, QUIET, as_of=landed)
    final = demo_metrics("acme", day, QUIET)
    conv = {
        name: frame.loc[frame["channel"] == restated["channel"], "conversions"].sum()
        for name, frame in (("before", before), ("after", after), ("final", final))
    }
    assert conv["before"] < conv["final"]
    assert conv["after"] == conv["final"]


def test_campaigns_start_and_pause() -> None:
    days = [date(2025, 1, 1) + timedelta(days=n) for n in range(0, 700, 10)]
    counts = [demo_metrics("acme", d, QUIET)["campaign_id"].nunique() for d in days]
    assert len(set(counts)) > 3


def _incident_rows(frame: pd.DataFrame, incident: pd.Series) -> pd.Series:
    mask = (
        (incident["channel"] is None or frame["channel"] == incident["channel"])
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
        ("tracking_break", ("conversions", None), "conversions"),
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
    # Magnitudes range from subtle to blatant; the label says which.
    if direction == "conversions":
        assert observed <= 0.4 * normal and normal > 0
        assert with_incident.loc[hit, "clicks"].sum() > 0  # clicks go on
    elif direction == "down":
        assert observed < 0.85 * normal
    else:
        assert observed > 1.2 * normal
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


MONTH = (date(2026, 10, 1), date(2026, 10, 28))


def test_incidents_come_at_brand_channel_and_campaign_level_from_subtle_to_blatant() -> None:
    labels = demo_incidents(
        "acme", date(2026, 9, 1), date(2026, 10, 30), DemoConfig(incident_rate=1.0)
    )
    assert set(labels["level"]) == {"brand", "channel", "campaign"}
    assert labels.loc[labels["level"] == "brand", "channel"].isna().all()
    ctr = labels.loc[labels["incident_type"] == "ctr_collapse", "magnitude"]
    assert ctr.max() > 0.55 and ctr.min() < 0.4  # a subtle one and a blatant one


def test_benign_events_and_budgets_are_deterministic_and_every_kind_is_labelled() -> None:
    events = demo_benign_events("acme", *MONTH)
    pd.testing.assert_frame_equal(events, demo_benign_events("acme", *MONTH))
    pd.testing.assert_frame_equal(demo_budgets("acme", *MONTH), demo_budgets("acme", *MONTH))
    kinds = set(pd.concat([demo_benign_events(b, *MONTH) for b in ("acme", "globex")])["kind"])
    assert kinds == set(BENIGN_KINDS)
    assert (events["end"] > events["start"]).all()
    assert events["event_id"].is_unique
    campaign_level = events.loc[events["level"] == "campaign"]
    assert campaign_level["campaign_id"].notna().all()


def test_the_holiday_is_the_same_day_for_every_brand() -> None:
    def holidays(brand: str) -> set[date]:
        events = demo_benign_events(brand, *MONTH)
        starts = events.loc[events["kind"] == "holiday", "start"] + pd.Timedelta(hours=14)
        return set(starts.dt.date)

    assert holidays("acme") and holidays("acme") == holidays("globex") == holidays("initech")


def test_the_held_out_world_is_another_deterministic_world() -> None:
    held_out = DemoConfig(world=HELD_OUT)
    days = (date(2026, 6, 1), date(2026, 10, 31))

    def kinds(config: DemoConfig) -> pd.DataFrame:
        return demo_benign_events("acme", *days, config)

    mine, theirs = kinds(DemoConfig()), kinds(held_out)
    pd.testing.assert_frame_equal(theirs, kinds(DemoConfig(world=HELD_OUT)))

    def holidays(events: pd.DataFrame) -> set[date]:
        starts = events.loc[events["kind"] == "holiday", "start"] + pd.Timedelta(hours=14)
        return set(starts.dt.date)

    assert holidays(theirs) and holidays(theirs) != holidays(mine)
    share = {
        name: (frame["kind"] == "sale_day").sum() / 153
        for name, frame in (("demo", mine), ("held_out", theirs))
    }
    assert share["held_out"] > share["demo"]  # 1/9 of days against 1/14
    # Incidents at any hour, not only 06:00-19:00 UTC, and more of them subtle.
    ours = demo_incidents("acme", *days, DemoConfig(incident_rate=1.0))
    other = demo_incidents("acme", *days, DemoConfig(incident_rate=1.0, world=HELD_OUT))
    assert set(ours["start"].dt.hour) <= set(range(6, 20))
    assert set(other["start"].dt.hour) - set(range(6, 20))
    ctr = {
        name: frame.loc[frame["incident_type"] == "ctr_collapse", "magnitude"].median()
        for name, frame in (("demo", ours), ("held_out", other))
    }
    assert ctr["held_out"] > ctr["demo"]  # nearer 1: subtler
    # Its rows arrive later.
    delay = {
        name: (rows["arrives_at"] - rows["hour_start"]).median()
        for name, rows in (
            ("demo", demo_rows("acme", DAY, QUIET)),
            ("held_out", demo_rows("acme", DAY, DemoConfig(incident_rate=0.0, world=HELD_OUT))),
        )
    }
    assert delay["held_out"] > delay["demo"]


def test_budgets_have_the_budget_schema() -> None:
    budgets = demo_budgets("acme", *MONTH)
    assert tuple(budgets.columns) == BUDGET_COLUMNS
    assert (budgets["daily_budget"] > 0).all()
    assert set(budgets["currency"]) == {brand_accounts("acme")[0].currency}


def test_spend_builds_over_the_local_day_and_flattens_at_the_cap() -> None:
    start, end = date(2026, 10, 5), date(2026, 10, 18)
    budgets = demo_budgets("acme", start, end).rename(columns={"date": "local_date"})
    rows = []
    for day in (start + timedelta(days=n) for n in range((end - start).days + 1)):
        frame = demo_metrics("acme", day, QUIET)
        for zone, part in frame.groupby("account_timezone"):
            local = part["hour_start"].dt.tz_convert(zone)
            rows.append(
                part.assign(local_date=pd.to_datetime(local.dt.date), local_hour=local.dt.hour)
            )
    frame = pd.concat(rows)
    hourly = frame.groupby(["campaign_id", "local_date", "local_hour"])["spend"].sum()
    days = hourly.groupby(["campaign_id", "local_date"]).sum().rename("day_spend").reset_index()
    days = days.merge(budgets, on=["campaign_id", "local_date"])
    days = days.loc[
        days["local_date"].between(
            pd.Timestamp(start) + pd.Timedelta(days=1), pd.Timestamp(end) - pd.Timedelta(days=1)
        )
    ]
    capped = days.loc[days["day_spend"] >= 0.9 * days["daily_budget"]]
    # A fair share of campaign-days hit the cap.
    assert 0.15 < len(capped) / len(days) < 0.7
    # After the cap, a capped day spends only a trickle: its last hours are flat.
    flat = 0
    for record in capped.loc[capped["daily_budget"] > 200].to_dict("records"):
        spend = hourly.loc[(record["campaign_id"], record["local_date"])]
        cumulative = spend.reindex(range(24), fill_value=0.0).cumsum()
        reached = int((cumulative >= 0.9 * record["daily_budget"]).idxmax())
        after = cumulative.iloc[-1] - cumulative.loc[reached]
        flat += after < 0.1 * record["daily_budget"]
    assert flat >= 0.6 * len(capped.loc[capped["daily_budget"] > 200])


def test_a_sale_day_raises_spend_while_cpa_holds() -> None:
    events = demo_benign_events("globex", date(2026, 8, 1), date(2026, 10, 28))
    sale = events.loc[events["kind"] == "sale_day"].iloc[0]
    day = (sale["start"] + (sale["end"] - sale["start"]) / 2).date()
    quiet_days = [day - timedelta(days=7), day + timedelta(days=7)]

    def totals(d: date) -> pd.Series:
        return demo_metrics("globex", d, QUIET)[["spend", "conversions"]].sum()

    on = totals(day)
    normal = sum(totals(d) for d in quiet_days) / 2
    assert on["spend"] > 1.5 * normal["spend"]
    cpa_on, cpa_normal = on["spend"] / on["conversions"], normal["spend"] / normal["conversions"]
    assert 0.8 < cpa_on / cpa_normal < 1.25


def test_some_campaigns_are_very_small() -> None:
    frame = pd.concat([demo_metrics("acme", DAY - timedelta(days=n), QUIET) for n in range(7)])
    clicks_per_day = frame.groupby("campaign_id")["clicks"].sum() / 7
    assert (clicks_per_day < 30).any() and (clicks_per_day > 300).any()
