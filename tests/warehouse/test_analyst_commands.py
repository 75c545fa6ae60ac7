"""The analyst commands of the README and docs/sql.md, run exactly as written.

Issue 16: the README's `duckdb -readonly …` had no CLI on a fresh machine, and the DuckDB CLI
on PyPI could not read the file the pipeline wrote. Each shell block here runs from a folder
whose `.dagster_home` holds a warehouse written by the pipeline's code; its SQL blocks go to
the documented CLI command on standard input.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from warroom_pipelines.channels.demo import demo_metrics
from warroom_pipelines.dashboard import create_views
from warroom_pipelines.schema import finalize
from warroom_pipelines.warehouse import DuckDBWarehouse, TableRef

REPO = Path(__file__).resolve().parents[2]
BRAND = "acme-outdoor"


def _section(path: Path, heading: str) -> str:
    text = path.read_text()
    start = text.index(heading)
    following = re.search(r"^## ", text[start + len(heading) :], flags=re.M)
    return text[start : start + len(heading) + following.start()] if following else text[start:]


def _blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.M | re.S)


README = _section(REPO / "README.md", "## Querying the tables")
SQL_DOC = (REPO / "docs" / "sql.md").read_text()
SHELL = [b for b in _blocks(README, "bash") + _blocks(SQL_DOC, "bash") if "uv run" in b]
# The DuckDB SQL of the README's analyst section and the local half of docs/sql.md.
QUERIES = _blocks(README, "sql") + _blocks(
    SQL_DOC.split("### The same questions on BigQuery")[0], "sql"
)
CLI = next(
    line.split("#")[0].strip()
    for block in SHELL
    for line in block.splitlines()
    if " duckdb " in line
)


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the default `.dagster_home`, as after `warroom demo`."""
    folder = tmp_path_factory.mktemp("analyst")
    warehouse = DuckDBWarehouse(folder / ".dagster_home" / "warroom.ducklake")
    today = date(2026, 11, 15)
    for day in (today - timedelta(days=n) for n in range(3)):
        table = finalize(demo_metrics(BRAND, day), brand=BRAND, ingested_at=datetime.now(UTC))
        warehouse.replace_slice(
            TableRef("main", "unified_performance"), table, brand=BRAND, dates=[day]
        )
    assert create_views(warehouse)
    return folder


_SESSION = ("DAGSTER_HOME", "WARROOM_DUCKDB_PATH", "VIRTUAL_ENV", "UV_RUN_RECURSION_DEPTH")


def _run(command: str, folder: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in _SESSION}
    # The analyst's shell: not inside the test run's virtual environment.
    venv_bin = str(Path(sys.prefix) / "bin")
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p != venv_bin)
    # `uv run` from the analyst's folder finds the checkout's project and its locked venv.
    env.update(UV_PROJECT=str(REPO), UV_OFFLINE="1")
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", command],
        cwd=folder,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"{command}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done


def test_the_docs_have_analyst_commands() -> None:
    assert len(SHELL) >= 3 and len(QUERIES) >= 2
    assert CLI == "python3 -m uv run duckdb -init .dagster_home/warroom.sql"


@pytest.mark.parametrize("block", SHELL, ids=[b.splitlines()[0][:60] for b in SHELL])
def test_each_shell_block_runs_as_written(checkout: Path, block: str) -> None:
    done = _run(block, checkout, stdin="SELECT 'seen ' || count(*) FROM unified_performance;\n")
    assert BRAND in done.stdout or "seen " in done.stdout


def test_the_cli_is_the_version_of_the_python_package(checkout: Path) -> None:
    import duckdb

    done = _run(CLI, checkout, stdin="SELECT version();\n")
    assert f"v{duckdb.__version__}" in done.stdout


@pytest.mark.parametrize("number", range(len(QUERIES)))
def test_each_documented_query_runs_in_the_cli(checkout: Path, number: int) -> None:
    _run(CLI, checkout, stdin=QUERIES[number])
