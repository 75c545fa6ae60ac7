"""`warroom dashboard`: renders from the local warehouse, prints the page, serves on loopback."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import requests

from tests.dashboard.conftest import NOW
from warroom_pipelines import clock
from warroom_pipelines.cli import main
from warroom_pipelines.commands.dashboard import make_server
from warroom_pipelines.warehouse import DuckDBWarehouse


@pytest.fixture
def home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, two_brand_warehouse: DuckDBWarehouse
) -> Path:
    two_brand_warehouse.files.copy_to(tmp_path / "warroom.ducklake")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.delenv("WARROOM_DUCKDB_PATH", raising=False)
    monkeypatch.delenv("WARROOM_COMMAND_CENTER_DIR", raising=False)
    # The pages show the window that ends now: now is the fixture's last hour, whatever the date.
    monkeypatch.setenv(clock.ENV_VAR, NOW.isoformat())
    assert main(["brands", "add", "acme", "globex"]) == 0
    return tmp_path


def test_prints_the_overview_and_a_brand_page(home: Path, capsys) -> None:
    assert main(["dashboard"]) == 0
    overview = Path(capsys.readouterr().out.strip())
    assert overview == home / "command_center" / "index.html"
    assert 'data-brand="globex"' in overview.read_text()

    assert main(["dashboard", "--brand", "acme"]) == 0
    page = Path(capsys.readouterr().out.strip())
    assert page == home / "command_center" / "brands" / "acme.html"
    assert "data-tile" in page.read_text()


def test_refuses_a_malformed_brand(home: Path, capsys) -> None:
    assert main(["dashboard", "--brand", "../etc"]) == 2
    assert "invalid brand key" in capsys.readouterr().err
    assert not (home / "command_center").exists()


def test_refuses_a_brand_that_is_not_registered(home: Path, capsys) -> None:
    assert main(["dashboard", "--brand", "acme-typo"]) == 2
    err = capsys.readouterr().err
    assert "brand 'acme-typo' is not registered" in err and "warroom brands list" in err
    assert not (home / "command_center" / "brands" / "acme-typo.html").exists()


def test_serves_the_folder_on_loopback_only(home: Path, capsys) -> None:
    assert main(["dashboard"]) == 0
    folder = Path(capsys.readouterr().out.strip()).parent
    server = make_server(folder, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        assert host == "127.0.0.1"
        page = requests.get(f"http://{host}:{port}/brands/acme.html", timeout=30)
        assert page.status_code == 200 and "data-tile" in page.text
        outside = requests.get(f"http://{host}:{port}/../warroom.ducklake", timeout=30)
        assert outside.status_code == 404
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
