"""Brand keys: one rule for the Dagster partitions, the vault and the command line.

Plain Python (no Dagster) so that domain packages such as the vault can validate brands.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# The name of the brand registry: Dagster's dynamic partitions of brands.
BRANDS = "brands"
# The brands that are demo brands: the demo source serves them and no platform is read for
# them. Kept in the instance beside the registry (a set of keys, no asset is partitioned by it).
DEMO_REGISTRY = "demo_brands"
_BRAND_KEY = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


class InvalidBrandKey(ValueError):
    """A brand key that Dagster would mangle (| drops it from multi-partition keys, , breaks
    UI backfills, [ ] break range syntax) or that is not a plain lowercase slug."""


def validate_brand_key(brand: str) -> str:
    """Return the brand key unchanged, or raise InvalidBrandKey naming what is wrong."""
    if not isinstance(brand, str) or not _BRAND_KEY.fullmatch(brand):
        raise InvalidBrandKey(
            f"invalid brand key {brand!r}: use a lowercase slug of 1-63 characters "
            "(a-z, 0-9 and '-', starting and ending with a letter or digit); "
            "characters such as | , [ ] and spaces are not allowed"
        )
    return brand


def invalid_brand_keys(keys: Iterable[str]) -> list[str]:
    """The keys that are not valid brand keys, e.g. a partition typed into the Dagster UI."""
    invalid = []
    for key in keys:
        try:
            validate_brand_key(key)
        except InvalidBrandKey:
            invalid.append(key)
    return invalid
