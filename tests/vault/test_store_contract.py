"""The one contract every key store keeps, run against SQLite and the Firestore emulator."""

from __future__ import annotations

import os
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from warroom_pipelines.vault.crypto import SealedSecret, WrappedDataKey
from warroom_pipelines.vault.stores import DataKeyChanged, KeyStore, SQLiteKeyStore


def wrapped(data_key_id: str = "dk1", master_key_id: str = "mk1") -> WrappedDataKey:
    return WrappedDataKey(data_key_id, master_key_id, os.urandom(12), os.urandom(48))


def sealed(data_key_id: str = "dk1") -> SealedSecret:
    return SealedSecret(data_key_id, os.urandom(12), os.urandom(64))


def test_first_data_key_wins(store: KeyStore) -> None:
    first, second = wrapped("dk1"), wrapped("dk2")
    assert store.get_data_key("acme") is None
    assert store.create_data_key("acme", first) == first
    assert store.create_data_key("acme", second) == first
    assert store.get_data_key("acme") == first


def test_replace_data_key_is_compare_and_set(store: KeyStore) -> None:
    original = store.create_data_key("acme", wrapped(master_key_id="old"))
    rewrapped = replace(wrapped(master_key_id="new"), data_key_id=original.data_key_id)
    assert store.replace_data_key("acme", original, rewrapped)
    assert not store.replace_data_key("acme", original, wrapped(master_key_id="stale"))
    assert store.get_data_key("acme") == rewrapped
    assert not store.replace_data_key("globex", original, rewrapped)


def test_integration_round_trip_and_overwrite(store: KeyStore) -> None:
    store.create_data_key("acme", wrapped())
    record = sealed()
    store.put_integration("acme", "meta_ads", record)
    assert store.get_integration("acme", "meta_ads") == record
    newer = sealed()
    store.put_integration("acme", "meta_ads", newer)
    assert store.get_integration("acme", "meta_ads") == newer
    assert store.get_integration("acme", "google_ads") is None
    assert store.get_integration("globex", "meta_ads") is None


def test_put_refuses_a_record_sealed_under_another_data_key(store: KeyStore) -> None:
    with pytest.raises(DataKeyChanged):
        store.put_integration("acme", "meta_ads", sealed("dk1"))
    store.create_data_key("acme", wrapped("dk1"))
    with pytest.raises(DataKeyChanged):
        store.put_integration("acme", "meta_ads", sealed("dk-other"))
    assert store.list_integrations("acme") == []


def test_listing_brands_and_integrations(store: KeyStore) -> None:
    for brand in ("globex", "acme", "initech"):
        store.create_data_key(brand, wrapped())
    store.put_integration("globex", "slack", sealed())
    store.put_integration("acme", "tiktok_ads", sealed())
    store.put_integration("acme", "meta_ads", sealed())
    # initech has a data key but no credentials: not a brand of the store yet.
    assert store.list_brands() == ["acme", "globex"]
    assert store.list_integrations("acme") == ["meta_ads", "tiktok_ads"]
    assert store.list_integrations("initech") == []


def test_deleting_the_last_integration_removes_the_brand_and_its_key(store: KeyStore) -> None:
    store.create_data_key("acme", wrapped())
    store.put_integration("acme", "meta_ads", sealed())
    store.put_integration("acme", "slack", sealed())
    assert store.delete_integration("acme", "meta_ads")
    assert not store.delete_integration("acme", "meta_ads")
    assert store.get_data_key("acme") is not None
    assert store.delete_integration("acme", "slack")
    assert store.get_data_key("acme") is None
    assert store.list_brands() == []
    assert not store.delete_integration("nobody", "slack")


def test_sqlite_file_is_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "home" / "warroom_keys.sqlite"
    store = SQLiteKeyStore(path)
    store.create_data_key("acme", wrapped())
    store.put_integration("acme", "meta_ads", sealed())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o644)
    SQLiteKeyStore(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
