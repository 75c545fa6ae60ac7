"""The warehouse as a Dagster resource and as the I/O manager of the brand x date tables."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import cast

import dagster as dg
import pandas as pd

from warroom_pipelines.partitions import BRAND_DIMENSION, DATE_DIMENSION, brand_date_partitions
from warroom_pipelines.warehouse import DuckDBWarehouse, TableRef, Warehouse, WarehouseError
from warroom_pipelines.warehouse.bigquery import BigQueryWarehouse


class WarehouseResource(dg.ConfigurableResource):
    """The profile's warehouse: a DuckDB file (`path`, local) or a BigQuery dataset
    (`bigquery_project` + `bigquery_dataset`, production). One resource class for both, so that
    assets and the I/O manager depend on one type whichever profile is loaded."""

    path: str | None = None
    bigquery_project: str | None = None
    bigquery_dataset: str | None = None
    bigquery_location: str | None = None
    bigquery_api_endpoint: str | None = None

    def get(self) -> Warehouse:
        if self.bigquery_dataset:
            if not self.bigquery_project:
                raise WarehouseError("bigquery_dataset is set but bigquery_project is not")
            return BigQueryWarehouse(
                project=self.bigquery_project,
                dataset=self.bigquery_dataset,
                location=self.bigquery_location,
                api_endpoint=self.bigquery_api_endpoint,
            )
        if not self.path:
            raise WarehouseError("the warehouse needs a DuckDB path or a BigQuery dataset")
        return DuckDBWarehouse(self.path)


def _brand_dates(keys: Iterable[str]) -> dict[str, list[date]]:
    by_brand: dict[str, list[date]] = defaultdict(list)
    for key in keys:
        parts = brand_date_partitions.get_partition_key_from_str(key)
        dims = cast(dg.MultiPartitionKey, parts).keys_by_dimension
        by_brand[dims[BRAND_DIMENSION]].append(date.fromisoformat(dims[DATE_DIMENSION]))
    return by_brand


class WarehouseIOManager(dg.ConfigurableIOManager):
    """Stores each brand x date partition as a slice of a warehouse table, replaced atomically.

    The table is named after the asset key: `channel_metrics/meta_ads` is
    `channel_metrics.meta_ads`, `unified_performance` is `main.unified_performance`.
    """

    warehouse: dg.ResourceDependency[WarehouseResource]

    def handle_output(self, context: dg.OutputContext, obj: pd.DataFrame) -> None:
        table = TableRef.from_path(context.asset_key.path)
        slices = _brand_dates(context.asset_partition_keys)
        if len(slices) != 1:
            raise ValueError(f"{table}: a run writes exactly one brand, got {sorted(slices)}")
        ((brand, dates),) = slices.items()
        rows = self.warehouse.get().replace_slice(table, obj, brand=brand, dates=dates)
        context.add_output_metadata({"table": str(table), "rows": rows})

    def load_input(self, context: dg.InputContext) -> pd.DataFrame:
        table = TableRef.from_path(context.asset_key.path)
        frames = []
        for brand, dates in _brand_dates(context.asset_partition_keys).items():
            frame = self.warehouse.get().read_slice(
                table, brand=brand, start=min(dates), end=max(dates)
            )
            if len(frame) and len(dates) != (max(dates) - min(dates)).days + 1:
                frame = frame.loc[frame["date"].dt.date.isin(dates)]
            frames.append(frame)
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
