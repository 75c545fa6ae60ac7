"""Charts as inline SVG: no chart library, no script, styled by the page's own CSS classes.

Hours without a value (no delivery, or a ratio with a zero denominator) break the line
instead of being drawn as zero, so a gap never reads as a collapse.

A brand chart is drawn in a 330-unit-wide box that the page never shows narrower than 320 px,
so its 12-unit labels are never smaller than 11.6 px on screen.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from itertools import pairwise

import pandas as pd

from warroom_pipelines.dashboard.expected import Expected
from warroom_pipelines.dashboard.model import Band, Marker

WIDTH, HEIGHT = 330, 186
LEFT, RIGHT, TOP, BOTTOM = 52, 8, 12, 38
_STEPS = (1.0, 2.0, 2.5, 5.0, 10.0)
_COMPACT = ((1e9, "B"), (1e6, "M"), (1e3, "k"))
GRID = 1000  # the paths' vertical resolution: a thousandth of the plot's height


@dataclass(frozen=True)
class Unit:
    """How an axis writes its numbers: "€1.2k" is prefix "€", "2.4 %" is scale 100 and suffix
    " %"."""

    prefix: str = ""
    suffix: str = ""
    scale: float = 1.0


def nice_ticks(top: float, intervals: int = 3) -> list[float]:
    """0, then round steps (1, 2, 2.5 or 5 times a power of ten) up to the first at or above
    `top`: about `intervals` of them."""
    top = top if top > 0 else 1.0
    raw = top / intervals
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in _STEPS if m * magnitude >= raw * (1 - 1e-9))
    count = math.ceil(top / step - 1e-9)
    return [round(i * step, 12) for i in range(count + 1)]


def tick_label(value: float, ticks: Sequence[float], unit: Unit) -> str:
    """One tick's label, with as many decimals as the step needs, in thousands (k), millions
    (M) or billions (B) once the top tick reaches them."""
    if value == 0:
        return f"{unit.prefix}0{unit.suffix}"
    top = ticks[-1] * unit.scale
    step = (ticks[1] - ticks[0]) * unit.scale if len(ticks) > 1 else top
    divisor, letter = next(((d, x) for d, x in _COMPACT if top >= d), (1.0, ""))
    step /= divisor
    decimals = next(d for d in range(4) if d == 3 or abs(round(step, d) - step) < 1e-9 * step)
    return f"{unit.prefix}{value * unit.scale / divisor:,.{decimals}f}{letter}{unit.suffix}"


def _numbers(values: Sequence[int]) -> str:
    """Integers as SVG path data: a minus sign separates them as well as a space does."""
    return "".join(f"{v}" if i == 0 or v < 0 else f" {v}" for i, v in enumerate(values))


def _path(points: Sequence[tuple[int, int] | None], *, closed: bool = False) -> str:
    """Path data in whole grid units, each stretch of points as one absolute move and then
    relative lines: a week of hours in about 5 bytes an hour, a page's charts stay small."""
    runs: list[list[tuple[int, int]]] = [[]]
    for point in points:
        if point is None:
            runs.append([])
        else:
            runs[-1].append(point)
    out = []
    for run in filter(None, runs):
        (x, y), steps = run[0], []
        for (x0, y0), (x1, y1) in pairwise(run):
            steps += [x1 - x0, y1 - y0]
        out.append(f"M{x} {y}" + (f"l{_numbers(steps)}" if steps else "") + ("Z" if closed else ""))
    return "".join(out)


def _area(low: Sequence[tuple[int, int] | None], high: Sequence[tuple[int, int] | None]) -> str:
    """The band between two lines, one closed shape per stretch of hours where both exist."""
    outlines: list[tuple[int, int] | None] = []
    run_low: list[tuple[int, int]] = []
    for lo, hi in [*zip(low, high, strict=True), (None, None)]:
        if lo is not None and hi is not None:
            outlines.append(hi)
            run_low.append(lo)
        elif run_low:
            outlines += [*reversed(run_low), None]
            run_low = []
    return _path(outlines, closed=True)


def _scale(values: Sequence[float | None]) -> float:
    top = max((v for v in values if v is not None), default=0.0)
    return top * 1.1 if top > 0 else 1.0


def line_chart(
    values: Sequence[float | None],
    *,
    start: pd.Timestamp,
    title: str,
    unit: Unit,
    markers: Sequence[Marker] = (),
    bands: Sequence[Band] = (),
    expected: Expected | None = None,
) -> str:
    """An hourly line over its expected range, on a y-axis with ticks in the metric's unit,
    with incident hours shaded, days along the bottom and anomalous hours marked."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    base = TOP + plot_h
    n = max(len(values), 1)
    reach = [*values, *(expected.high if expected else [])]
    ticks = nice_ticks(max((v for v in reach if v is not None), default=0.0))
    y_max = ticks[-1]

    def x_of(i: float) -> float:
        return LEFT + plot_w * i / n

    def y_of(v: float) -> float:
        return TOP + plot_h * (1 - v / y_max)

    def points(series: Sequence[float | None]) -> list[tuple[int, int] | None]:
        """On the paths' grid: x in half hours, y in thousandths of the plot's height."""
        return [
            None if v is None else (2 * i + 1, round(GRID * (1 - v / y_max)))
            for i, v in enumerate(series)
        ]

    out = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" data-chart="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for band in bands:
        x0, x1 = x_of(band.first_hour), x_of(band.end_hour)
        out.append(
            f'<g class="band sev-{escape(band.severity)}"><title>{escape(band.label)}</title>'
            f'<rect x="{x0:.1f}" y="{TOP}" width="{x1 - x0:.1f}" height="{plot_h}"/>'
            f'<rect class="edge" x="{x0:.1f}" y="{TOP}" width="{x1 - x0:.1f}" height="3"/></g>'
        )
    # One path for the gridlines and one group per kind of label: a page has 20 charts.
    grid, labels, days = [], [], []
    for tick in ticks[1:]:
        grid.append(f"M{LEFT} {y_of(tick):.1f}H{WIDTH - RIGHT}")
    for tick in ticks:
        labels.append(
            f'<text x="{LEFT - 6}" y="{y_of(tick) + 4:.1f}">'
            f"{escape(tick_label(tick, ticks, unit))}</text>"
        )
    midnight = start.ceil("D")
    for day in pd.date_range(start.floor("D"), start + pd.Timedelta(hours=n), freq="D"):
        first = max(0.0, (day - start) / pd.Timedelta(hours=1))
        last = min(float(n), (day + pd.Timedelta(days=1) - start) / pd.Timedelta(hours=1))
        if day >= midnight and first < n:
            grid.append(f"M{x_of(first):.1f} {TOP}V{base}")
        if last - first >= 12:  # a label needs half a day of room
            x = (x_of(first) + x_of(last)) / 2
            days.append(
                f'<text x="{x:.1f}" y="{base + 18}">{day:%a}</text>'
                f'<text x="{x:.1f}" y="{base + 33}">{day.day}</text>'
            )
    out.append(
        f'<path class="grid" d="{"".join(grid)}"/>'
        f'<path class="base" d="M{LEFT} {base}H{WIDTH - RIGHT}"/>'
        f'<g class="axis tick" text-anchor="end">{"".join(labels)}</g>'
        f'<g class="axis day" text-anchor="middle">{"".join(days)}</g>'
    )
    out.append(
        f'<g transform="translate({LEFT} {TOP}) scale({plot_w / (2 * n):.6g} {plot_h / GRID:.6g})">'
    )
    if expected is not None:
        out.append(
            f'<path class="expected" d="{_area(points(expected.low), points(expected.high))}"/>'
            f'<path class="expected-mid" d="{_path(points(expected.mid))}"/>'
        )
    out.append(f'<path class="line" d="{_path(points(values))}"/></g>')
    for marker in markers:
        value = values[marker.hour] if marker.hour < len(values) else None
        x = x_of(marker.hour + 0.5)
        if marker.on_series and value is not None:
            shape = (
                f'<circle class="mark sev-{escape(marker.severity)}" cx="{x:.1f}" '
                f'cy="{y_of(value):.1f}" r="3.5">'
            )
            out.append(f"{shape}<title>{escape(marker.label)}</title></circle>")
        else:
            out.append(
                f'<path class="mark sev-{escape(marker.severity)}" '
                f'd="M{x - 3.5:.1f} {base + 6:.1f}L{x:.1f} {base:.1f}L{x + 3.5:.1f} '
                f'{base + 6:.1f}Z"><title>{escape(marker.label)}</title></path>'
            )
    out.append("</svg>")
    return "".join(out)


def sparkline(
    values: Sequence[float],
    *,
    title: str,
    severity: str = "none",
    width: int = 168,
    height: int = 32,
) -> str:
    """A bare trend line for the overview table, in whole pixels: with a thousand brands on
    one page, every byte of a sparkline counts a thousand times."""
    n = max(len(values), 1)
    y_max = _scale(values)
    points = [
        (round(1 + (width - 2) * (i + 0.5) / n), round(2 + (height - 4) * (1 - v / y_max)))
        for i, v in enumerate(values)
    ]
    path = "M" + "L".join(f"{x} {y}" for x, y in points) if points else ""
    return (
        f'<svg class="spark sev-{escape(severity)}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>"
        f'<path class="line" d="{path}"/></svg>'
    )
