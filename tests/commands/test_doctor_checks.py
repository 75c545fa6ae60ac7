"""`warroom doctor` checks what fails in practice: the encryption key, each brand's keys and
alert destinations, the platforms' endpoints, the daemon and each brand's freshness; every
line that is not ok says what to do, and none carries a secret."""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster._daemon.types import DaemonHeartbeat
from pytest_httpserver import HTTPServer

from tests.support import free_port
from tests.vault.samples import SAMPLES, SECRET_MARKERS
from warroom_pipelines import clock
from warroom_pipelines.cli import main
from warroom_pipelines.resources.ad_platforms import endpoint_variables
from warroom_pipelines.warehouse import DuckDBWarehouse

NOW = "2026-11-15T18:20:00+00:00"


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith(("WARROOM_", "PERFORMANCE_", "DAGSTER_PG_", "FIRESTORE_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.setenv(clock.ENV_VAR, NOW)
    return tmp_path


def doctor(capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, str]]:
    capsys.readouterr()  # what the set-up commands printed
    status = main(["doctor", "--profile", "local"])
    out = capsys.readouterr().out
    assert not any(marker in out for marker in SECRET_MARKERS)
    lines = {}
    for line in out.splitlines()[1:-1]:
        level, rest = line.split(" ", 1)
        check, detail = rest.strip().split(": ", 1)
        lines[check] = f"{level} {detail}"
    return status, lines


def store_keys(tmp_path: Path, brand: str, integration: str, data: dict) -> None:
    source = tmp_path / f"{brand}-{integration}.json"
    source.write_text(json.dumps(data))
    args = ["keys", "set", "--brand", brand, "--integration", integration, "--from-file"]
    assert main([*args, str(source)]) == 0


def unified_rows(home: Path, newest: dict[str, str]) -> None:
    values = ", ".join(f"('{brand}', TIMESTAMPTZ '{hour}')" for brand, hour in newest.items())
    DuckDBWarehouse(str(home / "warroom.ducklake")).execute_script(
        "CREATE TABLE unified_performance AS SELECT * FROM (VALUES "
        + values
        + ") t(brand, hour_start)"
    )


def daemon_heartbeats(home: Path) -> None:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        for kind in instance.get_required_daemon_types():
            # Dagster judges heartbeats against the machine's clock, so they carry its time.
            instance.add_daemon_heartbeat(DaemonHeartbeat(time.time(), kind, "test", []))


def test_a_bare_machine_is_told_what_to_set_and_start(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, lines = doctor(capsys)
    assert status == 1
    assert lines["encryption key"].startswith("warn PERFORMANCE_ENCRYPTION_KEY is not set")
    assert "set the variable" in lines["encryption key"]
    assert lines["daemon"].startswith("FAIL not running")
    assert "dagster-daemon run" in lines["daemon"]
    assert lines["freshness"].startswith("warn") and "warroom brands add" in lines["freshness"]


def test_a_healthy_brand_passes_every_check(
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    httpserver: HTTPServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PERFORMANCE_ENCRYPTION_KEY", new_key())
    monkeypatch.setenv("WARROOM_META_BASE_URL", httpserver.url_for("/"))
    httpserver.expect_request("/").respond_with_data("graph")
    assert main(["brands", "add", "acme"]) == 0
    store_keys(home, "acme", "meta_ads", SAMPLES["meta_ads"])
    store_keys(home, "acme", "slack", SAMPLES["slack"])
    unified_rows(home, {"acme": "2026-11-15T17:00:00Z"})
    daemon_heartbeats(home)
    status, lines = doctor(capsys)
    assert status == 0, lines
    assert lines["encryption key"].startswith("ok")
    assert lines["keys acme"] == "ok meta_ads: decrypt and are complete"
    assert lines["alerts acme"] == "ok slack: decrypt and are complete"
    assert lines["endpoint meta_ads"] == f"ok {httpserver.url_for('/').rstrip('/')} answers"
    assert lines["endpoint tiktok_ads"].startswith("ok no brand connects")
    assert lines["daemon"].startswith("ok running")
    assert lines["freshness acme"] == "ok newest hour 2026-11-15 17:00 UTC"


def test_what_is_broken_is_named_with_what_to_do(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PERFORMANCE_ENCRYPTION_KEY", new_key())
    assert main(["brands", "add", "acme", "globex", "initech"]) == 0
    store_keys(home, "acme", "meta_ads", SAMPLES["meta_ads"])
    store_keys(home, "acme", "webhook", SAMPLES["webhook"])
    # acme's keys were sealed under a master key this machine no longer has.
    monkeypatch.setenv("PERFORMANCE_ENCRYPTION_KEY", new_key())
    store_keys(home, "globex", "tiktok_ads", SAMPLES["tiktok_ads"])
    store_keys(home, "globex", "email", SAMPLES["email"])
    monkeypatch.setenv("WARROOM_TIKTOK_BASE_URL", f"http://127.0.0.1:{free_port()}")
    unified_rows(home, {"acme": "2026-11-15T17:00:00Z", "globex": "2026-11-14T09:00:00Z"})
    status, lines = doctor(capsys)
    assert status == 1
    for check in ("keys acme", "alerts acme"):
        assert lines[check].startswith("FAIL") and "acme" in lines[check]
        assert "warroom keys set --brand acme" in lines[check]
    assert lines["alerts globex"] == "ok email: decrypt and are complete"
    assert lines["endpoint tiktok_ads"].startswith("FAIL http://127.0.0.1:")
    assert "WARROOM_TIKTOK_BASE_URL" in lines["endpoint tiktok_ads"]
    assert lines["freshness acme"].startswith("ok")
    assert lines["freshness globex"].startswith("FAIL no data since 2026-11-14 09:00 UTC")
    assert lines["freshness initech"].startswith("FAIL no data yet")
    assert "hourly_refresh" in lines["freshness initech"]


def test_a_malformed_endpoint_setting_is_named(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "WARROOM_META_API_VERSION" in {s.env_var for _, s in endpoint_variables()}
    monkeypatch.setenv("WARROOM_META_API_VERSION", "latest")
    status, lines = doctor(capsys)
    assert status == 1
    assert "WARROOM_META_API_VERSION='latest'" in lines["ad platforms"]
