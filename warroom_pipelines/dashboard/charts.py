"""Charts as inline SVG: no chart library, no script, styled by the page's own CSS classes.

Hours without a value (no delivery, or a ratio with a zero denominator) break the line
instead of being drawn as zero, so a gap never reads as a collapse.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

import pandas as pd

from warroom_pipelines.dashboard.model import Band, Marker


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


def _scale(values: Sequence[float | None]) -> float:
    top = max((v for v in values if v is not None), default=0.0)
    return top * 1.1 if top > 0 else 1.0


def line_chart(
    values: Sequence[float | None],
    *,
    start: pd.Timestamp,
    title: str,
    fmt: Callable[[float], str],
    markers: Sequence[Marker] = (),
    bands: Sequence[Band] = (),
    width: int = 320,
    height: int = 120,
) -> str:
    """An hourly line with day gridlines, incident bands and anomaly markers."""
    left, right, top, bottom = 4, 4, 18, 16
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(len(values), 1)
    y_max = _scale(values)

    def x_of(i: float) -> float:
        return left + plot_w * i / n

    def y_of(v: float) -> float:
        return top + plot_h * (1 - v / y_max)

    out = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" data-chart="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for band in bands:
        out.append(
            f'<rect class="band sev-{escape(band.severity)}" x="{x_of(band.first_hour):.1f}" '
            f'y="{top}" width="{x_of(band.end_hour) - x_of(band.first_hour):.1f}" '
            f'height="{plot_h}"><title>{escape(band.label)}</title></rect>'
        )
    day = pd.Timedelta(days=1)
    midnight = start.ceil("D")
    while midnight < start + pd.Timedelta(hours=n):
        i = (midnight - start) / pd.Timedelta(hours=1)
        out.append(
            f'<line class="grid" x1="{x_of(i):.1f}" x2="{x_of(i):.1f}" y1="{top}" '
            f'y2="{top + plot_h}"/>'
        )
        if x_of(i) < width - 36:  # a label needs room before the right edge
            out.append(
                f'<text class="axis" x="{x_of(i) + 2:.1f}" y="{height - 4}">{midnight:%a %d}</text>'
            )
        midnight += day
    out.append(
        f'<line class="base" x1="{left}" x2="{width - right}" y1="{top + plot_h}" '
        f'y2="{top + plot_h}"/>'
        f'<text class="axis" x="{left}" y="12">{escape(fmt(y_max / 1.1))} max</text>'
    )
    points = [None if v is None else (x_of(i + 0.5), y_of(v)) for i, v in enumerate(values)]
    out.append(f'<path class="line" d="{_path(points)}"/>')
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
            y = top + plot_h
            out.append(
                f'<path class="mark sev-{escape(marker.severity)}" '
                f'd="M{x - 3.5:.1f} {y + 6:.1f}L{x:.1f} {y:.1f}L{x + 3.5:.1f} {y + 6:.1f}Z">'
                f"<title>{escape(marker.label)}</title></path>"
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
