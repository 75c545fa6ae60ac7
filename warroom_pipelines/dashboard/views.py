"""The analyst's SQL layer: views beside the warehouse tables, on DuckDB and on BigQuery.

Ratios are computed from the summed totals of the period (sum(spend) / sum(conversions)), never
averaged from hourly ratios: an hour with 2 clicks must not weigh as much as an hour with 2,000.
The ratio formulas come from the metric catalogue, the same definitions the unified table uses.
Sums are grouped by currency as well, so amounts in different currencies are never added up.

One text for both warehouses: DuckDB and BigQuery Standard SQL share `max_by`, `GROUPING
SETS`, `CAST(x AS type)` and `?` parameters, so what differs is only what the dialects force,
and the warehouse supplies it: the tables' names (`main.x` in DuckDB, `` `project.dataset.x` ``
in BigQuery) and the names of the types cast to (`SqlTypes`).
"""

from __future__ import annotations

from dataclasses import dataclass

from warroom_pipelines.channels import registry
from warroom_pipelines.metrics import RATIOS, VOLUMES
from warroom_pipelines.schema import DEMO_SOURCE
from warroom_pipelines.warehouse import SqlTypes, TableRef, Warehouse

UNIFIED = TableRef("main", "unified_performance")
ANOMALIES = TableRef("main", "performance_anomalies")
ALERTS = TableRef("main", "alert_deliveries")

VIEW_NAMES = ("daily_performance", "campaign_performance", "open_incidents")
HEALTH_VIEWS = ("channel_health", "brands")


def _scaled(scale: float) -> str:
    return "" if scale == 1 else f"{scale!r} * "


@dataclass(frozen=True)
class CommandCenterSql:
    """The Command Center's SQL for one warehouse."""

    types: SqlTypes
    unified: str
    anomalies: str
    alerts: str
    views: dict[str, str]  # view name -> its qualified name

    @classmethod
    def of(cls, warehouse: Warehouse) -> CommandCenterSql:
        return cls(
            types=warehouse.sql_types,
            unified=warehouse.sql_table(UNIFIED),
            anomalies=warehouse.sql_table(ANOMALIES),
            alerts=warehouse.sql_table(ALERTS),
            views={
                name: warehouse.sql_table(TableRef("main", name))
                for name in (*VIEW_NAMES, *HEALTH_VIEWS)
            },
        )

    def totals(self) -> str:
        """sum() of every measure, then each ratio from those sums (null where the denominator
        is 0)."""
        sums = [f"sum({c}) AS {c}" for c in VOLUMES]
        ratios = [
            f"{_scaled(ratio.scale)}CAST(sum({ratio.numerator}) AS {self.types.double}) / "
            f"nullif(sum({ratio.denominator}), 0) AS {name}"
            for name, ratio in RATIOS.items()
        ]
        return ",\n  ".join([*sums, *ratios])

    def daily_performance(self) -> str:
        return f"""
SELECT brand, channel, date, currency,
  count(DISTINCT campaign_id) AS campaigns,
  {self.totals()},
  max(hour_start) AS last_hour_start,
  max(ingested_at) AS last_ingested_at
FROM {self.unified}
GROUP BY brand, channel, date, currency
"""

    def campaign_performance(self) -> str:
        return f"""
SELECT brand, channel, account_id, campaign_id,
  max_by(campaign_name, hour_start) AS campaign_name,
  date, currency,
  {self.totals()},
  max(hour_start) AS last_hour_start
FROM {self.unified}
GROUP BY brand, channel, account_id, campaign_id, date, currency
"""

    def incidents(self) -> str:
        """One row per incident (consecutive anomalous hours of one series).

        An incident is resolved as soon as any of its rows carries an end: rows written before
        it closed (an earlier day's partition) keep a null end until that day is restated.
        """
        return f"""
SELECT brand, incident_id,
  max_by(level, hour_start) AS level,
  max_by(channel, hour_start) AS channel,
  max_by(campaign_id, hour_start) AS campaign_id,
  max_by(campaign_name, hour_start) AS campaign_name,
  max_by(anomaly_type, hour_start) AS anomaly_type,
  max_by(metric, hour_start) AS metric,
  CASE max(CASE severity WHEN 'critical' THEN 3 WHEN 'warning' THEN 2 WHEN 'info' THEN 1
                         ELSE 0 END)
    WHEN 3 THEN 'critical' WHEN 2 THEN 'warning' WHEN 1 THEN 'info' ELSE 'none' END AS severity,
  min(incident_start) AS started_at,
  max(incident_end) AS ended_at,
  max(hour_start) AS last_anomalous_hour,
  count(DISTINCT hour_start) AS anomalous_hours,
  sum(money_at_stake) AS money_at_stake,
  max_by(currency, hour_start) AS currency,
  max_by(observed, hour_start) AS last_observed,
  max_by(expected, hour_start) AS last_expected,
  min(detected_at) AS first_detected_at,
  CASE WHEN max(incident_end) IS NULL THEN 'open' ELSE 'resolved' END AS status
FROM {self.anomalies}
GROUP BY brand, incident_id
"""

    def open_incidents(self, has_anomalies: bool) -> str:
        """Open incidents; before the Sentry has written anything, the same columns, no rows."""
        if has_anomalies:
            return f"SELECT * FROM ({self.incidents()}) WHERE status = 'open'"
        t = self.types
        columns = [
            *(f"CAST(NULL AS {t.string}) AS {c}" for c in _INCIDENT_TEXT),
            f"CAST(NULL AS {t.string}) AS severity",
            *(f"CAST(NULL AS {t.timestamp}) AS {c}" for c in _INCIDENT_TIMES),
            f"CAST(NULL AS {t.integer}) AS anomalous_hours",
            f"CAST(NULL AS {t.double}) AS money_at_stake",
            f"CAST(NULL AS {t.string}) AS currency",
            f"CAST(NULL AS {t.double}) AS last_observed",
            f"CAST(NULL AS {t.double}) AS last_expected",
            f"CAST(NULL AS {t.timestamp}) AS first_detected_at",
            f"CAST(NULL AS {t.string}) AS status",
        ]
        return "SELECT " + ",\n  ".join(columns) + "\nWHERE false"

    def create_views(self, has_anomalies: bool, health: list[str]) -> str:
        """One script (re)creating every view; `health`: the channel health tables there are
        (the `channel_health` and `brands` views need one)."""
        bodies = {
            "daily_performance": self.daily_performance(),
            "campaign_performance": self.campaign_performance(),
            "open_incidents": self.open_incidents(has_anomalies),
        }
        if health:
            bodies["channel_health"] = channel_health_sql(health)
            bodies["brands"] = brands_sql(health)
        return ";\n".join(
            f"CREATE OR REPLACE VIEW {self.views[name]} AS\n{body.strip()}"
            for name, body in bodies.items()
        )


def channel_health_sql(tables: list[str]) -> str:
    """Every source's health rows (brand, date, channel, status, reason, last_success, ...)."""
    return "\nUNION ALL\n".join(f"SELECT * FROM {table}" for table in tables)


def brands_sql(tables: list[str]) -> str:
    """One row per brand with a `demo` flag (the demo source serves it): the brands view that
    an analyst joins to tell invented numbers from real ones."""
    return f"""
        SELECT brand, max(CASE WHEN channel = '{DEMO_SOURCE}' THEN 1 ELSE 0 END) = 1 AS demo
        FROM ({channel_health_sql(tables)}) AS health
        GROUP BY brand
    """


_INCIDENT_TEXT = (
    "brand",
    "incident_id",
    "level",
    "channel",
    "campaign_id",
    "campaign_name",
    "anomaly_type",
    "metric",
)
_INCIDENT_TIMES = ("started_at", "ended_at", "last_anomalous_hour")


def create_views(warehouse: Warehouse) -> list[str]:
    """(Re)create the analyst views; returns their names. Needs the unified table to exist.

    `open_incidents` is empty (with its full column list) until the Sentry's table exists.
    """
    if not warehouse.has_table(UNIFIED):
        return []
    sql = CommandCenterSql.of(warehouse)
    health = health_tables(warehouse)
    warehouse.execute_script(sql.create_views(warehouse.has_table(ANOMALIES), health))
    return [*VIEW_NAMES, *(HEALTH_VIEWS if health else ())]


def health_tables(warehouse: Warehouse) -> list[str]:
    """The channel health tables that exist, as the warehouse's SQL names them: what each
    source's last read of a brand-day said (the channel assets write them)."""
    health = (TableRef("channel_health", s) for s in (DEMO_SOURCE, *registry.names()))
    return [warehouse.sql_table(t) for t in health if warehouse.has_table(t)]
