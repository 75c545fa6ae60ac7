"""The unified table through Dagster: right rows, replaced whole, one brand at a time."""

from datetime import date, timedelta
from typing import Any

import dagster as dg
import duckdb
import pandas as pd
import pytest

from tests.support import AFTER_THE_FIXTURES
from warroom_pipelines.assets.channels import channel_assets
from warroom_pipelines.assets.unified import unified_performance
from warroom_pipelines.channels.demo import demo_metrics
from warroom_pipelines.partitions import partition_key
from warroom_pipelines.resources.demo import DemoSourceResource
from warroom_pipelines.schema import COLUMNS, KEY_COLUMNS

pytestmark = AFTER_THE_FIXTURES

BRANDS = ("acme", "globex")
DAYS = [date(2026, 11, 1) + timedelta(days=n) for n in range(3)]
ASSETS = [*channel_assets, unified_performance]


def _materialize(
    instance: dg.DagsterInstance, resources: dict[str, Any], brand: str, day: date
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        ASSETS,
        instance=instance,
        resources=resources,
        partition_key=partition_key(brand, day),
        raise_on_error=False,
    )


def _table(path) -> pd.DataFrame:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("SELECT * FROM unified_performance ORDER BY ALL").df()


@pytest.fixture
def two_brands(instance, resources, warehouse_path) -> pd.DataFrame:
    instance.add_dynamic_partitions("brands", list(BRANDS))
    for brand in BRANDS:
        for day in DAYS:
            assert _materialize(instance, resources, brand, day).success
    return _table(warehouse_path)


def test_row_counts_and_totals_match_the_source(two_brands) -> None:
    for brand in BRANDS:
        for day in DAYS:
            source = demo_metrics(brand, day)
            rows = two_brands.loc[
                (two_brands["brand"] == brand) & (two_brands["date"] == pd.Timestamp(day))
            ]
            assert len(rows) == len(source)
            assert rows["spend"].sum() == pytest.approx(source["spend"].sum())
            assert rows["clicks"].sum() == source["clicks"].sum()


def test_columns_are_stable_lower_case_and_hours_are_utc(two_brands, warehouse_path) -> None:
    assert list(two_brands.columns) == list(COLUMNS)
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        types = dict(
            con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = 'unified_performance'"
            ).fetchall()
        )
    assert types["hour_start"] == "TIMESTAMP WITH TIME ZONE"
    assert types["date"] == "DATE"
    utc_hours = two_brands["hour_start"].dt.tz_convert("UTC")
    assert (utc_hours.dt.date == two_brands["date"].dt.date).all()
    assert utc_hours.dt.minute.eq(0).all()


def test_derived_metrics_are_null_where_the_denominator_is_zero(two_brands) -> None:
    no_conv = two_brands.loc[two_brands["conversions"] == 0]
    assert len(no_conv) and no_conv["cpa"].isna().all()
    some = two_brands.loc[two_brands["clicks"] > 0].iloc[0]
    assert some["ctr"] == pytest.approx(some["clicks"] / some["impressions"])
    assert some["cpm"] == pytest.approx(some["spend"] / some["impressions"] * 1000)


def test_rematerializing_replaces_the_partition_without_duplicates(
    instance, resources, warehouse_path, two_brands
) -> None:
    assert _materialize(instance, resources, "acme", DAYS[1]).success
    after = _table(warehouse_path)
    assert not after.duplicated(list(KEY_COLUMNS)).any()
    pd.testing.assert_frame_equal(
        after.drop(columns="ingested_at"), two_brands.drop(columns="ingested_at")
    )


def test_a_brand_run_never_touches_another_brand(
    instance, resources, warehouse_path, two_brands
) -> None:
    globex_before = two_brands.loc[two_brands["brand"] == "globex"]
    empty = dict(resources, demo_source=DemoSourceResource(brands=["someone-else"]))
    assert _materialize(instance, empty, "acme", DAYS[0]).success  # acme now has no source
    after = _table(warehouse_path)
    pd.testing.assert_frame_equal(
        after.loc[after["brand"] == "globex"].reset_index(drop=True),
        globex_before.reset_index(drop=True),
    )
    assert after.loc[(after["brand"] == "acme") & (after["date"] == pd.Timestamp(DAYS[0]))].empty
    assert len(after.loc[(after["brand"] == "acme") & (after["date"] == pd.Timestamp(DAYS[1]))]) > 0


class BrokenSource(DemoSourceResource):
    """A source that fails half-way through a brand-day (e.g. an API dying mid-pagination)."""

    def metrics(self, brand, day, as_of=None):  # type: ignore[no-untyped-def]
        demo_metrics(brand, day, self.config())
        raise ConnectionResetError("source went away mid-way")


def test_a_failed_materialization_leaves_the_earlier_rows_intact(
    instance, resources, warehouse_path, two_brands
) -> None:
    broken = dict(resources, demo_source=BrokenSource())
    result = _materialize(instance, broken, "acme", DAYS[2])
    assert not result.success
    pd.testing.assert_frame_equal(_table(warehouse_path), two_brands)


class WrongBrandSource(DemoSourceResource):
    def metrics(self, brand, day, as_of=None):  # type: ignore[no-untyped-def]
        return demo_metrics("globex", day, self.config())


def test_rows_of_another_brand_are_refused_with_a_typed_error(
    instance, resources, warehouse_path, two_brands
) -> None:
    result = _materialize(
        instance, dict(resources, demo_source=WrongBrandSource()), "acme", DAYS[0]
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    message = str(failure.event_specific_data.error)  # type: ignore[union-attr]
    assert "SchemaError" in message and "brand='acme'" in message and "field='brand'" in message
    pd.testing.assert_frame_equal(_table(warehouse_path), two_brands)


def test_checks_pass_on_good_data(instance, resources) -> None:
    instance.add_dynamic_partitions("brands", ["acme"])
    result = _materialize(instance, resources, "acme", DAYS[0])
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {
        "unique_key": True,
        "non_negative": True,
        "clicks_within_impressions": True,
        "hours_complete": True,
    }
