"""Profile selection: production loads with a complete configuration (no network needed) and
fails at load time, listing every problem, when settings are missing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from warroom_pipelines.profiles import (
    PRODUCTION_SETTINGS,
    ProfileError,
    production_problems,
    production_resources,
    resources_for,
)

ROOT = Path(__file__).resolve().parents[2]
MASTER_KEY = "c2VjcmV0LW1hc3Rlci1rZXktMzItYnl0ZXMtbG9uZyE="
COMPLETE = {
    "WARROOM_GCP_PROJECT": "warroom-prod",
    "WARROOM_BIGQUERY_DATASET": "warroom",
    "WARROOM_DASHBOARD_BUCKET": "warroom-command-center",
    "PERFORMANCE_ENCRYPTION_KEY": MASTER_KEY,
}
REQUIRED = [s.name for s in PRODUCTION_SETTINGS if s.required]


LOADABLE = (
    "from warroom_pipelines.definitions import defs; import dagster as dg; "
    "dg.Definitions.validate_loadable(defs); print('loaded')"
)


def _load_definitions(
    env: dict[str, str], tmp_path: Path, probe: str = LOADABLE, profile: str = "production"
) -> subprocess.CompletedProcess[str]:
    """Import the one Definitions object in a fresh interpreter, as a code server would."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("WARROOM_", "PERFORMANCE_"))}
    return subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**base, "DAGSTER_HOME": str(tmp_path), "WARROOM_PROFILE": profile, **env},
    )


def test_the_production_profile_loads_with_a_complete_configuration(tmp_path: Path) -> None:
    result = _load_definitions(COMPLETE, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "loaded" in result.stdout


def test_missing_settings_fail_at_load_time_listing_every_one(tmp_path: Path) -> None:
    result = _load_definitions({}, tmp_path)
    assert result.returncode != 0
    assert "ProfileError" in result.stderr
    for name in REQUIRED:
        assert f"{name} is not set" in result.stderr


def test_production_resources_read_settings_through_envvar(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in COMPLETE.items():
        monkeypatch.setenv(name, value)
    resources = resources_for("production")
    warehouse = resources["warehouse"]
    assert warehouse.bigquery_project == dg.EnvVar("WARROOM_GCP_PROJECT")
    assert warehouse.bigquery_dataset == dg.EnvVar("WARROOM_BIGQUERY_DATASET")
    assert resources["io_manager"].warehouse is warehouse
    assert resources["demo_source"].brands == []  # the demo serves no real brand in production
    pages = resources["command_center"]
    assert pages.bucket == dg.EnvVar("WARROOM_DASHBOARD_BUCKET") and pages.folder is None
    assert resources["alerts"].dashboard_url == (
        "https://storage.cloud.google.com/warroom-command-center"
    )


def test_the_command_center_is_scheduled_in_both_profiles(tmp_path: Path) -> None:
    probe = (
        "from warroom_pipelines.definitions import defs; "
        "print(defs.get_schedule_def('command_center_hourly').cron_schedule)"
    )
    for profile, env in (("local", {}), ("production", COMPLETE)):
        result = _load_definitions(env, tmp_path, probe, profile)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "35 * * * *", profile


def test_every_problem_is_listed_and_the_key_is_never_echoed() -> None:
    env = {**COMPLETE, "WARROOM_BIGQUERY_DATASET": "war-room", "WARROOM_DASHBOARD_BUCKET": ""}
    problems = production_problems(env)
    assert problems == [
        "WARROOM_BIGQUERY_DATASET='war-room' is malformed "
        "(BigQuery dataset that holds War Room's tables)",
        "WARROOM_DASHBOARD_BUCKET is not set (GCS bucket the Command Center pages are written to)",
    ]
    with pytest.raises(ProfileError) as raised:
        production_resources(env)
    assert MASTER_KEY not in str(raised.value)


def test_an_unknown_profile_is_refused() -> None:
    with pytest.raises(ProfileError, match="unknown profile"):
        resources_for("staging")


def test_every_setting_is_documented() -> None:
    doc = (ROOT / "docs" / "deployment.md").read_text()
    for setting in PRODUCTION_SETTINGS:
        assert f"`{setting.name}`" in doc, setting.name
