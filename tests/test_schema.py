from datetime import UTC, datetime

import pandas as pd
import pytest

from warroom_pipelines.channels.demo import demo_metrics
from warroom_pipelines.schema import (
    SchemaError,
    account_hours,
    finalize,
    quality_checks,
    validate_raw,
)

DAY = datetime(2026, 11, 3).date()


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("impressions", -1),
        ("spend", float("nan")),
        ("spend", "12,50"),
        ("conversions", float("inf")),
    ],
)
def test_bad_numbers_name_brand_channel_and_field(column, value) -> None:
    frame = demo_metrics("acme", DAY).astype({column: "object"})
    frame.loc[5, column] = value
    with pytest.raises(SchemaError) as err:
        validate_raw(frame, brand="acme")
    assert err.value.field == column and err.value.brand == "acme"
    assert err.value.channel == frame.loc[5, "channel"]


def test_clicks_above_impressions_are_refused() -> None:
    frame = demo_metrics("acme", DAY)
    frame.loc[0, "clicks"] = frame.loc[0, "impressions"] + 1
    with pytest.raises(SchemaError, match="clicks exceed impressions"):
        validate_raw(frame, brand="acme")


def test_duplicate_keys_are_refused() -> None:
    frame = demo_metrics("acme", DAY)
    with pytest.raises(SchemaError, match="duplicate row"):
        validate_raw(pd.concat([frame, frame.iloc[:1]]), brand="acme")


def test_quality_checks_find_gaps_duplicates_and_negatives() -> None:
    table = finalize(demo_metrics("acme", DAY), brand="acme", ingested_at=datetime.now(UTC))
    reported = {"demo": account_hours(table)}
    assert all(o.passed for o in quality_checks(table, reported=reported).values())
    # An hour the source reported but the table lacks is a gap.
    gap = table.loc[table["hour_start"] != pd.Timestamp("2026-11-03 10:00", tz="UTC")]
    outcome = quality_checks(gap, reported=reported)["hours_complete"]
    assert not outcome.passed and "demo:" in outcome.detail
    doubled = pd.concat([table, table.iloc[:3]])
    assert quality_checks(doubled, reported=reported)["unique_key"].failures == 3
    negative = table.copy()
    negative.loc[0, "spend"] = -1.0
    assert not quality_checks(negative, reported=reported)["non_negative"].passed


def test_hours_with_no_delivery_are_not_gaps_but_hours_the_platform_reported_are() -> None:
    """Platforms leave out the hours in which an account delivered nothing: a day with such
    holes matches the platform exactly and passes; losing an hour it reported fails."""
    table = finalize(demo_metrics("acme", DAY), brand="acme", ingested_at=datetime.now(UTC))
    platform = table.assign(source="meta_api").loc[table["channel"] == "meta_ads"]
    quiet_night = platform.loc[platform["hour_start"].dt.hour.between(6, 20)]
    reported = {"meta_ads": account_hours(quiet_night)}
    assert quality_checks(quiet_night, reported=reported)["hours_complete"].passed
    lost = quiet_night.loc[quiet_night["hour_start"].dt.hour != 12]
    assert not quality_checks(lost, reported=reported)["hours_complete"].passed
