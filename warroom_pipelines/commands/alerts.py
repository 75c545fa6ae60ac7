"""`warroom alerts list|send|retry`: the delivery log, a dispatch pass, dead-letter re-sends."""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING

from warroom_pipelines.commands.common import ensure_dagster_home, instance, print_frame

if TYPE_CHECKING:
    from warroom_pipelines.alerts.delivery import DeliveryReport, Dispatcher

_SEND_BUDGET_S = 120.0


def register(alerts: argparse.ArgumentParser) -> None:
    actions = alerts.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="print the delivery log (main.alert_deliveries)")
    listing.add_argument("--brand", help="only this brand")
    listing.set_defaults(handler=list_alerts)
    send = actions.add_parser(
        "send", help="deliver alerts for every anomaly materialization now (idempotent)"
    )
    send.set_defaults(handler=send_alerts)
    retry = actions.add_parser("retry", help="re-send dead letters")
    retry.add_argument("--brand", help="only this brand")
    retry.set_defaults(handler=retry_alerts)


def _dispatcher() -> Dispatcher:
    """The profile's alerts, warehouse and vault resources, with EnvVar settings resolved."""
    from warroom_pipelines.profiles import profile_name, resources_for
    from warroom_pipelines.resources.alerts import AlertsResource
    from warroom_pipelines.resources.vault import VaultResource
    from warroom_pipelines.resources.warehouse import WarehouseResource

    ensure_dagster_home()
    resources = resources_for(profile_name())
    alerts, warehouse, vault = resources["alerts"], resources["warehouse"], resources["vault"]
    assert isinstance(alerts, AlertsResource) and isinstance(warehouse, WarehouseResource)
    assert isinstance(vault, VaultResource)
    return alerts.process_config_and_initialize().dispatcher(
        warehouse.process_config_and_initialize().get(), vault.process_config_and_initialize()
    )


def list_alerts(args: argparse.Namespace) -> int:
    print_frame(_dispatcher().log.rows(args.brand))
    return 0


def deliver_all(dispatcher: Dispatcher) -> DeliveryReport:
    """Plan every anomaly materialization from the start and send what is due. Safe to
    repeat: the delivery log skips what was already sent."""
    from warroom_pipelines.sensors.alerts import dispatch_new_anomalies

    outcome = dispatch_new_anomalies(
        instance(),
        dispatcher,
        cursor=0,
        page_size=500,
        deadline=time.monotonic() + _SEND_BUDGET_S,
    )
    if outcome.blocked:
        outcome.report.errors.append(f"cannot plan alerts for {outcome.blocked}")
    return outcome.report


def deliver_and_report() -> DeliveryReport:
    """What `warroom demo` calls after materializing: deliver the new alerts (to the file
    sink in the local profile), print how many each brand got and what failed."""
    report = deliver_all(_dispatcher())
    delivered = report.delivered
    print("\nAlerts delivered:" if delivered else "\nAlerts delivered: none new")
    for brand, count in sorted(delivered.items()):
        print(f"  {brand}: {count}")
    from warroom_pipelines.home import alerts_dir
    from warroom_pipelines.profiles import profile_name

    if profile_name() == "local":
        print(f"  file sink: {alerts_dir()}/<brand>.jsonl   (warroom alerts list)")
    if report.failed or report.dead_lettered or report.errors:
        print(
            f"Alerts not delivered: {report.failed} retrying (the sensor retries), "
            f"{report.dead_lettered} dead letters (warroom alerts list / retry)"
        )
        for error in report.errors:
            print(f"  {error}")
    return report


def send_alerts(args: argparse.Namespace) -> int:
    report = deliver_and_report()
    return 1 if report.failed or report.dead_lettered or report.errors else 0


def retry_dead_letters(dispatcher: Dispatcher, brand: str | None) -> DeliveryReport:
    """Re-queue dead letters (a fresh set of attempts) and try each once now."""
    keys = dispatcher.log.requeue_dead_letters(brand)
    if not keys:
        from warroom_pipelines.alerts.delivery import DeliveryReport

        return DeliveryReport()
    return dispatcher.deliver_due(time.monotonic() + _SEND_BUDGET_S, keys=keys)


def retry_alerts(args: argparse.Namespace) -> int:
    report = retry_dead_letters(_dispatcher(), args.brand)
    print(
        f"delivered: {sum(report.delivered.values())}, still failing (the sensor retries): "
        f"{report.failed}, dead letters again: {report.dead_lettered}"
    )
    for error in report.errors:
        print(f"  {error}")
    return 0 if not report.failed and not report.dead_lettered else 1
