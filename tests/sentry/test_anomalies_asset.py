"""performance_anomalies through Dagster: two brands, real DuckDB, each brand on its own rows."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import dagster as dg
import pandas as pd
import pytest

from tests.support import AFTER_THE_FIXTURES, local_resources
from warroom_pipelines import clock
from warroom_pipelines.assets.anomalies import performance_anomalies
from warroom_pipelines.assets.budgets import campaign_budgets
from warroom_pipelines.assets.channels import channel_assets
from warroom_pipelines.assets.unified import unified_performance
from warroom_pipelines.channels.budgets import read_budgets, typed_budgets
from warroom_pipelines.partitions import BRANDS, REASON_TAG, partition_key
from warroom_pipelines.resources.demo import DemoSourceResource
from warroom_pipelines.schema import finalize
from warroom_pipelines.sentry.detectors import DetectorConfig
from warroom_pipelines.sentry.engine import ANOMALY_COLUMNS, detect
from warroom_pipelines.sentry.settle import DEMO_SETTLE_LAG
from warroom_pipelines.warehouse import DuckDBWarehouse, LakeFiles, analyst_connection
from warroom_pipelines.warehouse.tables import ANOMALIES, UNIFIED

pytestmark = AFTER_THE_FIXTURES

DAY = date(2026, 11, 10)
WINDOW = 7
HISTORY = [DAY - timedelta(days=n) for n in range(WINDOW + 2, -1, -1)]
ASSETS = [*channel_assets, campaign_budgets, unified_performance, performance_anomalies]
INGESTED_AT = datetime(2026, 11, 11, tzinfo=UTC)
RUN_CONFIG = {"ops": {"performance_anomalies": {"config": {"window_days": WINDOW}}}}


class RunawaySource(DemoSourceResource):
    """The demo source, where globex's Meta budget cap is removed on DAY from 08:00 UTC."""

    def metrics(self, brand, day, as_of=None):
        frame = super().metrics(brand, day, as_of)
        if brand == "globex" and day == DAY:
            hit = (frame["channel"] == "meta_ads") & (frame["hour_start"].dt.hour >= 8)
            frame.loc[hit, ["impressions", "clicks"]] *= 4
            frame.loc[hit, "spend"] *= 6
        return frame


SEEDED, THROUGH_DAGSTER = HISTORY[:-2], HISTORY[-2:]


def _seeded(path, source: DemoSourceResource | None = None) -> dict[str, Any]:
    """Resources on a warehouse holding the older history, written straight in; the last two
    days run through Dagster."""
    source = source or RunawaySource(incident_rate=0.0)
    resources = local_resources(path, path.parent, source)
    warehouse = resources["warehouse"].get()
    for brand in ("acme", "globex"):
        for day in SEEDED:
            rows = finalize(source.metrics(brand, day), brand=brand, ingested_at=INGESTED_AT)
            warehouse.replace_slice(UNIFIED, rows, brand=brand, dates=[day])
    return resources


def _stored(path) -> pd.DataFrame:
    with analyst_connection(LakeFiles(path)) as con:
        return con.execute("SELECT * FROM performance_anomalies ORDER BY ALL").df()


def _batch_run(instance: dg.DagsterInstance, resources: dict[str, Any]) -> Any:
    """One run of both brands over the days run through Dagster, as a schedule batches them."""
    return dg.materialize(
        ASSETS,
        instance=instance,
        resources=resources,
        run_config=RUN_CONFIG,
        tags={
            "dagster/asset_partition_range_start": str(partition_key("acme", THROUGH_DAGSTER[0])),
            "dagster/asset_partition_range_end": str(partition_key("globex", DAY)),
        },
    )


@pytest.fixture(scope="module")
def materialized(tmp_path_factory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("sentry") / "warehouse.duckdb"
    resources = _seeded(path)
    through_dagster = THROUGH_DAGSTER
    results = {}
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(BRANDS, ["acme", "globex"])
        for brand in ("acme", "globex"):
            for day in through_dagster:
                result = dg.materialize(
                    ASSETS,
                    instance=instance,
                    resources=resources,
                    partition_key=partition_key(brand, day),
                    run_config=RUN_CONFIG,
                )
                assert result.success
            results[brand] = result
    return {"path": path, "results": results, "stored": _stored(path)}


def test_each_brand_gets_its_own_anomalies(materialized) -> None:
    stored = materialized["stored"]
    assert list(stored.columns) == list(ANOMALY_COLUMNS)
    globex = stored.loc[stored["brand"] == "globex"]
    acme = stored.loc[stored["brand"] == "acme"]
    runaway = globex.loc[(globex["level"] == "channel") & (globex["channel"] == "meta_ads")]
    assert "spend_spike" in set(runaway["anomaly_type"])
    assert runaway["severity"].isin(["warning", "critical"]).any()
    assert "spend_spike" not in set(acme["anomaly_type"])
    assert (stored["date"].dt.date == DAY).all()


def test_anomalies_come_from_the_brands_own_rows_only(materialized) -> None:
    warehouse = DuckDBWarehouse(materialized["path"], read_only=True)
    stored = materialized["stored"]
    for brand in ("acme", "globex"):
        own = warehouse.read_slice(UNIFIED, brand=brand, start=HISTORY[0], end=DAY)
        rows = stored.loc[stored["brand"] == brand]
        campaigns = set(rows.loc[rows["level"] == "campaign", "campaign_id"])
        assert campaigns <= set(own["campaign_id"])
        # Exactly what the engine finds on this brand's rows and budgets alone.
        budgets = read_budgets(warehouse, brand, HISTORY[0], DAY + timedelta(days=1))
        assert set(budgets["brand"]) == {brand}
        expected = detect(own, DAY, DetectorConfig(window_days=WINDOW), budgets=budgets)
        got = warehouse.read_slice(ANOMALIES, brand=brand, start=DAY, end=DAY)
        assert len(got) == len(expected)
        assert set(got["incident_id"]) == set(expected["incident_id"])


def test_the_stored_budgets_reach_the_sentry(materialized) -> None:
    """campaign_budgets stores the demo source's budgets per brand-day, and the anomalies
    asset reads them: globex's Meta campaigns spent past what their budgets allow, so the
    excess is the money at stake (without budgets the engine could only infer caps)."""
    warehouse = DuckDBWarehouse(materialized["path"], read_only=True)
    source = RunawaySource(incident_rate=0.0)
    for brand in ("acme", "globex"):
        stored = read_budgets(warehouse, brand, THROUGH_DAGSTER[0], DAY)
        own = pd.concat([source.budgets(brand, day) for day in THROUGH_DAGSTER])
        own = own.sort_values(["date", "channel", "campaign_id"])
        assert len(stored) > 0
        pd.testing.assert_frame_equal(stored, typed_budgets(own))
    history = warehouse.read_slice(UNIFIED, brand="globex", start=HISTORY[0], end=DAY)
    config = DetectorConfig(window_days=WINDOW)
    blind = detect(history, DAY, config)
    got = warehouse.read_slice(ANOMALIES, brand="globex", start=DAY, end=DAY)
    spikes = got.loc[(got["anomaly_type"] == "spend_spike") & (got["level"] == "campaign")]
    assert len(spikes) and (spikes["channel"] == "meta_ads").all()
    unpaced = blind.loc[(blind["anomaly_type"] == "spend_spike") & (blind["level"] == "campaign")]
    assert spikes["money_at_stake"].sum() != unpaced["money_at_stake"].sum()
    budgets = read_budgets(warehouse, "globex", HISTORY[0], DAY + timedelta(days=1))
    paced = detect(history, DAY, config, budgets=budgets)
    assert set(got["incident_id"]) == set(paced["incident_id"])


def test_metadata_counts_types_and_severities(materialized) -> None:
    result = materialized["results"]["globex"]
    events = result.asset_materializations_for_node("performance_anomalies")
    metadata = events[0].metadata
    assert metadata["type:spend_spike"].value >= 1
    assert any(key.startswith("severity:") for key in metadata)
    assert "spend_spike" in metadata["top_incidents"].value
    assert metadata["detector"].value == DetectorConfig().detector == "ecod"


def test_every_row_belongs_to_its_partitions_brand(materialized) -> None:
    stored = materialized["stored"]
    assert set(stored["brand"]) <= {"acme", "globex"}
    ids = stored.groupby("incident_id")["brand"].nunique()
    assert (ids == 1).all()
    assert not pd.Series(stored["incident_id"]).eq("").any()


def test_one_batch_run_of_both_brands_and_days_finds_what_single_runs_found(
    materialized, tmp_path
) -> None:
    path = tmp_path / "warehouse.duckdb"
    resources = _seeded(path)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(BRANDS, ["acme", "globex"])
        result = _batch_run(instance, resources)
    assert result.success
    events = result.asset_materializations_for_node("performance_anomalies")
    assert len(events) == 4  # 2 brands x 2 days, one run
    batched = _stored(path)
    single = materialized["stored"]
    assert len(batched) == len(single) > 0
    pd.testing.assert_frame_equal(batched, single)
    # Each brand-day's materialization counts its own anomalies, not the batch's.
    per_day = {str(e.partition): e.metadata["anomalies"].value for e in events}
    stored_day = batched["date"].dt.date.astype(str)
    assert per_day == {
        key: int(((batched["brand"] == brand) & (stored_day == day)).sum())
        for key in per_day
        for brand, day in [key.split("|")]
    }
    assert per_day["globex|2026-11-10"] > 0
    assert {e.metadata["batch_anomalies"].value for e in events} == {len(batched)}
    tops = {str(e.partition): e.metadata["top_incidents"].value for e in events}
    assert "spend_spike" in tops["globex|2026-11-10"]
    assert "globex" not in tops["acme|2026-11-10"]


class TwoCurrencySource(RunawaySource):
    """acme's accounts report in GBP, globex's in USD."""

    def metrics(self, brand, day, as_of=None):
        return (
            super().metrics(brand, day, as_of).assign(currency="GBP" if brand == "acme" else "USD")
        )

    def budgets(self, brand, day):
        return super().budgets(brand, day).assign(currency="GBP" if brand == "acme" else "USD")


def test_each_brand_days_metadata_is_its_own_in_its_own_currency(tmp_path) -> None:
    path = tmp_path / "warehouse.duckdb"
    resources = _seeded(path, TwoCurrencySource(incident_rate=0.0))
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(BRANDS, ["acme", "globex"])
        assert _batch_run(instance, resources).success
        # What the UI shows: the event log's materialization of each brand-day.
        events = {
            name: {
                str(record.partition_key): record.asset_materialization.metadata
                for record in instance.fetch_materializations(dg.AssetKey(name), limit=10).records
            }
            for name in ("performance_anomalies", "unified_performance")
        }
    warehouse = DuckDBWarehouse(path, read_only=True)
    currency = {"acme": "GBP", "globex": "USD"}
    for key, metadata in events["performance_anomalies"].items():
        brand, day = key.split("|")
        own = warehouse.read_slice(ANOMALIES, brand=brand, start=day, end=day)
        other = "globex" if brand == "acme" else "acme"
        assert metadata["anomalies"].value == len(own)
        assert metadata["incidents"].value == own["incident_id"].nunique()
        money = {k: v.value for k, v in metadata.items() if k.startswith("money_at_stake")}
        if len(own):
            assert money == {
                f"money_at_stake:{currency[brand]}": round(own["money_at_stake"].sum(), 2)
            }
        top = metadata["top_incidents"].value
        assert other not in top and currency[other] not in top
        for name, count in own["anomaly_type"].value_counts().items():
            assert metadata[f"type:{name}"].value == count
        types = {k.removeprefix("type:") for k in metadata if k.startswith("type:")}
        assert types == set(own["anomaly_type"])
    assert events["performance_anomalies"]["globex|2026-11-10"]["anomalies"].value > 0

    for key, metadata in events["unified_performance"].items():
        brand, day = key.split("|")
        own = warehouse.read_slice(UNIFIED, brand=brand, start=day, end=day)
        assert metadata["rows"].value == len(own)
        assert metadata[f"spend:{currency[brand]}"].value == round(own["spend"].sum(), 2)
        # Money never summed across currencies, and the batch's totals say they are the batch's.
        assert "spend" not in metadata
        assert {k for k in metadata if k.startswith("spend:")} == {f"spend:{currency[brand]}"}
        assert {"batch_spend:GBP", "batch_spend:USD"} <= set(metadata)


def test_hourly_ticks_score_only_the_newly_settled_hours(tmp_path) -> None:
    """globex's day through successive hourly ticks (runs of the hourly schedule at HH:05,
    its Meta spend running away from 08:00): each tick scores only the hours settled since
    the one before, never a partial hour, keeps that tick's rows as they were, and the last
    tick holds exactly the rows of scoring the whole day at once."""
    path = tmp_path / "warehouse.duckdb"
    source = RunawaySource(incident_rate=0.0)
    resources = local_resources(path, path.parent, source)
    warehouse = resources["warehouse"].get()
    day_start = pd.Timestamp(DAY, tz="UTC")
    ticks = [day_start + pd.Timedelta(hours=h, minutes=5) for h in range(10, 15)]
    with clock.pinned(ticks[0].isoformat()):  # the days before, as the first tick sees them
        for day in HISTORY[:-1]:
            rows = finalize(source.metrics("globex", day), brand="globex", ingested_at=clock.now())
            warehouse.replace_slice(UNIFIED, rows, brand="globex", dates=[day])
    config = DetectorConfig(window_days=WINDOW)
    earlier: pd.DataFrame | None = None
    hours: list[int] = []
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(BRANDS, ["globex"])
        for tick in ticks:
            with clock.pinned(tick.isoformat()):
                result = dg.materialize(
                    ASSETS,
                    instance=instance,
                    resources=resources,
                    partition_key=partition_key("globex", DAY),
                    run_config=RUN_CONFIG,
                    tags={REASON_TAG: "hourly"},
                )
            assert result.success
            metadata = result.asset_materializations_for_node("performance_anomalies")[0].metadata
            hours.append(metadata["hours_scored"].value)
            until = {c: pd.Timestamp(t) for c, t in metadata["scored_until"].value.items()}
            # The watermark: the channels' newest rows (this tick's) less the demo's lag.
            assert set(until.values()) == {(tick - DEMO_SETTLE_LAG).floor("h")} and len(until) == 3
            stored = warehouse.read_slice(ANOMALIES, brand="globex", start=DAY, end=DAY)
            bound = (
                stored["channel"].map(until).where(stored["level"] != "brand", min(until.values()))
            )
            assert (stored["hour_start"] < bound).all()  # no partial hour is ever scored
            if earlier is not None:
                same = [c for c in ANOMALY_COLUMNS if c != "incident_end"]
                assert len(stored[same].merge(earlier[same])) == len(earlier)
            earlier = stored
        history = warehouse.read_slice(UNIFIED, brand="globex", start=HISTORY[0], end=DAY)
        budgets = read_budgets(warehouse, "globex", HISTORY[0], DAY + timedelta(days=1))
    whole = detect(history, DAY, config, budgets=budgets)
    assert len(whole) and "spend_spike" in set(whole["anomaly_type"])
    order = ["hour_start", "level", "channel", "campaign_id", "anomaly_type"]
    pd.testing.assert_frame_equal(
        earlier.sort_values(order).reset_index(drop=True), whole, check_dtype=False
    )
    channels = len(until)
    assert hours[0] == channels * 6  # the first tick: 00:00 to 06:00 of every channel
    assert hours[1:] == [channels] * (len(ticks) - 1)  # then the one hour settled since
