"""`warroom doctor` finds what is wrong with a profile and never prints a secret."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import yaml
from pytest_httpserver import HTTPServer

from tests.gcs_api import GCSAPI
from tests.production.bigquery_api import BigQueryAPI
from tests.production.conftest import Postgres
from tests.production.test_postgres_instance import production_instance_config
from warroom_pipelines.cli import main
from warroom_pipelines.commands.doctor import mask_secrets

MASTER_KEY = "q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80="  # 32 bytes, base64
PG_PASSWORD = "pg-password-that-must-not-leak"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _clear(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith(("WARROOM_", "PERFORMANCE_", "DAGSTER_PG_", "FIRESTORE_")):
            monkeypatch.delenv(name)


def test_the_local_profile_is_configured_on_a_bare_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _clear(monkeypatch)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    # Only the daemon is missing (tests/commands/test_doctor_checks.py checks the rest).
    assert main(["doctor", "--profile", "local"]) == 1
    out = capsys.readouterr().out
    assert [line for line in out.splitlines() if line.startswith("FAIL")] == [
        line for line in out.splitlines() if line.startswith("FAIL daemon")
    ]
    assert "warn encryption key" in out
    assert "1 failing (daemon)" in out


def test_production_without_settings_names_each_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _clear(monkeypatch)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    assert main(["doctor", "--profile", "production"]) == 1
    out = capsys.readouterr().out
    for name in (
        "WARROOM_GCP_PROJECT",
        "WARROOM_BIGQUERY_DATASET",
        "WARROOM_DASHBOARD_BUCKET",
        "PERFORMANCE_ENCRYPTION_KEY",
    ):
        assert f"{name} is not set" in out
    assert "FAIL encryption key" in out and "FAIL warehouse" in out


def test_production_reports_what_it_reaches_and_leaks_no_secret(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    httpserver: HTTPServer,
    dagster_db: Postgres,
) -> None:
    _clear(monkeypatch)
    GCSAPI("warroom-pages").install(httpserver)  # first: the BigQuery stand-in takes the rest
    BigQueryAPI(project="warroom-prod", dataset="warroom").install(httpserver)
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text(yaml.safe_dump(production_instance_config()))
    settings = {
        "DAGSTER_HOME": str(home),
        "WARROOM_GCP_PROJECT": "warroom-prod",
        "WARROOM_BIGQUERY_DATASET": "warroom",
        "WARROOM_BIGQUERY_API_ENDPOINT": httpserver.url_for("").rstrip("/"),
        "WARROOM_DASHBOARD_BUCKET": "warroom-pages",
        "WARROOM_STORAGE_API_ENDPOINT": httpserver.url_for("").rstrip("/"),
        "PERFORMANCE_ENCRYPTION_KEY": MASTER_KEY,
        # Nothing listens here: the key store is unreachable.
        "FIRESTORE_EMULATOR_HOST": f"127.0.0.1:{_closed_port()}",
        **dagster_db.env(),
        "DAGSTER_PG_PASSWORD": PG_PASSWORD,
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)

    assert main(["doctor", "--profile", "production"]) == 1
    out = capsys.readouterr().out
    lines = {line.split(":")[0]: line for line in out.splitlines()}
    assert lines["ok   settings"]
    assert "FAIL key store" in lines
    assert "reachable" in lines["ok   warehouse"]
    assert "gs://warroom-pages/ (reachable)" in lines["ok   dashboard"]
    assert "PostgresRunStorage" in lines["ok   dagster instance"]
    assert MASTER_KEY not in out and PG_PASSWORD not in out


def test_an_invalid_master_key_is_reported_without_its_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("warroom_pipelines.vault.crypto")
    _clear(monkeypatch)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    bad_key = "not-a-valid-master-key-value-1234"
    monkeypatch.setenv("PERFORMANCE_ENCRYPTION_KEY", bad_key)
    main(["doctor", "--profile", "local"])
    out = capsys.readouterr().out
    assert "FAIL encryption key" in out
    assert bad_key not in out


def test_secret_values_are_masked_out_of_any_line() -> None:
    env = {"PERFORMANCE_ENCRYPTION_KEY": MASTER_KEY, "DAGSTER_PG_PASSWORD": PG_PASSWORD}
    line = f"error: could not use {MASTER_KEY} with {PG_PASSWORD}"
    assert mask_secrets(line, env) == "error: could not use **** with ****"


def test_an_unreachable_dashboard_bucket_is_reported(httpserver: HTTPServer) -> None:
    from warroom_pipelines.commands.doctor import check_dashboard_bucket

    GCSAPI("warroom-pages").install(httpserver)
    env = {
        "WARROOM_GCP_PROJECT": "warroom-prod",
        "WARROOM_DASHBOARD_BUCKET": "someone-elses-bucket",
        "WARROOM_STORAGE_API_ENDPOINT": httpserver.url_for("").rstrip("/"),
    }
    finding = check_dashboard_bucket("production", env)
    assert not finding.ok
    assert "gs://someone-elses-bucket is not reachable" in finding.detail
