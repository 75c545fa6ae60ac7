"""A brand partition typed into the Dagster UI that is no valid brand key ("Acme Outdoor")
holds back no healthy brand: the schedules and the batch retry skip it, naming it, and the
brand-registry sensor removes it."""

from __future__ import annotations

import base64
import os
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from warroom_pipelines.definitions import defs
from warroom_pipelines.partitions import BRANDS, brand_date_partitions, partition_key
from warroom_pipelines.resources.vault import VaultResource

INVALID = "Acme Outdoor"
REGISTRY = ["acme", INVALID, "globex", "initech"]
HEALTHY = ["acme", "globex", "initech"]


@pytest.fixture
def registry(instance: dg.DagsterInstance) -> dg.DagsterInstance:
    instance.add_dynamic_partitions(BRANDS, REGISTRY)
    return instance


def covered(request: dg.RunRequest, instance: dg.DagsterInstance) -> list[str]:
    """The brands a requested run covers: its partition's, or every brand of its range."""
    if request.partition_key_range is None:
        keys = [str(request.partition_key)]
    else:
        keys = brand_date_partitions.get_partition_keys_in_range(
            request.partition_key_range, dynamic_partitions_store=instance
        )
    brands = (brand_date_partitions.get_partition_key_from_str(k) for k in keys)
    return sorted({k.keys_by_dimension["brand"] for k in brands})


def evaluate(name: str, instance: dg.DagsterInstance, when: datetime) -> list[dg.RunRequest]:
    repository = defs.get_repository_def()
    with dg.build_schedule_context(
        instance=instance, scheduled_execution_time=when, repository_def=repository
    ) as context:
        data = repository.get_schedule_def(name).evaluate_tick(context)
    assert data.skip_message is None
    return list(data.run_requests or [])


@pytest.mark.parametrize("size", ["1", "2", "25"])
@pytest.mark.parametrize(
    ("schedule", "when"),
    [
        ("hourly_refresh", datetime(2026, 11, 29, 7, 5, tzinfo=UTC)),
        ("daily_restatement", datetime(2026, 11, 29, 6, 30, tzinfo=UTC)),
    ],
)
def test_schedules_skip_the_invalid_key_and_run_every_healthy_brand(
    registry: dg.DagsterInstance,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    schedule: str,
    when: datetime,
    size: str,
) -> None:
    monkeypatch.setenv("WARROOM_BATCH_BRANDS", size)
    requests = evaluate(schedule, registry, when)
    # Every healthy brand as often as the others (once per span of days), the invalid never.
    counts = Counter(b for r in requests for b in covered(r, registry))
    assert set(counts) == set(HEALTHY) and len(set(counts.values())) == 1
    assert f"{schedule}: skipping invalid brand partitions '{INVALID}'" in capsys.readouterr().err


def test_batch_retry_re_runs_the_healthy_brands_of_a_batch_that_spans_the_invalid_key(
    registry: dg.DagsterInstance, capsys: pytest.CaptureFixture[str]
) -> None:
    @dg.asset(partitions_def=brand_date_partitions)
    def probe() -> None:
        raise ValueError("the batch failed")

    # A batch run from before the fix: its range spans the invalid key.
    failed = dg.materialize(
        [probe],
        instance=registry,
        tags={
            "dagster/asset_partition_range_start": str(partition_key("acme", "2026-11-29")),
            "dagster/asset_partition_range_end": str(partition_key("globex", "2026-11-29")),
            "warroom/batch": "acme..globex",
            "warroom/reason": "hourly",
        },
        raise_on_error=False,
    )
    context = dg.build_run_status_sensor_context(
        sensor_name="batch_retry",
        dagster_event=failed.get_run_failure_event(),
        dagster_instance=registry,
        dagster_run=registry.get_run_by_id(failed.run_id),  # type: ignore[arg-type]
    ).for_run_failure()
    sensor = defs.get_repository_def().get_sensor_def("batch_retry")
    requests = sensor(context)  # type: ignore[operator]
    assert [str(r.partition_key) for r in requests] == ["acme|2026-11-29", "globex|2026-11-29"]
    assert f"skipping invalid brand partitions '{INVALID}'" in capsys.readouterr().err


def test_the_brand_registry_sensor_removes_the_invalid_key(
    registry: dg.DagsterInstance, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = base64.b64encode(os.urandom(32)).decode()
    vault = VaultResource(dagster_home=str(tmp_path), master_key=key)
    sensor = defs.get_repository_def().get_sensor_def("brand_registry")
    with dg.build_sensor_context(instance=registry, resources={"vault": vault}) as context:
        data = sensor.evaluate_tick(context)
    deleted = [
        key
        for request in data.dynamic_partitions_requests or []
        if isinstance(request, dg.DeleteDynamicPartitionsRequest)
        for key in request.partition_keys
    ]
    # The brands registered by hand stay; only the invalid key goes.
    assert deleted == [INVALID]
    assert f"removing invalid brand partitions '{INVALID}'" in capsys.readouterr().err
