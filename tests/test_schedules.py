from datetime import UTC, datetime

import dagster as dg
import pytest

from warroom_pipelines.definitions import defs
from warroom_pipelines.schedules import restatement_windows


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


def _selection(request: dg.RunRequest) -> set[str]:
    return {k.to_user_string() for k in request.asset_selection or []}


def test_daily_restatement_re_pulls_each_platforms_window(instance) -> None:
    instance.add_dynamic_partitions("brands", ["acme", "globex"])
    requests = _evaluate("daily_restatement", instance, datetime(2026, 11, 29, 6, 30, tzinfo=UTC))
    by_day: dict[str, set[str]] = {}
    for request in requests:
        by_day.setdefault(request.partition_key.keys_by_dimension["date"], set()).update(  # type: ignore[union-attr]
            _selection(request)
        )
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
    assert len(requests) == 2 * 28


@pytest.mark.parametrize(
    ("setting", "days"), [("3", 3), ("meta_ads=2,google_ads=1,tiktok_ads=1,demo=1", 2)]
)
def test_restatement_window_is_configurable(instance, monkeypatch, setting, days) -> None:
    monkeypatch.setenv("WARROOM_RESTATEMENT_DAYS", setting)
    instance.add_dynamic_partitions("brands", ["acme"])
    requests = _evaluate("daily_restatement", instance, datetime(2026, 11, 29, 6, 30, tzinfo=UTC))
    assert {r.partition_key.keys_by_dimension["date"] for r in requests} == {  # type: ignore[union-attr]
        f"2026-11-{27 - i:02d}" for i in range(days)
    }


@pytest.mark.parametrize("setting", ["0", "meta=3", "meta_ads=x", "-2"])
def test_a_bad_restatement_setting_is_a_clear_error(setting) -> None:
    with pytest.raises(ValueError, match="WARROOM_RESTATEMENT_DAYS"):
        restatement_windows({"WARROOM_RESTATEMENT_DAYS": setting})


def test_no_brands_no_runs(instance) -> None:
    assert _evaluate("hourly_refresh", instance, datetime(2026, 11, 29, 7, 5, tzinfo=UTC)) == []
