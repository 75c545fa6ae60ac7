"""A failed batch run is re-run one brand per run; the healthy brands then succeed."""

import dagster as dg

from tests.support import AFTER_THE_FIXTURES
from warroom_pipelines.definitions import defs
from warroom_pipelines.partitions import brand_date_partitions, partition_key, run_brand_dates
from warroom_pipelines.sensors.batch_retry import retry_requests

pytestmark = AFTER_THE_FIXTURES

BRANDS = ["acme", "globex", "initech"]


@dg.asset(partitions_def=brand_date_partitions)
def brand_probe(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    brands = run_brand_dates(context)
    if "globex" in brands:
        raise ValueError("globex: meta_ads access token expired (field 'access_token')")
    return dg.MaterializeResult(metadata={"brands": len(brands)})


def _run(instance: dg.DagsterInstance, request: dg.RunRequest) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [brand_probe],
        instance=instance,
        partition_key=request.partition_key,  # type: ignore[arg-type]
        tags=request.tags,
        raise_on_error=False,
    )


def _failure_context(instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult):
    return dg.build_run_status_sensor_context(
        sensor_name="batch_retry",
        dagster_event=result.get_run_failure_event(),
        dagster_instance=instance,
        dagster_run=instance.get_run_by_id(result.run_id),  # type: ignore[arg-type]
    ).for_run_failure()


def test_a_failed_batch_is_re_run_one_brand_per_run(instance) -> None:
    instance.add_dynamic_partitions("brands", BRANDS)
    batch = dg.RunRequest(
        tags={
            "dagster/asset_partition_range_start": str(partition_key("acme", "2026-11-28")),
            "dagster/asset_partition_range_end": str(partition_key("initech", "2026-11-29")),
            "warroom/batch": "acme..initech",
            "warroom/reason": "hourly",
        }
    )
    failed = _run(instance, batch)
    assert not failed.success

    sensor = defs.get_repository_def().get_sensor_def("batch_retry")
    requests = sensor(_failure_context(instance, failed))  # type: ignore[operator]
    assert [r.tags["warroom/brand"] for r in requests] == BRANDS
    assert all(r.tags["warroom/reason"] == "hourly" for r in requests)
    assert all(failed.run_id in (r.run_key or "") for r in requests)
    assert all("warroom/batch" not in r.tags for r in requests)

    outcomes = {r.tags["warroom/brand"]: _run(instance, r) for r in requests}
    assert {b: o.success for b, o in outcomes.items()} == {
        "acme": True,
        "globex": False,
        "initech": True,
    }
    done = outcomes["acme"].asset_materializations_for_node("brand_probe")
    assert sorted(str(m.partition) for m in done) == ["acme|2026-11-28", "acme|2026-11-29"]

    # A run of one brand that fails is not split again.
    again = _failure_context(instance, outcomes["globex"])
    assert retry_requests(again.dagster_run, instance) == []


def test_a_run_without_a_batch_is_left_to_the_failure_notice(instance) -> None:
    instance.add_dynamic_partitions("brands", ["globex"])
    failed = _run(instance, dg.RunRequest(partition_key=partition_key("globex", "2026-11-29")))
    assert not failed.success
    run = instance.get_run_by_id(failed.run_id)
    assert run is not None and retry_requests(run, instance) == []
