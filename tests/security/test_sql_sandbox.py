"""`warroom sql` reads the warehouse's tables and nothing else: no file written or read
outside it, no extension installed, no way to switch the sandbox off."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.vault.samples import SAMPLES
from warroom_pipelines.cli import main
from warroom_pipelines.resources.vault import SQLITE_FILE
from warroom_pipelines.vault.keyring import DEV_KEY_FILE
from warroom_pipelines.warehouse import DuckDBWarehouse


@pytest.fixture
def home(acme_home: Path) -> Path:
    """A local home with a warehouse table, the dev master key and a key store."""
    tmp_path = acme_home
    DuckDBWarehouse(str(tmp_path / "warroom.ducklake")).execute_script(
        "CREATE TABLE unified_performance AS SELECT 'acme' AS brand, 12.5 AS spend"
    )
    creds = tmp_path / "meta.json"
    creds.write_text(json.dumps(SAMPLES["meta_ads"]))
    args = ["keys", "set", "--brand", "acme", "--integration", "meta_ads"]
    assert main([*args, "--from-file", str(creds)]) == 0
    creds.unlink()
    assert (tmp_path / DEV_KEY_FILE).exists() and (tmp_path / SQLITE_FILE).exists()
    return tmp_path


def test_select_over_the_warehouse_works(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    query = "SELECT brand, sum(spend) AS spend FROM unified_performance GROUP BY 1"
    assert main(["sql", query]) == 0
    out = capsys.readouterr().out
    assert "acme" in out and "12.5" in out


@pytest.mark.parametrize(
    "attack",
    [
        "COPY unified_performance TO '{home}/stolen.csv'",
        "COPY (SELECT 1) TO '/tmp/../{home}/stolen.parquet' (FORMAT parquet)",
        "EXPORT DATABASE '{home}/stolen'",
        "SELECT content FROM read_text('{home}/" + DEV_KEY_FILE + "')",
        "SELECT * FROM read_blob('{home}/" + SQLITE_FILE + "')",
        "ATTACH '{home}/" + SQLITE_FILE + "' AS keys (TYPE sqlite)",
        # The SQLite scanner (loaded for the lake's catalog) opens files on its own.
        "SELECT * FROM sqlite_scan('{home}/" + SQLITE_FILE + "', 'data_keys')",
        "SELECT * FROM query('SELECT * FROM sqlite_scan(''{home}/" + SQLITE_FILE + "'', ''x'')')",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET enable_external_access = true",
        "SET lock_configuration = false",
    ],
)
def test_each_escape_is_refused(
    home: Path, attack: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _files(home)
    assert main(["sql", attack.format(home=home)]) == 2
    captured = capsys.readouterr()
    assert "query refused: `warroom sql` reads only the warehouse's tables" in captured.err
    key = (home / DEV_KEY_FILE).read_text().strip()
    assert key not in captured.out + captured.err
    assert _files(home) == before


def _files(home: Path) -> list[str]:
    """The home's files, less the SQLite catalog's own WAL companions (a read may open them)."""
    return sorted(p.name for p in home.iterdir() if not p.name.endswith(("-wal", "-shm")))
