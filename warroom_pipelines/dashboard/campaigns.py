"""The brand page's campaign table and pacing: where the money went this week, what changed
against last week, which campaign has an open incident, and how far into its daily budget
each campaign and channel is today."""

from __future__ import annotations

from warroom_pipelines.dashboard.campaign_rows import CampaignRow, CampaignTable
from warroom_pipelines.dashboard.markup import (
    channel_name,
    e,
    fmt,
    html_table,
    money,
    raw_number,
)
from warroom_pipelines.dashboard.pacing import CampaignPacing, ChannelPacing

CAMPAIGNS_CSS = """
td .delta{display:block;font-size:.8rem;font-weight:600;color:var(--muted)}
td.verdict-good .delta{color:var(--good)}td.verdict-bad .delta{color:var(--bad)}
.pace-over{color:var(--bad);font-weight:700}.pace-reached{color:var(--warning);font-weight:700}
.pace-note{color:var(--muted);font-size:.8rem;display:block}
tr.others td{color:var(--muted);font-style:italic}
"""
_METRIC_HEADS = ("Spend", "Conv.", "CPA", "ROAS", "CTR")
_NO_SPEND_TODAY = '<div class="empty">No spend today.</div>'
_STATE_WORDS = {"over": "over budget", "reached": "budget reached", "pacing": "pacing"}


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def _metric_cells(row: CampaignRow) -> str:
    out = []
    for tile in row.cells:
        change = tile.change
        delta = "new" if tile.previous is None and tile.value else "—"
        if change is not None:
            delta = f"{change * 100:+.1f}%"
        out.append(
            f'<td class="num verdict-{tile.verdict}" data-metric="{tile.metric.name}" '
            f'data-value="{raw_number(tile.value)}">'
            f"{e(fmt(tile.metric, tile.value, currency=tile.currency))}"
            f'<span class="delta">{e(delta)}</span></td>'
        )
    return "".join(out)


def _pacing_cell(p: CampaignPacing | None, currency: str) -> str:
    if p is None or p.state == "no budget":
        spent = "—" if p is None else money(p.spend_today, currency)
        return (
            f'<td class="num" data-pace="no budget">{e(spent)}'
            '<span class="pace-note">no budget known</span></td>'
        )
    note = f"{_STATE_WORDS[p.state]} · {p.day_elapsed * 100:.0f}% of its day gone"
    return (
        f'<td class="num pace-{p.state}" data-pace="{p.state}" '
        f'data-spend-today="{raw_number(p.spend_today)}" '
        f'data-budget="{raw_number(p.daily_budget)}">'
        f"{e(money(p.spend_today, currency))} of {e(money(p.daily_budget, currency))} "
        f'({_share(p.spent_share)})<span class="pace-note">{e(note)}</span></td>'
    )


def _incident_cell(row: CampaignRow) -> str:
    i = row.incident
    if i is None:
        return "<td>—</td>"
    return (
        f'<td data-open-incident="{e(i.incident_id)}"><a href="#incident-{e(i.incident_id)}">'
        f'<span class="sev sev-{e(i.severity)}">{e(i.severity)}</span> '
        f"{e(i.anomaly_type.replace('_', ' '))}</a></td>"
    )


def _campaign_row(row: CampaignRow, currency: str) -> str:
    return (
        f'<tr data-campaign="{e(row.campaign_id)}" data-campaign-channel="{e(row.channel)}">'
        f"<td>{e(row.campaign_name)}</td><td>{e(channel_name(row.channel))}</td>"
        f"{_metric_cells(row)}{_pacing_cell(row.pacing, currency)}{_incident_cell(row)}</tr>"
    )


def _channel_rows(channels: list[ChannelPacing]) -> str:
    if not channels:
        return ""
    rows = []
    for c in channels:
        without = f" · {c.without_budget} without a known budget" if c.without_budget else ""
        budget = (
            f"{money(c.spend_today, c.currency)} of {money(c.daily_budget, c.currency)} "
            f"({_share(c.spent_share)})"
            if c.campaigns
            else "no budget known"
        )
        rows.append(
            f'<tr data-pacing-channel="{e(c.channel)}" '
            f'data-spend-today="{raw_number(c.spend_today)}" '
            f'data-budget="{raw_number(c.daily_budget)}"><td>{e(channel_name(c.channel))}</td>'
            f'<td class="num">{e(budget)}</td>'
            f'<td class="num">{c.reached} of {c.campaigns}{e(without)}</td></tr>'
        )
    head = (
        '<th>Channel</th><th class="num">Spent today of daily budgets</th>'
        '<th class="num">Campaigns at budget</th>'
    )
    return html_table("pacing", head, rows)


def campaigns_section(tables: list[CampaignTable]) -> str:
    if not tables:
        return '<div class="empty">No campaign delivered in the last 7 days.</div>'
    head = (
        "<th>Campaign</th><th>Channel</th>"
        + "".join(f'<th class="num">{h} 7 d</th>' for h in _METRIC_HEADS)
        + '<th class="num">Today vs daily budget</th><th>Open incident</th>'
    )
    out = []
    for table in tables:
        rows = [_campaign_row(r, table.currency) for r in table.rows]
        if table.others is not None:
            rows.append(
                f'<tr class="others" data-others="{table.others_count}">'
                f"<td>{e(table.others.campaign_name)}</td><td>—</td>"
                f"{_metric_cells(table.others)}<td>—</td><td>—</td></tr>"
            )
        out.append(
            f'<div class="campaigns" data-currency="{e(table.currency)}">'
            f"<h3>Pacing today ({e(table.currency)}, each account's own day)</h3>"
            f"{_channel_rows(table.channels) or _NO_SPEND_TODAY}"
            f"<h3>Campaigns by spend, last 7 days vs previous 7 days ({e(table.currency)})</h3>"
            f"{html_table('campaigns', head, rows)}</div>"
        )
    return "".join(out)
