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

import pandas as pd

from warroom_pipelines.dashboard.expected import Expected
from warroom_pipelines.dashboard.model import Band, Marker

WIDTH, HEIGHT = 330, 186
LEFT, RIGHT, TOP, BOTTOM = 52, 8, 12, 38
_STEPS = (1.0, 2.0, 2.5, 5.0, 10.0)
_COMPACT = ((1e9, "B"), (1e6, "M"), (1e3, "k"))


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


def _path(points: Sequence[tuple[float, float] | None]) -> str:
    parts: list[str] = []
    pen_down = False
    for point in points:
        if point is None:
            pen_down = False
            continue
        x, y = point
        parts.append(f"{'L' if pen_down else 'M'}{x:.1f} {y:.1f}")
        pen_down = True
    return "".join(parts)


def _area(
    low: Sequence[tuple[float, float] | None], high: Sequence[tuple[float, float] | None]
) -> str:
    """The band between two lines, one closed shape per stretch of hours where both exist."""
    shapes, run_low, run_high = [], [], []
    for lo, hi in [*zip(low, high, strict=True), (None, None)]:
        if lo is not None and hi is not None:
            run_low.append(lo)
            run_high.append(hi)
            continue
        if run_low:
            outline = [*run_high, *reversed(run_low)]
            shapes.append(_path(outline) + "Z")
            run_low, run_high = [], []
    return "".join(shapes)


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

    def points(series: Sequence[float | None]) -> list[tuple[float, float] | None]:
        return [None if v is None else (x_of(i + 0.5), y_of(v)) for i, v in enumerate(series)]

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
    for tick in ticks:
        y = y_of(tick)
        out.append(
            f'<line class="{"base" if tick == 0 else "grid"}" x1="{LEFT}" x2="{WIDTH - RIGHT}" '
            f'y1="{y:.1f}" y2="{y:.1f}"/><text class="axis tick" x="{LEFT - 6}" y="{y + 4:.1f}" '
            f'text-anchor="end">{escape(tick_label(tick, ticks, unit))}</text>'
        )
    midnight = start.ceil("D")
    for day in pd.date_range(start.floor("D"), start + pd.Timedelta(hours=n), freq="D"):
        first = max(0.0, (day - start) / pd.Timedelta(hours=1))
        last = min(float(n), (day + pd.Timedelta(days=1) - start) / pd.Timedelta(hours=1))
        if day >= midnight and first < n:
            out.append(
                f'<line class="grid" x1="{x_of(first):.1f}" x2="{x_of(first):.1f}" y1="{TOP}" '
                f'y2="{base}"/>'
            )
        if last - first >= 12:  # a label needs half a day of room
            x = (x_of(first) + x_of(last)) / 2
            out.append(
                f'<text class="axis day" x="{x:.1f}" y="{base + 18}" text-anchor="middle">'
                f"{day:%a}</text>"
                f'<text class="axis day" x="{x:.1f}" y="{base + 33}" text-anchor="middle">'
                f"{day.day}</text>"
            )
    if expected is not None:
        out.append(
            f'<path class="expected" d="{_area(points(expected.low), points(expected.high))}"/>'
            f'<path class="expected-mid" d="{_path(points(expected.mid))}"/>'
        )
    out.append(f'<path class="line" d="{_path(points(values))}"/>')
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
