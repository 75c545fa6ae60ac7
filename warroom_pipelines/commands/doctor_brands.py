"""`warroom doctor`'s checks of what fails in practice: each brand's keys and alert
destinations, the ad platforms' endpoints, the Dagster daemon, each brand's freshness.

Each returns findings (one per brand or platform) whose detail says what to do. Vault errors
name the brand, integration and field, never a value.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Literal

from warroom_pipelines.commands.common import ensure_dagster_home

if TYPE_CHECKING:
    from warroom_pipelines.vault.manager import IntegrationManager

Status = Literal["ok", "warn", "skip", "FAIL"]
ENDPOINT_TIMEOUT_S = 5.0
# A brand whose newest hour is older than this has stopped: the hourly refresh runs at :05.
STALE_AFTER = timedelta(hours=3)


@dataclass(frozen=True)
class Finding:
    check: str
    status: Status
    detail: str

    @property
    def ok(self) -> bool:
        return self.status != "FAIL"


@contextmanager
def open_vault(profile: str, env: Mapping[str, str]) -> Iterator[IntegrationManager]:
    """The profile's integration manager, as the Dagster resource builds it."""
    import dagster as dg

    from warroom_pipelines.resources.vault import vault_resource

    resource = vault_resource(profile, ensure_dagster_home(), env)
    with dg.build_resources({"vault": resource}) as built:
        yield built.vault.manager()


def check_brand_keys(profile: str, env: Mapping[str, str]) -> list[Finding]:
    """Every brand's stored channel keys and alert destinations decrypt and validate (every
    required field, well-formed URLs and addresses): a line for each brand's keys and one for
    its alert destinations."""
    from warroom_pipelines.vault.crypto import VaultError
    from warroom_pipelines.vault.models import ALERT_DESTINATIONS

    findings = []
    try:
        with open_vault(profile, env) as manager:
            for brand in manager.store.list_brands():
                stored = manager.store.list_integrations(brand)
                for check, names in (
                    (f"keys {brand}", [n for n in stored if n not in ALERT_DESTINATIONS]),
                    (f"alerts {brand}", [n for n in stored if n in ALERT_DESTINATIONS]),
                ):
                    findings.append(_integrations_finding(manager, brand, check, names))
    except VaultError as exc:
        return [Finding("brand keys", "FAIL", f"the vault cannot be opened: {exc}")]
    return findings or [Finding("brand keys", "ok", "no brand has stored keys yet")]


def _integrations_finding(
    manager: IntegrationManager, brand: str, check: str, names: list[str]
) -> Finding:
    from warroom_pipelines.vault.crypto import VaultError

    problems = []
    for name in names:
        try:
            manager.get(brand, name)
        except VaultError as exc:
            problems.append(str(exc))
    if problems:
        fix = f"store them again: warroom keys set --brand {brand} --integration <name>"
        return Finding(check, "FAIL", "; ".join(problems) + f"; {fix}")
    if not names:
        what = "alerts go to the local file sink only" if check.startswith("alerts") else ""
        return Finding(check, "ok", what or "no ad platform connected")
    return Finding(check, "ok", f"{', '.join(names)}: decrypt and are complete")


def check_platform_endpoints(profile: str, env: Mapping[str, str]) -> list[Finding]:
    """Each ad platform that some brand connected answers HTTP at its configured base URL
    (any status counts: the point is that it is there), within a timeout."""
    import requests

    from warroom_pipelines.channels import registry
    from warroom_pipelines.resources.ad_platforms import (
        EndpointSettingError,
        ad_platforms_from_env,
    )
    from warroom_pipelines.vault.crypto import VaultError

    try:
        platforms = ad_platforms_from_env(env)
    except EndpointSettingError as exc:
        return [Finding("ad platforms", "FAIL", f"{exc}; fix or unset the variable")]
    try:
        with open_vault(profile, env) as manager:
            used = {
                name
                for b in manager.store.list_brands()
                for name in manager.store.list_integrations(b)
            }
    except VaultError:
        used = set(registry.names())  # check_brand_keys reports the vault; check every one
    findings = []
    for record in registry.platforms():
        platform = record.name
        url = platforms.settings_of(record)["base_url"]
        setting = next(s.env_var for s in record.settings if s.name == "base_url")
        check = f"endpoint {platform}"
        if platform not in used:
            findings.append(Finding(check, "ok", f"no brand connects {platform}; not checked"))
            continue
        try:
            requests.get(url, timeout=ENDPOINT_TIMEOUT_S)
        except requests.RequestException as exc:
            findings.append(
                Finding(
                    check,
                    "FAIL",
                    f"{url} does not answer ({type(exc).__name__}); check the network or proxy, "
                    f"or set {setting}",
                )
            )
            continue
        findings.append(Finding(check, "ok", f"{url} answers"))
    return findings


def check_daemon(profile: str, env: Mapping[str, str]) -> list[Finding]:
    """The Dagster daemon runs the schedules and sensors: without it nothing refreshes."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(ensure_dagster_home())) as instance:
        statuses = instance.get_daemon_statuses()
    down = sorted(kind for kind, status in statuses.items() if not status.healthy)
    if down:
        return [
            Finding(
                "daemon",
                "FAIL",
                f"not running ({', '.join(down)} without a recent heartbeat): schedules and "
                "sensors do not tick; start it with `dagster-daemon run` (or `dagster dev`) "
                "using the same DAGSTER_HOME",
            )
        ]
    return [Finding("daemon", "ok", f"running ({len(statuses)} daemons with recent heartbeats)")]


def check_freshness(profile: str, env: Mapping[str, str]) -> list[Finding]:
    """Each registered brand's newest hour in the unified table is recent."""
    import pandas as pd

    from warroom_pipelines import clock
    from warroom_pipelines.commands.brands import registered_brands
    from warroom_pipelines.profiles import resources_for

    brands = registered_brands()
    if not brands:
        return [Finding("freshness", "warn", "no brand registered: warroom brands add <brand>")]
    warehouse = resources_for(profile)["warehouse"].process_config_and_initialize().get()
    try:
        newest = warehouse.query(
            "SELECT brand, max(hour_start) AS newest FROM unified_performance GROUP BY brand"
        )
    except Exception as exc:  # no table yet, or the warehouse is unreachable (reported above)
        newest = pd.DataFrame({"brand": [], "newest": []})
        reason = type(exc).__name__
    else:
        reason = ""
    last = dict(zip(newest["brand"], newest["newest"], strict=True))
    now = pd.Timestamp(clock.now())
    findings = []
    for brand in brands:
        check = f"freshness {brand}"
        if brand not in last or pd.isna(last[brand]):
            detail = "no data yet" + (f" ({reason})" if reason else "")
            findings.append(
                Finding(
                    check,
                    "FAIL",
                    f"{detail}: materialize it in the Dagster UI or wait for hourly_refresh; "
                    "if runs fail, check its keys (warroom keys list --brand " + brand + ")",
                )
            )
            continue
        at = pd.Timestamp(last[brand])
        at = at.tz_localize("UTC") if at.tzinfo is None else at
        if now - at > STALE_AFTER:
            findings.append(
                Finding(
                    check,
                    "FAIL",
                    f"no data since {at:%Y-%m-%d %H:%M} UTC: check its latest brand_refresh run "
                    "in the Dagster UI, its keys, and that the daemon runs",
                )
            )
        else:
            findings.append(Finding(check, "ok", f"newest hour {at:%Y-%m-%d %H:%M} UTC"))
    return findings
