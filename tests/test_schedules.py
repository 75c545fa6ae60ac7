from datetime import UTC, datetime

import dagster as dg
import pytest

from warroom_pipelines.definitions import defs


def _evaluate(name: str, instance: dg.DagsterInstance, when: datetime) -> list[dg.RunRequest]:
    repository = defs.get_repository_def()
    schedule = repository.get_schedule_def(name)
    with dg.build_schedule_context(
        instance=instance, scheduled_execution_time=when, repository_def=repository
    ) as context:
        data = schedule.evaluate_tick(context)
    return list(data.run_requests or [])


def _keys(requests: list[dg.RunRequest]) -> set[tuple[str, str]]:
    out = set()
    for request in requests:
        dims = request.partition_key.keys_by_dimension  # type: ignore[union-attr]
        out.add((dims["brand"], dims["date"]))
    return out


def test_hourly_refresh_asks_for_today_and_yesterday_of_every_brand(instance) -> None:
    instance.add_dynamic_partitions("brands", ["acme", "globex", "initech"])
    requests = _evaluate("hourly_refresh", instance, datetime(2026, 11, 29, 7, 5, tzinfo=UTC))
    assert _keys(requests) == {
        (b, d) for b in ("acme", "globex", "initech") for d in ("2026-11-29", "2026-11-28")
    }
    assert len({r.run_key for r in requests}) == len(requests)
    assert all(r.tags["warroom/brand"] in ("acme", "globex", "initech") for r in requests)


def test_hourly_run_keys_change_every_hour_but_not_within_a_tick(instance) -> None:
    instance.add_dynamic_partitions("brands", ["acme"])
    first = _evaluate("hourly_refresh", instance, datetime(2026, 11, 29, 7, 5, tzinfo=UTC))
    again = _evaluate("hourly_refresh", instance, datetime(2026, 11, 29, 7, 5, tzinfo=UTC))
    later = _evaluate("hourly_refresh", instance, datetime(2026, 11, 29, 8, 5, tzinfo=UTC))
    assert {r.run_key for r in first} == {r.run_key for r in again}
    assert not {r.run_key for r in first} & {r.run_key for r in later}


@pytest.mark.parametrize("days", [None, "3"])
def test_daily_restatement_covers_the_trailing_window(instance, monkeypatch, days) -> None:
    if days:
        monkeypatch.setenv("WARROOM_RESTATEMENT_DAYS", days)
    instance.add_dynamic_partitions("brands", ["acme", "globex"])
    requests = _evaluate("daily_restatement", instance, datetime(2026, 11, 29, 6, 30, tzinfo=UTC))
    n = int(days or 7)
    expected_days = {f"2026-11-{27 - i:02d}" for i in range(n)}
    assert _keys(requests) == {(b, d) for b in ("acme", "globex") for d in expected_days}


def test_no_brands_no_runs(instance) -> None:
    assert _evaluate("hourly_refresh", instance, datetime(2026, 11, 29, 7, 5, tzinfo=UTC)) == []
