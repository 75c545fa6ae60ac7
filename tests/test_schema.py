from datetime import UTC, datetime

import pandas as pd
import pytest

from warroom_pipelines.channels.demo import demo_metrics
from warroom_pipelines.schema import SchemaError, finalize, quality_checks, validate_raw

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
    end = pd.Timestamp("2026-11-04", tz="UTC")
    assert all(o.passed for o in quality_checks(table, complete_before=end).values())
    gap = table.loc[table["hour_start"] != pd.Timestamp("2026-11-03 10:00", tz="UTC")]
    assert not quality_checks(gap, complete_before=end)["hours_complete"].passed
    # A partial day only expects the hours that have ended.
    morning = table.loc[table["hour_start"] < pd.Timestamp("2026-11-03 09:00", tz="UTC")]
    assert quality_checks(morning, complete_before=pd.Timestamp("2026-11-03 09:00", tz="UTC"))[
        "hours_complete"
    ].passed
    doubled = pd.concat([table, table.iloc[:3]])
    assert quality_checks(doubled, complete_before=end)["unique_key"].failures == 3
    negative = table.copy()
    negative.loc[0, "spend"] = -1.0
    assert not quality_checks(negative, complete_before=end)["non_negative"].passed
