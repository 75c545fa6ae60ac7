"""How the pages write values: escaping, money in its currency, metrics, hours, tables.

Shared by the page layout (`pages`) and the sections in their own modules (periods,
campaigns, incidents), so that every section writes a number or an hour the same way.
"""

from __future__ import annotations

import math
from html import escape

import pandas as pd

from warroom_pipelines.channels import registry
from warroom_pipelines.dashboard.model import ALL_CHANNELS
from warroom_pipelines.metrics import Metric

TIMES, EN_DASH = "\u00d7", "\u2013"
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}


def e(value: object) -> str:
    """Escape any value for HTML text or a quoted attribute."""
    return escape("" if value is None else str(value), quote=True)


def is_missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def money(value: float | None, currency: str) -> str:
    if is_missing(value):
        return "—"
    symbol = SYMBOLS.get(currency)
    text = f"{value:,.2f}"
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


def fmt(metric: Metric, value: float | None, *, currency: str) -> str:
    if is_missing(value):
        return "—"
    assert value is not None
    if metric.format == "money":
        return money(value, currency)
    if metric.format == "count":
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    if metric.format == "percent":
        return f"{value * 100:.2f}%"
    return f"{value:.2f}{TIMES}"


def raw_number(value: float | None) -> str:
    """The exact number, for machines (tests, scrapers) reading the page."""
    return "" if is_missing(value) else repr(float(value))  # type: ignore[arg-type]


def channel_name(channel: str) -> str:
    if channel == ALL_CHANNELS:
        return "All channels"
    return registry.label(channel)


def hour_text(ts: pd.Timestamp | None) -> str:
    return "—" if ts is None or pd.isna(ts) else f"{pd.Timestamp(ts):%a %d %b %H:00} UTC"


def minute_text(ts: pd.Timestamp | None) -> str:
    return "—" if ts is None or pd.isna(ts) else f"{pd.Timestamp(ts):%a %d %b %H:%M} UTC"


def html_table(kind: str, head: str, rows: list[str]) -> str:
    """A table in its own scrolling box: a wide table never widens the page."""
    return (
        f'<div class="table-wrap"><table class="{kind}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def change_text(now: float | None, before: float | None) -> str:
    """The relative change, signed, or a dash where there is nothing to compare."""
    if is_missing(now) or is_missing(before) or not before:
        return "—"
    assert now is not None and before is not None
    return f"{(now - before) / abs(before) * 100:+.1f}%"
