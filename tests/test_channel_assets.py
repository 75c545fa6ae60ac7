"""The per-channel assets read each brand's platforms with that brand's own keys."""

from datetime import date
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
from pytest_httpserver import HTTPServer

from tests.channels.fakes import (
    Failure,
    FakeGoogleAds,
    FakeMeta,
    FakeTikTok,
    google_row,
    meta_row,
    tiktok_record,
)
from tests.support import AFTER_THE_FIXTURES
from warroom_pipelines import clock
from warroom_pipelines.assets.channels import channel_assets
from warroom_pipelines.assets.unified import unified_performance
from warroom_pipelines.partitions import DEMO_REGISTRY, partition_key
from warroom_pipelines.resources.ad_platforms import AdPlatformsResource
from warroom_pipelines.resources.demo import DemoSourceResource
from warroom_pipelines.resources.vault import VaultResource
from warroom_pipelines.warehouse import LakeFiles, analyst_connection

pytestmark = AFTER_THE_FIXTURES

DAY = date(2026, 5, 1)
ACME_META_TOKEN = "EAAGacmeSECRETmetaTOKEN0000111122223333"
ACME_TIKTOK_TOKEN = "acmeSECRETtiktokTOKEN44445555666677778888"
GLOBEX_META_TOKEN = "EAAGglobexSECRETmetaTOKEN999988887777"
ACME_GOOGLE_REFRESH = "1//0gACMEsecretGOOGLErefresh5555"
SECRETS = (ACME_META_TOKEN, ACME_TIKTOK_TOKEN, GLOBEX_META_TOKEN)


@pytest.fixture
def platforms(httpserver: HTTPServer) -> dict[str, object]:
    acme = FakeMeta(
        httpserver, token=ACME_META_TOKEN, account_id="1111", time_zone="America/New_York"
    )
    acme.hourly = [
        meta_row("A1", "2026-05-01", 9, impressions=900, clicks=30, spend=21.5, name="Acme Spring"),
        meta_row(
            "A1", "2026-05-01", 10, impressions=800, clicks=20, spend=18.0, name="Acme Spring"
        ),
    ]
    acme.daily = [
        meta_row(
            "A1",
            "2026-05-01",
            None,
            impressions=1700,
            clicks=50,
            spend=39.5,
            actions={"omni_purchase": 4},
            action_values={"omni_purchase": 200.0},
            name="Acme Spring",
        )
    ]
    globex = FakeMeta(httpserver, token=GLOBEX_META_TOKEN, account_id="2222", time_zone="UTC")
    globex.hourly = [
        meta_row("G1", "2026-05-01", 3, impressions=500, clicks=5, spend=4.0, name="Globex Promo")
    ]
    globex.daily = [
        meta_row(
            "G1", "2026-05-01", None, impressions=500, clicks=5, spend=4.0, name="Globex Promo"
        )
    ]
    tiktok = FakeTikTok(
        httpserver, token=ACME_TIKTOK_TOKEN, advertiser_id="7000000000000000001", time_zone="UTC"
    )
    tiktok.records = [
        tiktok_record("T1", "2026-05-01 12:00:00", impressions=1000, clicks=12, spend="6.50")
    ]
    return {"acme_meta": acme, "globex_meta": globex, "acme_tiktok": tiktok}


@pytest.fixture
def channel_resources(resources, tmp_path: Path, httpserver: HTTPServer) -> dict[str, object]:
    vault = VaultResource(profile="local", key_store="sqlite", dagster_home=str(tmp_path))
    manager = vault.manager()
    manager.set(
        "acme", "meta_ads", {"access_token": ACME_META_TOKEN, "ad_account_ids": ["act_1111"]}
    )
    manager.set(
        "acme",
        "tiktok_ads",
        {"access_token": ACME_TIKTOK_TOKEN, "advertiser_ids": ["7000000000000000001"]},
    )
    manager.set(
        "globex", "meta_ads", {"access_token": GLOBEX_META_TOKEN, "ad_account_ids": ["2222"]}
    )
    base = httpserver.url_for("/").rstrip("/")
    return dict(
        resources,
        vault=vault,
        demo_source=DemoSourceResource(brands=[]),  # real platforms only
        ad_platforms=AdPlatformsResource(
            settings={
                "meta_ads": {"base_url": base},
                "tiktok_ads": {"base_url": f"{base}/open_api"},
                "google_ads": {"base_url": base, "token_url": f"{base}/token"},
            }
        ),
    )


def _run(instance, channel_resources, brand: str) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [*channel_assets, unified_performance],
        instance=instance,
        resources=channel_resources,
        partition_key=partition_key(brand, DAY),
        raise_on_error=False,
    )


def _batch_run(instance, channel_resources, first: str, last: str) -> dg.ExecuteInProcessResult:
    """One run over a range of brands, as the hourly schedule requests it."""
    return dg.materialize(
        [*channel_assets, unified_performance],
        instance=instance,
        resources=channel_resources,
        tags={
            "dagster/asset_partition_range_start": str(partition_key(first, DAY)),
            "dagster/asset_partition_range_end": str(partition_key(last, DAY)),
        },
        raise_on_error=False,
    )


def _unified_rows(warehouse_path: Path) -> list[tuple]:
    with analyst_connection(LakeFiles(warehouse_path)) as con:
        return con.execute(
            "SELECT * EXCLUDE (ingested_at) FROM unified_performance ORDER BY ALL"
        ).fetchall()


def test_a_batch_run_reads_each_brand_with_its_own_keys_and_stores_what_single_runs_do(
    instance, channel_resources, platforms, warehouse_path
) -> None:
    instance.add_dynamic_partitions("brands", ["acme", "globex"])
    batch = _batch_run(instance, channel_resources, "acme", "globex")
    assert batch.success
    assert set(platforms["acme_meta"].tokens_seen) == {ACME_META_TOKEN}
    assert set(platforms["globex_meta"].tokens_seen) == {GLOBEX_META_TOKEN}
    assert set(platforms["acme_tiktok"].tokens_seen) == {ACME_TIKTOK_TOKEN}
    # One materialization per brand-day of every asset, as if each brand had its own run.
    for node in ("channel_metrics__meta_ads", "unified_performance"):
        keys = {str(m.partition) for m in batch.asset_materializations_for_node(node)}
        assert keys == {"acme|2026-05-01", "globex|2026-05-01"}
    # Each brand-day shows its own rows and API calls, not the batch's.
    unified = {
        str(m.partition): m.metadata["rows"].value
        for m in batch.asset_materializations_for_node("unified_performance")
    }
    assert unified == {"acme|2026-05-01": 3, "globex|2026-05-01": 1}
    meta_calls = {
        str(m.partition): (m.metadata["api_calls"].value, m.metadata["batch_api_calls"].value)
        for m in batch.asset_materializations_for_node("channel_metrics__meta_ads")
    }
    (acme_calls, batch_calls), (globex_calls, _) = meta_calls.values()
    assert acme_calls > 0 and globex_calls > 0 and acme_calls + globex_calls == batch_calls
    tiktok = batch.asset_materializations_for_node("channel_metrics__tiktok_ads")[0].metadata
    assert tiktok["status"].value == "partly connected"
    assert tiktok["not_connected_brands"].value == "globex"
    batched = _unified_rows(warehouse_path)

    # The same brand-days run one brand per run replace the batch's slices with equal rows.
    assert all(_run(instance, channel_resources, b).success for b in ("acme", "globex"))
    assert _unified_rows(warehouse_path) == batched
    assert {(row[0], row[1]) for row in batched} == {
        ("acme", "meta_ads"),
        ("acme", "tiktok_ads"),
        ("globex", "meta_ads"),
    }


def _health(warehouse_path: Path, channel: str) -> dict[str, tuple]:
    """brand -> (status, reason, last_success, reported_hours) of one source's health."""
    with analyst_connection(LakeFiles(warehouse_path)) as con:
        rows = con.execute(
            "SELECT brand, status, reason, last_success, reported_hours "
            f"FROM channel_health.{channel} ORDER BY brand"
        ).fetchall()
    return {brand: tuple(rest) for brand, *rest in rows}


def test_one_brands_truncated_page_fails_neither_the_other_brand_nor_its_own_other_channels(
    instance, channel_resources, platforms, warehouse_path
) -> None:
    instance.add_dynamic_partitions("brands", ["acme", "globex"])
    # Globex's insights page arrives cut off mid-JSON.
    # (A cut body is retried, so it is cut on every attempt: the read fails for good.)
    platforms["globex_meta"].failures = [Failure(200, '{"data": [{"campaign_id": "G1", "da')] * 20
    result = _batch_run(instance, channel_resources, "acme", "globex")
    assert result.success
    rows = {(r[0], r[1]) for r in _unified_rows(warehouse_path)}
    assert rows == {("acme", "meta_ads"), ("acme", "tiktok_ads")}
    health = _health(warehouse_path, "meta_ads")
    assert health["acme"][0] == "ok" and health["acme"][3] == 2
    status, reason, last_success, hours = health["globex"]
    assert (status, last_success, hours) == ("failed", None, None)
    assert reason.startswith("Meta Ads sent a reply War Room cannot read")
    assert "Traceback" not in reason and GLOBEX_META_TOKEN not in reason
    meta = result.asset_materializations_for_node("channel_metrics__meta_ads")[0].metadata
    assert meta["batch_failed_brand_days"].value == 1


def test_a_failed_channel_keeps_its_last_good_rows_as_stale_and_is_filled_in_on_recovery(
    instance, channel_resources, platforms, warehouse_path
) -> None:
    instance.add_dynamic_partitions("brands", ["acme"])
    with clock.pinned("2026-05-02T06:00Z"):
        assert _run(instance, channel_resources, "acme").success
    first = _unified_rows(warehouse_path)
    platforms["acme_meta"].token = "a-rotated-token-the-brand-did-not-give-us"
    platforms["acme_tiktok"].records.append(
        tiktok_record("T1", "2026-05-01 13:00:00", impressions=400, clicks=4, spend="2.00")
    )
    with clock.pinned("2026-05-02T07:00Z"):
        result = _run(instance, channel_resources, "acme")
    assert result.success  # the TikTok rows are not held back by Meta
    rows = _unified_rows(warehouse_path)
    assert [r for r in rows if r[1] == "meta_ads"] == [r for r in first if r[1] == "meta_ads"]
    assert len([r for r in rows if r[1] == "tiktok_ads"]) == 2
    status, reason, last_success, hours = _health(warehouse_path, "meta_ads")["acme"]
    assert status == "stale" and hours == 2
    assert last_success == pd.Timestamp("2026-05-02T06:00Z").to_pydatetime()
    assert reason.startswith("Meta Ads refused the brand's keys; reconnect them")
    assert ACME_META_TOKEN not in reason
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks["hours_complete"]

    platforms["acme_meta"].token = ACME_META_TOKEN
    platforms["acme_meta"].hourly.append(
        meta_row("A1", "2026-05-01", 11, impressions=100, clicks=1, spend=1.0, name="Acme Spring")
    )
    with clock.pinned("2026-05-02T08:00Z"):
        assert _run(instance, channel_resources, "acme").success
    assert len([r for r in _unified_rows(warehouse_path) if r[1] == "meta_ads"]) == 3
    assert _health(warehouse_path, "meta_ads")["acme"][0] == "ok"


def test_a_connected_brand_gets_only_its_real_rows_and_a_brand_without_keys_gets_none(
    instance, channel_resources, httpserver, warehouse_path, tmp_path
) -> None:
    google = FakeGoogleAds(httpserver, refresh_token=ACME_GOOGLE_REFRESH)
    google.rows = [google_row("111", "2026-05-01", 8, impressions=212, clicks=9, cost=4.5)]
    VaultResource(profile="local", key_store="sqlite", dagster_home=str(tmp_path)).manager().set(
        "hooli",
        "google_ads",
        {
            "developer_token": "DEVtokenHOOLI0000",
            "client_id": google.client_id,
            "client_secret": google.client_secret,
            "refresh_token": ACME_GOOGLE_REFRESH,
            "customer_ids": [google.customer_id],
        },
    )
    instance.add_dynamic_partitions("brands", ["hooli", "initech", "umbrella"])
    instance.add_dynamic_partitions(DEMO_REGISTRY, ["initech"])  # `warroom brands add --demo`
    result = _batch_run(instance, channel_resources, "hooli", "umbrella")
    assert result.success
    with analyst_connection(LakeFiles(warehouse_path)) as con:
        sources = dict(
            con.execute(
                "SELECT brand, list(DISTINCT source ORDER BY source) FROM unified_performance "
                "GROUP BY brand"
            ).fetchall()
        )
    assert sources == {"hooli": ["google_ads_api"], "initech": ["demo"]}
    health = _health(warehouse_path, "google_ads")
    assert health["hooli"][0] == "ok" and "initech" not in health
    assert health["umbrella"][0] == "no_keys"
    assert "no Google Ads keys" in health["umbrella"][1]
    assert set(_health(warehouse_path, "demo")) == {"initech"}


def test_each_brand_reads_its_platforms_with_its_own_keys(
    instance, channel_resources, platforms, warehouse_path, tmp_path
) -> None:
    instance.add_dynamic_partitions("brands", ["acme", "globex"])
    acme_run, globex_run = (
        _run(instance, channel_resources, "acme"),
        _run(instance, channel_resources, "globex"),
    )
    assert acme_run.success and globex_run.success

    assert set(platforms["acme_meta"].tokens_seen) == {ACME_META_TOKEN}
    assert set(platforms["globex_meta"].tokens_seen) == {GLOBEX_META_TOKEN}
    assert set(platforms["acme_tiktok"].tokens_seen) == {ACME_TIKTOK_TOKEN}

    with analyst_connection(LakeFiles(warehouse_path)) as con:
        rows = con.execute(
            "SELECT brand, channel, campaign_id, hour_start, conversions_source "
            "FROM unified_performance ORDER BY ALL"
        ).fetchall()
    by_brand = {(b, c, k) for b, c, k, _, _ in rows}
    assert by_brand == {
        ("acme", "meta_ads", "A1"),
        ("acme", "tiktok_ads", "T1"),
        ("globex", "meta_ads", "G1"),
    }
    acme_hours = sorted(h.hour for b, c, k, h, _ in rows if k == "A1")
    assert acme_hours == [13, 14]  # 09:00 and 10:00 in New York (EDT) are 13:00 and 14:00 UTC
    assert {s for b, c, k, _, s in rows if c == "meta_ads"} == {"daily_report_allocated"}

    google = globex_run.asset_materializations_for_node("channel_metrics__google_ads")
    tiktok = globex_run.asset_materializations_for_node("channel_metrics__tiktok_ads")
    assert google[0].metadata["status"].value == "not connected"
    assert tiktok[0].metadata["status"].value == "not connected"
    meta = acme_run.asset_materializations_for_node("channel_metrics__meta_ads")[0].metadata
    assert meta["api_calls"].value >= 3 and meta["rows"].value == 2


def test_no_secret_reaches_the_event_log_the_instance_or_the_warehouse(
    instance, channel_resources, platforms, warehouse_path, tmp_path
) -> None:
    instance.add_dynamic_partitions("brands", ["acme", "globex"])
    runs = [_run(instance, channel_resources, b) for b in ("acme", "globex")]
    assert all(r.success for r in runs)
    events = "\n".join(str(record) for r in runs for record in instance.all_logs(r.run_id))
    for secret in SECRETS:
        assert secret not in events
    for path in [warehouse_path, *Path(instance.root_directory).rglob("*")]:
        if Path(path).is_file():
            data = Path(path).read_bytes()
            for secret in SECRETS:
                assert secret.encode() not in data, f"{secret[:6]}… found in {path}"
