"""The local warehouse: a DuckLake (a SQLite catalog plus Parquet files) that analysts query
with DuckDB while the pipeline writes. docs/local-warehouse.md says why this and not one DuckDB
file.

One DuckDB file allows one process at a time to write, and a reader holding it open makes
every run wait for its lock and then fail. A DuckLake keeps the tables' state in a SQLite
catalog in WAL mode: any number of readers (autocommit or holding a transaction) never block
the writer's commit, and each query sees the last committed snapshot. A brand-day slice is
replaced by a DELETE and an INSERT in one DuckLake transaction, which commits as one SQLite
transaction: readers see the old rows or the new ones, and a writer killed before its commit
leaves only unreferenced Parquet files behind (removed by `maintain`).

The alert delivery log needs a primary key and upserts, which DuckLake does not have; it lives
in a small DuckDB file beside the catalog (`STATE_TABLES`) that only the alert sensors write,
attached to the connections that ask for it.

The DuckDB extensions come from the `duckdb-extension-*` wheels pinned beside `duckdb`, loaded
by file path: nothing is downloaded, and the `duckdb` CLI of the same version (the
`duckdb-cli` wheel) loads the same files through the script that `analyst_script` writes.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TypeVar

import duckdb
import pandas as pd

from warroom_pipelines.warehouse.base import (
    Slices,
    SqlTypes,
    TableRef,
    WarehouseError,
    check_slices,
)
from warroom_pipelines.warehouse.tables import DELIVERIES

LAKE = "warroom"  # the catalog's name in every connection, the pipeline's and the analysts'
STATE = "state"
STATE_TABLES = frozenset({DELIVERIES})
EXTENSIONS = {
    "sqlite_scanner": "duckdb_extension_sqlite_scanner",
    "ducklake": "duckdb_extension_ducklake",
}
_LOCK_WAIT_S = 120.0  # the state file: the alert sensors hold it for a few milliseconds
_COMMIT_ATTEMPTS = 10  # two writers of one table: the loser retries its whole transaction

T = TypeVar("T")


def _sql_type(column: str, dtype: object) -> str:
    kind = str(dtype)
    if column == "date":
        return "DATE"
    if kind.startswith("datetime64") and "UTC" in kind:
        return "TIMESTAMPTZ"
    if kind.startswith("datetime64"):
        return "TIMESTAMP"
    if kind in ("int64", "Int64", "int32"):
        return "BIGINT"
    if kind in ("float64", "Float64", "float32"):
        return "DOUBLE"
    if kind in ("bool", "boolean"):
        return "BOOLEAN"
    return "VARCHAR"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str | Path) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def extension_file(name: str) -> Path:
    """A DuckDB extension shipped in its PyPI wheel, for this `duckdb`'s exact version."""
    spec = importlib.util.find_spec(EXTENSIONS[name])
    if spec is None or not spec.submodule_search_locations:
        raise WarehouseError(f"the {EXTENSIONS[name]} package is not installed")
    folder = Path(next(iter(spec.submodule_search_locations)))
    path = folder / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
    if not path.exists():
        raise WarehouseError(f"{EXTENSIONS[name]} has no extension for duckdb {duckdb.__version__}")
    return path


class LakeFiles:
    """Where one local warehouse lives: `warroom.ducklake` (the SQLite catalog), its Parquet
    folder `warroom.ducklake.files/`, the delivery log `warroom.ducklake.state.duckdb`, and
    `warroom.sql`, the analysts' attach script."""

    def __init__(self, catalog: str | Path) -> None:
        self.catalog = Path(catalog).resolve()
        self.data = self.catalog.with_name(self.catalog.name + ".files")
        self.state = self.catalog.with_name(self.catalog.name + ".state.duckdb")
        self.analyst_script = self.catalog.with_suffix(".sql")

    def attach_statements(self, *, read_only: bool) -> list[str]:
        """LOAD the pinned extensions, ATTACH the lake as `warroom` and make it the default
        catalog, so that `main.unified_performance` means the same to every client."""
        # The Parquet folder is always the one beside the catalog, even if the pair was copied
        # or moved (the catalog records file paths relative to it). No rows inlined in the
        # catalog: every scan would read them through SQLite (the slow part of small queries);
        # the small files this leaves are merged by `maintain`.
        options = (
            f"DATA_PATH {_literal(str(self.data) + os.sep)}, OVERRIDE_DATA_PATH true, "
            "DATA_INLINING_ROW_LIMIT 0"
        )
        mode = f"{options}, READ_ONLY" if read_only else options
        return [
            *(f"LOAD {_literal(extension_file(name))}" for name in EXTENSIONS),
            f"ATTACH {_literal(f'ducklake:sqlite:{self.catalog}')} AS {LAKE} ({mode})",
            f"USE {LAKE}",
        ]

    def create(self) -> None:
        """A new catalog in WAL mode (kept by the file): readers then never block a commit.
        Also (re)writes the analysts' script, whose paths point into this environment."""
        self.catalog.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.catalog)
        try:
            if db.execute("PRAGMA journal_mode").fetchone() != ("wal",):
                db.execute("PRAGMA journal_mode=WAL")
        finally:
            db.close()
        script = "\n".join(f"{s};" for s in self.attach_statements(read_only=True))
        header = (
            "-- War Room's local warehouse, read-only (generated; its paths are this machine's).\n"
            "--   python3 -m uv run duckdb -init " + str(self.analyst_script) + "\n"
        )
        tmp = self.analyst_script.with_suffix(".sql.tmp")
        tmp.write_text(header + script + "\n")
        tmp.replace(self.analyst_script)

    def copy_to(self, catalog: str | Path) -> LakeFiles:
        """A consistent copy of this warehouse at `catalog` (a benchmark's or a test's
        template): the catalog through SQLite's backup (WAL included), then its files."""
        target = LakeFiles(catalog)
        target.catalog.parent.mkdir(parents=True, exist_ok=True)
        source, copy = sqlite3.connect(self.catalog), sqlite3.connect(target.catalog)
        try:
            source.backup(copy)
        finally:
            source.close()
            copy.close()
        if self.data.exists():
            shutil.copytree(self.data, target.data)
        if self.state.exists():
            shutil.copyfile(self.state, target.state)
        target.create()
        return target


# Table functions that external access being off does not stop: the SQLite scanner (loaded for
# the catalog) opens files itself, and `query`/`query_table` run SQL from a string.
_UNSANDBOXED_FUNCTIONS = frozenset(
    {"sqlite_scan", "sqlite_query", "sqlite_attach", "query", "query_table"}
)


def _refuse_what_the_sandbox_cannot_see(sql: str) -> None:
    """An analyst's SQL must be queries only (SELECT, FROM, DESCRIBE, SHOW, SUMMARIZE ...) that
    call no function in _UNSANDBOXED_FUNCTIONS; anything else raises PermissionException."""
    parser = duckdb.connect()
    try:
        statements = parser.extract_statements(sql)
        for statement in statements:
            if statement.type != duckdb.StatementType.SELECT:
                raise duckdb.PermissionException(f"only queries may run, not {statement.type.name}")
            row = parser.execute("SELECT json_serialize_sql(?)", [statement.query]).fetchone()
            parsed = json.loads(row[0]) if row else {"error": True}
            if parsed.get("error"):
                raise duckdb.PermissionException("a query that cannot be checked")
            called = _function_names(parsed) & _UNSANDBOXED_FUNCTIONS
            if called:
                raise duckdb.PermissionException(f"{', '.join(sorted(called))} is not allowed")
    finally:
        parser.close()


def _function_names(node: object) -> set[str]:
    if isinstance(node, dict):
        names = {str(node["function_name"]).lower()} if node.get("function_name") else set()
        return names.union(*(_function_names(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_function_names(v) for v in node))
    return set()


def analyst_connection(files: LakeFiles) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the lake: what `warroom sql` and the pipeline's reads use.
    The one place such a connection is opened (hardening settings go right after the attach)."""
    return _open(files, read_only=True)


def _open(files: LakeFiles, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    if not read_only:
        files.create()
    con = duckdb.connect(
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    )
    try:
        for statement in files.attach_statements(read_only=read_only):
            con.execute(statement)
        con.execute("SET TimeZone = 'UTC'")
    except BaseException:
        con.close()
        raise
    return con


# One DuckDB instance per process and lake (loading the two extensions costs ~150 ms);
# each `connect` is a cursor of it. Keyed by pid: a forked child opens its own.
_instances: dict[tuple[int, Path, bool], duckdb.DuckDBPyConnection] = {}
_instances_lock = threading.Lock()
# One state session per process at a time (ATTACH is instance-wide); nested ones share it.
_state_lock = threading.RLock()
# Every statement on a DuckLake reads the catalog (~5-10 ms), so what never changes back is
# remembered per process: a thread's idle cursor (USE and time zone already set), and the
# tables known to exist with their columns (War Room adds columns, never drops tables).
_idle = threading.local()
_columns: dict[tuple[int, Path, TableRef], frozenset[str]] = {}


def _instance(files: LakeFiles, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    key = (os.getpid(), files.catalog, read_only)
    with _instances_lock:
        if key not in _instances:
            _instances[key] = (
                analyst_connection(files) if read_only else _open(files, read_only=False)
            )
        return _instances[key]


def _take_cursor(instance: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """This thread's idle cursor of `instance`, or a new one (when it is in use: nesting)."""
    idle: dict[int, duckdb.DuckDBPyConnection] = _idle.__dict__.setdefault("cursors", {})
    con = idle.pop(id(instance), None)
    if con is None:
        con = instance.cursor()
        con.execute(f"USE {LAKE}")
        con.execute("SET TimeZone = 'UTC'")
    return con


def _give_back(instance: duckdb.DuckDBPyConnection, con: duckdb.DuckDBPyConnection) -> None:
    idle: dict[int, duckdb.DuckDBPyConnection] = _idle.__dict__.setdefault("cursors", {})
    if id(instance) in idle:
        con.close()  # a nested connection's; the outer one is idle again
    else:
        idle[id(instance)] = con


def _attached(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    ((count,),) = con.execute(
        "SELECT count(*) FROM duckdb_databases() WHERE database_name = ?", [name]
    ).fetchall()
    return bool(count)


def _is_conflict(exc: duckdb.Error) -> bool:
    text = str(exc).lower()
    return "database is locked" in text or "conflict" in text or "busy" in text


class DuckDBWarehouse:
    """The local warehouse (see the module docstring): a DuckLake catalog at `path`."""

    sql_types = SqlTypes(
        double="DOUBLE", timestamp="TIMESTAMPTZ", string="VARCHAR", integer="BIGINT"
    )

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.files = LakeFiles(path)
        self.read_only = read_only

    @contextmanager
    def connect(
        self, *, read_only: bool | None = None, state: bool = False
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection whose default catalog is the lake; with `state`, the delivery log's
        file is attached too (as `state`) for the duration."""
        ro = self.read_only if read_only is None else read_only
        if ro and not self.files.catalog.exists():
            # A read on a fresh installation: an empty in-memory database answers it.
            con = duckdb.connect(":memory:")
            try:
                yield con
            finally:
                con.close()
            return
        try:
            instance = _instance(self.files, read_only=ro)
        except duckdb.Error as exc:
            raise WarehouseError(f"cannot open warehouse {self.path}: {exc}") from exc
        con = _take_cursor(instance)
        try:
            if state:
                with _state_lock, self._state_attached(con, read_only=ro):
                    yield con
            else:
                yield con
        except BaseException:
            con.close()  # never hand on a cursor in an unknown state
            raise
        _give_back(instance, con)

    @contextmanager
    def _state_attached(self, con: duckdb.DuckDBPyConnection, *, read_only: bool) -> Iterator[None]:
        """The delivery log's DuckDB file, attached while one process at a time holds it
        (it waits, with jitter, while another process does)."""
        if _attached(con, STATE):  # a session of this thread already holds it
            yield
            return
        if read_only and not self.files.state.exists():
            con.execute(f"ATTACH ':memory:' AS {STATE}")
        else:
            mode = " (READ_ONLY)" if read_only else ""
            _with_retry(
                lambda: con.execute(f"ATTACH {_literal(self.files.state)} AS {STATE}{mode}"),
                retry=lambda exc: isinstance(exc, duckdb.IOException) and "lock" in str(exc),
                what=f"cannot open the delivery log {self.files.state}",
                deadline_s=_LOCK_WAIT_S,
            )
        try:
            yield
        finally:
            con.execute(f"USE {LAKE}")
            con.execute(f"DETACH {STATE}")

    def _ensure_table(
        self, con: duckdb.DuckDBPyConnection, table: TableRef, frame: pd.DataFrame
    ) -> frozenset[str]:
        """Create the table or add the frame's new columns; returns the table's columns."""
        known = _columns.get((os.getpid(), self.files.catalog, table), frozenset())
        wanted = frozenset(str(c) for c in frame.columns)
        if wanted <= known:
            return known
        catalog = STATE if table in STATE_TABLES else LAKE
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {catalog}.{_quote(table.schema)}")
        existing = self._column_names(con, table)
        target = self.sql_table(table)
        if not existing:
            columns = ", ".join(
                f"{_quote(str(c))} {_sql_type(str(c), t)}" for c, t in frame.dtypes.items()
            )
            con.execute(f"CREATE TABLE IF NOT EXISTS {target} ({columns})")
        else:
            # New columns join at the end so that old readers keep working.
            for column, dtype in frame.dtypes.items():
                if column not in existing:
                    con.execute(
                        f"ALTER TABLE {target} ADD COLUMN IF NOT EXISTS {_quote(str(column))} "
                        f"{_sql_type(str(column), dtype)}"
                    )
        return frozenset(existing | wanted)

    def _column_names(self, con: duckdb.DuckDBPyConnection, table: TableRef) -> set[str]:
        return {
            row[0]
            for row in con.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_catalog = ? AND table_schema = ? AND table_name = ?",
                [STATE if table in STATE_TABLES else LAKE, table.schema, table.table],
            ).fetchall()
        }

    def replace_slices(self, table: TableRef, frame: pd.DataFrame, slices: Slices) -> int:
        check_slices(table, frame, slices)
        return _with_retry(
            lambda: self._replace(table, frame, slices),
            retry=lambda exc: isinstance(exc, duckdb.Error) and _is_conflict(exc),
            what=f"another writer kept {table} busy",
            attempts=_COMMIT_ATTEMPTS,
        )

    def _replace(self, table: TableRef, frame: pd.DataFrame, slices: Slices) -> int:
        target = self.sql_table(table)
        with self.connect(read_only=False, state=table in STATE_TABLES) as con:
            con.execute("BEGIN TRANSACTION")
            try:
                columns = self._ensure_table(con, table, frame)
                con.register("replaced_slices", _slice_frame(slices))
                con.execute(
                    f"DELETE FROM {target} AS t USING replaced_slices AS s "
                    "WHERE t.brand = s.brand AND t.date = s.date"
                )
                con.unregister("replaced_slices")
                if len(frame):
                    con.register("incoming_rows", frame)
                    con.execute(f"INSERT INTO {target} BY NAME SELECT * FROM incoming_rows")
                    con.unregister("incoming_rows")
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")  # a commit that fails has rolled back already
        _columns[(os.getpid(), self.files.catalog, table)] = columns  # known once committed
        return len(frame)

    def replace_slice(
        self, table: TableRef, frame: pd.DataFrame, *, brand: str, dates: Sequence[date]
    ) -> int:
        return self.replace_slices(table, frame, {brand: dates})

    def table_exists(self, con: duckdb.DuckDBPyConnection, table: TableRef) -> bool:
        key = (os.getpid(), self.files.catalog, table)
        if key in _columns:
            return True
        columns = self._column_names(con, table)
        if columns:
            _columns[key] = frozenset(columns)
        return bool(columns)

    def has_table(self, table: TableRef) -> bool:
        with self.connect(read_only=True, state=table in STATE_TABLES) as con:
            return self.table_exists(con, table)

    def sql_table(self, table: TableRef) -> str:
        name = f"{_quote(table.schema)}.{_quote(table.table)}"
        return f"{STATE}.{name}" if table in STATE_TABLES else name

    def read_slice(
        self,
        table: TableRef,
        *,
        brand: str,
        start: date,
        end: date,
        columns: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        selected = ", ".join(_quote(c) for c in columns) if columns else "*"
        with self.connect(read_only=True) as con:
            if not self.table_exists(con, table):
                return pd.DataFrame()
            frame = con.execute(
                f"SELECT {selected} FROM {self.sql_table(table)} "
                "WHERE brand = ? AND date BETWEEN ? AND ? ORDER BY ALL",
                [brand, start, end],
            ).df()
        return _normalize_read(frame)

    def read_slices(self, table: TableRef, slices: Slices) -> pd.DataFrame:
        with self.connect(read_only=True) as con:
            if not self.table_exists(con, table):
                return pd.DataFrame()
            con.register("read_slices", _slice_frame(slices))
            frame = con.execute(
                f"SELECT t.* FROM {self.sql_table(table)} AS t "
                "JOIN read_slices AS s ON t.brand = s.brand AND t.date = s.date ORDER BY ALL"
            ).df()
            con.unregister("read_slices")
        return _normalize_read(frame)

    def query(self, sql: str, params: Sequence[object] = ()) -> pd.DataFrame:
        with self.connect(read_only=True) as con:
            return _normalize_read(con.execute(sql, list(params)).df())

    def analyst_query(self, sql: str) -> pd.DataFrame:
        """An analyst's query, confined to the warehouse's tables.

        The file is opened first; then DuckDB's external access is switched off and its
        configuration locked, so the query can neither read nor write any other file
        (`COPY ... TO`, `EXPORT DATABASE`, `read_text`, `ATTACH`), install or load an
        extension, nor switch the access back on. A refusal raises duckdb.PermissionException
        (or InvalidInputException for a locked setting).
        """
        _refuse_what_the_sandbox_cannot_see(sql)
        if not self.files.catalog.exists():
            with self.connect(read_only=True) as empty:
                return _normalize_read(empty.execute(sql).df())
        # Its own instance: the settings below are instance-wide and the shared one serves the
        # pipeline's reads. Only the lake's own files stay readable.
        try:
            con = analyst_connection(self.files)
        except duckdb.Error as exc:
            raise WarehouseError(f"cannot open warehouse {self.path}: {exc}") from exc
        try:
            allowed = [str(self.files.data) + os.sep]
            con.execute("SET allowed_directories = ?", [allowed])
            con.execute("SET allowed_paths = ?", [[str(self.files.catalog)]])
            con.execute("SET enable_external_access = false")
            con.execute("SET lock_configuration = true")
            return _normalize_read(con.execute(sql).df())
        finally:
            con.close()

    def execute_script(self, sql: str) -> None:
        """Run DDL (views) as the writer."""
        _with_retry(
            lambda: self._execute(sql),
            retry=lambda exc: isinstance(exc, duckdb.Error) and _is_conflict(exc),
            what="another writer kept the warehouse busy",
            attempts=_COMMIT_ATTEMPTS,
        )

    def _execute(self, sql: str) -> None:
        with self.connect(read_only=False) as con:
            con.execute(sql)

    def maintain(self, *, older_than: datetime) -> dict[str, int]:
        """Compact the small files that hourly slices leave and forget snapshots (and delete
        their files) older than `older_than`. Readers in autocommit never notice; a reader
        holding a transaction open since before `older_than` may lose its snapshot's files."""
        with self.connect(read_only=False) as con:
            before = _file_count(con)
            con.execute(f"CALL ducklake_flush_inlined_data({_literal(LAKE)})")
            con.execute(f"CALL ducklake_merge_adjacent_files({_literal(LAKE)})")
            expired = con.execute(
                f"CALL ducklake_expire_snapshots({_literal(LAKE)}, older_than => ?)",
                [older_than],
            ).fetchall()
            removed = con.execute(
                f"CALL ducklake_cleanup_old_files({_literal(LAKE)}, older_than => ?)",
                [older_than],
            ).fetchall()
            orphans = con.execute(
                f"CALL ducklake_delete_orphaned_files({_literal(LAKE)}, older_than => ?)",
                [older_than],
            ).fetchall()
            after = _file_count(con)
        return {
            "data_files_before": before,
            "data_files_after": after,
            "snapshots_expired": len(expired),
            "files_removed": len(removed) + len(orphans),
        }


def _file_count(con: duckdb.DuckDBPyConnection) -> int:
    tables = con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = ?", [LAKE]
    ).fetchall()
    total = 0
    for schema, name in tables:
        ((count,),) = con.execute(
            f"SELECT count(*) FROM ducklake_list_files({_literal(LAKE)}, ?, schema => ?)",
            [name, schema],
        ).fetchall()
        total += int(count)
    return total


def _with_retry(
    action: Callable[[], T],
    *,
    retry: Callable[[BaseException], bool],
    what: str,
    attempts: int | None = None,
    deadline_s: float | None = None,
) -> T:
    """Run `action`, again after a jittered back-off while `retry` says its failure is
    contention, until `attempts` or `deadline_s` runs out (then a WarehouseError)."""
    deadline = time.monotonic() + (deadline_s if deadline_s is not None else 1e9)
    delay, attempt = 0.05, 0
    while True:
        attempt += 1
        try:
            return action()
        except Exception as exc:
            spent = (attempts is not None and attempt >= attempts) or time.monotonic() > deadline
            if not retry(exc):
                raise
            if spent:
                raise WarehouseError(f"{what}: {exc}") from exc
        time.sleep(delay * (1 + random.random()))
        delay = min(delay * 2, 2.0)


def _slice_frame(slices: Slices) -> pd.DataFrame:
    pairs = [(brand, day) for brand, days in slices.items() for day in days]
    return pd.DataFrame(
        {"brand": [p[0] for p in pairs], "date": pd.to_datetime([p[1] for p in pairs]).date}
    )


def _normalize_read(frame: pd.DataFrame) -> pd.DataFrame:
    """DuckDB hands back UTC as 'Etc/UTC' and DATE as datetime64: give the table's dtypes."""
    for column, dtype in frame.dtypes.items():
        kind = str(dtype)
        if kind.startswith("datetime64") and "UTC" in kind:
            frame[column] = frame[column].dt.tz_convert("UTC")
        if column == "date":
            frame[column] = pd.to_datetime(frame[column]).astype("datetime64[us]")
    return frame
