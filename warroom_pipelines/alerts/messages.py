"""What a brand reads: one incident rendered for Slack, email, webhooks and the file sink.

Every rendering carries the incident id and version, so an update or a resolution is read as
a follow-up of the same incident (email threads on it with In-Reply-To/References).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from warroom_pipelines.alerts.incidents import Incident, MessageKind
from warroom_pipelines.metrics import CATALOGUE

DOCUMENT_SCHEMA = "warroom.alert/v1"
_KIND_TITLE = {
    "open": "New incident",
    "update": "Incident got worse",
    "resolved": "Incident resolved",
}
_SEVERITY_EMOJI = {
    "info": ":information_source:",
    "warning": ":warning:",
    "critical": ":rotating_light:",
}


@dataclass(frozen=True)
class IncidentNotice:
    """One version of an incident, addressed to the incident's brand."""

    incident: Incident
    kind: MessageKind
    version: int
    run_url: str
    dashboard_url: str

    @property
    def notice_id(self) -> str:
        return self.incident.incident_id

    @property
    def brand(self) -> str:
        return self.incident.brand

    @property
    def severity(self) -> str:
        return self.incident.severity

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "incident",
            "incident": self.incident.to_dict(),
            "kind": self.kind,
            "version": self.version,
            "run_url": self.run_url,
            "dashboard_url": self.dashboard_url,
        }


@dataclass(frozen=True)
class FailureNotice:
    """A pipeline run failed: the platform team hears the job, brand, day and error."""

    run_id: str
    job: str
    brand: str
    date: str
    error: str  # already scrubbed of URLs and secrets
    run_url: str
    kind: MessageKind = "open"
    version: int = 1
    severity: str = "critical"
    scope: str = ""  # what failed within the run, when not the run itself (one notice each)

    @property
    def notice_id(self) -> str:
        return f"run-failure-{self.run_id}" + (f"-{self.scope}" if self.scope else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "run_failure",
            "run_id": self.run_id,
            "job": self.job,
            "brand": self.brand,
            "date": self.date,
            "error": self.error,
            "run_url": self.run_url,
            "scope": self.scope,
        }


Notice = IncidentNotice | FailureNotice


def notice_from_dict(data: dict[str, Any]) -> Notice:
    """Rebuild a stored notice (the delivery log keeps it to re-send the same version)."""
    if data["type"] == "incident":
        return IncidentNotice(
            incident=Incident.from_dict(data["incident"]),
            kind=data["kind"],
            version=int(data["version"]),
            run_url=data["run_url"],
            dashboard_url=data["dashboard_url"],
        )
    if data["type"] == "run_failure":
        return FailureNotice(**{k: v for k, v in data.items() if k != "type"})
    raise ValueError(f"unknown notice type {data['type']!r}")


def format_value(metric: str, value: float, currency: str) -> str:
    """A value in the metric's catalogue format, plain text for every destination."""
    form = CATALOGUE[metric].format
    if form == "percent":
        return f"{value:.2%}"
    if form == "money":
        return f"{currency} {value:,.2f}".strip()
    if form == "multiple":
        return f"{value:.2f}x"
    return f"{value:,.0f}"


def _where(incident: Incident) -> str:
    if incident.level == "brand" or not incident.channel:
        return "all channels"
    if incident.campaign_id:
        name = incident.campaign_name or incident.campaign_id
        return f"{incident.channel} / {name}"
    return incident.channel


def _facts(incident: Incident) -> list[tuple[str, str]]:
    metric, currency = incident.metric, incident.currency
    ended = incident.incident_end.isoformat() if incident.incident_end else "ongoing"
    return [
        ("Brand", incident.brand),
        ("Channel", incident.channel or "all channels"),
        ("Campaign", incident.campaign_name or incident.campaign_id or "all campaigns"),
        ("Anomaly", incident.anomaly_type.replace("_", " ")),
        ("Observed", f"{metric} {format_value(metric, incident.observed, currency)}"),
        (
            "Expected",
            f"{format_value(metric, incident.expected, currency)} (normal range "
            f"{format_value(metric, incident.expected_low, currency)} to "
            f"{format_value(metric, incident.expected_high, currency)})",
        ),
        ("Severity", incident.severity),
        ("Money at stake", f"{currency} {incident.money_at_stake:,.2f}".strip()),
        ("Hours", f"{incident.hours} (since {incident.incident_start.isoformat()}, until {ended})"),
    ]


def title(notice: Notice) -> str:
    if isinstance(notice, FailureNotice):
        partition = f" for {notice.brand} {notice.date}" if notice.brand else ""
        return f"[War Room] Pipeline failure: {notice.job}{partition}"
    incident = notice.incident
    return (
        f"[War Room] {_KIND_TITLE[notice.kind]} ({incident.severity}): {incident.brand} - "
        f"{incident.anomaly_type.replace('_', ' ')} on {_where(incident)}"
    )


def _lines(notice: Notice) -> list[tuple[str, str]]:
    if isinstance(notice, FailureNotice):
        return [
            ("Job", notice.job),
            ("Brand", notice.brand or "-"),
            ("Date", notice.date or "-"),
            ("Error", notice.error),
        ]
    version = f"{notice.notice_id} (version {notice.version})"
    return [("Incident", version), *_facts(notice.incident)]


def _links(notice: Notice) -> list[tuple[str, str]]:
    links = [("Dagster run", notice.run_url)]
    if isinstance(notice, IncidentNotice):
        links.append(("Dashboard", notice.dashboard_url))
    return [(label, url) for label, url in links if url]


def slack_escape(text: str) -> str:
    """Slack's control characters as entities, so that text from an ad platform (campaign
    names) cannot mention `<!channel>` or disguise a link `<https://…|…>` in mrkdwn."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(notice: Notice) -> dict[str, Any]:
    """Block Kit for a Slack incoming webhook; `text` is the notification fallback. The
    header is plain_text (shown as is); every mrkdwn text is escaped."""
    emoji = _SEVERITY_EMOJI.get(notice.severity, "")
    fields = [
        {"type": "mrkdwn", "text": f"*{label}*\n{slack_escape(value)}"}
        for label, value in _lines(notice)
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title(notice)[:150]}},
    ]
    # Block Kit allows at most 10 fields per section.
    for start in range(0, len(fields), 10):
        blocks.append({"type": "section", "fields": fields[start : start + 10]})
    links = " | ".join(f"<{url}|{label}>" for label, url in _links(notice))
    if links:
        links_text = {"type": "mrkdwn", "text": f"{emoji} {links}"}
        blocks.append({"type": "context", "elements": [links_text]})
    return {"text": slack_escape(title(notice)), "blocks": blocks}


def webhook_document(notice: Notice, idempotency_key: str) -> dict[str, Any]:
    """The versioned JSON document that webhooks and the file sink receive."""
    return {
        "schema": DOCUMENT_SCHEMA,
        "idempotency_key": idempotency_key,
        "incident_id": notice.notice_id,
        "brand": notice.brand,
        "kind": notice.kind,
        "version": notice.version,
        "severity": notice.severity,
        "title": title(notice),
        "links": {label.lower().replace(" ", "_"): url for label, url in _links(notice)},
        "notice": notice.to_dict(),
    }


def message_id(key: str) -> str:
    """An RFC 5322 Message-ID derived from the idempotency key (mail systems dedup on it)."""
    return f"<{re.sub(r'[^A-Za-z0-9.-]', '.', key)}@warroom.alerts>"


def email_message(
    notice: Notice, idempotency_key: str, first_key: str, sender: str, recipients: list[str]
) -> EmailMessage:
    """Plain text and HTML; follow-ups thread on the first version's Message-ID."""
    message = EmailMessage()
    message["Subject"] = title(notice)
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id(idempotency_key)
    message["X-WarRoom-Idempotency-Key"] = idempotency_key
    if first_key != idempotency_key:
        message["In-Reply-To"] = message_id(first_key)
        message["References"] = message_id(first_key)
    lines, links = _lines(notice), _links(notice)
    text = [title(notice), ""]
    text += [f"{label}: {value}" for label, value in lines]
    text += [""] + [f"{label}: {url}" for label, url in links]
    message.set_content("\n".join(text) + "\n")
    rows = "".join(
        f"<tr><th align='left'>{html.escape(label)}</th><td>{html.escape(value)}</td></tr>"
        for label, value in lines
    )
    anchors = " | ".join(
        f"<a href='{html.escape(url, quote=True)}'>{html.escape(label)}</a>" for label, url in links
    )
    message.add_alternative(
        f"<html><body><h2>{html.escape(title(notice))}</h2><table>{rows}</table>"
        f"<p>{anchors}</p></body></html>",
        subtype="html",
    )
    return message
