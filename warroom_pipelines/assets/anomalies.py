"""performance_anomalies: the Sentry's findings per brand-day, beside the unified table.

An hourly tick (a run the hourly schedule requested) scores only the hours that settled
since the brand-day's last materialization: it keeps that materialization's rows of the
hours it had scored (`scored_until` in its metadata, per channel) and scores the rest, which
gives the rows a whole-day scoring would (scores are past-only). Every other run (the daily
restatement, a backfill, a manual run) scores its days whole, as does a tick whose run
config differs from the one the kept rows were scored with.
"""

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

import dagster as dg
import pandas as pd
from pydantic import Field

from warroom_pipelines.assets.budgets import campaign_budgets
from warroom_pipelines.assets.metadata import add_brand_day_metadata, anomalies_summary
from warroom_pipelines.assets.unified import unified_performance
from warroom_pipelines.channels.budgets import read_budgets
from warroom_pipelines.partitions import (
    REASON_TAG,
    brand_date_partitions,
    partition_key,
    run_brand_dates,
)
from warroom_pipelines.resources.warehouse import WarehouseResource
from warroom_pipelines.sentry.detectors import DETECTORS, DetectorConfig
from warroom_pipelines.sentry.engine import (
    SENTRY_COLUMNS,
    Scored,
    detect,
    empty_anomalies,
    history_window,
    scored_until,
)
from warroom_pipelines.warehouse import Warehouse
from warroom_pipelines.warehouse.tables import ANOMALIES, UNIFIED

_DEFAULT = DetectorConfig()


class AnomalyConfig(dg.Config):
    """Run config of the Sentry; the defaults are the ones the backtest chose
    (bench/DETECTION.md)."""

    detector: str = Field(default=_DEFAULT.detector, description=f"one of {', '.join(DETECTORS)}")
    params: dict[str, Any] = Field(default={}, description="keyword arguments of the PyOD model")
    window_days: int = Field(default=_DEFAULT.window_days, description="trailing training days")
    threshold: float = Field(
        default=_DEFAULT.threshold, description="alert threshold, robust sigmas"
    )
    volume_threshold: float = Field(
        default=_DEFAULT.volume_threshold, description="alert threshold of spend and impressions"
    )
    min_sigma: float = Field(default=_DEFAULT.min_sigma, description="smallest explained deviation")
    contamination: float = Field(
        default=_DEFAULT.contamination, description="PyOD: share of window hours above threshold"
    )
    campaign_factor: float = Field(default=_DEFAULT.campaign_factor, description="campaign bar")

    def detector_config(self) -> DetectorConfig:
        return DetectorConfig(
            detector=self.detector,
            params=dict(self.params),
            window_days=self.window_days,
            threshold=self.threshold,
            volume_threshold=self.volume_threshold,
            min_sigma=self.min_sigma,
            contamination=self.contamination,
            campaign_factor=self.campaign_factor,
        )


@dg.asset(
    partitions_def=brand_date_partitions,
    deps=[unified_performance, campaign_budgets],
    group_name="sentry",
    kinds={"pyod", "duckdb", "pandas"},
    metadata={"partition_expr": {"brand": "brand", "date": "date"}},
    description="One row per anomalous series-hour (brand, channel and campaign level): the "
    "anomaly type, observed vs expected, deviation, severity, money at stake and its incident.",
)
def performance_anomalies(
    context: dg.AssetExecutionContext, config: AnomalyConfig, warehouse: WarehouseResource
) -> dg.Output[pd.DataFrame]:
    detector = config.detector_config()
    found, history_rows, hours_scored = [], 0, 0
    brand_days = run_brand_dates(context)
    tick = context.run.tags.get(REASON_TAG) == "hourly"
    for brand, days in brand_days.items():
        # The window of the first day up to the last day (days are sorted).
        first, last = history_window(days[0], detector)[0], days[-1]
        # Brand-scoped read: a brand's anomalies come from its own rows only.
        store = warehouse.get()
        history = store.read_slice(
            UNIFIED, brand=brand, start=first, end=last, columns=SENTRY_COLUMNS
        )
        # Budgets are per account-local day: a UTC day touches the local days either side.
        budgets = read_budgets(store, brand, first - timedelta(days=1), last + timedelta(days=1))
        history_rows += len(history)
        for day in days:
            key = str(partition_key(brand, day))
            earlier = _earlier(context, store, brand, day, repr(detector)) if tick else None
            found.append(detect(history, day, detector, budgets=budgets, scored=earlier))
            until = scored_until(history, day) if len(history) else {}
            hours = max(_hours(until, day) - (_hours(earlier.until, day) if earlier else 0), 0)
            hours_scored += hours
            context.add_asset_metadata(
                {
                    "scored_until": dg.MetadataValue.json(
                        {c: t.isoformat() for c, t in until.items()}
                    ),
                    "sentry_config": dg.MetadataValue.text(repr(detector)),
                    "hours_scored": dg.MetadataValue.int(hours),
                },
                partition_key=key,
            )
    anomalies = pd.concat(found, ignore_index=True) if found else empty_anomalies()
    add_brand_day_metadata(context, anomalies, brand_days, anomalies_summary)
    # The run's figures are the batch's; each brand-day's own are added above.
    metadata: dict[str, Any] = {
        "detector": dg.MetadataValue.text(detector.detector),
        "batch_brand_days": dg.MetadataValue.int(sum(len(d) for d in brand_days.values())),
        "batch_anomalies": dg.MetadataValue.int(len(anomalies)),
        "batch_history_rows": dg.MetadataValue.int(history_rows),
        "batch_hours_scored": dg.MetadataValue.int(hours_scored),
    }
    return dg.Output(anomalies, metadata=metadata)


def _earlier(
    context: dg.AssetExecutionContext, store: Warehouse, brand: str, day: date, config: str
) -> Scored | None:
    """The brand-day's last materialization, when it was scored with the same config: its
    stored rows and the hours it had scored."""
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(
            asset_key=context.asset_key, asset_partitions=[str(partition_key(brand, day))]
        ),
        limit=1,
    ).records
    if not records or records[0].asset_materialization is None:
        return None
    metadata = records[0].asset_materialization.metadata
    until, used = metadata.get("scored_until"), metadata.get("sentry_config")
    if until is None or used is None or used.value != config:
        return None
    rows = store.read_slice(ANOMALIES, brand=brand, start=day, end=day)
    ends = until.value if isinstance(until.value, dict) else {}
    return Scored(
        rows.loc[:, list(empty_anomalies().columns)] if len(rows) else empty_anomalies(),
        {str(c): pd.Timestamp(t) for c, t in ends.items()},
    )


def _hours(until: Mapping[str, pd.Timestamp], day: date) -> int:
    """Settled hours of the day across channels (a channel-hour each)."""
    start = pd.Timestamp(day, tz="UTC")
    return sum(max(int((t - start) / pd.Timedelta(hours=1)), 0) for t in until.values())
