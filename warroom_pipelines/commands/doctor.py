"""`warroom doctor`: is this profile configured and can it reach what it needs?

Checks, in order: settings, the master encryption key, the key store, the warehouse, the
dashboard bucket (its name, and that its objects can be listed), the Dagster instance, then
what fails in practice (commands/doctor_brands.py): each brand's keys and alert destinations,
the ad platforms' endpoints, the daemon, each brand's freshness. Each prints one line, `ok`,
`warn` or `FAIL` with what to do. No line ever carries a secret:
messages name settings, never their values, and every configured secret value is masked out
of the output as a last guard.
"""

from __future__ import annotations

import argparse
import os
import re
from collections import Counter
from collections.abc import Callable, Mapping

from warroom_pipelines.commands.common import ensure_dagster_home
from warroom_pipelines.commands.doctor_brands import (
    Finding,
    check_brand_keys,
    check_daemon,
    check_freshness,
    check_platform_endpoints,
)
from warroom_pipelines.home import duckdb_path
from warroom_pipelines.profiles import PRODUCTION_SETTINGS, PROFILES, production_problems

SECRET_SETTINGS = (
    "PERFORMANCE_ENCRYPTION_KEY",
    "PERFORMANCE_ENCRYPTION_KEY_PREVIOUS",
    "DAGSTER_PG_PASSWORD",
)
_TIMEOUT_S = 15.0


Check = Callable[[str, Mapping[str, str]], Finding]
BrandCheck = Callable[[str, Mapping[str, str]], list[Finding]]


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
        return Finding("settings", "ok", "local profile: embedded defaults")
    problems = production_problems(env)
    if problems:
        return Finding("settings", "FAIL", "; ".join(problems))
    return Finding("settings", "ok", f"all {len(PRODUCTION_SETTINGS)} production settings valid")


def check_master_key(profile: str, env: Mapping[str, str]) -> Finding:
    if not env.get("PERFORMANCE_ENCRYPTION_KEY", "").strip():
        if profile == "production":
            return Finding(
                "encryption key",
                "FAIL",
                "PERFORMANCE_ENCRYPTION_KEY is not set: set it to 32 random bytes, base64 "
                "(docs/deployment.md)",
            )
        return Finding(
            "encryption key",
            "warn",
            "PERFORMANCE_ENCRYPTION_KEY is not set: credentials are encrypted with the "
            "development key file; set the variable before storing real credentials",
        )
    try:
        from warroom_pipelines.vault.crypto import MasterKeyring, VaultError
    except ImportError:
        return Finding(
            "encryption key",
            "FAIL",
            "the key vault (warroom_pipelines.vault.crypto) is not installed",
        )
    try:
        ring = MasterKeyring.from_env(env)
    except VaultError as exc:  # its messages name the setting, never the value
        return Finding("encryption key", "FAIL", str(exc))
    return Finding(
        "encryption key",
        "ok",
        f"valid; current key id {ring.current.key_id}, {len(ring.previous)} previous key(s)",
    )


def check_key_store(profile: str, env: Mapping[str, str]) -> Finding:
    if profile == "local":
        return Finding("key store", "ok", "embedded store under the Dagster home")
    project = env.get("WARROOM_GCP_PROJECT", "")
    if not project:
        return Finding("key store", "FAIL", "WARROOM_GCP_PROJECT is not set")
    try:
        from google.cloud import firestore

        client = firestore.Client(
            project=project, database=env.get("WARROOM_FIRESTORE_DATABASE") or "(default)"
        )
        client.collection("tenants").limit(1).get(timeout=_TIMEOUT_S, retry=None)
    except Exception as exc:  # any failure to reach it is the finding
        return Finding(
            "key store", "FAIL", f"Firestore of project {project} is not reachable: {_kind(exc)}"
        )
    where = env.get("FIRESTORE_EMULATOR_HOST") or f"project {project}"
    return Finding("key store", "ok", f"Firestore reachable ({where})")


def check_warehouse(profile: str, env: Mapping[str, str]) -> Finding:
    from warroom_pipelines.warehouse import DuckDBWarehouse, WarehouseError

    if profile == "local":
        path = duckdb_path()
        try:
            DuckDBWarehouse(path, read_only=True).query("SELECT 1")
        except Exception as exc:
            return Finding("warehouse", "FAIL", f"DuckLake {path} cannot be read: {_kind(exc)}")
        return Finding("warehouse", "ok", f"DuckLake {path}")
    project, dataset = env.get("WARROOM_GCP_PROJECT"), env.get("WARROOM_BIGQUERY_DATASET")
    if not project or not dataset:
        return Finding(
            "warehouse", "FAIL", "WARROOM_GCP_PROJECT and WARROOM_BIGQUERY_DATASET are needed"
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
        return Finding("warehouse", "FAIL", str(exc))
    except Exception as exc:  # e.g. no Google credentials on this machine
        return Finding("warehouse", "FAIL", f"BigQuery client failed: {_kind(exc)}")
    return Finding("warehouse", "ok", f"BigQuery dataset {project}.{dataset} reachable")


def check_dashboard_bucket(profile: str, env: Mapping[str, str]) -> Finding:
    if profile == "local":
        return Finding("dashboard", "ok", "pages written under the Dagster home")
    bucket = env.get("WARROOM_DASHBOARD_BUCKET", "")
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]", bucket) or ".." in bucket:
        return Finding(
            "dashboard", "FAIL", "WARROOM_DASHBOARD_BUCKET is not a valid GCS bucket name"
        )
    from warroom_pipelines.dashboard.bucket import BucketError, BucketPages
    from warroom_pipelines.resources.dashboard import storage_client

    project = env.get("WARROOM_GCP_PROJECT") or None
    endpoint = env.get("WARROOM_STORAGE_API_ENDPOINT") or None
    try:
        BucketPages(
            bucket,
            project=project,
            client=storage_client(project, endpoint),
            api_endpoint=endpoint,
        ).ping()
    except BucketError as exc:
        return Finding("dashboard", "FAIL", f"{exc} (the runtime needs objectUser on it)")
    except Exception as exc:  # e.g. no Google credentials on this machine
        return Finding("dashboard", "FAIL", f"Cloud Storage client failed: {_kind(exc)}")
    return Finding("dashboard", "ok", f"pages go to gs://{bucket}/ (reachable)")


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
            "FAIL",
            f"{home}/dagster.yaml does not give a working instance: {_kind(exc)}",
        )
    if profile == "production" and not storage.startswith("Postgres"):
        return Finding(
            "dagster instance",
            "FAIL",
            f"{home} uses {storage}; production keeps runs in PostgreSQL (deploy/dagster.yaml)",
        )
    return Finding("dagster instance", "ok", f"{home} ({storage})")


CHECKS: tuple[Check, ...] = (
    check_settings,
    check_master_key,
    check_key_store,
    check_warehouse,
    check_dashboard_bucket,
    check_instance,
)
# Each check of what fails in practice, with the checks above it needs to have passed (a key
# store that does not answer would only make it wait for its client's retries).
BRAND_CHECKS: tuple[tuple[BrandCheck, tuple[str, ...]], ...] = (
    (check_brand_keys, ("encryption key", "key store")),
    (check_platform_endpoints, ("encryption key", "key store")),
    (check_daemon, ("dagster instance",)),
    (check_freshness, ("warehouse",)),
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
    findings = [check(profile, env) for check in CHECKS]
    failed = {f.check for f in findings if f.status == "FAIL"}
    for check, needs in BRAND_CHECKS:
        blocked = [name for name in needs if name in failed]
        if blocked:
            name = check.__name__.removeprefix("check_").replace("_", " ")
            findings.append(Finding(name, "skip", f"fix {' and '.join(blocked)} first"))
        else:
            findings += check(profile, env)
    return findings


def run_doctor(args: argparse.Namespace) -> int:
    env = dict(os.environ)
    profile = args.profile or env.get("WARROOM_PROFILE", "local")
    if profile not in PROFILES:
        print(f"FAIL profile: WARROOM_PROFILE must be one of {', '.join(PROFILES)}")
        return 1
    print(f"warroom doctor: profile {profile}")
    findings = diagnose(profile, env)
    for finding in findings:
        line = f"{finding.status:<4} {finding.check}: {finding.detail}"
        print(mask_secrets(line, env))
    failed = [f.check for f in findings if f.status == "FAIL"]
    tally = Counter(f.status for f in findings)
    print(
        f"{tally['ok']} ok, {tally['warn']} warning(s), {tally['skip']} skipped, "
        f"{len(failed)} failing" + (f" ({', '.join(failed)})" if failed else "")
    )
    return 1 if failed else 0
