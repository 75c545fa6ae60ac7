"""Reads for the Command Center: every value is a query parameter, every brand read is scoped.

A brand page is built only from queries filtered on `brand = ?`; only the overview (for the
platform team) reads across brands, and only the few totals it shows. The same queries run on
DuckDB and on BigQuery (see `views.CommandCenterSql`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import pandas as pd

from warroom_pipelines.dashboard.views import CommandCenterSql, channel_health_sql, health_tables
from warroom_pipelines.metrics import VOLUMES
from warroom_pipelines.warehouse import DuckDBWarehouse, Warehouse
from warroom_pipelines.warehouse.tables import ANOMALIES, DELIVERIES, UNIFIED


@dataclass(frozen=True)
class Window:
    """UTC hours [start, end): an hour belongs to the window when it starts inside it."""

    start: pd.Timestamp
    end: pd.Timestamp


@dataclass(frozen=True)
class Periods:
    """The periods the headline compares, ending at the last complete hour before `now`.

    Today so far is compared with the same hours of yesterday, the last 7 days (168 hours)
    with the 168 hours before them and the last 30 days with the 30 before them, so that a
    half-finished day never looks like a collapse.
    """

    end: pd.Timestamp
    today: Window
    yesterday: Window
    week: Window
    prior_week: Window
    month: Window
    prior_month: Window

    def named(self) -> dict[str, Window]:
        return {
            "today": self.today,
            "yesterday": self.yesterday,
            "week": self.week,
            "prior_week": self.prior_week,
            "month": self.month,
            "prior_month": self.prior_month,
        }


def periods_at(now: pd.Timestamp) -> Periods:
    """The period "today" is the UTC day of the last complete hour: at 00:20 it is the whole of
    yesterday, not an empty period."""
    end = pd.Timestamp(now).tz_convert("UTC").floor("h")
    midnight = (end - pd.Timedelta(hours=1)).floor("D")
    day, week, month = pd.Timedelta(days=1), pd.Timedelta(days=7), pd.Timedelta(days=30)
    return Periods(
        end=end,
        today=Window(midnight, end),
        yesterday=Window(midnight - day, end - day),
        week=Window(end - week, end),
        prior_week=Window(end - 2 * week, end - week),
        month=Window(end - month, end),
        prior_month=Window(end - 2 * month, end - month),
    )


def _days(start: pd.Timestamp, end: pd.Timestamp) -> list[object]:
    """The DATE bounds covering [start, end): lets the warehouse skip other days by the date
    column (BigQuery prunes its day partitions with them)."""
    return [start.date(), (end - timedelta(microseconds=1)).date()]


class CommandCenterReader:
    """Queries of one warehouse at one moment (`periods`)."""

    def __init__(self, warehouse: Warehouse, periods: Periods) -> None:
        self.warehouse = warehouse
        self.periods = periods
        self.sql = CommandCenterSql.of(warehouse)
        self._query: Callable[[str, Sequence[object]], pd.DataFrame] = warehouse.query
        self.has_unified = warehouse.has_table(UNIFIED)
        self.has_anomalies = warehouse.has_table(ANOMALIES)
        self.has_alerts = warehouse.has_table(DELIVERIES)
        self.health_tables = health_tables(warehouse)

    def at(self, periods: Periods) -> CommandCenterReader:
        """The same warehouse read at other periods (a stale brand's page ends at its data)."""
        other = copy.copy(self)
        other.periods = periods
        return other

    @contextmanager
    def session(self) -> Iterator[None]:
        """Run the queries of one page on one read-only connection (DuckDB; BigQuery has no
        connection to keep).

        Opening the DuckDB file costs more than a page's queries; one connection per page (not
        one for the whole run) still lets a refresh take the writer's lock between pages.
        """
        if not isinstance(self.warehouse, DuckDBWarehouse):
            yield
            return
        with self.warehouse.connect(read_only=True, state=self.has_alerts) as con:
            self._query = lambda sql, params: con.execute(sql, list(params)).df()
            try:
                yield
            finally:
                self._query = self.warehouse.query

    def _windows_cte(self, windows: dict[str, Window]) -> tuple[str, list[object]]:
        """The periods as a CTE of SELECTs (BigQuery has no VALUES lists)."""
        ts = self.sql.types.timestamp
        rows, params = [], []
        for name, window in windows.items():
            rows.append(
                f"SELECT ? AS period, CAST(? AS {ts}) AS start_at, CAST(? AS {ts}) AS end_at"
            )
            params += [name, window.start.to_pydatetime(), window.end.to_pydatetime()]
        return f"periods AS ({' UNION ALL '.join(rows)})", params

    def period_totals(self, brand: str | None, periods: Iterable[str] = ()) -> pd.DataFrame:
        """Totals per period x brand x currency (channel null) and per channel as well, of the
        named `periods` (all of them by default)."""
        if not self.has_unified:
            return pd.DataFrame()
        named = self.periods.named()
        windows = {name: named[name] for name in periods} or named
        cte, params = self._windows_cte(windows)
        brand_filter = "AND brand = ?" if brand is not None else ""
        # Summed per channel-hour first: the join with the (overlapping) periods then meets
        # one row per hour instead of one per campaign-hour.
        sums = ", ".join(f"sum({c}) AS {c}" for c in VOLUMES)
        sql = f"""
            WITH {cte}, hours AS (
                SELECT brand, channel, currency, hour_start, {sums}
                FROM {self.sql.unified}
                WHERE date BETWEEN ? AND ? {brand_filter}
                GROUP BY brand, channel, currency, hour_start
            )
            SELECT p.period, u.brand, u.channel, u.currency, {self.sql.totals()},
                   count(DISTINCT u.hour_start) AS hours
            FROM hours u
            JOIN periods p ON u.hour_start >= p.start_at AND u.hour_start < p.end_at
            GROUP BY GROUPING SETS ((p.period, u.brand, u.currency),
                                    (p.period, u.brand, u.channel, u.currency))
        """
        params += _days(min(w.start for w in windows.values()), self.periods.end)
        if brand is not None:
            params.append(brand)
        return self._query(sql, params)

    def campaign_totals(self, brand: str) -> pd.DataFrame:
        """Totals per campaign of the last 7 days and of the 7 before them (`period`), with
        the campaign's latest name and the source of its rows."""
        if not self.has_unified:
            return pd.DataFrame()
        week, prior = self.periods.week, self.periods.prior_week
        sql = f"""
            SELECT CASE WHEN hour_start >= ? THEN 'week' ELSE 'prior_week' END AS period,
                   channel, campaign_id, currency,
                   max_by(campaign_name, hour_start) AS campaign_name,
                   max_by(source, hour_start) AS source, {self.sql.totals()}
            FROM {self.sql.unified}
            WHERE brand = ? AND date BETWEEN ? AND ? AND hour_start >= ? AND hour_start < ?
            GROUP BY period, channel, campaign_id, currency
        """
        params = [
            week.start.to_pydatetime(),
            brand,
            *_days(prior.start, week.end),
            prior.start.to_pydatetime(),
            week.end.to_pydatetime(),
        ]
        return self._query(sql, params)

    def campaign_spend_by_hour(self, brand: str, since: pd.Timestamp) -> pd.DataFrame:
        """Spend per campaign-hour from `since` to the page's end, with the ad account's time
        zone and the rows' source: a daily budget is spent over the account's own day."""
        if not self.has_unified:
            return pd.DataFrame()
        end = self.periods.end
        sql = f"""
            SELECT channel, campaign_id, account_timezone, currency, source, hour_start,
                   sum(spend) AS spend
            FROM {self.sql.unified}
            WHERE brand = ? AND date BETWEEN ? AND ? AND hour_start >= ? AND hour_start < ?
            GROUP BY channel, campaign_id, account_timezone, currency, source, hour_start
        """
        params = [brand, *_days(since, end), since.to_pydatetime(), end.to_pydatetime()]
        return self._query(sql, params)

    def hourly(self, brand: str) -> pd.DataFrame:
        """The brand's last 7 days per hour, per channel and (channel null) over all channels."""
        if not self.has_unified:
            return pd.DataFrame()
        window = self.periods.week
        sql = f"""
            SELECT hour_start, channel, currency, {self.sql.totals()}
            FROM {self.sql.unified}
            WHERE brand = ? AND date BETWEEN ? AND ? AND hour_start >= ? AND hour_start < ?
            GROUP BY GROUPING SETS ((currency, hour_start), (channel, currency, hour_start))
            ORDER BY hour_start
        """
        params = [
            brand,
            *_days(window.start, window.end),
            window.start.to_pydatetime(),
            window.end.to_pydatetime(),
        ]
        return self._query(sql, params)

    def hourly_spend_by_brand(self) -> pd.DataFrame:
        """Spend per brand x currency x hour over the last 7 days, for the overview's sparklines."""
        if not self.has_unified:
            return pd.DataFrame()
        window = self.periods.week
        sql = f"""
            SELECT brand, currency, hour_start, sum(spend) AS spend
            FROM {self.sql.unified}
            WHERE date BETWEEN ? AND ? AND hour_start >= ? AND hour_start < ?
            GROUP BY brand, currency, hour_start ORDER BY brand, hour_start
        """
        params = [
            *_days(window.start, window.end),
            window.start.to_pydatetime(),
            window.end.to_pydatetime(),
        ]
        return self._query(sql, params)

    def freshness(self, brand: str | None) -> pd.DataFrame:
        """The last hour ingested and when, per brand x channel, however long ago: a brand whose
        ingestion stopped weeks ago still shows since when."""
        if not self.has_unified:
            return pd.DataFrame()
        brand_filter = "AND brand = ?" if brand is not None else ""
        sql = f"""
            SELECT brand, channel, max(hour_start) AS last_hour_start,
                   max(ingested_at) AS last_ingested_at
            FROM {self.sql.unified}
            WHERE date <= ? AND hour_start < ? {brand_filter}
            GROUP BY brand, channel
        """
        params: list[object] = [self.periods.end.date(), self.periods.end.to_pydatetime()]
        if brand is not None:
            params.append(brand)
        return self._query(sql, params)

    def incidents(self, brand: str | None) -> pd.DataFrame | None:
        """Open incidents and those seen in the last 7 days; None before the Sentry exists."""
        if not self.has_anomalies:
            return None
        brand_filter = "AND brand = ?" if brand is not None else ""
        sql = f"""
            SELECT * FROM ({self.sql.incidents()})
            WHERE started_at < ? AND (status = 'open' OR last_anomalous_hour >= ?) {brand_filter}
            ORDER BY status = 'open' DESC, started_at DESC
        """
        params: list[object] = [
            self.periods.end.to_pydatetime(),
            self.periods.week.start.to_pydatetime(),
        ]
        if brand is not None:
            params.append(brand)
        return self._query(sql, params)

    def anomalous_hours(self, brand: str) -> pd.DataFrame | None:
        if not self.has_anomalies:
            return None
        window = self.periods.week
        sql = f"""
            SELECT level, channel, campaign_id, campaign_name, hour_start, metric, anomaly_type,
                   severity, observed, expected, incident_id
            FROM {self.sql.anomalies}
            WHERE brand = ? AND date BETWEEN ? AND ? AND hour_start >= ? AND hour_start < ?
        """
        params = [
            brand,
            *_days(window.start, window.end),
            window.start.to_pydatetime(),
            window.end.to_pydatetime(),
        ]
        return self._query(sql, params)

    def alert_status(self, brand: str) -> pd.DataFrame | None:
        """The latest delivery per incident (kind and status, never a destination's address)."""
        if not self.has_alerts:
            return None
        sql = f"""
            SELECT incident_id,
                   max_by(status, last_attempt_at) AS alert_status,
                   max_by(destination_kind, last_attempt_at) AS alert_destination,
                   count(DISTINCT destination_name) AS alert_destinations
            FROM {self.sql.alerts}
            WHERE brand = ?
            GROUP BY incident_id
        """
        return self._query(sql, [brand])

    def channel_health(self, brand: str | None) -> pd.DataFrame:
        """Each source's latest health row per brand (its newest brand-day up to the page's
        end): whether its last read worked, and if not, why and since when."""
        if not self.health_tables:
            return pd.DataFrame()
        brand_filter = "AND brand = ?" if brand is not None else ""
        sql = f"""
            SELECT brand, channel, status, reason, last_success, checked_at FROM (
                SELECT *, row_number() OVER (
                    PARTITION BY brand, channel ORDER BY date DESC, checked_at DESC
                ) AS newest
                FROM ({channel_health_sql(self.health_tables)}) AS health
                WHERE date <= ? {brand_filter}
            ) AS latest
            WHERE newest = 1
            ORDER BY brand, channel
        """
        params: list[object] = [self.periods.end.date()]
        if brand is not None:
            params.append(brand)
        return self._query(sql, params)

    def brands(self) -> list[str]:
        """Brands with rows in the last 30 days."""
        if not self.has_unified:
            return []
        since = (self.periods.end - pd.Timedelta(days=30)).date()
        frame = self._query(
            f"SELECT DISTINCT brand FROM {self.sql.unified} WHERE date >= ? ORDER BY brand", [since]
        )
        return [str(b) for b in frame["brand"]]
