"""Resources per deployment profile, chosen by WARROOM_PROFILE (local | production).

"local" runs on a bare machine: DuckDB under the Dagster home and the demo source for demo
brands. "production" runs on Google Cloud: BigQuery tables, the Firestore key store, pages in a
GCS bucket. Its settings are checked when the definitions load, all at once, so that a
missing one is a clear `ProfileError` listing every problem, never a failure deep inside a
run. Secrets reach resources only as `dg.EnvVar`, which Dagster resolves at launch and never
shows in the UI.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg

from warroom_pipelines.home import alerts_dir, command_center_dir, dagster_home, duckdb_path
from warroom_pipelines.resources.ad_platforms import ad_platforms_from_env
from warroom_pipelines.resources.alerts import AlertsResource
from warroom_pipelines.resources.dashboard import CommandCenterResource
from warroom_pipelines.resources.demo import DemoSourceResource
from warroom_pipelines.resources.vault import vault_resource
from warroom_pipelines.resources.warehouse import WarehouseIOManager, WarehouseResource

PROFILES = ("local", "production")


class ProfileError(RuntimeError):
    """The chosen profile is missing settings; the message lists every one."""


@dataclass(frozen=True)
class Setting:
    """One environment variable of the production profile."""

    name: str
    meaning: str
    required: bool = True
    secret: bool = False
    pattern: str | None = None  # what a well-formed (non-secret) value looks like

    def problem(self, environ: Mapping[str, str]) -> str | None:
        value = environ.get(self.name, "").strip()
        if not value:
            return f"{self.name} is not set ({self.meaning})" if self.required else None
        if self.pattern and not re.fullmatch(self.pattern, value):
            # Settings with a pattern are not secret: naming the value helps.
            return f"{self.name}={value!r} is malformed ({self.meaning})"
        return None


PRODUCTION_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "WARROOM_GCP_PROJECT",
        "Google Cloud project id of BigQuery, Firestore and the dashboard bucket",
        pattern=r"[a-z][a-z0-9-]{4,28}[a-z0-9]",
    ),
    Setting(
        "WARROOM_BIGQUERY_DATASET",
        "BigQuery dataset that holds War Room's tables",
        pattern=r"[A-Za-z0-9_]{1,1024}",
    ),
    Setting(
        "WARROOM_DASHBOARD_BUCKET",
        "GCS bucket the Command Center pages are written to",
        pattern=r"[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]",
    ),
    Setting(
        "PERFORMANCE_ENCRYPTION_KEY",
        "master key of the key vault: 32 random bytes, base64",
        secret=True,
    ),
    Setting(
        "WARROOM_BIGQUERY_LOCATION",
        "BigQuery location of the dataset, e.g. EU or US (default: the dataset's)",
        required=False,
        pattern=r"[A-Za-z0-9-]{2,40}",
    ),
    Setting(
        "WARROOM_FIRESTORE_DATABASE",
        "Firestore database of the key store (default: (default))",
        required=False,
        pattern=r"\(default\)|[a-z][a-z0-9-]{2,62}",
    ),
    Setting(
        "WARROOM_BIGQUERY_API_ENDPOINT",
        "BigQuery API of an emulator, e.g. http://127.0.0.1:9050 (unset on Google Cloud)",
        required=False,
        pattern=r"https?://[A-Za-z0-9.:\[\]-]+/?",
    ),
    Setting(
        "WARROOM_STORAGE_API_ENDPOINT",
        "Cloud Storage API of an emulator, e.g. http://127.0.0.1:4443 (unset on Google Cloud)",
        required=False,
        pattern=r"https?://[A-Za-z0-9.:\[\]-]+/?",
    ),
    Setting(
        "WARROOM_DASHBOARD_URL",
        "where alerts link the Command Center (default: the bucket's authenticated URL)",
        required=False,
        pattern=r"https?://\S+",
    ),
    Setting(
        "WARROOM_DEMO_BRANDS",
        "comma-separated brands the demo source serves in production (default: none)",
        required=False,
        pattern=r"[a-z0-9-]+(,[a-z0-9-]+)*",
    ),
)


def production_problems(environ: Mapping[str, str] | None = None) -> list[str]:
    """Every missing or malformed production setting, in the documented order."""
    env = os.environ if environ is None else environ
    return [p for s in PRODUCTION_SETTINGS if (p := s.problem(env)) is not None]


def require_production_settings(environ: Mapping[str, str] | None = None) -> None:
    problems = production_problems(environ)
    if problems:
        raise ProfileError(
            "the production profile cannot load; fix these settings "
            "(see docs/deployment.md):\n  - " + "\n  - ".join(problems)
        )


def profile_name() -> str:
    name = os.environ.get("WARROOM_PROFILE", "local")
    if name not in PROFILES:
        raise ProfileError(f"WARROOM_PROFILE must be one of {', '.join(PROFILES)}, got {name!r}")
    return name


def local_resources() -> dict[str, Any]:
    warehouse = WarehouseResource(path=duckdb_path())
    return {
        "warehouse": warehouse,
        "io_manager": WarehouseIOManager(warehouse=warehouse),
        "demo_source": DemoSourceResource(brands=[]),  # the registered demo brands only
        "ad_platforms": ad_platforms_from_env(),
        "vault": vault_resource("local", dagster_home()),
        "command_center": CommandCenterResource(folder=command_center_dir()),
        "alerts": local_alerts(),
    }


def local_alerts() -> AlertsResource:
    return AlertsResource(
        file_sink_dir=str(alerts_dir()),
        dagster_url=os.environ.get("WARROOM_DAGSTER_URL", "http://127.0.0.1:3000"),
        # The Command Center's pages, which alerts link to (brands/<brand>.html#incident-<id>).
        dashboard_url=os.environ.get("WARROOM_DASHBOARD_URL")
        or Path(command_center_dir()).as_uri(),
    )


def bucket_url(env: Mapping[str, str]) -> str:
    """The dashboard bucket in a browser: Google serves its objects there to signed-in users
    who hold roles/storage.objectViewer on it."""
    return f"https://storage.cloud.google.com/{env['WARROOM_DASHBOARD_BUCKET']}"


def production_resources(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """BigQuery behind the same I/O manager, pages to the bucket; settings checked here,
    resolved at launch."""
    env = os.environ if environ is None else environ
    require_production_settings(env)
    warehouse = WarehouseResource(
        bigquery_project=dg.EnvVar("WARROOM_GCP_PROJECT"),
        bigquery_dataset=dg.EnvVar("WARROOM_BIGQUERY_DATASET"),
        bigquery_location=env.get("WARROOM_BIGQUERY_LOCATION") or None,
        bigquery_api_endpoint=env.get("WARROOM_BIGQUERY_API_ENDPOINT") or None,
    )
    demo_brands = [b for b in env.get("WARROOM_DEMO_BRANDS", "").split(",") if b]
    return {
        "warehouse": warehouse,
        "io_manager": WarehouseIOManager(warehouse=warehouse),
        "demo_source": DemoSourceResource(brands=demo_brands),
        "ad_platforms": ad_platforms_from_env(env),
        "vault": vault_resource("production", dagster_home(), env),
        "command_center": CommandCenterResource(
            bucket=dg.EnvVar("WARROOM_DASHBOARD_BUCKET"),
            gcp_project=dg.EnvVar("WARROOM_GCP_PROJECT"),
            storage_api_endpoint=env.get("WARROOM_STORAGE_API_ENDPOINT") or None,
        ),
        "alerts": AlertsResource(
            dagster_url=env.get("WARROOM_DAGSTER_URL", ""),
            dashboard_url=env.get("WARROOM_DASHBOARD_URL") or bucket_url(env),
        ),
    }


_PROFILE_RESOURCES: dict[str, Callable[[], dict[str, Any]]] = {
    "local": local_resources,
    "production": production_resources,
}


def resources_for(profile: str) -> dict[str, Any]:
    if profile not in _PROFILE_RESOURCES:
        raise ProfileError(f"unknown profile {profile!r}; use one of {', '.join(PROFILES)}")
    return _PROFILE_RESOURCES[profile]()
