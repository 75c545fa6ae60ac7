"""The warehouse contract shared by the local (DuckDB) and production (BigQuery) tables."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

import pandas as pd


class WarehouseError(RuntimeError):
    """A warehouse operation failed; the slice it touched is unchanged."""


@dataclass(frozen=True)
class TableRef:
    """A table addressed as schema.table (a BigQuery dataset plays the schema's part)."""

    schema: str
    table: str

    @classmethod
    def from_path(cls, path: Sequence[str]) -> TableRef:
        """`["channel_metrics", "meta_ads"]` -> channel_metrics.meta_ads; `["x"]` -> main.x."""
        if len(path) == 1:
            return cls("main", path[0])
        return cls("_".join(path[:-1]), path[-1])

    def __str__(self) -> str:
        return f"{self.schema}.{self.table}"


@dataclass(frozen=True)
class SqlTypes:
    """A warehouse's names for the few types that shared SQL casts to; the rest of War Room's
    read SQL is the same text on DuckDB and BigQuery (both take `?` parameters)."""

    double: str
    timestamp: str  # an instant in UTC
    string: str
    integer: str


class Warehouse(Protocol):
    sql_types: SqlTypes

    def sql_table(self, table: TableRef) -> str:
        """The table's name as this warehouse's SQL spells it, quoted."""
        ...

    def has_table(self, table: TableRef) -> bool: ...

    def execute_script(self, sql: str) -> None:
        """Run DDL (the analyst views) as the writer."""
        ...

    def replace_slice(
        self, table: TableRef, frame: pd.DataFrame, *, brand: str, dates: Sequence[date]
    ) -> int:
        """Atomically replace the rows of `brand` on `dates` with `frame`; returns rows written."""
        ...

    def read_slice(self, table: TableRef, *, brand: str, start: date, end: date) -> pd.DataFrame:
        """Rows of one brand with start <= date <= end (empty frame if the table is absent)."""
        ...

    def query(self, sql: str, params: Sequence[object] = ()) -> pd.DataFrame:
        """Run a read-only query."""
        ...
