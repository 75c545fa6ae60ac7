"""The warehouse as a Dagster resource and as the I/O manager of the brand x date tables."""

import dagster as dg
import pandas as pd

from warroom_pipelines.partitions import brand_dates
from warroom_pipelines.warehouse import DuckDBWarehouse, TableRef, Warehouse, WarehouseError
from warroom_pipelines.warehouse.bigquery import BigQueryWarehouse


class WarehouseResource(dg.ConfigurableResource):
    """The profile's warehouse: a DuckLake catalog (`path`, local) or a BigQuery dataset
    (`bigquery_project` + `bigquery_dataset`, production). One resource class for both, so that
    assets and the I/O manager depend on one type whichever profile is loaded.

    Not dagster-gcp's BigQueryResource: it hands out a client only inside its `get_client()`
    block (there to set up a key file, `gcp_credentials`, which production must not use: the
    runtime's service account), while the warehouse keeps one client for a run's brand-days
    and for the CLI, and an emulator needs client options that resource does not take. Nor
    Dagster's DuckDB or BigQuery I/O managers: they replace a partition as DELETE then INSERT,
    not in one transaction (why in full: warehouse/bigquery.py)."""

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


class WarehouseIOManager(dg.ConfigurableIOManager):
    """Stores each brand x date partition as a slice of a warehouse table, replaced atomically:
    a batch run's brand-days are replaced together, in one transaction.

    The table is named after the asset key: `channel_metrics/meta_ads` is
    `channel_metrics.meta_ads`, `unified_performance` is `main.unified_performance`.
    """

    warehouse: dg.ResourceDependency[WarehouseResource]

    def handle_output(self, context: dg.OutputContext, obj: pd.DataFrame) -> None:
        table = TableRef.from_path(context.asset_key.path)
        slices = brand_dates(context.asset_partition_keys)
        rows = self.warehouse.get().replace_slices(table, obj, slices)
        context.add_output_metadata({"table": str(table), "rows": rows})

    def load_input(self, context: dg.InputContext) -> pd.DataFrame:
        table = TableRef.from_path(context.asset_key.path)
        return self.warehouse.get().read_slices(table, brand_dates(context.asset_partition_keys))
