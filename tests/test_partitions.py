from datetime import date

import pytest

from warroom_pipelines.partitions import (
    InvalidBrandKey,
    brand_date_partitions,
    partition_key,
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
