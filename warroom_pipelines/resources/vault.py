"""The key vault as a Dagster resource: a run gets a vault bound to its own brand.

The master keys reach the resource only as `dg.EnvVar`s, which Dagster resolves at launch
and never shows in the UI. Resources are not given the partition key, so assets pass
the run's brand to `for_brand`.
"""

import os
from collections.abc import Mapping
from pathlib import Path

import dagster as dg
from pydantic import Field

from warroom_pipelines.vault.crypto import (
    KEY_ENV,
    PREVIOUS_KEYS_ENV,
    MasterKeyring,
    MissingEncryptionKey,
)
from warroom_pipelines.vault.keyring import MISSING_KEY_MESSAGE, keyring_for_profile
from warroom_pipelines.vault.manager import BrandVault, IntegrationManager
from warroom_pipelines.vault.stores import FirestoreKeyStore, KeyStore, SQLiteKeyStore

KEY_STORES = ("sqlite", "firestore")
SQLITE_FILE = "warroom_keys.sqlite"


class VaultResource(dg.ConfigurableResource):
    """Brand credentials from the embedded SQLite store (local) or Firestore (production)."""

    profile: str = Field(default="local", description="local | production")
    key_store: str = Field(default="sqlite", description="sqlite | firestore")
    dagster_home: str = Field(description="holds the SQLite store and the local dev key")
    sqlite_path: str | None = Field(default=None, description="default: <home>/" + SQLITE_FILE)
    firestore_project: str | None = None
    firestore_database: str | None = None
    master_key: str | None = Field(default=None, repr=False, description=f"set from {KEY_ENV}")
    previous_master_keys: str | None = Field(
        default=None, repr=False, description=f"set from {PREVIOUS_KEYS_ENV}"
    )

    def key_store_client(self) -> KeyStore:
        if self.key_store == "sqlite":
            return SQLiteKeyStore(self.sqlite_path or Path(self.dagster_home) / SQLITE_FILE)
        if self.key_store == "firestore":
            return FirestoreKeyStore(self.firestore_project, self.firestore_database)
        raise ValueError(f"key_store must be one of {', '.join(KEY_STORES)}")

    def keyring(self) -> MasterKeyring:
        environ = {
            KEY_ENV: self.master_key or "",
            PREVIOUS_KEYS_ENV: self.previous_master_keys or "",
        }
        return keyring_for_profile(self.profile, Path(self.dagster_home), environ)

    def manager(self) -> IntegrationManager:
        return IntegrationManager(self.key_store_client(), self.keyring())

    def for_brand(self, brand: str) -> BrandVault:
        """The vault of the run's brand; it refuses every other brand."""
        return self.manager().for_brand(brand)


def vault_resource(
    profile: str, dagster_home: Path, environ: Mapping[str, str] | None = None
) -> VaultResource:
    """The vault of a profile, checked at load: production without a master key, or any
    malformed master key, fails here with a clear message (values never echoed)."""
    env = os.environ if environ is None else environ
    has_key = bool(env.get(KEY_ENV, "").strip())
    if has_key:
        MasterKeyring.from_env(env)
    elif profile == "production":
        raise MissingEncryptionKey(MISSING_KEY_MESSAGE)
    keys = {
        "master_key": dg.EnvVar(KEY_ENV) if has_key else None,
        "previous_master_keys": (
            dg.EnvVar(PREVIOUS_KEYS_ENV) if env.get(PREVIOUS_KEYS_ENV, "").strip() else None
        ),
    }
    if profile == "production":
        return VaultResource(
            profile="production",
            key_store="firestore",
            dagster_home=str(dagster_home),
            firestore_project=dg.EnvVar("WARROOM_GCP_PROJECT"),
            firestore_database=env.get("WARROOM_FIRESTORE_DATABASE") or None,
            **keys,
        )
    return VaultResource(
        profile="local", key_store="sqlite", dagster_home=str(dagster_home), **keys
    )
