"""The per-channel assets read each brand's platforms with that brand's own keys."""

from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from pytest_httpserver import HTTPServer

from tests.channels.fakes import FakeMeta, FakeTikTok, meta_row, tiktok_record
from tests.support import AFTER_THE_FIXTURES
from warroom_pipelines.assets.channels import channel_assets
from warroom_pipelines.assets.unified import unified_performance
from warroom_pipelines.partitions import partition_key
from warroom_pipelines.resources.ad_platforms import AdPlatformsResource
from warroom_pipelines.resources.demo import DemoSourceResource
from warroom_pipelines.resources.vault import VaultResource

pytestmark = AFTER_THE_FIXTURES

DAY = date(2026, 5, 1)
ACME_META_TOKEN = "EAAGacmeSECRETmetaTOKEN0000111122223333"
ACME_TIKTOK_TOKEN = "acmeSECRETtiktokTOKEN44445555666677778888"
GLOBEX_META_TOKEN = "EAAGglobexSECRETmetaTOKEN999988887777"
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
            meta_base_url=base,
            tiktok_base_url=f"{base}/open_api",
            google_base_url=base,
            google_token_url=f"{base}/token",
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
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
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
    # Each brand-day shows its own rows, not the batch's.
    unified = {
        str(m.partition): m.metadata["brand_day_rows"].value
        for m in batch.asset_materializations_for_node("unified_performance")
    }
    assert unified == {"acme|2026-05-01": 3, "globex|2026-05-01": 1}
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


def test_one_brand_failing_in_a_batch_writes_nothing_of_that_step_and_names_the_brand(
    instance, channel_resources, platforms, warehouse_path
) -> None:
    instance.add_dynamic_partitions("brands", ["acme", "globex"])
    platforms["globex_meta"].token = "a-rotated-token-the-brand-did-not-give-us"
    result = _batch_run(instance, channel_resources, "acme", "globex")
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    text = str(failure.event_specific_data.error)  # type: ignore[union-attr]
    assert "globex" in text and "meta_ads" in text
    assert GLOBEX_META_TOKEN not in text and ACME_META_TOKEN not in text
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        tables = {
            t for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        }
    assert "meta_ads" not in tables and "unified_performance" not in tables


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

    with duckdb.connect(str(warehouse_path), read_only=True) as con:
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


def test_an_expired_token_fails_the_run_naming_brand_and_channel_not_the_token(
    instance, channel_resources, platforms, warehouse_path
) -> None:
    instance.add_dynamic_partitions("brands", ["acme"])
    platforms["acme_meta"].token = "a-rotated-token-the-brand-did-not-give-us"
    result = _run(instance, channel_resources, "acme")
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    text = str(failure.event_specific_data.error)  # type: ignore[union-attr]
    assert "ChannelAuthError" in text and "acme" in text and "meta_ads" in text
    assert ACME_META_TOKEN not in text
    # Nothing was written for the failed brand-day.
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        tables = {
            t for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        }
    assert "unified_performance" not in tables
