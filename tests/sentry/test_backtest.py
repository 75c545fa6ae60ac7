"""The backtest: what each tick had stored, and the scoring of the alerts it raised."""

from __future__ import annotations

from datetime import date

import pandas as pd

from warroom_pipelines.channels.demo import DemoConfig, demo_metrics, demo_rows
from warroom_pipelines.sentry import backtest
from warroom_pipelines.sentry.backtest import (
    _alert_table,
    _benign_table,
    _partial,
    _score_alerts,
    _score_incidents,
    by_level,
    found_by_level,
    found_vs_injected,
)
from warroom_pipelines.sentry.detectors import DetectorConfig
from warroom_pipelines.sentry.replay import BrandReplay, last_pull, ticks_scoring
from warroom_pipelines.sentry.settle import settle_lag

T0 = pd.Timestamp("2026-10-05 10:00", tz="UTC")
H = pd.Timedelta(hours=1)
QUIET = DemoConfig(incident_rate=0.0)


def _truth() -> pd.DataFrame:
    return pd.DataFrame(
        [
            ("i1", "acme", "tracking_break", "channel", "meta_ads", None, T0, T0 + 5 * H, 80.0),
            ("i2", "acme", "ctr_collapse", "campaign", "google_ads", "c9", T0 + 48 * H,
             T0 + 52 * H, 12.0),
            ("i3", "acme", "spend_runaway", "brand", None, None, T0 + 96 * H, T0 + 99 * H, 300.0),
        ],
        columns=["incident_id", "brand", "incident_type", "level", "channel", "campaign_id",
                 "start", "end", "clicks_per_hour"],
    )  # fmt: skip


def _row(level: str, channel: str, hour: pd.Timestamp, kind: str, inc: str, **more) -> dict:
    return {
        "brand": "acme", "level": level, "channel": channel, "campaign_id": "",
        "hour_start": hour, "anomaly_type": kind, "incident_id": inc, "severity": "warning",
        "raised_at": hour + 4 * H, "partial": False, "detected_at": hour + H, **more,
    }  # fmt: skip


def _no_events() -> pd.DataFrame:
    columns = ["event_id", "brand", "kind", "level", "channel", "campaign_id", "start", "end"]
    return pd.DataFrame(columns=columns)


def test_recall_counts_the_right_type_within_two_hours_at_a_level_that_covers_it() -> None:
    rows = pd.DataFrame(
        [
            _row("channel", "meta_ads", T0 + 2 * H, "conversion_drop", "a"),  # on time
            _row("brand", "", T0 + 3 * H, "conversion_drop", "b"),  # late, at brand level
            _row("channel", "google_ads", T0 + 48 * H, "spend_drop", "c"),  # wrong type
            _row("channel", "tiktok_ads", T0 + 96 * H, "spend_spike", "d"),  # covers a brand one
        ]
    )
    scored = _score_incidents(_truth(), rows).set_index("incident_id")
    assert scored.loc["i1", "recall"] and scored.loc["i1", "recall_own_level"]
    assert scored.loc["i1", "hours_to_alert"] == 6.0  # raised at the tick, 4 h after its hour
    assert scored.loc["i2", "found"] and not scored.loc["i2", "recall"]  # found, typed wrong
    assert not scored.loc["i2", "detected"]
    assert scored.loc["i3", "recall"] and not scored.loc["i3", "recall_own_level"]
    table = by_level(scored)
    assert table.loc["campaign", "found_any_type"] == 1.0
    assert table.loc["campaign", "recall_2h"] == 0.0
    assert table.loc["all", "typed_right"] == round(2 / 3, 3)
    assert table.loc["campaign >= 30 clicks/h", "incidents"] == 0  # i2 has 12 clicks an hour


def test_alerts_are_false_when_they_match_no_label_counted_over_every_brand_week() -> None:
    rows = pd.DataFrame(
        [
            _row("channel", "meta_ads", T0 + H, "conversion_drop", "a"),  # matches i1
            _row("channel", "tiktok_ads", T0 + H, "ctr_drop", "b", partial=True),  # false
            _row("brand", "", T0 + 7 * 24 * H, "spend_spike", "c"),  # false
            _row("channel", "meta_ads", T0 + 3 * H, "ingestion_gap", "g"),  # a data problem
        ]
    )
    alerts = _score_alerts(rows, _truth(), _no_events())
    table = _alert_table(alerts, weeks=2.0)
    assert table.loc["all", "alerts"] == 3  # the ingestion gap goes to the platform
    assert table.loc["all", "precision"] == round(1 / 3, 3)
    assert table.loc["all", "false"] == 2
    assert table.loc["all", "false_per_brand_week"] == 1.0
    assert table.loc["channel", "typed_right"] == 1.0
    assert table.loc["channel", "false_on_partial_hours"] == 1


def test_false_alerts_are_told_by_the_benign_events_they_met() -> None:
    events = pd.DataFrame(
        [
            ("e1", "acme", "sale_day", "brand", None, None, T0 + 7 * 24 * H, T0 + 8 * 24 * H),
            ("e2", "acme", "budget_cap", "campaign", "meta_ads", "c1", T0 - 5 * H, T0 + 9 * H),
        ],
        columns=["event_id", "brand", "kind", "level", "channel", "campaign_id", "start", "end"],
    )
    rows = pd.DataFrame(
        [
            _row("brand", "", T0 + 7 * 24 * H + 5 * H, "spend_spike", "s"),  # on the sale day
            _row("campaign", "meta_ads", T0 + 6 * H, "spend_drop", "p", campaign_id="c1"),
            _row("campaign", "meta_ads", T0 + 6 * H, "spend_drop", "q", campaign_id="c2"),
        ]
    )
    alerts = _score_alerts(rows, _truth().iloc[:0], events)
    table = _benign_table(alerts, events, weeks=1.0)
    assert table.loc["sale_day", "false_alerts_during"] == 1
    assert table.loc["budget_cap", "false_alerts_during"] == 1  # c1's cap, not c2's drop
    assert table.loc["(none)", "false_alerts_during"] == 1


def test_the_held_out_world_has_its_own_brands() -> None:
    assert backtest.brand_names("demo", 2) == ["brand-00", "brand-01"]
    assert backtest.brand_names("held-out", 1) == ["heldout-00"]


def test_no_alerts_at_all_is_a_report_of_zeros() -> None:
    alerts = _score_alerts(
        pd.DataFrame([_row("brand", "", T0, "x", "x")]).iloc[:0], _truth(), _no_events()
    )
    assert _benign_table(alerts, _no_events(), weeks=1.0)["false_alerts_during"].sum() == 0
    assert _alert_table(alerts, weeks=1.0).loc["all", "alerts"] == 0


def test_found_vs_injected_and_found_by_level() -> None:
    rows = pd.DataFrame([_row("channel", "meta_ads", T0 + 4 * H, "conversion_drop", "a")])
    summary = found_vs_injected(rows, _truth()).set_index("brand")
    assert summary.loc["acme", "injected"] == 3
    assert summary.loc["acme", "found"] == 1
    assert summary.loc["acme", "alert_incidents"] == 1
    assert summary.loc["acme", "not_injected"] == 0
    levels = found_by_level(rows, _truth()).set_index("level")
    assert levels["injected"].to_dict() == {"brand": 1, "channel": 1, "campaign": 1, "all": 3}
    assert levels.loc["channel", "found_at_all"] == 1
    assert levels.loc["channel", "found_within_2h"] == 0  # its first row is 4 h after onset


def test_a_tick_reads_each_day_as_its_last_pull_stored_it() -> None:
    day = date(2026, 11, 10)
    tick = pd.Timestamp("2026-11-10 13:05Z")
    assert last_pull(day, tick) == tick
    assert last_pull(day, pd.Timestamp("2026-11-11 09:00Z")) == pd.Timestamp("2026-11-11 05:05Z")
    assert last_pull(day, pd.Timestamp("2026-11-13 07:00Z")) == pd.Timestamp("2026-11-13 06:30Z")
    assert last_pull(day, pd.Timestamp("2026-11-09 23:59Z")) is None
    replay = BrandReplay("acme", QUIET)
    history = replay.history(date(2026, 11, 8), day, tick)
    today = history.loc[history["date"] == pd.Timestamp(day)]
    pd.testing.assert_frame_equal(
        today.drop(columns=["date", "ingested_at"]).reset_index(drop=True),
        demo_metrics("acme", day, QUIET, as_of=tick).drop(columns="date"),
    )
    stored = history.groupby("date")["ingested_at"].unique().map(list).to_dict()
    assert stored == {
        pd.Timestamp(date(2026, 11, 8)): [pd.Timestamp("2026-11-10 06:30Z")],  # restatement
        pd.Timestamp(date(2026, 11, 9)): [pd.Timestamp("2026-11-10 05:05Z")],  # yesterday
        pd.Timestamp(day): [tick],
    }
    assert "ingested_at" not in replay.history(date(2026, 11, 8), day, None).columns


def test_the_ticks_that_score_a_day_start_when_its_first_hour_can_settle() -> None:
    day = date(2026, 11, 10)
    ticks = list(ticks_scoring(day, BrandReplay("acme", QUIET)))
    soonest = min(settle_lag(channel) for channel in QUIET.sources())
    assert ticks[0] - soonest >= pd.Timestamp(day, tz="UTC") + H
    assert ticks[0] - soonest - H < pd.Timestamp(day, tz="UTC") + H
    assert pd.Timestamp("2026-11-11 05:05Z") in ticks
    assert all(t.minute in (5, 30) for t in ticks)


def test_a_row_raised_before_its_hour_had_all_arrived_is_partial() -> None:
    day = date(2026, 11, 10)
    replay = BrandReplay("acme", QUIET)
    complete = replay.complete_at(day)
    rows = demo_rows("acme", day, QUIET)
    channel, hour = complete.index[40]
    done = complete.loc[(channel, hour)]
    assert (
        done
        == rows.loc[(rows["channel"] == channel) & (rows["hour_start"] == hour), "arrives_at"].max()
    )
    alerts = pd.DataFrame(
        [
            _row("channel", channel, hour, "spend_drop", "x"),
            _row("brand", "", hour, "spend_drop", "y"),
        ]
    )
    assert _partial(alerts, complete, done - pd.Timedelta(minutes=1)).tolist() == [True, True]
    latest = complete.xs(hour, level="hour_start").max()
    assert _partial(alerts, complete, latest).tolist() == [False, False]


def test_a_replay_raises_only_settled_hours_and_scores_every_tick() -> None:
    demo = DemoConfig(campaigns_per_channel=2, incident_rate=1.0)
    config = DetectorConfig(window_days=7)
    day = date(2026, 10, 20)
    report = backtest.run(["acme"], day, day, config, demo=demo)
    ticks = list(ticks_scoring(day, BrandReplay("acme", demo)))
    assert len(report.runtime) == len(ticks)
    rows = report.anomalies
    if len(rows):  # every row was raised at a tick after its hour had settled
        slowest = max(settle_lag(channel) for channel in demo.sources())
        lag = [settle_lag(c) if level != "brand" else slowest for c, level in
               zip(rows["channel"], rows["level"], strict=True)]  # fmt: skip
        assert (rows["raised_at"] >= rows["hour_start"] + H + pd.Series(lag)).all()
    assert set(report.by_level.index) >= {"brand", "channel", "campaign", "all"}
    assert report.brand_weeks == 1 / 7
    assert set(report.alerts.index) == {"brand", "channel", "campaign", "all"}
    assert report.finished.shape[0] == 1
    # Without the replay, the finished data alone: one detect per brand-day, its figures.
    once = backtest.run(["acme"], day, day, config, demo=demo, replay=False)
    assert len(once.runtime) == 1
    pd.testing.assert_frame_equal(once.finished, report.finished)
    assert backtest.headline(once.by_level, once.alerts).equals(once.finished)
