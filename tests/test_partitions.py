from datetime import date

import dagster as dg
import pytest

from warroom_pipelines.partitions import (
    PARTITION_TAG,
    RANGE_END_TAG,
    RANGE_START_TAG,
    InvalidBrandKey,
    brand_date_partitions,
    partition_key,
    run_tags_brand_dates,
    validate_brand_key,
)


@pytest.mark.parametrize("key", ["acme", "acme-outdoor", "b2", "a" * 63])
def test_valid_brand_keys(key: str) -> None:
    assert validate_brand_key(key) == key


@pytest.mark.parametrize(
    "key",
    ["", "Acme", "acme|eu", "acme,eu", "acme[1]", "acme eu", "-acme", "acme-", "a" * 64, "ac_me"],
)
def test_bad_brand_keys_are_refused_with_the_key_named(key: str) -> None:
    with pytest.raises(InvalidBrandKey) as err:
        validate_brand_key(key)
    assert repr(key) in str(err.value)


def test_partition_key_round_trips_through_the_multi_partition_definition() -> None:
    key = partition_key("acme-outdoor", date(2026, 3, 8))
    parsed = brand_date_partitions.get_partition_key_from_str(str(key))
    assert parsed.keys_by_dimension == {"brand": "acme-outdoor", "date": "2026-03-08"}


def test_partition_key_refuses_a_bad_brand() -> None:
    with pytest.raises(InvalidBrandKey):
        partition_key("acme|eu", date(2026, 3, 8))


def test_dagster_reads_the_partition_and_range_tags_it_does_not_export(instance) -> None:
    # A run of one brand-day carries PARTITION_TAG; a batch run, the range tags.
    first, last = partition_key("acme", date(2026, 3, 8)), partition_key("globex", date(2026, 3, 9))
    batch = dg.RunRequest(tags={RANGE_START_TAG: str(first), RANGE_END_TAG: str(last)})
    assert batch.partition_key_range == dg.PartitionKeyRange(str(first), str(last))

    @dg.asset(partitions_def=brand_date_partitions)
    def probe() -> None: ...

    instance.add_dynamic_partitions("brands", ["acme"])
    run = dg.materialize([probe], instance=instance, partition_key=str(first))
    assert run.dagster_run.tags[PARTITION_TAG] == str(first)
    assert run_tags_brand_dates(run.dagster_run.tags, instance) == {"acme": [date(2026, 3, 8)]}
