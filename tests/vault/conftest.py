"""Fixtures of the vault tests: master keys, and every key store (SQLite file, Firestore
emulator) behind one parametrized `store` fixture."""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.firestore_emulator import firestore_emulator  # noqa: F401  (fixture)
from warroom_pipelines.vault.crypto import MasterKeyring
from warroom_pipelines.vault.manager import IntegrationManager
from warroom_pipelines.vault.stores import FirestoreKeyStore, KeyStore, SQLiteKeyStore


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@pytest.fixture
def key() -> str:
    return new_key()


@pytest.fixture
def keyring(key: str) -> MasterKeyring:
    return MasterKeyring.from_strings(key)


@pytest.fixture
def firestore_store(request: pytest.FixtureRequest) -> FirestoreKeyStore:
    request.getfixturevalue("firestore_emulator")
    # A project per test: the emulator keeps projects apart, so tests never see each other.
    return FirestoreKeyStore(project=f"warroom-test-{uuid.uuid4().hex[:12]}")


@pytest.fixture(params=["sqlite", "firestore"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[KeyStore]:
    if request.param == "sqlite":
        yield SQLiteKeyStore(tmp_path / "warroom_keys.sqlite")
    else:
        yield request.getfixturevalue("firestore_store")


@pytest.fixture
def manager(store: KeyStore, keyring: MasterKeyring) -> IntegrationManager:
    return IntegrationManager(store, keyring)
