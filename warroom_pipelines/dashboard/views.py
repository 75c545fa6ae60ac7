"""The analyst's SQL layer: views beside the warehouse tables.

Ratios are computed from the summed totals of the period (sum(spend) / sum(conversions)), never
averaged from hourly ratios: an hour with 2 clicks must not weigh as much as an hour with 2,000.
The ratio formulas come from `schema.RATIOS`, the same definitions the unified table uses.
Sums are grouped by currency as well, so amounts in different currencies are never added up.
"""

from __future__ import annotations

from warroom_pipelines.schema import RATIOS
from warroom_pipelines.warehouse import DuckDBWarehouse

UNIFIED = "main.unified_performance"
ANOMALIES = "main.performance_anomalies"
ALERTS = "main.alert_deliveries"

TOTALS = ("impressions", "clicks", "spend", "conversions", "conversion_value")


def _scaled(scale: float) -> str:
    return "" if scale == 1 else f"{scale!r} * "


def totals_sql() -> str:
    """sum() of every measure, then each ratio from those sums (null where the denominator is 0)."""
    sums = [f"sum({c}) AS {c}" for c in TOTALS]
    ratios = [
        f"{_scaled(ratio.scale)}sum({ratio.numerator})::DOUBLE / "
        f"nullif(sum({ratio.denominator}), 0) AS {name}"
        for name, ratio in RATIOS.items()
    ]
    return ",\n  ".join([*sums, *ratios])


DAILY_PERFORMANCE = f"""
CREATE OR REPLACE VIEW main.daily_performance AS
SELECT brand, channel, date, currency,
  count(DISTINCT campaign_id) AS campaigns,
  {totals_sql()},
  max(hour_start) AS last_hour_start,
  max(ingested_at) AS last_ingested_at
FROM {UNIFIED}
GROUP BY brand, channel, date, currency
"""

CAMPAIGN_PERFORMANCE = f"""
CREATE OR REPLACE VIEW main.campaign_performance AS
SELECT brand, channel, account_id, campaign_id,
  arg_max(campaign_name, hour_start) AS campaign_name,
  date, currency,
  {totals_sql()},
  max(hour_start) AS last_hour_start
FROM {UNIFIED}
GROUP BY brand, channel, account_id, campaign_id, date, currency
"""

# One row per incident (consecutive anomalous hours of one series). An incident is resolved as
# soon as any of its rows carries an end: rows written before it closed (an earlier day's
# partition) keep a null end until that day is restated.
INCIDENTS_SELECT = f"""
SELECT brand, incident_id,
  arg_max(level, hour_start) AS level,
  arg_max(channel, hour_start) AS channel,
  arg_max(campaign_id, hour_start) AS campaign_id,
  arg_max(campaign_name, hour_start) AS campaign_name,
  arg_max(anomaly_type, hour_start) AS anomaly_type,
  arg_max(metric, hour_start) AS metric,
  CASE max(CASE severity WHEN 'critical' THEN 3 WHEN 'warning' THEN 2 WHEN 'info' THEN 1
                         ELSE 0 END)
    WHEN 3 THEN 'critical' WHEN 2 THEN 'warning' WHEN 1 THEN 'info' ELSE 'none' END AS severity,
  min(incident_start) AS started_at,
  max(incident_end) AS ended_at,
  max(hour_start) AS last_anomalous_hour,
  count(DISTINCT hour_start) AS anomalous_hours,
  sum(money_at_stake) AS money_at_stake,
  arg_max(currency, hour_start) AS currency,
  arg_max(observed, hour_start) AS last_observed,
  arg_max(expected, hour_start) AS last_expected,
  min(detected_at) AS first_detected_at,
  CASE WHEN max(incident_end) IS NULL THEN 'open' ELSE 'resolved' END AS status
FROM {ANOMALIES}
GROUP BY brand, incident_id
"""

OPEN_INCIDENTS = f"""
CREATE OR REPLACE VIEW main.open_incidents AS
SELECT * FROM ({INCIDENTS_SELECT}) WHERE status = 'open'
"""

# Before the Sentry has written anything: the same columns, no rows.
OPEN_INCIDENTS_EMPTY = """
CREATE OR REPLACE VIEW main.open_incidents AS
SELECT NULL::VARCHAR AS brand, NULL::VARCHAR AS incident_id, NULL::VARCHAR AS level,
  NULL::VARCHAR AS channel, NULL::VARCHAR AS campaign_id, NULL::VARCHAR AS campaign_name,
  NULL::VARCHAR AS anomaly_type, NULL::VARCHAR AS metric, NULL::VARCHAR AS severity,
  NULL::TIMESTAMPTZ AS started_at, NULL::TIMESTAMPTZ AS ended_at,
  NULL::TIMESTAMPTZ AS last_anomalous_hour, NULL::BIGINT AS anomalous_hours,
  NULL::DOUBLE AS money_at_stake, NULL::VARCHAR AS currency, NULL::DOUBLE AS last_observed,
  NULL::DOUBLE AS last_expected, NULL::TIMESTAMPTZ AS first_detected_at,
  NULL::VARCHAR AS status
WHERE false
"""

VIEW_NAMES = ("daily_performance", "campaign_performance", "open_incidents")


def table_exists(warehouse: DuckDBWarehouse, schema: str, table: str) -> bool:
    found = warehouse.query(
        "SELECT count(*) AS n FROM information_schema.tables "
        "WHERE table_schema = ? AND table_name = ?",
        [schema, table],
    )
    return bool(found["n"].iloc[0])


def create_views(warehouse: DuckDBWarehouse) -> list[str]:
    """(Re)create the analyst views; returns their names. Needs the unified table to exist.

    `open_incidents` is empty (with its full column list) until the Sentry's table exists.
    """
    if not table_exists(warehouse, "main", "unified_performance"):
        return []
    has_anomalies = table_exists(warehouse, "main", "performance_anomalies")
    warehouse.execute_script(
        ";\n".join(
            [
                DAILY_PERFORMANCE,
                CAMPAIGN_PERFORMANCE,
                OPEN_INCIDENTS if has_anomalies else OPEN_INCIDENTS_EMPTY,
            ]
        )
    )
    return list(VIEW_NAMES)
