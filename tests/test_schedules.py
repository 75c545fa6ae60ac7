from collections import Counter
from datetime import UTC, datetime

import dagster as dg
import pytest

from warroom_pipelines.definitions import defs
from warroom_pipelines.partitions import brand_date_partitions
from warroom_pipelines.schedules import batch_size, restatement_windows


def _evaluate(name: str, instance: dg.DagsterInstance, when: datetime) -> list[dg.RunRequest]:
    repository = defs.get_repository_def()
    schedule = repository.get_schedule_def(name)
    with dg.build_schedule_context(
        instance=instance, scheduled_execution_time=when, repository_def=repository
    ) as context:
        data = schedule.evaluate_tick(context)
    return list(data.run_requests or [])


def _brand_days(request: dg.RunRequest, instance: dg.DagsterInstance) -> set[tuple[str, str]]:
    """The brand-days a request's run covers: its partition, or every key of its range."""
    if request.partition_key_range is not None:
        keys = brand_date_partitions.get_partition_keys_in_range(
            request.partition_key_range, dynamic_partitions_store=instance
        )
    else:
        keys = [request.partition_key]  # type: ignore[list-item]
    out = set()
    for key in keys:
        dims = brand_date_partitions.get_partition_key_from_str(str(key)).keys_by_dimension
        out.add((dims["brand"], dims["date"]))
    return out


def _covered(requests: list[dg.RunRequest], instance: dg.DagsterInstance) -> Counter:
    return Counter(bd for r in requests for bd in _brand_days(r, instance))


BRANDS = [f"brand-{n:02d}" for n in range(7)]


def test_hourly_refresh_batches_every_brand_today_and_yesterday_at_night(
    instance, monkeypatch
) -> None:
    monkeypatch.setenv("WARROOM_BATCH_BRANDS", "3")
    instance.add_dynamic_partitions("brands", BRANDS)
    requests = _evaluate("hourly_refresh", instance, datetime(2026, 11, 29, 2, 5, tzinfo=UTC))
    # 7 brands in runs of 3, 3 and 1, each brand-day exactly once.
    assert len(requests) == 3
    assert _covered(requests, instance) == Counter(
        {(b, d): 1 for b in BRANDS for d in ("2026-11-29", "2026-11-28")}
    )
    assert [r.tags.get("warroom/batch") for r in requests] == [
        "brand-00..brand-02",
        "brand-03..brand-05",
        None,
    ]
    assert requests[-1].tags["warroom/brand"] == "brand-06"
    assert len({r.run_key for r in requests}) == len(requests)


def test_after_yesterday_settles_the_hourly_refresh_is_today_only(instance) -> None:
    instance.add_dynamic_partitions("brands", BRANDS)
    requests = _evaluate("hourly_refresh", instance, datetime(2026, 11, 29, 7, 5, tzinfo=UTC))
    assert len(requests) == 1  # the default batch holds all 7
    assert _covered(requests, instance) == Counter({(b, "2026-11-29"): 1 for b in BRANDS})


def test_a_batch_of_one_brand_day_is_a_plain_partition_run(instance, monkeypatch) -> None:
    monkeypatch.setenv("WARROOM_BATCH_BRANDS", "1")
    instance.add_dynamic_partitions("brands", ["acme", "globex"])
    requests = _evaluate("hourly_refresh", instance, datetime(2026, 11, 29, 7, 5, tzinfo=UTC))
    assert [str(r.partition_key) for r in requests] == ["acme|2026-11-29", "globex|2026-11-29"]
    assert [r.tags["warroom/brand"] for r in requests] == ["acme", "globex"]


def test_hourly_run_keys_change_every_hour_but_not_within_a_tick(instance) -> None:
    instance.add_dynamic_partitions("brands", ["acme", "globex"])
    first = _evaluate("hourly_refresh", instance, datetime(2026, 11, 29, 7, 5, tzinfo=UTC))
    again = _evaluate("hourly_refresh", instance, datetime(2026, 11, 29, 7, 5, tzinfo=UTC))
    later = _evaluate("hourly_refresh", instance, datetime(2026, 11, 29, 8, 5, tzinfo=UTC))
    assert {r.run_key for r in first} == {r.run_key for r in again}
    assert not {r.run_key for r in first} & {r.run_key for r in later}


def _selection(request: dg.RunRequest) -> set[str]:
    return {k.to_user_string() for k in request.asset_selection or []}


def test_daily_restatement_re_pulls_each_platforms_window(instance, monkeypatch) -> None:
    monkeypatch.setenv("WARROOM_BATCH_BRANDS", "2")
    instance.add_dynamic_partitions("brands", ["acme", "globex", "initech"])
    requests = _evaluate("daily_restatement", instance, datetime(2026, 11, 29, 6, 30, tzinfo=UTC))
    by_day: dict[str, set[str]] = {}
    for request in requests:
        for _, day in _brand_days(request, instance):
            by_day.setdefault(day, set()).update(_selection(request))
    # Meta restates 28 days, Google 14, TikTok and the demo 7: the days before yesterday.
    assert min(by_day) == "2026-10-31" and max(by_day) == "2026-11-27" and len(by_day) == 28
    assert by_day["2026-11-27"] >= {
        "channel_metrics/meta_ads",
        "channel_metrics/google_ads",
        "channel_metrics/tiktok_ads",
        "channel_metrics/demo",
        "unified_performance",
    }
    assert "channel_metrics/tiktok_ads" in by_day["2026-11-21"]
    assert "channel_metrics/tiktok_ads" not in by_day["2026-11-20"]
    assert "channel_metrics/google_ads" in by_day["2026-11-14"]
    assert "channel_metrics/google_ads" not in by_day["2026-11-13"]
    sources = {s for s in by_day["2026-10-31"] if s.startswith("channel_metrics/")}
    assert sources == {"channel_metrics/meta_ads"}
    assert "unified_performance" in by_day["2026-10-31"]
    # Three spans of days (all sources / Meta and Google / Meta) x two batches of brands,
    # and every brand-day once.
    assert len(requests) == 3 * 2
    covered = _covered(requests, instance)
    assert set(covered.values()) == {1} and len(covered) == 3 * 28


@pytest.mark.parametrize(
    ("setting", "days"), [("3", 3), ("meta_ads=2,google_ads=1,tiktok_ads=1,demo=1", 2)]
)
def test_restatement_window_is_configurable(instance, monkeypatch, setting, days) -> None:
    monkeypatch.setenv("WARROOM_RESTATEMENT_DAYS", setting)
    instance.add_dynamic_partitions("brands", ["acme"])
    requests = _evaluate("daily_restatement", instance, datetime(2026, 11, 29, 6, 30, tzinfo=UTC))
    assert {d for r in requests for _, d in _brand_days(r, instance)} == {
        f"2026-11-{27 - i:02d}" for i in range(days)
    }


@pytest.mark.parametrize("setting", ["0", "meta=3", "meta_ads=x", "-2"])
def test_a_bad_restatement_setting_is_a_clear_error(setting) -> None:
    with pytest.raises(ValueError, match="WARROOM_RESTATEMENT_DAYS"):
        restatement_windows({"WARROOM_RESTATEMENT_DAYS": setting})


@pytest.mark.parametrize("setting", ["0", "x", "-3"])
def test_a_bad_batch_size_is_a_clear_error(setting) -> None:
    with pytest.raises(ValueError, match="WARROOM_BATCH_BRANDS"):
        batch_size({"WARROOM_BATCH_BRANDS": setting})


def test_no_brands_no_runs(instance) -> None:
    assert _evaluate("hourly_refresh", instance, datetime(2026, 11, 29, 7, 5, tzinfo=UTC)) == []
