"""The brand page's headline: Today, 7 days and 30 days, each against the period before it,
behind tabs that need no script (radio buttons and CSS), with blended ROAS per currency.

Amounts in different currencies are never added up: a brand whose accounts report in two
currencies gets each period's tiles once per currency, and the page says why.
"""

from __future__ import annotations

from warroom_pipelines.dashboard.markup import (
    EN_DASH,
    TIMES,
    channel_name,
    e,
    fmt,
    hour_text,
    money,
    raw_number,
)
from warroom_pipelines.dashboard.model import Blended, BrandView, Tile

# period -> (tab, panel title, what it is compared with)
PERIODS = {
    "today": ("Today", "Today so far", "vs same hours yesterday"),
    "week": ("7 days", "Last 7 days", "vs previous 7 days"),
    "month": ("30 days", "Last 30 days", "vs previous 30 days"),
}
DEFAULT_PERIOD = "today"

_SHOWN = ",".join(f"#period-{p}:checked~.panel-{p}" for p in PERIODS)
_ACTIVE = ",".join(f"#period-{p}:checked~.period-tabs label[for=period-{p}]" for p in PERIODS)
_FOCUSED = ",".join(
    f"#period-{p}:focus-visible~.period-tabs label[for=period-{p}]" for p in PERIODS
)
PERIODS_CSS = f"""
.periods>input{{position:absolute;opacity:0;pointer-events:none}}
.period-tabs{{display:flex;flex-wrap:wrap;gap:8px;margin:0 0 12px}}
.period-tabs label{{padding:6px 18px;border:1px solid var(--line);border-radius:999px;
cursor:pointer;color:var(--muted);font-weight:600;background:var(--panel)}}
.period-panel{{display:none}}
{_SHOWN}{{display:block}}
{_ACTIVE}{{background:var(--panel2);color:var(--text);border-color:var(--neutral)}}
{_FOCUSED}{{outline:2px solid var(--neutral);outline-offset:2px}}
.currency-note,.blended{{color:var(--muted);margin:0 0 10px}}
.blended b{{color:var(--text)}}
"""


def _tile(tile: Tile) -> str:
    against = PERIODS[tile.period][2]
    change = tile.change
    if not tile.comparable:
        delta = '<span class="delta">no comparison</span>: previous period only partly ingested'
    elif change is None:
        delta = f'<span class="delta">no comparison</span> {e(against)}'
    else:
        arrow = "▲" if change > 0 else ("▼" if change < 0 else "■")
        word = {"good": "better", "bad": "worse", "neutral": ""}[tile.verdict]
        delta = (
            f'<span class="delta">{arrow} {abs(change) * 100:.1f}% {word}</span> '
            f"{e(against)} ({e(fmt(tile.metric, tile.previous, currency=tile.currency))})"
        )
    value = fmt(tile.metric, tile.value, currency=tile.currency)
    # --chars: the value shrinks with its own length as well as its tile (the stylesheet).
    return (
        f'<div class="tile verdict-{tile.verdict}" style="--chars:{len(value)}" '
        f'data-tile="{e(tile.metric.name)}" '
        f'data-period="{e(tile.period)}" data-currency="{e(tile.currency)}" '
        f'data-value="{raw_number(tile.value)}" data-previous="{raw_number(tile.previous)}">'
        f'<div class="tile-label">{e(tile.metric.label)}</div>'
        f'<div class="tile-value">{e(value)}</div>'
        f'<div class="tile-change">{delta}</div></div>'
    )


def _blended(b: Blended) -> str:
    """Blended ROAS (MER) of the period in one currency, and the sums it comes from."""
    if not b.channels or b.roas is None:
        return ""
    names = [channel_name(c) for c in b.channels]
    over = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    return (
        f'<p class="blended" data-blended="{e(b.period)}" data-currency="{e(b.currency)}" '
        f'data-roas="{raw_number(b.roas)}" data-channels="{e(" ".join(b.channels))}">'
        f"Blended ROAS (MER) over {e(over)}: <b>{b.roas:.2f}{TIMES}</b> = conversion value "
        f"{e(money(b.conversion_value, b.currency))} ÷ spend {e(money(b.spend, b.currency))}</p>"
    )


def headline_section(view: BrandView) -> str:
    if not view.currencies:
        return '<div class="empty">No performance data for this brand in the last 60 days.</div>'
    windows = view.periods.named()
    note = ""
    if len(view.currencies) > 1:
        listed = f"{', '.join(view.currencies[:-1])} and {view.currencies[-1]}"
        note = (
            f'<p class="currency-note" data-currencies="{e(" ".join(view.currencies))}">'
            f"This brand's ad accounts report in {e(listed)}: every figure is per currency, "
            "and amounts in different currencies are never added up (no exchange rate is "
            "applied).</p>"
        )
    radios, tabs, panels = [], [], []
    for period, (tab, title, _) in PERIODS.items():
        checked = " checked" if period == DEFAULT_PERIOD else ""
        radios.append(
            f'<input type="radio" name="period" id="period-{period}" value="{period}"{checked}>'
        )
        tabs.append(f'<label for="period-{period}">{tab}</label>')
        window = windows[period]
        blocks = []
        for currency in view.currencies:
            heading = (
                f"{title} · {hour_text(window.start)} {EN_DASH} {hour_text(window.end)}"
                f" · {currency}"
            )
            cells = "".join(_tile(t) for t in view.tiles[currency] if t.period == period)
            blended = "".join(_blended(b) for b in view.blended[currency] if b.period == period)
            blocks.append(
                f'<div class="tiles"><div class="tiles-title">{e(heading)}</div>{cells}</div>'
                f"{blended}"
            )
        panel = "".join(blocks)
        panels.append(
            f'<div class="period-panel panel-{period}" data-panel="{period}">{panel}</div>'
        )
    return (
        f'{note}<div class="periods">{"".join(radios)}'
        f'<div class="period-tabs" role="group" aria-label="Period">{"".join(tabs)}</div>'
        f"{''.join(panels)}</div>"
    )
