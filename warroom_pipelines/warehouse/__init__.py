"""Where War Room's tables live: DuckDB locally, BigQuery in production.

Both sides share one contract (`Warehouse`): a brand-day slice of a table is replaced whole
or not at all, and reads are always scoped to one brand.
"""

from warroom_pipelines.warehouse.base import SqlTypes, TableRef, Warehouse, WarehouseError
from warroom_pipelines.warehouse.local import DuckDBWarehouse

__all__ = ["DuckDBWarehouse", "SqlTypes", "TableRef", "Warehouse", "WarehouseError"]
