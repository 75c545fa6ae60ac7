"""`warroom doctor`: is this profile configured and can it reach what it needs?

Checks, in order: settings, the master encryption key, the key store, the warehouse, the
dashboard bucket (its name, and that its objects can be listed) and the Dagster instance.
Each prints one line, `ok` or `FAIL` with what to fix. No line ever carries a secret:
messages name settings, never their values, and every configured secret value is masked out
of the output as a last guard.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from warroom_pipelines.commands.common import ensure_dagster_home
from warroom_pipelines.profiles import (
    PRODUCTION_SETTINGS,
    PROFILES,
    duckdb_path,
    production_problems,
)

SECRET_SETTINGS = (
    "PERFORMANCE_ENCRYPTION_KEY",
    "PERFORMANCE_ENCRYPTION_KEY_PREVIOUS",
    "DAGSTER_PG_PASSWORD",
)
_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class Finding:
    check: str
    ok: bool
    detail: str


Check = Callable[[str, Mapping[str, str]], Finding]


def register(doctor: argparse.ArgumentParser) -> None:
    doctor.add_argument(
        "--profile",
        choices=PROFILES,
        default=None,
        help="profile to check (default: WARROOM_PROFILE, else local)",
    )
    doctor.set_defaults(handler=run_doctor)


def check_settings(profile: str, env: Mapping[str, str]) -> Finding:
    if profile == "local":
        return Finding("settings", True, "local profile: embedded defaults")
    problems = production_problems(env)
    if problems:
        return Finding("settings", False, "; ".join(problems))
    return Finding("settings", True, f"all {len(PRODUCTION_SETTINGS)} production settings valid")


def check_master_key(profile: str, env: Mapping[str, str]) -> Finding:
    if not env.get("PERFORMANCE_ENCRYPTION_KEY", "").strip():
        if profile == "production":
            return Finding("encryption key", False, "PERFORMANCE_ENCRYPTION_KEY is not set")
        return Finding(
            "encryption key", True, "not set: the local profile uses a development key file"
        )
    try:
        from warroom_pipelines.vault.crypto import MasterKeyring, VaultError
    except ImportError:
        return Finding(
            "encryption key",
            False,
            "the key vault (warroom_pipelines.vault.crypto) is not installed",
        )
    try:
        ring = MasterKeyring.from_env(env)
    except VaultError as exc:  # its messages name the setting, never the value
        return Finding("encryption key", False, str(exc))
    return Finding(
        "encryption key",
        True,
        f"valid; current key id {ring.current.key_id}, {len(ring.previous)} previous key(s)",
    )


def check_key_store(profile: str, env: Mapping[str, str]) -> Finding:
    if profile == "local":
        return Finding("key store", True, "embedded store under the Dagster home")
    project = env.get("WARROOM_GCP_PROJECT", "")
    if not project:
        return Finding("key store", False, "WARROOM_GCP_PROJECT is not set")
    try:
        from google.cloud import firestore

        client = firestore.Client(
            project=project, database=env.get("WARROOM_FIRESTORE_DATABASE") or "(default)"
        )
        client.collection("tenants").limit(1).get(timeout=_TIMEOUT_S, retry=None)
    except Exception as exc:  # any failure to reach it is the finding
        return Finding(
            "key store", False, f"Firestore of project {project} is not reachable: {_kind(exc)}"
        )
    where = env.get("FIRESTORE_EMULATOR_HOST") or f"project {project}"
    return Finding("key store", True, f"Firestore reachable ({where})")


def check_warehouse(profile: str, env: Mapping[str, str]) -> Finding:
    from warroom_pipelines.warehouse import DuckDBWarehouse, WarehouseError

    if profile == "local":
        path = duckdb_path()
        try:
            DuckDBWarehouse(path, read_only=True).query("SELECT 1")
        except Exception as exc:
            return Finding("warehouse", False, f"DuckDB file {path} cannot be read: {_kind(exc)}")
        return Finding("warehouse", True, f"DuckDB file {path}")
    project, dataset = env.get("WARROOM_GCP_PROJECT"), env.get("WARROOM_BIGQUERY_DATASET")
    if not project or not dataset:
        return Finding(
            "warehouse", False, "WARROOM_GCP_PROJECT and WARROOM_BIGQUERY_DATASET are needed"
        )
    from warroom_pipelines.warehouse.bigquery import BigQueryWarehouse

    try:
        BigQueryWarehouse(
            project=project,
            dataset=dataset,
            location=env.get("WARROOM_BIGQUERY_LOCATION") or None,
            api_endpoint=env.get("WARROOM_BIGQUERY_API_ENDPOINT") or None,
        ).ping()
    except WarehouseError as exc:
        return Finding("warehouse", False, str(exc))
    except Exception as exc:  # e.g. no Google credentials on this machine
        return Finding("warehouse", False, f"BigQuery client failed: {_kind(exc)}")
    return Finding("warehouse", True, f"BigQuery dataset {project}.{dataset} reachable")


def check_dashboard_bucket(profile: str, env: Mapping[str, str]) -> Finding:
    if profile == "local":
        return Finding("dashboard", True, "pages written under the Dagster home")
    bucket = env.get("WARROOM_DASHBOARD_BUCKET", "")
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]", bucket) or ".." in bucket:
        return Finding(
            "dashboard", False, "WARROOM_DASHBOARD_BUCKET is not a valid GCS bucket name"
        )
    from warroom_pipelines.dashboard.bucket import BucketError, BucketPages

    try:
        BucketPages(
            bucket,
            project=env.get("WARROOM_GCP_PROJECT") or None,
            api_endpoint=env.get("WARROOM_STORAGE_API_ENDPOINT") or None,
        ).ping()
    except BucketError as exc:
        return Finding("dashboard", False, f"{exc} (the runtime needs objectUser on it)")
    except Exception as exc:  # e.g. no Google credentials on this machine
        return Finding("dashboard", False, f"Cloud Storage client failed: {_kind(exc)}")
    return Finding("dashboard", True, f"pages go to gs://{bucket}/ (reachable)")


def check_instance(profile: str, env: Mapping[str, str]) -> Finding:
    home = ensure_dagster_home()
    try:
        import dagster as dg

        with dg.DagsterInstance.from_config(str(home)) as instance:
            instance.get_runs(limit=1)
            storage = type(instance.run_storage).__name__
    except Exception as exc:
        return Finding(
            "dagster instance",
            False,
            f"{home}/dagster.yaml does not give a working instance: {_kind(exc)}",
        )
    if profile == "production" and not storage.startswith("Postgres"):
        return Finding(
            "dagster instance",
            False,
            f"{home} uses {storage}; production keeps runs in PostgreSQL (deploy/dagster.yaml)",
        )
    return Finding("dagster instance", True, f"{home} ({storage})")


CHECKS: tuple[Check, ...] = (
    check_settings,
    check_master_key,
    check_key_store,
    check_warehouse,
    check_dashboard_bucket,
    check_instance,
)


def _kind(exc: BaseException) -> str:
    """The exception's class and first line: enough to act on, short enough to read."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first[:200]}" if first else type(exc).__name__


def mask_secrets(text: str, env: Mapping[str, str]) -> str:
    for name in SECRET_SETTINGS:
        for value in env.get(name, "").split(","):
            if len(value.strip()) >= 4:
                text = text.replace(value.strip(), "****")
    return text


def diagnose(profile: str, env: Mapping[str, str]) -> list[Finding]:
    return [check(profile, env) for check in CHECKS]


def run_doctor(args: argparse.Namespace) -> int:
    env = dict(os.environ)
    profile = args.profile or env.get("WARROOM_PROFILE", "local")
    if profile not in PROFILES:
        print(f"FAIL profile: WARROOM_PROFILE must be one of {', '.join(PROFILES)}")
        return 1
    print(f"warroom doctor: profile {profile}")
    findings = diagnose(profile, env)
    for finding in findings:
        line = f"{'ok  ' if finding.ok else 'FAIL'} {finding.check}: {finding.detail}"
        print(mask_secrets(line, env))
    failed = [f.check for f in findings if not f.ok]
    print(
        f"{len(findings) - len(failed)} ok, {len(failed)} failing"
        + (f" ({', '.join(failed)})" if failed else "")
    )
    return 1 if failed else 0
