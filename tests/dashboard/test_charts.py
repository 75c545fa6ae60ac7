"""The brand charts' axes, expected range and incident shading, from the SVG they write."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from warroom_pipelines.dashboard.charts import Unit, line_chart, nice_ticks, tick_label
from warroom_pipelines.dashboard.expected import LOOKBACK_HOURS, same_hour_range
from warroom_pipelines.dashboard.model import METRICS, Band, build_charts
from warroom_pipelines.dashboard.queries import Window

EURO, PERCENT, TIMES = Unit(prefix="€"), Unit(suffix=" %", scale=100), Unit(suffix="\u00d7")
START = pd.Timestamp("2026-11-08 14:00", tz="UTC")


@pytest.mark.parametrize(
    ("top", "ticks"),
    [
        (3707.6, [0, 2000, 4000]),
        (1.2, [0, 0.5, 1.0, 1.5]),
        (0.0293, [0, 0.01, 0.02, 0.03]),
        (141, [0, 50, 100, 150]),
        (0, [0, 0.5, 1.0]),
    ],
)
def test_ticks_are_round_steps_from_zero_past_the_top(top: float, ticks: list[float]) -> None:
    assert nice_ticks(top) == pytest.approx(ticks)


def test_tick_labels_carry_unit_and_currency_compactly() -> None:
    thousands = nice_ticks(3707.6)
    assert [tick_label(t, thousands, EURO) for t in thousands] == ["€0", "€2k", "€4k"]
    assert tick_label(1200, [0, 600, 1200], EURO) == "€1.2k"
    assert tick_label(2_500_000, [0, 2_500_000], EURO) == "€2.5M"
    assert tick_label(0.024, [0, 0.012, 0.024], PERCENT) == "2.4 %"
    assert [tick_label(t, [0, 2.5, 5], TIMES) for t in (0, 2.5, 5)] == [
        "0\u00d7",
        "2.5\u00d7",
        "5.0\u00d7",
    ]
    assert tick_label(0.25, [0, 0.25, 0.5], Unit()) == "0.25"


def _chart(**kwargs: object) -> str:
    values: list[float | None] = [10.0 + (i % 24) for i in range(168)]
    values[30] = None  # an hour without a value breaks the line
    return line_chart(values, start=START, title="Spend", unit=EURO, **kwargs)  # type: ignore[arg-type]


def _labels(svg: str, kind: str) -> list[str]:
    group = re.search(rf'<g class="axis {kind}"[^>]*>(.*?)</g>', svg)
    assert group is not None
    return re.findall(r">([^<]+)</text>", group.group(1))


def test_a_chart_has_a_y_axis_with_ticks_and_day_labels() -> None:
    svg = _chart()
    assert _labels(svg, "tick") == ["€0", "€20", "€40"]
    days = _labels(svg, "day")
    assert days[:4] == ["Mon", "9", "Tue", "10"]  # the 10 hours of Sun 8 get no label
    assert "max" not in svg
    line = re.search(r'class="line" d="([^"]+)"', svg)
    assert line is not None and line.group(1).count("M") == 2  # one gap, two strokes


def test_the_expected_range_is_drawn_beside_the_line_and_incidents_are_shaded() -> None:
    history: list[float | None] = [30.0 + (i % 24) for i in range(LOOKBACK_HOURS)]
    expected = same_hour_range(history + [None] * 168, 168)
    band = Band(100, 110, "critical", "ctr_drop (critical, resolved)")
    svg = _chart(expected=expected, bands=[band])
    area = re.search(r'class="expected" d="([^"]+)"', svg)
    assert area is not None and area.group(1).endswith("Z")
    assert 'class="expected-mid"' in svg
    shaded = re.search(
        r'<g class="band sev-critical"><title>([^<]+)</title><rect x="([\d.]+)"', svg
    )
    assert shaded is not None and shaded.group(1) == "ctr_drop (critical, resolved)"
    assert float(shaded.group(2)) == pytest.approx(52 + 270 * 100 / 168, abs=0.1)
    # The axis reaches the top of the band, not only of the line.
    assert _labels(svg, "tick")[-1] == "€60"


def test_the_expected_range_comes_from_the_same_hour_of_earlier_days_only() -> None:
    # Seven earlier days at hour h are worth 1..7; the chart's own hours (1000) never count.
    lookback: list[float | None] = [float(1 + i // 24) for i in range(LOOKBACK_HOURS)]
    expected = same_hour_range(lookback + [1000.0] * 24, 24)
    assert expected.mid == pytest.approx([4.0] * 24)
    assert expected.low == pytest.approx([1.6] * 24)
    assert expected.high == pytest.approx([6.4] * 24)
    # Fewer than four earlier days with a value: no band rather than a guess.
    sparse = [None] * (LOOKBACK_HOURS - 72) + lookback[-72:]
    assert same_hour_range(sparse + [1.0] * 24, 24).mid == [None] * 24
    with pytest.raises(ValueError, match="168"):
        same_hour_range([1.0] * 24, 24)


def test_charts_get_an_expected_range_only_with_the_week_before() -> None:
    week = Window(START, START + pd.Timedelta(hours=168))
    hours = pd.date_range(START - pd.Timedelta(hours=168), periods=336, freq="h")
    rows = pd.DataFrame(
        {
            "hour_start": hours,
            "channel": None,
            "currency": "EUR",
            **{metric.name: 1.0 for metric in METRICS},
        }
    )
    history, hourly = rows.iloc[:168], rows.iloc[168:]
    charts = build_charts(hourly, week, None, None, history=history)
    assert len(charts) == len(METRICS)
    for chart in charts:
        assert chart.expected is not None and chart.expected.mid == [1.0] * 168
    assert all(chart.expected is None for chart in build_charts(hourly, week, None, None))
    # A brand that started two days before the week: hours before it are no baseline of zeros.
    late = build_charts(hourly, week, None, None, history=history.iloc[-48:])
    spend = next(c for c in late if c.metric.name == "spend")
    # Each hour looks back 7 days: from the third day of the week on, four of them have data.
    assert spend.expected is not None and spend.expected.mid == [None] * 48 + [1.0] * 120
