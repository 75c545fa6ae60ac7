"""`warroom sql`: a read-only query on the local warehouse's tables, and nothing else on disk."""

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
        print_frame(DuckDBWarehouse(duckdb_path(), read_only=True).analyst_query(args.query))
    except (duckdb.Error, WarehouseError) as exc:
        if _refused(exc):
            return fail(f"query refused: `warroom sql` reads only the warehouse's tables ({exc})")
        return fail(f"query failed: {exc}")
    return 0


def _refused(exc: Exception) -> bool:
    """The sandbox said no: a file or extension outside the warehouse, or a locked setting."""
    return isinstance(exc, duckdb.PermissionException) or (
        isinstance(exc, duckdb.InvalidInputException) and "has been locked" in str(exc)
    )
