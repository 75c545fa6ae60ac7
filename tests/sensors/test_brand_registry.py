"""The brand-registry sensor follows the key store: brands that gain credentials are added,
brands whose credentials leave are deleted, brands registered by hand are left alone."""

import base64
import json
import os
from pathlib import Path

import dagster as dg
import pytest

from tests.vault.samples import SAMPLES
from warroom_pipelines.partitions import BRANDS
from warroom_pipelines.resources.vault import VaultResource
from warroom_pipelines.sensors.brand_registry import brand_registry_sensor
from warroom_pipelines.vault.crypto import MasterKeyring
from warroom_pipelines.vault.manager import IntegrationManager
from warroom_pipelines.vault.stores import SQLiteKeyStore


def tick(instance: dg.DagsterInstance, vault: VaultResource, cursor: str | None) -> dg.SensorResult:
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources={"vault": vault})
    result = brand_registry_sensor(context)
    assert isinstance(result, dg.SensorResult)
    # What the sensor daemon does with the requests.
    for request in result.dynamic_partitions_requests or []:
        if isinstance(request, dg.AddDynamicPartitionsRequest):
            instance.add_dynamic_partitions(BRANDS, list(request.partition_keys))
        else:
            for key in request.partition_keys:
                instance.delete_dynamic_partition(BRANDS, key)
    return result


def requested(result: dg.SensorResult) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {"add": [], "delete": []}
    for request in result.dynamic_partitions_requests or []:
        kind = "add" if isinstance(request, dg.AddDynamicPartitionsRequest) else "delete"
        out[kind] += list(request.partition_keys)
    return out


@pytest.fixture
def key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def test_partitions_follow_the_key_store(tmp_path: Path, key: str) -> None:
    path = tmp_path / "warroom_keys.sqlite"
    manager = IntegrationManager(SQLiteKeyStore(path), MasterKeyring.from_strings(key))
    vault = VaultResource(dagster_home=str(tmp_path), sqlite_path=str(path), master_key=key)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(BRANDS, ["demo-brand"])  # `warroom brands add`
        manager.set("acme", "slack", SAMPLES["slack"])
        manager.set("globex", "meta_ads", SAMPLES["meta_ads"])

        first = tick(instance, vault, None)
        assert requested(first) == {"add": ["acme", "globex"], "delete": []}
        assert json.loads(first.cursor or "[]") == ["acme", "globex"]

        again = tick(instance, vault, first.cursor)
        assert requested(again) == {"add": [], "delete": []}

        manager.delete("globex", "meta_ads")
        manager.set("initech", "tiktok_ads", SAMPLES["tiktok_ads"])
        third = tick(instance, vault, again.cursor)
        assert requested(third) == {"add": ["initech"], "delete": ["globex"]}
        assert sorted(instance.get_dynamic_partitions(BRANDS)) == [
            "acme",
            "demo-brand",
            "initech",
        ]


def test_the_sensor_loads_in_definitions(tmp_path: Path, key: str) -> None:
    defs = dg.Definitions(
        sensors=[brand_registry_sensor],
        resources={"vault": VaultResource(dagster_home=str(tmp_path), master_key=key)},
    )
    dg.Definitions.validate_loadable(defs)
