"""Where War Room's tables live: a DuckLake read with DuckDB locally, BigQuery in production.

Both sides share one contract (`Warehouse`): a brand-day slice of a table is replaced whole
or not at all, and reads are always scoped to one brand.
"""

from warroom_pipelines.warehouse.base import SqlTypes, TableRef, Warehouse, WarehouseError
from warroom_pipelines.warehouse.local import DuckDBWarehouse, LakeFiles, analyst_connection

__all__ = [
    "DuckDBWarehouse",
    "LakeFiles",
    "SqlTypes",
    "TableRef",
    "Warehouse",
    "WarehouseError",
    "analyst_connection",
]
