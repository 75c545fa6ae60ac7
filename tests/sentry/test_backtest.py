"""The backtest's scoring: recall within two hours, precision, false alerts on clean days."""

from __future__ import annotations

from datetime import date

import pandas as pd

from warroom_pipelines.sentry.backtest import _alert_table, _score_incidents, found_vs_injected

T0 = pd.Timestamp("2026-10-05 10:00", tz="UTC")
H = pd.Timedelta(hours=1)


def _truth() -> pd.DataFrame:
    return pd.DataFrame(
        [
            ("i1", "acme", "tracking_break", "meta_ads", None, T0, T0 + 5 * H),
            ("i2", "acme", "ctr_collapse", "google_ads", "c9", T0 + 48 * H, T0 + 52 * H),
        ],
        columns=["incident_id", "brand", "incident_type", "channel", "campaign_id", "start", "end"],
    )


def _row(level: str, channel: str, hour: pd.Timestamp, kind: str, inc: str) -> dict:
    return {
        "brand": "acme", "level": level, "channel": channel, "campaign_id": "",
        "hour_start": hour, "anomaly_type": kind, "incident_id": inc, "severity": "warning",
    }  # fmt: skip


def test_recall_counts_the_right_type_within_two_hours_of_onset() -> None:
    rows = pd.DataFrame(
        [
            _row("channel", "meta_ads", T0 + 2 * H, "conversion_drop", "a"),  # on time
            _row("brand", "", T0 + 3 * H, "conversion_drop", "b"),  # late at brand level
            _row("channel", "google_ads", T0 + 48 * H, "spend_drop", "c"),  # wrong type
        ]
    )
    scored = _score_incidents(_truth(), rows).set_index("incident_id")
    assert scored.loc["i1", "recall_channel"] and not scored.loc["i1", "recall_brand"]
    assert scored.loc["i1", "recall_brand_or_channel"]
    assert scored.loc["i1", "hours_to_detect"] == 2.0
    assert not scored.loc["i2", "recall_any"] and not scored.loc["i2", "detected"]


def test_alerts_outside_incidents_are_false_and_counted_per_clean_week() -> None:
    rows = pd.DataFrame(
        [
            _row("channel", "meta_ads", T0 + H, "conversion_drop", "a"),  # matches i1
            _row("channel", "tiktok_ads", T0 + H, "ctr_drop", "b"),  # other channel: false
            _row("brand", "", T0 + 7 * 24 * H, "spend_spike", "c"),  # a clean day: false
        ]
    )
    table = _alert_table(rows, _truth(), ["acme"], date(2026, 10, 1), date(2026, 10, 14))
    both = table.loc["brand_or_channel"]
    assert both["alert_incidents"] == 3
    assert round(both["precision"], 3) == round(1 / 3, 3)
    # 14 days, 3 of them touched by incidents (i1's day, i2's day): 12 clean days.
    assert both["false_on_clean_days"] == 1
    assert round(both["false_per_brand_week"], 3) == round(1 / (12 / 7), 3)


def test_found_vs_injected_per_brand() -> None:
    rows = pd.DataFrame([_row("channel", "meta_ads", T0 + 4 * H, "conversion_drop", "a")])
    summary = found_vs_injected(rows, _truth()).set_index("brand")
    assert summary.loc["acme", "injected"] == 2
    assert summary.loc["acme", "found"] == 1
    assert summary.loc["acme", "alert_incidents"] == 1
    assert summary.loc["acme", "not_injected"] == 0
