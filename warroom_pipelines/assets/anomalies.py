"""performance_anomalies: the Sentry's findings per brand-day, beside the unified table."""

from datetime import timedelta
from typing import Any

import dagster as dg
import pandas as pd
from pydantic import Field

from warroom_pipelines.assets.budgets import campaign_budgets
from warroom_pipelines.assets.metadata import add_brand_day_metadata, anomalies_summary
from warroom_pipelines.assets.unified import UNIFIED_TABLE, unified_performance
from warroom_pipelines.channels.budgets import read_budgets
from warroom_pipelines.partitions import brand_date_partitions, run_brand_dates
from warroom_pipelines.resources.warehouse import WarehouseResource
from warroom_pipelines.sentry.detectors import DETECTORS, DetectorConfig
from warroom_pipelines.sentry.engine import (
    SENTRY_COLUMNS,
    detect,
    empty_anomalies,
    history_window,
)

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
    found, history_rows = [], 0
    brand_days = run_brand_dates(context)
    for brand, days in brand_days.items():
        # The window of the first day up to the last day (days are sorted).
        first, last = history_window(days[0], detector)[0], days[-1]
        # Brand-scoped read: a brand's anomalies come from its own rows only.
        store = warehouse.get()
        history = store.read_slice(
            UNIFIED_TABLE, brand=brand, start=first, end=last, columns=SENTRY_COLUMNS
        )
        # Budgets are per account-local day: a UTC day touches the local days either side.
        budgets = read_budgets(store, brand, first - timedelta(days=1), last + timedelta(days=1))
        history_rows += len(history)
        found += [detect(history, day, detector, budgets=budgets) for day in days]
    anomalies = pd.concat(found, ignore_index=True) if found else empty_anomalies()
    add_brand_day_metadata(context, anomalies, brand_days, anomalies_summary)
    # The run's figures are the batch's; each brand-day's own are added above.
    metadata: dict[str, Any] = {
        "detector": dg.MetadataValue.text(detector.detector),
        "batch_brand_days": dg.MetadataValue.int(sum(len(d) for d in brand_days.values())),
        "batch_anomalies": dg.MetadataValue.int(len(anomalies)),
        "batch_history_rows": dg.MetadataValue.int(history_rows),
    }
    return dg.Output(anomalies, metadata=metadata)
