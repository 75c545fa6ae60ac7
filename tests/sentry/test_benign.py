"""What real accounts do every week and a media buyer would not act on raises no alert:
budget caps, sale days, launches, pauses, budget steps, a holiday."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from tests.sentry import synthetic as syn
from warroom_pipelines.sentry.engine import detect

ALERTS = ("warning", "critical")
DAY_START = pd.Timestamp(syn.DAY, tz="UTC")


def _loud(rows: pd.DataFrame) -> pd.DataFrame:
    return rows.loc[rows["severity"].isin(ALERTS)]


def _capped(frame: pd.DataFrame, campaign: str, budget: float, day) -> pd.DataFrame:
    """The campaign's `day` once its spend has reached `budget`: a trickle of 2 % of its
    delivery for the rest of the day, as platforms stop a capped campaign."""
    mine = (frame["campaign_id"] == campaign) & (frame["date"] == pd.Timestamp(day))
    spend = frame.loc[mine].sort_values("hour_start")["spend"]
    after = spend.index[spend.cumsum().shift(fill_value=0.0) >= budget]
    out = frame.copy()
    out.loc[after] = syn.scale(out.loc[after].copy(), 0.02)
    return out


@pytest.fixture(scope="module")
def normal() -> pd.DataFrame:
    return syn.history()


def test_a_budget_cap_reached_in_the_evening_is_pacing(normal) -> None:
    """m1 usually spends its whole day; today demand is up and it reaches its budget at
    about 17:00: its spend stops, and so does most of the channel's. Budget known."""
    frame = syn.inject(normal, lambda r: syn.scale(r, 1.3), channel="meta_ads", hours=range(24))
    usual = normal.loc[normal["campaign_id"] == "acme-m1"].groupby("date")["spend"].sum().median()
    budget = 0.95 * usual
    frame = _capped(frame, "acme-m1", budget, syn.DAY)
    m1 = frame.loc[frame["campaign_id"] == "acme-m1"].set_index("hour_start")["spend"]
    stops = m1.loc[DAY_START:].cumsum().ge(budget).idxmax()
    assert DAY_START + pd.Timedelta(hours=14) < stops < DAY_START + pd.Timedelta(hours=21)
    days = sorted({d.date() for d in frame["date"]})
    daily = {d: budget if d == syn.DAY else 2 * usual for d in days}
    budgets = syn.budgets(frame, "acme-m1", daily)
    assert _loud(detect(frame, syn.DAY, budgets=budgets)).empty
    # Without the budget the drop is an outage: the budget is what makes it pacing.
    without = _loud(detect(frame, syn.DAY))
    assert without["anomaly_type"].isin(["spend_drop", "impressions_drop", "conversion_drop"]).any()


def test_a_cap_is_inferred_from_the_campaigns_own_history(normal) -> None:
    """No budget known: m1 has stopped at the same daily total on its recent days, so when
    it stops there today, hours earlier than usual, that is its cap."""
    usual = normal.loc[normal["campaign_id"] == "acme-m1"].groupby("date")["spend"].sum().median()
    budget = 0.8 * usual
    frame = normal
    days = sorted({d.date() for d in normal["date"]})
    for day in days[-8:]:
        frame = _capped(frame, "acme-m1", budget, day)
    frame = syn.inject(frame, lambda r: syn.scale(r, 1.6), channel="meta_ads", hours=range(24))
    frame = _capped(frame, "acme-m1", budget, syn.DAY)
    assert _loud(detect(frame, syn.DAY)).empty


def test_a_sale_day_with_steady_cpa_raises_nothing(normal) -> None:
    sale = syn.inject(normal, lambda r: syn.scale(r, 2.5), channel="meta_ads", hours=range(24))
    sale = syn.inject(sale, lambda r: syn.scale(r, 2.5), channel="google_ads", hours=range(24))
    assert _loud(detect(sale, syn.DAY)).empty


def test_a_sale_day_does_not_blind_the_next_weeks(normal) -> None:
    """Two sale days in the window, then a runaway on the scored day is still found."""
    frame = normal
    for back in (6, 13):
        for channel in ("meta_ads", "google_ads"):
            frame = syn.inject(
                frame,
                lambda r: syn.scale(r, 2.5),
                channel=channel,
                day=syn.DAY - timedelta(days=back),
                hours=range(24),
            )
    frame = syn.inject(frame, syn.spend_runaway, channel="meta_ads")
    loud = _loud(detect(frame, syn.DAY))
    assert "spend_spike" in set(loud.loc[loud["level"] == "channel", "anomaly_type"])


def test_a_launch_ramping_up_raises_nothing(normal) -> None:
    """A new campaign three days old ramps up, with the high CPA of its learning phase."""
    launch = syn.history(
        days=3, campaigns=(("meta_ads", "new", 300_000, 0.012, 1.1, 0.012, 60.0),), seed=11
    )
    ramp = (launch["hour_start"] - launch["hour_start"].min()) / pd.Timedelta(days=3)
    for column in ("impressions", "clicks", "conversions"):
        launch[column] = (launch[column] * (0.2 + 0.8 * ramp)).round()
    launch["spend"] = launch["spend"] * (0.2 + 0.8 * ramp)
    assert _loud(detect(pd.concat([normal, launch], ignore_index=True), syn.DAY)).empty


def test_a_paused_campaign_raises_nothing(normal) -> None:
    paused = normal.drop(
        index=normal.index[
            (normal["campaign_id"] == "acme-m2")
            & (normal["hour_start"] >= DAY_START + pd.Timedelta(hours=9))
        ]
    )
    assert _loud(detect(paused, syn.DAY)).empty


@pytest.mark.parametrize("factor", [2.0, 0.5])
def test_a_budget_step_raises_nothing(normal, factor) -> None:
    """Meta's budgets doubled (or halved) five days ago; its ratios hold."""
    frame = normal
    for back in range(6):
        frame = syn.inject(
            frame,
            lambda r: syn.scale(r, factor),
            channel="meta_ads",
            day=syn.DAY - timedelta(days=back),
            hours=range(24),
        )
    assert _loud(detect(frame, syn.DAY)).empty


def test_a_holiday_raises_nothing(normal) -> None:
    """Every channel delivers 40 % less for the day; what it delivers converts as usual."""
    frame = normal
    for channel in ("meta_ads", "google_ads"):
        frame = syn.inject(frame, lambda r: syn.scale(r, 0.6), channel=channel, hours=range(24))
    assert _loud(detect(frame, syn.DAY)).empty
    assert np.isfinite(frame["spend"]).all()
