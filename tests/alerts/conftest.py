"""A world for alert tests: a Dagster instance, a DuckDB warehouse, a test double of the
Sentry's `performance_anomalies` asset that writes contract rows, and real receivers."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
import pytest

from tests.alerts.receivers import HttpReceiver, SmtpReceiver
from warroom_pipelines.partitions import brand_date_partitions, partition_key, run_brand_dates
from warroom_pipelines.resources.alerts import AlertsResource, DestinationConfig
from warroom_pipelines.resources.vault import VaultResource, vault_resource
from warroom_pipelines.resources.warehouse import WarehouseIOManager, WarehouseResource
from warroom_pipelines.sensors.alerts import alert_dispatch

BRANDS = ("acme", "globex")
SMTP_USER = "alerts@acme.test"


class ScriptedAnomalies(dg.ConfigurableResource):
    """The rows the Sentry would have found, pickled by the test."""

    path: str


@dg.asset(
    name="performance_anomalies",
    partitions_def=brand_date_partitions,
    metadata={"partition_expr": {"brand": "brand", "date": "date"}},
)
def scripted_performance_anomalies(
    context: dg.AssetExecutionContext, scripted_anomalies: ScriptedAnomalies
) -> pd.DataFrame:
    frame = pd.read_pickle(scripted_anomalies.path)
    wanted = {(b, pd.Timestamp(d)) for b, days in run_brand_dates(context).items() for d in days}
    return frame.loc[[(b, d) in wanted for b, d in zip(frame["brand"], frame["date"], strict=True)]]


def anomaly_rows(
    brand: str,
    incident_id: str,
    start: str,
    hours: int,
    *,
    severity: str = "warning",
    money_per_hour: float = 40.0,
    resolved: bool = False,
    channel: str = "meta_ads",
    campaign_id: str = "cmp-1",
    campaign_name: str = "Winter Sale",
    anomaly_type: str = "cpa_spike",
    metric: str = "cpa",
    observed: float = 48.0,
    expected: float = 20.0,
) -> pd.DataFrame:
    """Rows of one incident in the performance_anomalies contract (one per anomalous hour)."""
    first = pd.Timestamp(start, tz="UTC")
    hour_starts = [first + pd.Timedelta(hours=n) for n in range(hours)]
    end = first + pd.Timedelta(hours=hours) if resolved else pd.NaT
    frame = pd.DataFrame(
        {
            "brand": brand,
            "date": [h.tz_localize(None).normalize() for h in hour_starts],
            "level": "campaign",
            "channel": channel,
            "campaign_id": campaign_id,
            "campaign_name": campaign_name,
            "hour_start": hour_starts,
            "metric": metric,
            "anomaly_type": anomaly_type,
            "observed": observed,
            "expected": expected,
            "expected_low": expected * 0.8,
            "expected_high": expected * 1.2,
            "deviation": 6.5,
            "score": 0.97,
            "severity": severity,
            "money_at_stake": money_per_hour,
            "currency": "EUR",
            "incident_id": incident_id,
            "incident_start": first,
            "incident_end": pd.Series([end] * hours, dtype="datetime64[us, UTC]"),
            "detector": "test-double",
            "detected_at": first + pd.Timedelta(hours=hours),
        }
    )
    frame["date"] = frame["date"].astype("datetime64[us]")
    frame["hour_start"] = frame["hour_start"].astype("datetime64[us, UTC]")
    frame["incident_start"] = frame["incident_start"].astype("datetime64[us, UTC]")
    frame["detected_at"] = frame["detected_at"].astype("datetime64[us, UTC]")
    return frame


def materialize_anomalies(
    instance: dg.DagsterInstance,
    warehouse: WarehouseResource,
    frame: pd.DataFrame,
    brand: str,
    day: str,
    scratch: Path,
) -> str:
    """Materialize the performance_anomalies test double for one brand-day; returns the run id."""
    path = scratch / f"anomalies-{brand}-{day}-{len(list(scratch.glob('anomalies-*')))}.pkl"
    frame.to_pickle(path)
    result = dg.materialize(
        [scripted_performance_anomalies],
        instance=instance,
        resources={
            "io_manager": WarehouseIOManager(warehouse=warehouse),
            "scripted_anomalies": ScriptedAnomalies(path=str(path)),
        },
        partition_key=partition_key(brand, date.fromisoformat(day)),
    )
    assert result.success
    return result.run_id


@dataclass
class World:
    root: Path
    instance: dg.DagsterInstance
    warehouse: WarehouseResource
    alerts: AlertsResource
    receivers: dict[str, HttpReceiver]
    smtp: SmtpReceiver
    secrets: list[str]
    cursor: str | None = None
    run_ids: list[str] = field(default_factory=list)
    alerts_config: dict[str, Any] = field(default_factory=dict)
    vault: VaultResource | None = None

    def alerts_with(self, **changes: Any) -> AlertsResource:
        return AlertsResource(**{**self.alerts_config, **changes})

    def materialize(self, frame: pd.DataFrame, brand: str, day: str) -> str:
        run_id = materialize_anomalies(self.instance, self.warehouse, frame, brand, day, self.root)
        self.run_ids.append(run_id)
        return run_id

    def tick(self, cursor: str | None = "keep", alerts: AlertsResource | None = None) -> Any:
        """Evaluate alert_dispatch once, from the stored cursor unless one is given."""
        context = dg.build_sensor_context(
            instance=self.instance,
            cursor=self.cursor if cursor == "keep" else cursor,
            resources=self.resources(alerts),
        )
        result = alert_dispatch(context)
        self.cursor = result.cursor
        return result

    def resources(self, alerts: AlertsResource | None = None) -> dict[str, Any]:
        return {"alerts": alerts or self.alerts, "warehouse": self.warehouse, "vault": self.vault}

    def bodies(self, name: str) -> list[dict[str, Any]]:
        return [r.json() for r in self.receivers[name].received]


def destination_configs(receivers: dict[str, HttpReceiver], smtp: SmtpReceiver) -> list[Any]:
    """acme: Slack, signed webhook, email; globex: its own Slack and webhook. Secret values come
    from environment variables, as they would in a deployment."""
    return [
        DestinationConfig(
            brand="acme",
            name="war-room",
            kind="slack",
            url=dg.EnvVar("ACME_SLACK_URL"),
            min_severity="warning",
        ),
        DestinationConfig(
            brand="acme",
            name="ops-hook",
            kind="webhook",
            url=dg.EnvVar("ACME_HOOK_URL"),
            signing_secret=dg.EnvVar("ACME_HOOK_SECRET"),
            min_severity="warning",
        ),
        DestinationConfig(
            brand="acme",
            name="email",
            kind="email",
            smtp_host="127.0.0.1",
            smtp_port=smtp.port,
            smtp_username=SMTP_USER,
            smtp_password=dg.EnvVar("ACME_SMTP_PASSWORD"),
            smtp_ca_file=str(smtp.cert_path),
            sender="war-room@acme.test",
            recipients=["oncall@acme.test"],
            min_severity="critical",
        ),
        DestinationConfig(
            brand="globex",
            name="war-room",
            kind="slack",
            url=dg.EnvVar("GLOBEX_SLACK_URL"),
            min_severity="info",
        ),
    ]  # globex's signed webhook is stored in the vault (see `world`)


@pytest.fixture
def local_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Dagster home of the local profile (file sink, DuckDB and vault inside it)."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("WARROOM_PROFILE", "local")
    monkeypatch.delenv("WARROOM_DUCKDB_PATH", raising=False)
    return home


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    secrets = {
        "ACME_HOOK_SECRET": "whsec-acme-7f3c9e1d5b2a4680",
        "GLOBEX_HOOK_SECRET": "whsec-globex-1a2b3c4d5e6f7788",
        "PLATFORM_HOOK_SECRET": "whsec-platform-99aa88bb77cc66dd",
        "ACME_SMTP_PASSWORD": "smtp-pass-acme-Zq81xW",
    }
    receivers = {
        "acme-slack": HttpReceiver(),
        "acme-hook": HttpReceiver(secrets["ACME_HOOK_SECRET"]),
        "globex-slack": HttpReceiver(),
        "globex-hook": HttpReceiver(secrets["GLOBEX_HOOK_SECRET"]),
        "platform": HttpReceiver(secrets["PLATFORM_HOOK_SECRET"]),
    }
    for receiver in receivers.values():
        receiver.start()
    urls = {
        "ACME_SLACK_URL": receivers["acme-slack"].url("/services/TACME/BACME/acmeSlackToken01"),
        "ACME_HOOK_URL": receivers["acme-hook"].url("/hooks/acme-hook-path-5e1f"),
        "GLOBEX_SLACK_URL": receivers["globex-slack"].url("/services/TGLX/BGLX/globexToken02"),
        "GLOBEX_HOOK_URL": receivers["globex-hook"].url("/hooks/globex-hook-path-88c2"),
        "PLATFORM_HOOK_URL": receivers["platform"].url("/hooks/platform-path-0d9e"),
    }
    for name, value in {**secrets, **urls}.items():
        monkeypatch.setenv(name, value)
    vault = vault_resource("local", tmp_path / "vault", environ={})
    vault.manager().set(
        "globex",
        "webhook",
        {
            "url": urls["GLOBEX_HOOK_URL"],
            "signing_secret": secrets["GLOBEX_HOOK_SECRET"],
            "min_severity": "info",
        },
    )
    smtp = SmtpReceiver(tmp_path, SMTP_USER, secrets["ACME_SMTP_PASSWORD"])
    smtp.start()
    warehouse = WarehouseResource(path=str(tmp_path / "warehouse.duckdb"))
    alerts_config: dict[str, Any] = dict(
        dagster_url="http://dagster.test",
        dashboard_url="http://dashboard.test",
        destinations=destination_configs(receivers, smtp),
        platform=DestinationConfig(
            name="platform",
            kind="webhook",
            url=dg.EnvVar("PLATFORM_HOOK_URL"),
            signing_secret=dg.EnvVar("PLATFORM_HOOK_SECRET"),
            min_severity="info",
        ),
        retry_base_seconds=0.0,
        max_attempts=5,
        tick_budget_seconds=20.0,
    )
    home = tmp_path / "dagster_home"
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        instance.add_dynamic_partitions("brands", list(BRANDS))
        yield World(
            root=tmp_path,
            instance=instance,
            warehouse=warehouse,
            alerts=AlertsResource(**alerts_config),
            alerts_config=alerts_config,
            vault=vault,
            receivers=receivers,
            smtp=smtp,
            secrets=[
                *secrets.values(),
                *urls.values(),
                "acmeSlackToken01",
                "globexToken02",
                "acme-hook-path-5e1f",
                "globex-hook-path-88c2",
                "platform-path-0d9e",
            ],
        )
    for receiver in receivers.values():
        receiver.stop()
    smtp.stop()
