"""What the pages show, computed from the warehouse reads (no HTML here).

Each headline metric knows which direction is good for the brand: more conversions, ROAS and
CTR are good, a higher CPA is bad. Spend is neutral: more spend is a budget decision, not a
fault (runaway spend is the Sentry's job and shows up as an incident).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from warroom_pipelines.channels import registry
from warroom_pipelines.channels.health import DEMO, FAILED, NO_KEYS, STALE, source_name
from warroom_pipelines.dashboard.queries import CommandCenterReader, Periods, Window, periods_at
from warroom_pipelines.metrics import CATALOGUE, Metric
from warroom_pipelines.vault.redact import redact

Verdict = Literal["good", "bad", "neutral", "none"]
ALL_CHANNELS = ""
SEVERITY_RANK = {"none": 0, "info": 1, "warning": 2, "critical": 3}
NOT_MONITORED = "unmonitored"  # no anomaly detection has run yet
NO_DATA = "nodata"  # the brand's data stopped arriving: worse than any quiet page can say
ERROR = "error"  # a source's last read failed: its numbers are as of its last good read
DATA_MISSING = "datamissing"  # a source failed with nothing to show, or the brand has no keys
STALE_AFTER = pd.Timedelta(hours=3)
COMPARABLE_SHARE = 0.9
SPARK_HOURS = 3  # the overview's sparklines: spend per 3 hours


# The headline metrics, from the catalogue (label, format, which direction is good).
METRICS: tuple[Metric, ...] = tuple(
    CATALOGUE[name] for name in ("spend", "conversions", "cpa", "roas", "ctr")
)
# Which chart panel an anomaly of a metric is drawn on.
PANEL_OF_METRIC = {
    "spend": "spend",
    "impressions": "spend",
    "cpc": "spend",
    "conversions": "conversions",
    "cvr": "conversions",
    "ctr": "ctr",
    "cpa": "cpa",
    "roas": "roas",
}


def _number(value: object) -> float | None:
    if value is None or value is pd.NA:
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if math.isnan(number) else number


@dataclass(frozen=True)
class Tile:
    metric: Metric
    period: str  # "today" | "week"
    currency: str
    value: float | None
    previous: float | None
    comparable: bool = True  # False: the previous period is only partly ingested

    @property
    def change(self) -> float | None:
        """Relative change against the previous period; None when there is nothing to compare."""
        if not self.comparable or self.value is None or self.previous is None:
            return None
        if self.previous == 0:
            return None
        return (self.value - self.previous) / abs(self.previous)

    @property
    def verdict(self) -> Verdict:
        change = self.change
        if change is None:
            return "none"
        if abs(change) < 0.005 or self.metric.higher_is == "neutral":
            return "neutral"
        up_is_good = self.metric.higher_is == "good"
        return "good" if (change > 0) == up_is_good else "bad"


@dataclass(frozen=True)
class ChannelRow:
    channel: str
    currency: str
    today: dict[str, float | None]
    week: dict[str, float | None]
    prior_week: dict[str, float | None]
    share_of_spend: float | None

    @property
    def comparable(self) -> bool:
        return comparable(self.week, self.prior_week)


@dataclass(frozen=True)
class Marker:
    hour: int  # index of the hour in the chart's window
    severity: str
    label: str
    on_series: bool  # False: a campaign's anomaly, drawn on the axis, not on the channel's line


@dataclass(frozen=True)
class Band:
    first_hour: int
    end_hour: int  # exclusive
    severity: str
    label: str


@dataclass(frozen=True)
class Chart:
    channel: str  # ALL_CHANNELS for the brand's total
    currency: str
    metric: Metric
    values: list[float | None]
    markers: list[Marker] = field(default_factory=list)
    bands: list[Band] = field(default_factory=list)


@dataclass(frozen=True)
class Incident:
    """One incident of the brand: consecutive anomalous hours of one series."""

    incident_id: str
    level: str
    channel: str
    campaign_id: str
    campaign_name: str
    anomaly_type: str
    severity: str
    status: str  # open | resolved
    started_at: pd.Timestamp
    ended_at: pd.Timestamp | None
    money_at_stake: float
    currency: str
    alert: str | None  # the latest delivery, e.g. "delivered (slack)"


def _text(value: Any) -> str:
    return "" if value is None or pd.isna(value) else str(value)


def _moment(value: Any) -> pd.Timestamp | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value)


def incident_list(
    incidents: pd.DataFrame | None, alerts: pd.DataFrame | None
) -> list[Incident] | None:
    if incidents is None:
        return None
    if alerts is not None:
        incidents = incidents.merge(alerts, on="incident_id", how="left")
    out = []
    for row in incidents.to_dict("records"):
        status = _text(row.get("alert_status"))
        started = _moment(row["started_at"])
        assert started is not None
        out.append(
            Incident(
                incident_id=_text(row["incident_id"]),
                level=_text(row["level"]),
                channel=_text(row["channel"]),
                campaign_id=_text(row["campaign_id"]),
                campaign_name=_text(row["campaign_name"]),
                anomaly_type=_text(row["anomaly_type"]),
                severity=_text(row["severity"]),
                status=_text(row["status"]),
                started_at=started,
                ended_at=_moment(row["ended_at"]),
                money_at_stake=_number(row["money_at_stake"]) or 0.0,
                currency=_text(row["currency"]),
                alert=f"{status} ({_text(row.get('alert_destination'))})" if status else None,
            )
        )
    return out


@dataclass(frozen=True)
class SourceHealth:
    """A source's latest channel health for the brand, as the pipeline stored it."""

    channel: str
    status: str  # ok | failed | stale | no_keys
    reason: str
    last_success: pd.Timestamp | None


def source_health(frame: pd.DataFrame, brand: str) -> list[SourceHealth]:
    if frame.empty:
        return []
    rows = frame.loc[frame["brand"] == brand].to_dict("records")
    return [
        SourceHealth(
            str(r["channel"]), str(r["status"]), _text(r["reason"]), _moment(r["last_success"])
        )
        for r in rows
    ]


@dataclass(frozen=True)
class Freshness:
    channel: str
    status: Literal["ok", "stale", "not connected", "error"]
    last_hour_start: pd.Timestamp | None
    last_ingested_at: pd.Timestamp | None
    error: str | None


@dataclass(frozen=True)
class BrandView:
    brand: str
    periods: Periods
    generated_at: pd.Timestamp
    currencies: list[str]
    tiles: dict[str, list[Tile]]  # currency -> tiles (today first, then week)
    channels: list[ChannelRow]
    charts: list[Chart]
    incidents: list[Incident] | None  # None: no anomaly detection yet
    freshness: list[Freshness]
    now: pd.Timestamp  # the hour the page was asked for (`periods` may end earlier: stale data)
    health: list[SourceHealth] = field(default_factory=list)

    @property
    def demo(self) -> bool:
        """A demo brand: its numbers are invented by the demo source."""
        return any(h.channel == DEMO for h in self.health)

    @property
    def worst_severity(self) -> str:
        if self.incidents is None:
            return NOT_MONITORED
        return worst_open_severity([i.severity for i in self.incidents or [] if i.status == "open"])

    @property
    def last_hour_start(self) -> pd.Timestamp | None:
        hours = [f.last_hour_start for f in self.freshness if f.last_hour_start is not None]
        return max(hours) if hours else None

    @property
    def status(self) -> BrandStatus:
        return brand_status(self.worst_severity, self.last_hour_start, self.now, self.health)


def worst_open_severity(severities: Iterable[object]) -> str:
    return max((str(s) for s in severities), key=lambda s: SEVERITY_RANK.get(s, 0), default="none")


@dataclass(frozen=True)
class BrandStatus:
    """What a brand's pill says: `key` is a severity, NOT_MONITORED or NO_DATA."""

    key: str
    label: str
    rank: int  # overview order: higher first


def brand_status(
    worst_severity: str,
    last_hour_start: pd.Timestamp | None,
    now: pd.Timestamp,
    health: Iterable[SourceHealth] = (),
) -> BrandStatus:
    """A brand whose data stopped, or whose source failed, is never shown as clear: silence
    is not health.

    A failed source (DATA MISSING when it has nothing to show, ERROR when its last good rows
    are shown) and stale data outrank every incident (they were judged on data that no longer
    comes in; the page still lists them), and rank with critical in the overview.
    """
    critical = SEVERITY_RANK["critical"]
    sources = list(health)
    for source in sources:
        if source.status == FAILED:
            return BrandStatus(DATA_MISSING, f"DATA MISSING: {error_text(source.reason)}", critical)
    for source in sources:
        if source.status == STALE:
            since = (
                f" since {source.last_success:%Y-%m-%d %H:%M} UTC" if source.last_success else ""
            )
            label = f"ERROR: {source_name(source.channel)} not updated{since}"
            return BrandStatus(ERROR, f"{label}. {error_text(source.reason)}", critical)
    if sources and all(s.status == NO_KEYS for s in sources):
        label = "DATA MISSING: no ad-platform keys (add them with `warroom keys set`)"
        return BrandStatus(DATA_MISSING, label, critical)
    rank = SEVERITY_RANK.get(worst_severity, 0)
    if last_hour_start is not None:
        data_to = pd.Timestamp(last_hour_start) + pd.Timedelta(hours=1)
        if pd.Timestamp(now).floor("h") - data_to >= STALE_AFTER:
            label = f"no data since {data_to:%Y-%m-%d %H:%M} UTC"
            return BrandStatus(NO_DATA, label, critical)
    label = {"none": "all clear", NOT_MONITORED: "no anomaly detection yet"}.get(
        worst_severity, f"{worst_severity} open"
    )
    return BrandStatus(worst_severity, label, rank)


def _totals(frame: pd.DataFrame, period: str, channel: str | None, currency: str) -> dict:
    rows = frame.loc[(frame["period"] == period) & (frame["currency"] == currency)]
    rows = (
        rows.loc[rows["channel"].isna()]
        if channel is None
        else rows.loc[rows["channel"] == channel]
    )
    if rows.empty:
        return {}
    return {
        k: _number(v)
        for k, v in rows.iloc[0].items()
        if k not in ("period", "brand", "channel", "currency")
    }


def build_tiles(totals: pd.DataFrame, currency: str) -> list[Tile]:
    tiles = []
    for period, previous in (("today", "yesterday"), ("week", "prior_week")):
        now, before = (
            _totals(totals, period, None, currency),
            _totals(totals, previous, None, currency),
        )
        fair = comparable(now, before)
        for metric in METRICS:
            tiles.append(
                Tile(metric, period, currency, now.get(metric.name), before.get(metric.name), fair)
            )
    return tiles


def comparable(now: dict[str, float | None], before: dict[str, float | None]) -> bool:
    """A previous period with data for far fewer hours (a brand just connected, a gap in
    ingestion) would turn every change into a spurious jump: such periods are not compared."""
    hours_now, hours_before = now.get("hours") or 0.0, before.get("hours") or 0.0
    return hours_before >= COMPARABLE_SHARE * hours_now


def build_channels(totals: pd.DataFrame, currencies: list[str]) -> list[ChannelRow]:
    rows = []
    for currency in currencies:
        week_total = _totals(totals, "week", None, currency).get("spend")
        per_channel = totals.loc[totals["channel"].notna() & (totals["currency"] == currency)]
        for channel in sorted(set(per_channel["channel"]), key=_channel_order):
            week = _totals(totals, "week", channel, currency)
            spend = week.get("spend")
            rows.append(
                ChannelRow(
                    channel=channel,
                    currency=currency,
                    today=_totals(totals, "today", channel, currency),
                    week=week,
                    prior_week=_totals(totals, "prior_week", channel, currency),
                    share_of_spend=spend / week_total if spend is not None and week_total else None,
                )
            )
    return rows


def _channel_order(channel: str) -> tuple[int, str]:
    known = registry.names()
    return (known.index(channel) if channel in known else len(known), channel)


def _hour_index(window: Window, moment: pd.Timestamp) -> int:
    return int((moment - window.start) / pd.Timedelta(hours=1))


def build_charts(
    hourly: pd.DataFrame,
    window: Window,
    anomalies: pd.DataFrame | None,
    incidents: list[Incident] | None,
) -> list[Chart]:
    hours = _hour_index(window, window.end)
    if hourly.empty:
        return []
    hourly = hourly.assign(channel=hourly["channel"].fillna(ALL_CHANNELS))
    markers = _markers(anomalies, window, hours)
    charts = []
    series_keys = sorted(
        {(str(c), str(cur)) for c, cur in zip(hourly["channel"], hourly["currency"], strict=True)},
        key=lambda k: (k[0] != ALL_CHANNELS, _channel_order(k[0]), k[1]),
    )
    for channel, currency in series_keys:
        rows = hourly.loc[(hourly["channel"] == channel) & (hourly["currency"] == currency)]
        index = [_hour_index(window, h) for h in rows["hour_start"]]
        bands = _bands(incidents, channel, window, hours)
        for metric in METRICS:
            # Hours without rows delivered nothing: zero volumes (spend, conversions), no ratio.
            values: list[float | None] = [0.0 if metric.kind == "volume" else None] * hours
            for i, value in zip(index, rows[metric.name], strict=True):
                if 0 <= i < hours:
                    values[i] = _number(value)
            charts.append(
                Chart(
                    channel,
                    currency,
                    metric,
                    values,
                    markers.get((channel, metric.name), []),
                    bands,
                )
            )
    return charts


def _bands(
    incidents: list[Incident] | None, channel: str, window: Window, hours: int
) -> list[Band]:
    out = []
    for row in incidents or []:
        if channel != ALL_CHANNELS and row.channel != channel:
            continue
        end = row.ended_at if row.ended_at is not None else window.end
        first, last = (
            max(0, _hour_index(window, row.started_at)),
            min(hours, _hour_index(window, end)),
        )
        if last <= first:
            continue
        label = f"{row.anomaly_type} ({row.severity}, {row.status})"
        out.append(Band(first, last, row.severity, label))
    return out


def _markers(
    anomalies: pd.DataFrame | None, window: Window, hours: int
) -> dict[tuple[str, str], list[Marker]]:
    """Anomalous hours by (chart row, panel): brand-level ones on the all-channels row."""
    out: dict[tuple[str, str], list[Marker]] = defaultdict(list)
    for row in [] if anomalies is None else anomalies.to_dict("records"):
        panel = PANEL_OF_METRIC.get(str(row["metric"]))
        hour = pd.Timestamp(row["hour_start"])
        i = _hour_index(window, hour)
        if panel is None or not 0 <= i < hours:
            continue
        campaign = row["level"] == "campaign"
        where = f"campaign {row['campaign_name'] or row['campaign_id']}: " if campaign else ""
        label = (
            f"{hour:%a %d %H:00} UTC · {where}{row['anomaly_type']} ({row['severity']}): "
            f"{row['metric']} {row['observed']:.4g} vs expected {row['expected']:.4g}"
        )
        chart_row = ALL_CHANNELS if row["level"] == "brand" else str(row["channel"])
        out[(chart_row, panel)].append(Marker(i, str(row["severity"]), label, not campaign))
    return out


_URL = re.compile(r"(?P<base>[a-z][a-z0-9+.-]*://)(?:[^/@\s]*@)?(?P<rest>[^?#\s]*)[^\s]*", re.I)


def error_text(message: str, limit: int = 300) -> str:
    """The first line of an ingestion error, redacted and without URL credentials or query
    strings (a platform client's error may quote a request URL carrying an access token),
    cut only after that."""
    line = redact((message.strip().splitlines() or [""])[0])
    return _URL.sub(lambda m: m["base"] + m["rest"], line)[:limit]


def build_freshness(
    frame: pd.DataFrame, end: pd.Timestamp, errors: dict[str, str]
) -> list[Freshness]:
    known = {str(r["channel"]): r for r in frame.to_dict("records")} if not frame.empty else {}
    out = []
    for channel in sorted(set(registry.names()) | set(known) | set(errors), key=_channel_order):
        row = known.get(channel)
        error = error_text(errors[channel]) if errors.get(channel) else None
        if row is None:
            out.append(Freshness(channel, "error" if error else "not connected", None, None, error))
            continue
        last = pd.Timestamp(row["last_hour_start"])
        status: Literal["ok", "stale", "error"] = "ok"
        if error:
            status = "error"
        elif end - (last + pd.Timedelta(hours=1)) >= STALE_AFTER:
            status = "stale"
        out.append(Freshness(channel, status, last, _moment(row["last_ingested_at"]), error))
    return out


def brand_view(
    reader: CommandCenterReader,
    brand: str,
    *,
    generated_at: pd.Timestamp,
) -> BrandView:
    """Everything the brand page shows, from queries scoped to this brand only.

    A brand whose newest hour is older than the page's 7-day window is shown as of its last
    data (an empty page would look like a quiet brand); its status says since when.
    """
    now = reader.periods.end
    fresh = reader.freshness(brand)
    health = source_health(reader.channel_health(brand), brand)
    errors = {h.channel: h.reason for h in health if h.status in (FAILED, STALE)}
    if not fresh.empty:
        data_to = pd.Timestamp(fresh["last_hour_start"].max()) + pd.Timedelta(hours=1)
        if data_to <= reader.periods.week.start:
            reader = reader.at(periods_at(data_to))
    periods = reader.periods
    totals = reader.period_totals(brand)
    currencies = sorted(set(totals["currency"])) if not totals.empty else []
    incidents = incident_list(reader.incidents(brand), reader.alert_status(brand))
    return BrandView(
        brand=brand,
        periods=periods,
        generated_at=generated_at,
        currencies=currencies,
        tiles={c: build_tiles(totals, c) for c in currencies},
        channels=build_channels(totals, currencies) if currencies else [],
        charts=build_charts(
            reader.hourly(brand), periods.week, reader.anomalous_hours(brand), incidents
        ),
        incidents=incidents,
        freshness=build_freshness(fresh, now, errors),
        now=now,
        health=health,
    )


@dataclass(frozen=True)
class BrandSummary:
    """One line of the overview."""

    brand: str
    worst_severity: str
    open_incidents: int
    money_at_stake: float
    currency: str
    spend_today: float | None
    spend_yesterday: float | None
    spend_week: float | None
    cpa_week: float | None
    roas_week: float | None
    last_hour_start: pd.Timestamp | None
    sparkline: list[float]  # spend per SPARK_HOURS over the last 7 days
    now: pd.Timestamp
    health: list[SourceHealth] = field(default_factory=list)

    @property
    def demo(self) -> bool:
        return any(h.channel == DEMO for h in self.health)

    @property
    def status(self) -> BrandStatus:
        return brand_status(self.worst_severity, self.last_hour_start, self.now, self.health)


def overview(reader: CommandCenterReader, brands: list[str]) -> list[BrandSummary]:
    """Every brand, worst current severity first, then the most money at stake."""
    totals = reader.period_totals(None)
    spend = reader.hourly_spend_by_brand()
    fresh = reader.freshness(None)
    health = reader.channel_health(None)
    incidents = reader.incidents(None)
    hours = _hour_index(reader.periods.week, reader.periods.week.end)
    out = []
    for brand in brands:
        mine = totals.loc[totals["brand"] == brand] if not totals.empty else totals
        # The overview shows a brand's main currency: the one with the most spend this week.
        week = mine.loc[(mine["period"] == "week") & mine["channel"].isna()] if len(mine) else mine
        currency = str(week.sort_values("spend").iloc[-1]["currency"]) if len(week) else ""
        numbers = {
            p: _totals(mine, p, None, currency) if currency else {}
            for p in ("today", "yesterday", "week")
        }
        line = [0.0] * hours
        if not spend.empty:
            rows = spend.loc[(spend["brand"] == brand) & (spend["currency"] == currency)]
            for h, value in zip(rows["hour_start"], rows["spend"], strict=True):
                line[_hour_index(reader.periods.week, h)] = float(value)
        severity, open_count, at_stake = NOT_MONITORED, 0, 0.0
        if incidents is not None:
            open_ = incidents.loc[(incidents["brand"] == brand) & (incidents["status"] == "open")]
            severity = worst_open_severity(open_["severity"])
            open_count, at_stake = len(open_), float(open_["money_at_stake"].sum())
        last = list(fresh.loc[fresh["brand"] == brand, "last_hour_start"]) if len(fresh) else []
        out.append(
            BrandSummary(
                brand=brand,
                worst_severity=severity,
                open_incidents=open_count,
                money_at_stake=at_stake,
                currency=currency,
                spend_today=numbers["today"].get("spend"),
                spend_yesterday=numbers["yesterday"].get("spend"),
                spend_week=numbers["week"].get("spend"),
                cpa_week=numbers["week"].get("cpa"),
                roas_week=numbers["week"].get("roas"),
                last_hour_start=pd.Timestamp(max(last)) if len(last) else None,
                sparkline=[sum(line[i : i + SPARK_HOURS]) for i in range(0, hours, SPARK_HOURS)],
                now=reader.periods.end,
                health=source_health(health, brand),
            )
        )
    out.sort(key=lambda s: (-s.status.rank, -s.money_at_stake, s.brand))
    return out
