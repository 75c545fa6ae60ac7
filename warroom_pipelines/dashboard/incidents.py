"""The brand page's incidents: the open ones first, worst first; the rest of the last 7 days
folded away, so the page stays short however many incidents a bad week brings.

Every listed incident keeps its `incident-<id>` anchor, which alerts link to (a browser opens
the folded list that holds the anchor). Past the limits the page says how many it leaves out
and how to list them all.
"""

from __future__ import annotations

from warroom_pipelines.dashboard.markup import (
    channel_name,
    e,
    hour_text,
    html_table,
    money,
)
from warroom_pipelines.dashboard.model import ALL_CHANNELS, BrandView, Incident, status_rank

OPEN_SHOWN = 10  # open incidents in view; more open ones are folded below them
FOLDED_LIMIT = 150  # rows in each folded list; the page counts the rest
_HEAD = (
    "".join(f"<th>{h}</th>" for h in ["Status", "Severity", "Type", "Where", "Started", "Ended"])
    + '<th class="num">Money at stake</th><th>Alert</th>'
)

INCIDENTS_CSS = """
details.incidents-more{margin-top:10px;background:var(--panel);border:1px solid var(--line);
border-radius:10px}
details.incidents-more>summary{cursor:pointer;padding:10px 14px;font-weight:600;color:var(--muted)}
details.incidents-more[open]>summary{border-bottom:1px solid var(--line)}
.incidents-note{color:var(--muted);font-size:.9rem;margin:8px 0 0}
"""


def _row(r: Incident) -> str:
    where = channel_name(r.channel or ALL_CHANNELS)
    if r.level == "campaign":
        where += f" · {r.campaign_name or r.campaign_id}"
    ended = "ongoing" if r.ended_at is None else hour_text(r.ended_at)
    return (
        f'<tr id="incident-{e(r.incident_id)}" data-status="{e(r.status)}" '
        f'data-incident="{e(r.incident_id)}">'
        f'<td class="status-{e(r.status)}">{e(r.status)}</td>'
        f'<td><span class="sev sev-{e(r.severity)}">{e(r.severity)}</span></td>'
        f"<td>{e(r.anomaly_type.replace('_', ' '))}</td><td>{e(where)}</td>"
        f"<td>{e(hour_text(r.started_at))}</td><td>{e(ended)}</td>"
        f'<td class="num">{e(money(r.money_at_stake, r.currency))}</td>'
        f"<td>{e(r.alert or '—')}</td></tr>"
    )


def _folded(kind: str, title: str, rows: list[Incident], brand: str) -> str:
    if not rows:
        return ""
    shown = rows[:FOLDED_LIMIT]
    left = len(rows) - len(shown)
    note = (
        f'<p class="incidents-note">{left} more not listed. All of them: <code>warroom sql '
        f"&quot;SELECT * FROM performance_anomalies WHERE brand = &#x27;{e(brand)}&#x27;&quot;"
        "</code></p>"
        if left
        else ""
    )
    return (
        f'<details class="incidents-more" data-folded="{kind}" data-count="{len(rows)}">'
        f"<summary>{e(title)} ({len(rows)})</summary>"
        f"{html_table('incidents', _HEAD, [_row(r) for r in shown])}{note}</details>"
    )


def incidents_section(view: BrandView) -> str:
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
    open_ = sorted(
        (i for i in incidents if i.status == "open"),
        key=lambda i: (-status_rank(i.severity), -i.money_at_stake, i.started_at),
    )
    resolved = sorted(
        (i for i in incidents if i.status != "open"),
        key=lambda i: i.last_anomalous_hour,
        reverse=True,
    )
    first = (
        html_table("incidents", _HEAD, [_row(r) for r in open_[:OPEN_SHOWN]])
        if open_
        else '<div class="empty">No open incident.</div>'
    )
    return (
        f'<div data-incidents="{len(incidents)}" data-open="{len(open_)}">{first}'
        f"{_folded('open', 'More open incidents', open_[OPEN_SHOWN:], view.brand)}"
        f"{_folded('resolved', 'Resolved in the last 7 days', resolved, view.brand)}</div>"
    )
