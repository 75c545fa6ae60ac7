"""The other processes of the local-warehouse tests: an analyst's reader and pipeline writers.

    python -m tests.warehouse.processes reader <analyst script> autocommit|transaction
    python -m tests.warehouse.processes writer <catalog> <brand> <generations> [--hold-commit]

A reader opens plain `duckdb` with the analysts' attach script (as a notebook or the CLI does),
keeps that one connection for its whole life and answers each `read` line on stdin with the
table's rows per brand as JSON; `end` closes its transaction (if any), reads once more, exits.
A writer replaces its brand's slice of `main.generations` with `ROWS` rows of generation 1..N,
printing each commit; with --hold-commit it stops just before its first COMMIT.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from warroom_pipelines.warehouse import DuckDBWarehouse, TableRef

TABLE = TableRef("main", "generations")
DAY = date(2026, 11, 2)
ROWS = 20_000


def generation(brand: str, number: int) -> pd.DataFrame:
    """A slice whose rows all carry their generation: a half-replaced slice would mix two."""
    return pd.DataFrame(
        {
            "brand": brand,
            "date": pd.Timestamp(DAY),
            "row": range(ROWS),
            "generation": number,
        }
    )


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    return con.execute(sql).fetchall()


def reader(script: str, mode: str) -> None:
    con = duckdb.connect()
    con.execute(Path(script).read_text())
    if mode == "transaction":
        con.execute("BEGIN TRANSACTION")
    query = (
        "SELECT brand, count(*)::BIGINT, round(sum(spend), 4) "
        "FROM unified_performance GROUP BY ALL ORDER BY ALL"
    )
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() == "end" and mode == "transaction":
            con.execute("COMMIT")
        print(json.dumps(_rows(con, query)), flush=True)
        if line.strip() == "end":
            return


class _HoldCommit:
    """A connection that stops before COMMIT, so that the test can kill the writer there."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    def execute(self, sql: str, *args: Any) -> Any:
        if sql == "COMMIT":
            print("holding", flush=True)
            time.sleep(600)
        return self._con.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


class _HoldingWarehouse(DuckDBWarehouse):
    @contextmanager
    def connect(self, **kwargs: Any) -> Iterator[Any]:  # type: ignore[override]
        with super().connect(**kwargs) as con:
            yield _HoldCommit(con)


def writer(catalog: str, brand: str, generations: int, hold: bool) -> None:
    warehouse = (_HoldingWarehouse if hold else DuckDBWarehouse)(catalog)
    print("started", flush=True)
    for number in range(1, generations + 1):
        warehouse.replace_slice(TABLE, generation(brand, number), brand=brand, dates=[DAY])
        print(f"committed {number}", flush=True)


if __name__ == "__main__":
    kind, *rest = sys.argv[1:]
    if kind == "reader":
        reader(rest[0], rest[1])
    else:
        writer(rest[0], rest[1], int(rest[2]), "--hold-commit" in rest)
