"""The vault resource: profiles checked at load, master keys only as EnvVars, and a real
Dagster run that reads its own brand's credentials and is refused another brand's."""

import base64
import os
from pathlib import Path

import dagster as dg
import pytest

from tests.support import AFTER_THE_FIXTURES
from tests.vault.samples import SAMPLES, SECRET_MARKERS, for_brand
from warroom_pipelines.partitions import (
    BRANDS,
    brand_date_partitions,
    partition_key,
    run_brand_dates,
)
from warroom_pipelines.resources.vault import VaultResource, vault_resource
from warroom_pipelines.vault.crypto import InvalidMasterKey, MissingEncryptionKey
from warroom_pipelines.vault.keyring import MISSING_KEY_MESSAGE
from warroom_pipelines.vault.manager import TenantIsolationError
from warroom_pipelines.vault.models import MetaAdsCredentials

pytestmark = AFTER_THE_FIXTURES


KEY = base64.b64encode(os.urandom(32)).decode()


def test_production_without_the_key_fails_at_load(tmp_path: Path) -> None:
    with pytest.raises(MissingEncryptionKey) as err:
        vault_resource("production", tmp_path, {"WARROOM_GCP_PROJECT": "warroom-prod"})
    assert str(err.value) == MISSING_KEY_MESSAGE


def test_a_malformed_key_fails_at_load_without_echoing(tmp_path: Path) -> None:
    bad = base64.b64encode(b"too-short-a-master-key").decode()
    with pytest.raises(InvalidMasterKey) as err:
        vault_resource("local", tmp_path, {"PERFORMANCE_ENCRYPTION_KEY": bad})
    assert bad not in str(err.value)


def test_production_reads_keys_from_env_vars(tmp_path: Path) -> None:
    resource = vault_resource(
        "production",
        tmp_path,
        {"PERFORMANCE_ENCRYPTION_KEY": KEY, "PERFORMANCE_ENCRYPTION_KEY_PREVIOUS": KEY},
    )
    assert resource.key_store == "firestore"
    assert resource.master_key == dg.EnvVar("PERFORMANCE_ENCRYPTION_KEY")
    assert resource.previous_master_keys == dg.EnvVar("PERFORMANCE_ENCRYPTION_KEY_PREVIOUS")
    assert KEY not in repr(resource)


@dg.asset(partitions_def=brand_date_partitions)
def brand_credentials_probe(
    context: dg.AssetExecutionContext, vault: VaultResource
) -> dg.MaterializeResult:
    (brand,) = run_brand_dates(context)
    own = vault.for_brand(brand)
    meta = own.get(MetaAdsCredentials)
    context.log.info(f"read {meta!r} for {own!r}")
    other = "globex" if brand == "acme" else "acme"
    try:
        own.get("meta_ads", brand=other)
        refused = False
    except TenantIsolationError as exc:
        context.log.warning(str(exc))
        refused = True
    return dg.MaterializeResult(
        metadata={"accounts": list(meta.ad_account_ids), "other_brand_refused": refused}
    )


def test_a_run_reads_only_its_own_brand(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERFORMANCE_ENCRYPTION_KEY", KEY)
    resource = vault_resource("local", tmp_path)
    with dg.build_resources({"vault": resource}) as built:
        manager = built.vault.manager()
        for brand in ("acme", "globex"):
            for integration in SAMPLES:
                manager.set(brand, integration, for_brand(brand, integration))
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(BRANDS, ["acme", "globex"])
        result = dg.materialize(
            [brand_credentials_probe],
            resources={"vault": resource},
            partition_key=partition_key("acme", "2026-03-01"),
            instance=instance,
        )
        assert result.success
        metadata = result.asset_materializations_for_node("brand_credentials_probe")[0].metadata
        assert metadata["other_brand_refused"].value is True
        assert metadata["accounts"].value == ["act_1234", "act_5678"]
        events = "\n".join(str(e) for e in instance.all_logs(result.run_id))
    assert "cannot read credentials of brand 'globex'" in events
    for marker in SECRET_MARKERS:
        assert marker not in events
