"""`warroom sql`: a read-only query on the local warehouse's tables (and nothing else on disk),
printed as a table, CSV or JSON."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from warroom_pipelines.commands.common import ensure_dagster_home, fail, print_frame

if TYPE_CHECKING:
    import pandas as pd

FORMATS = ("table", "csv", "json")


def register(sql: argparse.ArgumentParser) -> None:
    source = sql.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "query",
        nargs="?",
        help='e.g. "SELECT brand, sum(spend) FROM unified_performance GROUP BY 1"',
    )
    source.add_argument("--file", help="read the query from this file (e.g. query.sql)")
    sql.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help="table (default, for reading), csv (with a header) or json (an array of rows)",
    )
    sql.set_defaults(handler=run_sql)


def write_frame(frame: pd.DataFrame, form: str) -> None:
    """The result on standard output: CSV and JSON for other programs, complete and exact."""
    if form == "csv":
        frame.to_csv(sys.stdout, index=False)
    elif form == "json":
        sys.stdout.write(frame.to_json(orient="records", date_format="iso") + "\n")
    else:
        print_frame(frame)


def run_sql(args: argparse.Namespace) -> int:
    query = args.query
    if args.file:
        try:
            with open(args.file, encoding="utf-8") as handle:
                query = handle.read()
        except OSError as exc:
            return fail(f"cannot read {args.file}: {exc.strerror}")
    ensure_dagster_home()
    import duckdb

    from warroom_pipelines.home import duckdb_path
    from warroom_pipelines.warehouse import DuckDBWarehouse, WarehouseError

    try:
        frame = DuckDBWarehouse(duckdb_path(), read_only=True).analyst_query(query)
    except (duckdb.Error, WarehouseError) as exc:
        if _refused(exc):
            return fail(f"query refused: `warroom sql` reads only the warehouse's tables ({exc})")
        return fail(f"query failed: {exc}")
    write_frame(frame, args.format)
    return 0


def _refused(exc: Exception) -> bool:
    """The sandbox said no: a file or extension outside the warehouse, or a locked setting."""
    import duckdb

    return isinstance(exc, duckdb.PermissionException) or (
        isinstance(exc, duckdb.InvalidInputException) and "has been locked" in str(exc)
    )
