"""Keeps the dynamic `brands` partitions in step with the brands of the key store.

A brand whose keys reach the store another way than `warroom keys set` (which refuses
unregistered brands) becomes a partition on the next tick; a brand whose
last credentials are deleted stops being scheduled. The cursor remembers which brands the
key store held at the previous tick, so the sensor only removes brands it has seen leave
the store: brands registered by hand (`warroom brands add`, e.g. demo brands that need no
credentials) are left alone, unless the key is not a valid brand key (typed into the Dagster
UI): that partition is removed with a warning naming it.
"""

import json

import dagster as dg

from warroom_pipelines.partitions import (
    BRANDS,
    InvalidBrandKey,
    invalid_brand_keys,
    validate_brand_key,
)
from warroom_pipelines.resources.vault import VaultResource


def brand_changes(
    store_brands: set[str], previous: set[str], registered: set[str]
) -> tuple[list[str], list[str]]:
    """(brands to add, brands to delete) so the partitions follow the key store."""
    return sorted(store_brands - registered), sorted((previous - store_brands) & registered)


@dg.sensor(
    name="brand_registry",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Adds brands that gained credentials; removes brands whose credentials left "
    "and partitions that are not valid brand keys.",
)
def brand_registry_sensor(
    context: dg.SensorEvaluationContext, vault: VaultResource
) -> dg.SensorResult:
    store_brands = set()
    for brand in vault.key_store_client().list_brands():
        try:
            store_brands.add(validate_brand_key(brand))
        except InvalidBrandKey as exc:
            context.log.warning(f"key store brand skipped: {exc}")
    previous = set(json.loads(context.cursor)) if context.cursor else set()
    registered = set(context.instance.get_dynamic_partitions(BRANDS))
    added, removed = brand_changes(store_brands, previous, registered)
    # A partition typed into the Dagster UI that no brand key can be (e.g. "Acme Outdoor"):
    # the schedules already skip it; removing it keeps it out of backfills too.
    invalid = invalid_brand_keys(sorted(registered))
    if invalid:
        context.log.warning(
            f"removing invalid brand partitions {', '.join(map(repr, invalid))}: a brand key "
            "is a lowercase slug (a-z, 0-9 and '-'); add the brand again under a valid key"
        )
        removed = sorted({*removed, *invalid})
    requests: list[dg.AddDynamicPartitionsRequest | dg.DeleteDynamicPartitionsRequest] = []
    if added:
        requests.append(dg.AddDynamicPartitionsRequest(BRANDS, added))
    if removed:
        requests.append(dg.DeleteDynamicPartitionsRequest(BRANDS, removed))
    return dg.SensorResult(
        dynamic_partitions_requests=requests, cursor=json.dumps(sorted(store_brands))
    )
