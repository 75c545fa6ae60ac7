"""Alert settings and destinations as a Dagster resource.

Destination credentials (`url`, `signing_secret`, `smtp_password`) belong in the vault; where
they are configured here, give them as `dg.EnvVar(...)` so that Dagster never shows them.
"""

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import dagster as dg
from pydantic import Field

from warroom_pipelines.alerts.delivery import AlertSettings, Dispatcher
from warroom_pipelines.alerts.destinations import (
    ChainedDestinations,
    Destination,
    DestinationProvider,
    EmailDestination,
    FileDestination,
    FileSinkDestinations,
    SlackDestination,
    VaultDestinations,
    WebhookDestination,
)
from warroom_pipelines.alerts.incidents import VersionPolicy
from warroom_pipelines.alerts.log.bigquery import bigquery_delivery_log
from warroom_pipelines.alerts.log.local import local_delivery_log
from warroom_pipelines.alerts.log.store import DeliveryStore
from warroom_pipelines.resources.vault import VaultResource
from warroom_pipelines.vault.secret import Secret
from warroom_pipelines.warehouse import DuckDBWarehouse, Warehouse, WarehouseError
from warroom_pipelines.warehouse.bigquery import BigQueryWarehouse

PLATFORM = "platform"


class DestinationConfig(dg.Config):
    """One destination: kind slack (url), webhook (url, signing_secret), email (smtp_*, sender,
    recipients) or file (path)."""

    name: str
    kind: str
    brand: str = ""
    min_severity: str = "warning"
    url: str | None = None
    signing_secret: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    smtp_ca_file: str | None = None
    sender: str = "war-room@localhost"
    recipients: list[str] = Field(default_factory=list)
    path: str | None = None

    def _need(self, value: str | None, field: str) -> str:
        if not value:
            raise ValueError(
                f"{self.kind} destination {self.name!r} (brand {self.brand!r}) needs {field}"
            )
        return value

    def build(self) -> Destination:
        if self.kind == "slack":
            url = Secret(self._need(self.url, "url"))
            return SlackDestination(self.name, url, self.min_severity)
        if self.kind == "webhook":
            return WebhookDestination(
                self.name,
                Secret(self._need(self.url, "url")),
                Secret(self._need(self.signing_secret, "signing_secret")),
                self.min_severity,
            )
        if self.kind == "email":
            return EmailDestination(
                name=self.name,
                host=self._need(self.smtp_host, "smtp_host"),
                port=self.smtp_port,
                sender=self.sender,
                recipients=tuple(self.recipients),
                username=self.smtp_username,
                password=Secret(self.smtp_password),
                starttls=self.smtp_starttls,
                ca_file=self.smtp_ca_file,
                min_severity=self.min_severity,
            )
        if self.kind == "file":
            path = Path(self._need(self.path, "path"))
            return FileDestination(self.name, path, self.min_severity)
        raise ValueError(
            f"destination {self.name!r} (brand {self.brand!r}) has unknown kind {self.kind!r}: "
            "expected slack, webhook, email or file"
        )


@dataclass(frozen=True)
class ConfiguredDestinations:
    """Destinations listed in the resource, built per brand when asked (a broken setting of
    one brand does not stop another brand's alerts)."""

    configs: tuple[DestinationConfig, ...]

    def destinations(self, brand: str) -> list[Destination]:
        return [config.build() for config in self.configs if config.brand == brand]


class AlertsResource(dg.ConfigurableResource):
    """Where alerts go, how they link back, and how hard delivery tries.

    `file_sink_dir`: every brand's alerts are also written to `<dir>/<brand>.jsonl` (the local
    default), and pipeline failures to `<dir>/platform.jsonl` unless `platform` is set.
    """

    dagster_url: str = "http://127.0.0.1:3000"
    dashboard_url: str = ""
    file_sink_dir: str | None = None
    # The Sentry's "info" rows are context for the dashboard, not alarms.
    file_sink_min_severity: str = "warning"
    destinations: list[DestinationConfig] = Field(default_factory=list)
    platform: DestinationConfig | None = None
    max_attempts: int = 5
    retry_base_seconds: float = 30.0
    retry_max_seconds: float = 1800.0
    money_growth: float = 2.0
    cooldown_hours: float = 3.0
    tick_budget_seconds: float = 30.0
    page_size: int = 50

    def settings(self) -> AlertSettings:
        return AlertSettings(
            dagster_url=self.dagster_url,
            dashboard_url=self.dashboard_url,
            max_attempts=self.max_attempts,
            retry_base=timedelta(seconds=self.retry_base_seconds),
            retry_max=timedelta(seconds=self.retry_max_seconds),
            policy=VersionPolicy(
                money_growth=self.money_growth, cooldown=timedelta(hours=self.cooldown_hours)
            ),
        )

    def provider(self, vault: VaultResource | None = None) -> DestinationProvider:
        """The file sink (if set), the brand's destinations in the vault, then those listed
        here."""
        providers: list[DestinationProvider] = []
        if self.file_sink_dir:
            providers.append(
                FileSinkDestinations(Path(self.file_sink_dir), self.file_sink_min_severity)
            )
        if vault is not None:
            providers.append(
                VaultDestinations(lambda brand: vault.for_brand(brand).alert_destinations())
            )
        providers.append(ConfiguredDestinations(tuple(self.destinations)))
        return ChainedDestinations(tuple(providers))

    def platform_destination(self) -> Destination | None:
        if self.platform is not None:
            return self.platform.build()
        if self.file_sink_dir:
            return FileDestination(PLATFORM, Path(self.file_sink_dir) / f"{PLATFORM}.jsonl")
        return None

    def dispatcher(self, warehouse: Warehouse, vault: VaultResource | None = None) -> Dispatcher:
        return Dispatcher(
            delivery_log(warehouse),
            self.provider(vault),
            self.settings(),
            self.platform_destination(),
        )


def delivery_log(warehouse: Warehouse) -> DeliveryStore:
    """The delivery log in the profile's warehouse: one SQL, on DuckDB or BigQuery."""
    if isinstance(warehouse, DuckDBWarehouse):
        return local_delivery_log(warehouse)
    if isinstance(warehouse, BigQueryWarehouse):
        return bigquery_delivery_log(warehouse)
    raise WarehouseError(f"no alert delivery log for {type(warehouse).__name__}")
