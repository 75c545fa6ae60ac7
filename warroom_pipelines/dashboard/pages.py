"""The Command Center's HTML: one self-contained file per page, made for a big screen.

No script, no external font, image or stylesheet: the CSS is inline and the charts are inline
SVG, and a Content-Security-Policy forbids the page any request, so it renders the same
offline. Every text from the data (brand, campaign and channel names, errors) is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import partial
from html import escape
from urllib.parse import quote

import pandas as pd

from warroom_pipelines.channels import registry
from warroom_pipelines.dashboard.charts import line_chart, sparkline
from warroom_pipelines.dashboard.model import (
    ALL_CHANNELS,
    NOT_MONITORED,
    SPARK_HOURS,
    BrandSummary,
    BrandView,
    ChannelRow,
    Chart,
    Freshness,
    Tile,
)
from warroom_pipelines.metrics import CATALOGUE, Metric

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
REFRESH_SECONDS = 300
TIMES, EN_DASH = "\u00d7", "\u2013"
_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}
_PERIOD_TITLES = {"today": "Today so far", "week": "Last 7 days"}
_PERIOD_AGAINST = {"today": "vs same hours yesterday", "week": "vs previous 7 days"}

CSS = """
:root{--bg:#0b1020;--panel:#141b2f;--panel2:#1a2340;--line:#2a365a;--text:#e8edf7;
--muted:#a3afc9;--good:#3ddc97;--bad:#ff6b6b;--neutral:#8fb3ff;--info:#5cc8ff;
--warning:#ffb020;--critical:#ff4d6d;--series:#8fb3ff}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--text);font:16px/1.45 system-ui,-apple-system,
"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;font-variant-numeric:tabular-nums}
main{max-width:1800px;margin:0 auto;padding:24px clamp(12px,2.5vw,32px) 48px}
header{display:flex;flex-wrap:wrap;align-items:baseline;gap:8px 24px;margin-bottom:20px}
h1{font-size:clamp(1.6rem,4vw,2.2rem);margin:0;letter-spacing:.01em;overflow-wrap:anywhere}
h2{font-size:1.25rem;margin:28px 0 12px;color:var(--muted);font-weight:600;
text-transform:uppercase;letter-spacing:.08em}
h3{font-size:1.05rem;margin:0 0 8px}
a{color:var(--neutral)}
.meta{color:var(--muted)}
.pill{display:inline-block;padding:2px 12px;border-radius:999px;font-weight:700;
font-size:.9rem;text-transform:uppercase;letter-spacing:.06em;border:2px solid currentColor}
.pill.sev-critical{color:var(--critical)}.pill.sev-warning{color:var(--warning)}
.pill.sev-info{color:var(--info)}.pill.sev-none{color:var(--good)}
.pill.sev-unmonitored{color:var(--muted)}.pill.sev-nodata{color:var(--bad);border-color:var(--bad)}
.pill.sev-error,.pill.sev-datamissing{color:var(--bad);border-color:var(--bad)}
.demo-badge{display:inline-block;padding:1px 8px;margin:0 6px;border-radius:4px;font-size:12px;
font-weight:700;letter-spacing:.05em;color:var(--warning);border:1px solid var(--warning)}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(165px,100%),1fr));
gap:clamp(8px,1vw,14px);margin-bottom:10px}
.tiles-title{grid-column:1/-1;color:var(--muted);font-weight:600;margin-top:6px}
.tile{background:var(--panel);border:1px solid var(--line);border-left:6px solid var(--line);
border-radius:10px;padding:clamp(10px,1vw,14px) clamp(10px,1.2vw,18px);min-width:0;
container-type:inline-size}
.tile.verdict-good{border-left-color:var(--good)}.tile.verdict-bad{border-left-color:var(--bad)}
.tile.verdict-neutral{border-left-color:var(--neutral)}
.tile-label{color:var(--muted);font-weight:600;text-transform:uppercase;letter-spacing:.06em;
font-size:.85rem}
/* The value scales with its tile (cqi): a tile never lets a long amount out. */
.tile-value{font-size:clamp(1rem,12cqi,2.3rem);font-weight:700;line-height:1.2;margin:4px 0;
overflow-wrap:anywhere}
.tile-change{font-size:.95rem;color:var(--muted)}
.verdict-good .delta{color:var(--good)}.verdict-bad .delta{color:var(--bad)}
.verdict-neutral .delta{color:var(--neutral)}
.delta{font-weight:700}
.cols{display:grid;grid-template-columns:minmax(0,1fr);gap:0 24px}
.cols>section{min-width:0}
/* A table wider than a phone scrolls inside its own box; the page stays as wide as the screen. */
.table-wrap{overflow-x:auto;background:var(--panel);border-radius:10px}
table{width:100%;border-collapse:collapse}
th,td{padding:9px 12px;text-align:left;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--muted);font-size:.8rem;text-transform:uppercase;letter-spacing:.06em;
background:var(--panel2)}
td.num,th.num{text-align:right}
td.error{overflow-wrap:anywhere;min-width:14em}
tr:last-child td{border-bottom:0}
.sev{font-weight:700;text-transform:uppercase;font-size:.85rem}
.sev.sev-critical{color:var(--critical)}.sev.sev-warning{color:var(--warning)}
.sev.sev-info{color:var(--info)}
.status-open{color:var(--text);font-weight:700}.status-resolved{color:var(--muted)}
.fresh-ok{color:var(--good)}.fresh-stale{color:var(--warning)}.fresh-error{color:var(--bad)}
.fresh-not-connected{color:var(--muted)}
.empty{background:var(--panel);border:1px dashed var(--line);border-radius:10px;padding:16px;
color:var(--muted)}
.chart-row{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(330px,100%),1fr));
gap:10px;margin-bottom:14px}
.chart-row .who{font-weight:700;grid-column:1/-1}
.chart-cell{background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:4px}
.chart-cell .name{font-size:.8rem;color:var(--muted);padding:0 4px}
svg.chart{display:block;width:100%;height:auto}
svg .line{fill:none;stroke:var(--series);stroke-width:1.6;stroke-linejoin:round}
svg .grid{stroke:var(--line);stroke-width:1}
svg .base{stroke:var(--muted);stroke-width:1}
svg .axis{fill:var(--muted);font-size:10px}
svg .band{opacity:.22}
svg .band.sev-critical,svg .mark.sev-critical{fill:var(--critical)}
svg .band.sev-warning,svg .mark.sev-warning{fill:var(--warning)}
svg .band.sev-info,svg .mark.sev-info{fill:var(--info)}
svg .mark{stroke:var(--bg);stroke-width:1}
svg.spark .line{stroke-width:1.4}
svg.spark.sev-critical .line{stroke:var(--critical)}
svg.spark.sev-warning .line{stroke:var(--warning)}
.legend{color:var(--muted);font-size:.9rem;margin:-4px 0 12px}
.legend b.c{color:var(--critical)}.legend b.w{color:var(--warning)}.legend b.i{color:var(--info)}
footer{margin-top:36px;color:var(--muted);font-size:.85rem}
@media (min-width:1700px){.cols{grid-template-columns:minmax(0,3fr) minmax(0,2fr)}}
"""


def e(value: object) -> str:
    """Escape any value for HTML text or a quoted attribute."""
    return escape("" if value is None else str(value), quote=True)


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def money(value: float | None, currency: str) -> str:
    if _missing(value):
        return "—"
    symbol = _SYMBOLS.get(currency)
    text = f"{value:,.2f}"
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


def fmt(metric: Metric, value: float | None, *, currency: str) -> str:
    if _missing(value):
        return "—"
    assert value is not None
    if metric.format == "money":
        return money(value, currency)
    if metric.format == "count":
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    if metric.format == "percent":
        return f"{value * 100:.2f}%"
    return f"{value:.2f}{TIMES}"


def _raw(value: float | None) -> str:
    """The exact number, for machines (tests, scrapers) reading the page."""
    return "" if _missing(value) else repr(float(value))  # type: ignore[arg-type]


def channel_name(channel: str) -> str:
    if channel == ALL_CHANNELS:
        return "All channels"
    return registry.label(channel)


def _hour(ts: pd.Timestamp | None) -> str:
    return "—" if ts is None or pd.isna(ts) else f"{pd.Timestamp(ts):%a %d %b %H:00} UTC"


def _minute(ts: pd.Timestamp | None) -> str:
    return "—" if ts is None or pd.isna(ts) else f"{pd.Timestamp(ts):%a %d %b %H:%M} UTC"


def _document(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{e(CSP)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}">'
        '<meta name="color-scheme" content="dark">'
        f"<title>{e(title)}</title><style>{CSS}</style></head>"
        f"<body><main>{body}</main></body></html>\n"
    )


def _table(kind: str, head: str, rows: list[str]) -> str:
    return (
        f'<div class="table-wrap"><table class="{kind}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _tile(tile: Tile) -> str:
    change = tile.change
    if not tile.comparable:
        delta = '<span class="delta">no comparison</span>: previous period only partly ingested'
    elif change is None:
        delta = f'<span class="delta">no comparison</span> {e(_PERIOD_AGAINST[tile.period])}'
    else:
        arrow = "▲" if change > 0 else ("▼" if change < 0 else "■")
        word = {"good": "better", "bad": "worse", "neutral": ""}[tile.verdict]
        delta = (
            f'<span class="delta">{arrow} {abs(change) * 100:.1f}% {word}</span> '
            f"{e(_PERIOD_AGAINST[tile.period])} "
            f"({e(fmt(tile.metric, tile.previous, currency=tile.currency))})"
        )
    return (
        f'<div class="tile verdict-{tile.verdict}" data-tile="{e(tile.metric.name)}" '
        f'data-period="{e(tile.period)}" data-currency="{e(tile.currency)}" '
        f'data-value="{_raw(tile.value)}" data-previous="{_raw(tile.previous)}">'
        f'<div class="tile-label">{e(tile.metric.label)}</div>'
        f'<div class="tile-value">{e(fmt(tile.metric, tile.value, currency=tile.currency))}</div>'
        f'<div class="tile-change">{delta}</div></div>'
    )


def _tiles(view: BrandView) -> str:
    if not view.currencies:
        return '<div class="empty">No performance data for this brand in the last 14 days.</div>'
    out = []
    for currency, tiles in view.tiles.items():
        for period in ("today", "week"):
            window = view.periods.today if period == "today" else view.periods.week
            title = (
                f"{_PERIOD_TITLES[period]} · {_hour(window.start)} {EN_DASH} {_hour(window.end)}"
                f" · {currency}"
            )
            cells = "".join(_tile(t) for t in tiles if t.period == period)
            out.append(f'<div class="tiles"><div class="tiles-title">{e(title)}</div>{cells}</div>')
    return "".join(out)


def _change(now: float | None, before: float | None) -> str:
    if _missing(now) or _missing(before) or not before:
        return "—"
    assert now is not None and before is not None
    return f"{(now - before) / abs(before) * 100:+.1f}%"


def _channels(rows: Iterable[ChannelRow]) -> str:
    body = []
    for row in rows:
        w, c = row.week, row.currency

        def cell(key: str, w: dict[str, float | None] = w, c: str = c) -> str:
            return f'<td class="num">{e(fmt(CATALOGUE[key], w.get(key), currency=c))}</td>'

        def change(key: str, row: ChannelRow = row) -> str:
            return _change(row.week.get(key), row.prior_week.get(key)) if row.comparable else "—"

        share = "—" if row.share_of_spend is None else f"{row.share_of_spend * 100:.0f}%"
        body.append(
            f'<tr data-channel="{e(row.channel)}"><td>{e(channel_name(row.channel))}</td>'
            f"<td>{e(c)}</td>"
            f'<td class="num">{e(money(row.today.get("spend"), c))}</td>'
            f'<td class="num" data-value="{_raw(w.get("spend"))}">'
            f"{e(money(w.get('spend'), c))}</td>"
            f'<td class="num">{share}</td>'
            f'<td class="num">{change("spend")}</td>'
            f"{cell('conversions')}"
            f"{cell('cpa')}"
            f'<td class="num">{change("cpa")}</td>'
            f"{cell('roas')}"
            f"{cell('ctr')}"
            f'<td class="num">{e(money(w.get("cpc"), c))}</td></tr>'
        )
    if not body:
        return '<div class="empty">No channel delivered in the last 7 days.</div>'
    head = "".join(
        f'<th class="{"num" if i > 1 else ""}">{h}</th>'
        for i, h in enumerate(
            [
                "Channel",
                "Currency",
                "Spend today",
                "Spend 7 d",
                "Share",
                "vs prev 7 d",
                "Conv. 7 d",
                "CPA 7 d",
                "CPA vs prev",
                "ROAS 7 d",
                "CTR 7 d",
                "CPC 7 d",
            ]
        )
    )
    return _table("channels", head, body)


def _incidents(view: BrandView) -> str:
    incidents = view.incidents
    if incidents is None:
        return (
            '<div class="empty" data-incidents="none">No anomaly detection yet: incidents '
            "appear here once the Sentry has scored this brand.</div>"
        )
    if not incidents:
        return (
            '<div class="empty" data-incidents="0">No open or recent incidents in the last '
            "7 days.</div>"
        )
    rows = []
    for r in incidents:
        where = channel_name(r.channel or ALL_CHANNELS)
        if r.level == "campaign":
            where += f" · {r.campaign_name or r.campaign_id}"
        ended = "ongoing" if r.ended_at is None else _hour(r.ended_at)
        rows.append(
            f'<tr id="incident-{e(r.incident_id)}" data-incident="{e(r.incident_id)}">'
            f'<td class="status-{e(r.status)}">{e(r.status)}</td>'
            f'<td><span class="sev sev-{e(r.severity)}">{e(r.severity)}</span></td>'
            f"<td>{e(r.anomaly_type.replace('_', ' '))}</td><td>{e(where)}</td>"
            f"<td>{e(_hour(r.started_at))}</td><td>{e(ended)}</td>"
            f'<td class="num">{e(money(r.money_at_stake, r.currency))}</td>'
            f"<td>{e(r.alert or '—')}</td></tr>"
        )
    head = (
        "".join(
            f"<th>{h}</th>" for h in ["Status", "Severity", "Type", "Where", "Started", "Ended"]
        )
        + '<th class="num">Money at stake</th>'
        "<th>Alert</th>"
    )
    return (
        f'<div class="table-wrap"><table class="incidents" data-incidents="{len(incidents)}">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _freshness(items: Iterable[Freshness]) -> str:
    rows = []
    for f in items:
        status = f.status.replace(" ", "-")
        rows.append(
            f'<tr data-freshness="{e(f.channel)}"><td>{e(channel_name(f.channel))}</td>'
            f'<td class="fresh-{e(status)}">{e(f.status)}</td>'
            f"<td>{e(_hour(f.last_hour_start))}</td>"
            f"<td>{e(_minute(f.last_ingested_at))}</td>"
            f'<td class="error">{e(f.error or "—")}</td></tr>'
        )
    head = "".join(
        f"<th>{h}</th>"
        for h in ["Channel", "Status", "Last hour ingested", "Ingested at", "Last ingestion error"]
    )
    return _table("freshness", head, rows)


def _charts(view: BrandView) -> str:
    if not view.charts:
        return '<div class="empty">No hourly data in the last 7 days.</div>'
    groups: dict[tuple[str, str], list[Chart]] = {}
    for chart in view.charts:
        groups.setdefault((chart.channel, chart.currency), []).append(chart)
    several = len(view.currencies) > 1
    out = [
        '<p class="legend">Shaded: incidents (<b class="c">critical</b>, <b class="w">warning'
        '</b>, <b class="i">info</b>). Dots: anomalous hours of the series; triangles on the '
        "axis: anomalous hours of a single campaign. Hover for details.</p>"
    ]
    for (channel, currency), charts in groups.items():
        label = channel_name(channel) + (f" ({currency})" if several else "")
        cells = []
        for chart in charts:
            title = f"{label}: {chart.metric.label} per hour, last 7 days"
            svg = line_chart(
                chart.values,
                start=view.periods.week.start,
                title=title,
                fmt=partial(fmt, chart.metric, currency=currency),
                markers=chart.markers,
                bands=chart.bands,
            )
            cells.append(
                f'<div class="chart-cell"><div class="name">{e(chart.metric.label)}'
                f"</div>{svg}</div>"
            )
        out.append(
            f'<div class="chart-row" data-chart-row="{e(channel or "all")}">'
            f'<div class="who">{e(label)}</div>{"".join(cells)}</div>'
        )
    return "".join(out)


def brand_page(view: BrandView, *, overview_href: str = "../index.html") -> str:
    """One brand's page; it is built from that brand's data only."""
    status = view.status
    currencies = ", ".join(view.currencies) or "no data"
    body = (
        f"<header><h1>{e(view.brand)}</h1>{_demo_badge(view.demo)}"
        f'<span class="pill sev-{e(status.key)}" '
        f'data-severity="{e(view.worst_severity)}" data-status="{e(status.key)}">'
        f"{e(status.label)}</span>"
        f'<span class="meta">Currency: {e(currencies)} · data to {e(_hour(view.periods.end))} · '
        f'built {view.generated_at:%Y-%m-%d %H:%M} UTC · <a href="{e(overview_href)}">'
        "all brands</a></span></header>"
        f'<section aria-label="Headline">{_tiles(view)}</section>'
        '<div class="cols"><section><h2>Incidents (open and last 7 days)</h2>'
        f"{_incidents(view)}</section>"
        f"<section><h2>Data freshness</h2>{_freshness(view.freshness)}</section></div>"
        f"<section><h2>Channels</h2>{_channels(view.channels)}</section>"
        f"<section><h2>Hourly trend, last 7 days (UTC)</h2>{_charts(view)}</section>"
        "<footer>War Room · Command Center. Ratios are computed from the period's totals. "
        "Spend is shown without a good/bad colour: its level is a budget decision.</footer>"
    )
    return _document(f"{view.brand} · War Room", body)


def _demo_badge(demo: bool) -> str:
    """Marks a demo brand wherever it is shown: its numbers are invented, not an account's."""
    if not demo:
        return ""
    return (
        '<span class="demo-badge" data-demo="true" title="invented by the demo source">DEMO</span>'
    )


def brand_file(brand: str) -> str:
    """The brand page's file name, safe for any brand key (no path separator survives)."""
    return f"{quote(brand, safe='')}.html"


def overview_page(
    summaries: Iterable[BrandSummary],
    *,
    generated_at: pd.Timestamp,
    end: pd.Timestamp,
    brands_dir: str = "brands",
) -> str:
    """Every brand in one table, worst current severity first."""
    rows = []
    for s in summaries:
        href = f"{brands_dir}/{quote(brand_file(s.brand))}"
        status = s.status
        label = {"none": "clear", NOT_MONITORED: "no detection yet"}.get(status.key, status.label)
        money_text = money(s.money_at_stake, s.currency) if s.open_incidents else "—"
        spark = sparkline(
            s.sparkline,
            title=f"{s.brand}: spend per {SPARK_HOURS} hours, last 7 days",
            severity=s.worst_severity,
        )
        rows.append(
            f'<tr data-brand="{e(s.brand)}" data-severity="{e(s.worst_severity)}" '
            f'data-status="{e(status.key)}">'
            f'<td><span class="pill sev-{e(status.key)}">{e(label)}</span></td>'
            f'<td><a href="{e(href)}">{e(s.brand)}</a>{_demo_badge(s.demo)}</td>'
            f'<td class="num">{s.open_incidents}</td><td class="num">{e(money_text)}</td>'
            f'<td class="num">{e(money(s.spend_today, s.currency))}</td>'
            f'<td class="num">{_change(s.spend_today, s.spend_yesterday)}</td>'
            f'<td class="num" data-value="{_raw(s.spend_week)}">'
            f"{e(money(s.spend_week, s.currency))}</td>"
            f'<td class="num">{e(money(s.cpa_week, s.currency))}</td>'
            f'<td class="num">{"—" if _missing(s.roas_week) else f"{s.roas_week:.2f}{TIMES}"}</td>'
            f"<td>{spark}</td>"
            f"<td>{e(_hour(s.last_hour_start))}</td></tr>"
        )
    head = (
        '<th>Status</th><th>Brand</th><th class="num">Open incidents</th>'
        '<th class="num">Money at stake</th><th class="num">Spend today</th>'
        '<th class="num">vs yesterday</th><th class="num">Spend 7 d</th>'
        '<th class="num">CPA 7 d</th><th class="num">ROAS 7 d</th>'
        f"<th>Spend per {SPARK_HOURS} h, 7 d</th>"
        "<th>Last hour ingested</th>"
    )
    table = (
        _table("overview", head, rows)
        if rows
        else '<div class="empty">No brands yet: run <code>warroom demo</code>.</div>'
    )
    body = (
        f'<header><h1>War Room · all brands</h1><span class="meta">data to {e(_hour(end))} · '
        f"built {generated_at:%Y-%m-%d %H:%M} UTC · sorted by worst open incident</span></header>"
        f"{table}<footer>War Room · Command Center. Each brand's amounts are in its own "
        "currency.</footer>"
    )
    return _document("War Room · all brands", body)
