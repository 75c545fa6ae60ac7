"""The integration manager on both key stores: round trips, isolation, rotation (also
interrupted), concurrent writers, and secrets that never leak."""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.vault.conftest import new_key
from tests.vault.samples import SAMPLES, SECRET_MARKERS, for_brand
from warroom_pipelines.vault.crypto import DecryptionError, MasterKeyring, UnknownMasterKey
from warroom_pipelines.vault.manager import (
    IntegrationManager,
    IntegrationNotFound,
    TenantIsolationError,
)
from warroom_pipelines.vault.models import IntegrationError, MetaAdsCredentials, parse_integration
from warroom_pipelines.vault.stores import KeyStore

BRANDS = ("acme", "globex", "initech")


def fill(manager: IntegrationManager, brands: tuple[str, ...] = BRANDS) -> None:
    for brand in brands:
        for integration in SAMPLES:
            manager.set(brand, integration, for_brand(brand, integration))


def assert_all_readable(manager: IntegrationManager, brands: tuple[str, ...] = BRANDS) -> None:
    for brand in brands:
        for integration in SAMPLES:
            expected = parse_integration(brand, integration, for_brand(brand, integration))
            assert manager.get(brand, integration) == expected


def test_round_trip_of_every_integration(manager: IntegrationManager) -> None:
    fill(manager)
    assert_all_readable(manager)
    assert manager.store.list_brands() == sorted(BRANDS)
    assert manager.store.list_integrations("acme") == sorted(SAMPLES)
    # Replacing credentials keeps one record and returns the new values.
    manager.set("acme", "meta_ads", {**SAMPLES["meta_ads"], "access_token": "EAAG-rotated-1234"})
    token = manager.get("acme", "meta_ads").to_json()["access_token"]
    assert token == "EAAG-rotated-1234"


def test_masked_listing(manager: IntegrationManager) -> None:
    fill(manager, ("acme", "globex"))
    listed = manager.list()
    assert [(s.brand, s.integration) for s in listed] == [
        (b, i) for b in ("acme", "globex") for i in sorted(SAMPLES)
    ]
    assert {s.master_key_id for s in listed} == {manager.keyring.current.key_id}
    assert [s.brand for s in manager.list("globex")] == ["globex"] * len(SAMPLES)
    assert not any(m in str(listed) for m in SECRET_MARKERS)
    meta = next(s for s in listed if s.integration == "meta_ads")
    assert meta.fields["access_token"] == "****0001"
    assert meta.fields["ad_account_ids"] == ["act_1234", "act_5678"]


def test_delete(manager: IntegrationManager) -> None:
    fill(manager, ("acme",))
    assert manager.delete("acme", "slack")
    assert not manager.delete("acme", "slack")
    with pytest.raises(IntegrationNotFound):
        manager.get("acme", "slack")
    for integration in SAMPLES:
        manager.delete("acme", integration)
    assert manager.store.list_brands() == []
    assert manager.store.get_data_key("acme") is None
    manager.set("acme", "slack", SAMPLES["slack"])  # a new data key is made
    assert manager.get("acme", "slack") == parse_integration("acme", "slack", SAMPLES["slack"])


def test_tampering_in_the_store_is_detected(manager: IntegrationManager) -> None:
    fill(manager, ("acme",))
    store = manager.store
    sealed = store.get_integration("acme", "meta_ads")
    assert sealed is not None
    last = sealed.ciphertext[-1] ^ 1  # a bit of the GCM tag
    store.put_integration(
        "acme", "meta_ads", replace(sealed, ciphertext=sealed.ciphertext[:-1] + bytes([last]))
    )
    with pytest.raises(DecryptionError, match="'meta_ads' of brand 'acme'"):
        manager.get("acme", "meta_ads")
    wrapped = store.get_data_key("acme")
    assert wrapped is not None
    store.replace_data_key("acme", wrapped, replace(wrapped, nonce=bytes(12)))
    with pytest.raises(DecryptionError, match="data key of brand 'acme'"):
        manager.get("acme", "slack")


def test_records_moved_to_another_brand_or_integration_do_not_decrypt(
    manager: IntegrationManager,
) -> None:
    fill(manager, ("acme", "globex"))
    store = manager.store
    acme_meta = store.get_integration("acme", "meta_ads")
    acme_key = store.get_data_key("acme")
    globex_key = store.get_data_key("globex")
    assert acme_meta and acme_key and globex_key
    # Another integration of the same brand (same data key).
    store.put_integration("acme", "tiktok_ads", acme_meta)
    with pytest.raises(DecryptionError):
        manager.get("acme", "tiktok_ads")
    # Another brand, relabelled to pass the store's data-key check.
    store.put_integration(
        "globex", "meta_ads", replace(acme_meta, data_key_id=globex_key.data_key_id)
    )
    with pytest.raises(DecryptionError):
        manager.get("globex", "meta_ads")
    # Another brand together with acme's wrapped data key.
    assert store.replace_data_key("globex", globex_key, acme_key)
    store.put_integration("globex", "meta_ads", acme_meta)
    with pytest.raises(DecryptionError, match="data key of brand 'globex'"):
        manager.get("globex", "meta_ads")
    assert manager.get("acme", "meta_ads") == parse_integration(
        "acme", "meta_ads", for_brand("acme", "meta_ads")
    )


def test_wrong_master_key_is_a_clear_error(store: KeyStore, keyring: MasterKeyring) -> None:
    fill(IntegrationManager(store, keyring), ("acme",))
    wrong = IntegrationManager(store, MasterKeyring.from_strings(new_key()))
    with pytest.raises(UnknownMasterKey, match=f"master key id {keyring.current.key_id}"):
        wrong.get("acme", "meta_ads")
    with pytest.raises(UnknownMasterKey):
        wrong.set("acme", "slack", SAMPLES["slack"])


def test_rotation_then_removing_the_old_key(store: KeyStore) -> None:
    old, new = new_key(), new_key()
    fill(IntegrationManager(store, MasterKeyring.from_strings(old)))
    rotating = IntegrationManager(store, MasterKeyring.from_strings(new, old))
    result = rotating.rotate_master()
    assert sorted(result.rewrapped) == sorted(BRANDS) and result.already_current == []
    assert rotating.rotate_master().already_current == sorted(BRANDS)
    new_only = IntegrationManager(store, MasterKeyring.from_strings(new))
    assert_all_readable(new_only)
    with pytest.raises(UnknownMasterKey):
        IntegrationManager(store, MasterKeyring.from_strings(old)).get("acme", "slack")


class CrashingStore:
    """A real store that dies (like a killed process) after `survive` re-wraps."""

    def __init__(self, store: KeyStore, survive: int) -> None:
        self._store, self._left = store, survive

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def replace_data_key(self, *args: Any) -> bool:
        if self._left == 0:
            raise SystemExit("killed mid-rotation")
        self._left -= 1
        return self._store.replace_data_key(*args)


def test_interrupted_rotation_leaves_everything_readable(store: KeyStore) -> None:
    old, new = new_key(), new_key()
    fill(IntegrationManager(store, MasterKeyring.from_strings(old)))
    both = MasterKeyring.from_strings(new, old)
    with pytest.raises(SystemExit):
        IntegrationManager(CrashingStore(store, survive=1), both).rotate_master()
    wraps = {b: store.get_data_key(b) for b in BRANDS}
    ids = sorted(w.master_key_id for w in wraps.values() if w)
    assert ids.count(both.current.key_id) == 1 and len(ids) == 3  # half-way: mixed
    manager = IntegrationManager(store, both)
    assert_all_readable(manager)
    manager.set("initech", "slack", for_brand("initech", "slack"))  # writes work midway too
    assert len(manager.rotate_master().rewrapped) == 2
    assert_all_readable(IntegrationManager(store, MasterKeyring.from_strings(new)))


def test_brand_vault_is_bound_to_one_brand(
    manager: IntegrationManager, caplog: pytest.LogCaptureFixture
) -> None:
    fill(manager, ("acme", "globex"))
    vault = manager.for_brand("acme")
    meta = vault.get(MetaAdsCredentials)
    assert meta.access_token.reveal() == "EAAG-meta-acme-secret-0001"
    assert vault.get("slack", brand="acme") == manager.get("acme", "slack")
    assert [d.name for d in vault.alert_destinations()] == ["email", "slack", "webhook"]
    with (
        caplog.at_level(logging.WARNING, logger="warroom.vault"),
        pytest.raises(TenantIsolationError, match=r"'acme' cannot read .* 'globex'"),
    ):
        vault.get("meta_ads", brand="globex")
    assert "tenant isolation" in caplog.text and "globex" in caplog.text
    assert "secret" not in caplog.text


def test_invalid_brand_keys_are_refused(manager: IntegrationManager) -> None:
    for brand in ("Acme", "a/b", "a|b", ""):
        with pytest.raises(ValueError, match="invalid brand key"):
            manager.set(brand, "slack", SAMPLES["slack"])


def _writer(
    manager: IntegrationManager,
    brand: str,
    names: tuple[str, ...],
    barrier: threading.Barrier,
    errors: list[BaseException],
) -> None:
    try:
        barrier.wait()
        for name in names:
            manager.set(brand, name, for_brand(brand, name))
    except BaseException as exc:
        errors.append(exc)


def test_two_writers_of_one_brand_lose_nothing(manager: IntegrationManager) -> None:
    """Both writers race to create the brand's data key and to add to its integrations."""
    halves = (("meta_ads", "google_ads", "slack"), ("tiktok_ads", "webhook", "email"))
    for brand in ("race-1", "race-2", "race-3"):
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []
        threads = [
            threading.Thread(target=_writer, args=(manager, brand, half, barrier, errors))
            for half in halves
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert manager.store.list_integrations(brand) == sorted(SAMPLES)
        assert_all_readable(manager, (brand,))


def test_secrets_never_appear_in_errors_reprs_or_logs(
    manager: IntegrationManager, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    seen: list[str] = []
    with caplog.at_level(logging.DEBUG):
        fill(manager, ("acme", "globex"))
        vault = manager.for_brand("acme")
        for integration in SAMPLES:
            seen.append(repr(vault.get(integration)))
            seen.append(str(vault.get(integration)))
        seen += [repr(manager), repr(vault), str(manager.list())]
        failures: list[Exception] = []
        for attempt in (
            lambda: vault.get("meta_ads", brand="globex"),
            lambda: manager.set(
                "acme",
                "meta_ads",
                {**SAMPLES["meta_ads"], "ad_account_ids": ["EAAG-meta-secret-0001"]},
            ),
            lambda: manager.set("acme", "slack", {"webhook_url": "hook-secret-0007 x"}),
            lambda: IntegrationManager(manager.store, MasterKeyring.from_strings(new_key())).get(
                "acme", "email"
            ),
            lambda: manager.get("acme", "myspace_ads"),
        ):
            with pytest.raises(
                (TenantIsolationError, IntegrationError, UnknownMasterKey, IntegrationNotFound)
            ) as err:
                attempt()
            failures.append(err.value)
        manager.rotate_master()
    seen += [str(e) for e in failures] + [repr(e) for e in failures] + [caplog.text]
    text = "\n".join(seen)
    for marker in SECRET_MARKERS:
        assert marker not in text
    if hasattr(manager.store, "path"):  # the SQLite file holds ciphertext only
        raw = Path(manager.store.path).read_bytes()
        assert not any(m.encode() in raw for m in SECRET_MARKERS)


def test_one_unreadable_record_is_marked_and_the_others_still_list(
    manager: IntegrationManager,
) -> None:
    fill(manager, ("acme", "globex"))
    name = next(n for n in manager.store.list_integrations("acme") if "meta" in n)
    sealed = manager.store.get_integration("globex", name)
    assert sealed is not None
    tampered = replace(sealed, ciphertext=bytes(reversed(sealed.ciphertext)))
    manager.store.put_integration("globex", name, tampered)
    listed = {(s.brand, s.integration): s for s in manager.list()}
    assert len(listed) == 2 * len(SAMPLES)
    bad = listed[("globex", name)]
    assert bad.problem and bad.fields == {}
    assert all(s.problem is None for k, s in listed.items() if k != ("globex", name))
