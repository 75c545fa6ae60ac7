"""The warehouse contract shared by the local (DuckDB) and production (BigQuery) tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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


Slices = Mapping[str, Sequence[date]]  # the days of each brand that a write or read covers


def slices_of(brand_days: Sequence[tuple[str, date]]) -> dict[str, list[date]]:
    """`[(brand, day), ...]` as the days of each brand."""
    slices: dict[str, list[date]] = {}
    for brand, day in brand_days:
        slices.setdefault(brand, []).append(day)
    return slices


def check_slices(table: TableRef, frame: pd.DataFrame, slices: Slices) -> None:
    """A write may only hold rows of the brands it replaces, and must name some day."""
    if not slices or not all(slices.values()):
        raise WarehouseError(f"a write to {table} needs at least one brand-day")
    if len(frame):
        strays = sorted(set(frame["brand"].astype(str)) - set(slices))
        if strays:
            raise WarehouseError(
                f"refusing to write rows of another brand {strays} into {table} "
                f"while replacing {sorted(slices)}"
            )


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

    def replace_slices(self, table: TableRef, frame: pd.DataFrame, slices: Slices) -> int:
        """Atomically replace the rows of every brand-day in `slices` with `frame` (all or
        none); returns rows written."""
        ...

    def replace_slice(
        self, table: TableRef, frame: pd.DataFrame, *, brand: str, dates: Sequence[date]
    ) -> int:
        """`replace_slices` for one brand."""
        ...

    def read_slices(self, table: TableRef, slices: Slices) -> pd.DataFrame:
        """Rows of every brand-day in `slices`, in one read (empty frame if the table is absent)."""
        ...

    def read_slice(
        self,
        table: TableRef,
        *,
        brand: str,
        start: date,
        end: date,
        columns: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Rows of one brand with start <= date <= end (empty frame if the table is absent);
        only `columns` if given (a month of a brand is wide: the Sentry reads a third of it)."""
        ...

    def query(self, sql: str, params: Sequence[object] = ()) -> pd.DataFrame:
        """Run a read-only query."""
        ...
