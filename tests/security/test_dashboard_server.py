"""`warroom dashboard --serve` gives the pages to a browser on this machine and nothing to a
page elsewhere: no directory listing, no other file, no answer to a rebound DNS name."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from warroom_pipelines.cli import main
from warroom_pipelines.commands.dashboard import make_server


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """A pages folder (with a file that is not a page beside them), served on loopback."""
    folder = tmp_path / "command_center"
    (folder / "brands").mkdir(parents=True)
    (folder / "index.html").write_text("<p>overview</p>")
    (folder / "brands" / "acme.html").write_text("<p>acme page</p>")
    (folder / "brands" / ".globex.html.tmp").write_text("<p>half-written</p>")
    (folder / "notes.txt").write_text("not a page")
    (tmp_path / "warroom.duckdb").write_text("the warehouse")
    server = make_server(folder, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def get(url: str, host: str | None = None) -> requests.Response:
    return requests.get(url, headers={"Host": host} if host else {}, timeout=30)


def test_pages_are_served_to_loopback_names(served: str) -> None:
    port = served.rsplit(":", 1)[1]
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LocalHost:{port}"):
        page = get(f"{served}/brands/acme.html", host)
        assert page.status_code == 200 and "acme page" in page.text
    assert "overview" in get(f"{served}/").text


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:{port}", "127.0.0.1", "localhost:1", "127.0.0.1.nip.io"]
)
def test_a_foreign_host_header_is_refused(served: str, host: str) -> None:
    port = served.rsplit(":", 1)[1]
    response = get(f"{served}/brands/acme.html", host.format(port=port))
    assert response.status_code == 421
    assert "acme page" not in response.text


@pytest.mark.parametrize(
    "path", ["/brands/", "/brands", "/notes.txt", "/brands/.globex.html.tmp", "/../warroom.duckdb"]
)
def test_only_pages_are_served(served: str, path: str) -> None:
    response = get(served + path)
    assert response.status_code == 404
    for leaked in ("acme.html", "half-written", "not a page", "the warehouse", "Directory listing"):
        assert leaked not in response.text


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.delenv("WARROOM_DUCKDB_PATH", raising=False)
    monkeypatch.delenv("WARROOM_COMMAND_CENTER_DIR", raising=False)
    return tmp_path


def test_a_port_in_use_is_a_clear_error(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["dashboard", "--serve", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"warroom: port {port} on 127.0.0.1 is in use: choose another with --port" in err


@pytest.mark.parametrize("port", ["-1", "65536", "70000"])
def test_a_port_out_of_range_is_a_clear_error(
    home: Path, port: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dashboard", "--serve", "--port", port]) == 2
    assert f"warroom: --port must be between 1 and 65535, got {port}" in capsys.readouterr().err
