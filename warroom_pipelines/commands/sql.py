"""`warroom sql`: a read-only query on the local warehouse."""

from __future__ import annotations

import argparse

import duckdb

from warroom_pipelines.commands.common import ensure_dagster_home, fail, print_frame


def register(subparsers: argparse._SubParsersAction) -> None:
    sql = subparsers.add_parser(
        "sql", help="run a read-only SQL query on the local DuckDB warehouse"
    )
    sql.add_argument(
        "query", help='e.g. "SELECT brand, sum(spend) FROM unified_performance GROUP BY 1"'
    )
    sql.set_defaults(handler=run_sql)


def run_sql(args: argparse.Namespace) -> int:
    ensure_dagster_home()
    from warroom_pipelines.profiles import duckdb_path
    from warroom_pipelines.warehouse import DuckDBWarehouse, WarehouseError

    try:
        print_frame(DuckDBWarehouse(duckdb_path(), read_only=True).query(args.query))
    except (duckdb.Error, WarehouseError) as exc:
        return fail(f"query failed: {exc}")
    return 0
