"""Where encrypted credentials live: one contract, an embedded SQLite file and Firestore.

Stores hold only ciphertext and ids. The contract makes the two races of a multi-writer
vault safe:

- the first integration of a brand creates its data key: `create_data_key` inserts only if
  absent and returns whichever key won, so two first writers agree on one key;
- a secret is written only if the brand's data key is still the one it was encrypted with
  (`put_integration` raises `DataKeyChanged` otherwise, and the manager retries), and
  rotation re-wraps with compare-and-set (`replace_data_key`), so a concurrent delete or
  rotation is never overwritten with a stale record.

Removing a brand's last integration removes its data key too: no key material outlives
the brand's credentials.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from warroom_pipelines.vault.crypto import SealedSecret, VaultError, WrappedDataKey


class DataKeyChanged(VaultError):
    """The brand's data key changed between encrypting a secret and storing it."""


class KeyStore(Protocol):
    """Storage of wrapped data keys and sealed integration records, per brand."""

    def get_data_key(self, brand: str) -> WrappedDataKey | None: ...

    def create_data_key(self, brand: str, wrapped: WrappedDataKey) -> WrappedDataKey:
        """Store `wrapped` unless the brand has a data key; return the brand's key either way."""
        ...

    def replace_data_key(
        self, brand: str, expected: WrappedDataKey, wrapped: WrappedDataKey
    ) -> bool:
        """Replace the brand's data key only if it is still `expected`."""
        ...

    def get_integration(self, brand: str, integration: str) -> SealedSecret | None: ...

    def put_integration(self, brand: str, integration: str, sealed: SealedSecret) -> None:
        """Store a record sealed under the brand's current data key, else DataKeyChanged."""
        ...

    def delete_integration(self, brand: str, integration: str) -> bool: ...

    def list_brands(self) -> list[str]:
        """Brands with at least one integration, sorted."""
        ...

    def list_integrations(self, brand: str) -> list[str]: ...


def _changed(brand: str) -> DataKeyChanged:
    return DataKeyChanged(f"the data key of brand {brand!r} changed while writing; retry")


class SQLiteKeyStore:
    """A local SQLite file, readable and writable by its owner only.

    Every write runs in a `BEGIN IMMEDIATE` transaction, which takes the file's write lock
    before reading, so check-then-write is atomic across threads and processes.
    """

    _SCHEMA = """
        CREATE TABLE IF NOT EXISTS data_keys (
            brand TEXT PRIMARY KEY,
            data_key_id TEXT NOT NULL,
            master_key_id TEXT NOT NULL,
            format_version INTEGER NOT NULL,
            nonce BLOB NOT NULL,
            ciphertext BLOB NOT NULL
        );
        CREATE TABLE IF NOT EXISTS integrations (
            brand TEXT NOT NULL,
            integration TEXT NOT NULL,
            data_key_id TEXT NOT NULL,
            format_version INTEGER NOT NULL,
            nonce BLOB NOT NULL,
            ciphertext BLOB NOT NULL,
            PRIMARY KEY (brand, integration)
        );
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Create the file owner-only before SQLite opens it; SQLite gives its journal the
        # database file's permissions.
        os.close(os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600))
        if stat.S_IMODE(self.path.stat().st_mode) & 0o077:
            os.chmod(self.path, 0o600)
        with self._connect() as db:
            db.executescript(self._SCHEMA)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            yield db
        finally:
            db.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    @staticmethod
    def _data_key(row: Any) -> WrappedDataKey | None:
        return None if row is None else WrappedDataKey(row[0], row[1], row[3], row[4], row[2])

    def get_data_key(self, brand: str) -> WrappedDataKey | None:
        with self._connect() as db:
            return self._data_key(db.execute(self._SELECT_KEY, (brand,)).fetchone())

    _SELECT_KEY = (
        "SELECT data_key_id, master_key_id, format_version, nonce, ciphertext "
        "FROM data_keys WHERE brand = ?"
    )

    def create_data_key(self, brand: str, wrapped: WrappedDataKey) -> WrappedDataKey:
        with self._write() as db:
            existing = self._data_key(db.execute(self._SELECT_KEY, (brand,)).fetchone())
            if existing is not None:
                return existing
            db.execute(
                "INSERT INTO data_keys VALUES (?, ?, ?, ?, ?, ?)",
                (brand, wrapped.data_key_id, wrapped.master_key_id, wrapped.format_version,
                 wrapped.nonce, wrapped.ciphertext),
            )  # fmt: skip
            return wrapped

    def replace_data_key(
        self, brand: str, expected: WrappedDataKey, wrapped: WrappedDataKey
    ) -> bool:
        with self._write() as db:
            if self._data_key(db.execute(self._SELECT_KEY, (brand,)).fetchone()) != expected:
                return False
            db.execute(
                "UPDATE data_keys SET data_key_id = ?, master_key_id = ?, format_version = ?, "
                "nonce = ?, ciphertext = ? WHERE brand = ?",
                (wrapped.data_key_id, wrapped.master_key_id, wrapped.format_version,
                 wrapped.nonce, wrapped.ciphertext, brand),
            )  # fmt: skip
            return True

    def get_integration(self, brand: str, integration: str) -> SealedSecret | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT data_key_id, nonce, ciphertext, format_version FROM integrations "
                "WHERE brand = ? AND integration = ?",
                (brand, integration),
            ).fetchone()
        return None if row is None else SealedSecret(row[0], row[1], row[2], row[3])

    def put_integration(self, brand: str, integration: str, sealed: SealedSecret) -> None:
        with self._write() as db:
            current = self._data_key(db.execute(self._SELECT_KEY, (brand,)).fetchone())
            if current is None or current.data_key_id != sealed.data_key_id:
                raise _changed(brand)
            db.execute(
                "INSERT OR REPLACE INTO integrations VALUES (?, ?, ?, ?, ?, ?)",
                (brand, integration, sealed.data_key_id, sealed.format_version, sealed.nonce,
                 sealed.ciphertext),
            )  # fmt: skip

    def delete_integration(self, brand: str, integration: str) -> bool:
        with self._write() as db:
            deleted = db.execute(
                "DELETE FROM integrations WHERE brand = ? AND integration = ?",
                (brand, integration),
            ).rowcount
            (left,) = db.execute(
                "SELECT count(*) FROM integrations WHERE brand = ?", (brand,)
            ).fetchone()
            if not left:
                db.execute("DELETE FROM data_keys WHERE brand = ?", (brand,))
            return bool(deleted)

    def list_brands(self) -> list[str]:
        with self._connect() as db:
            rows = db.execute("SELECT DISTINCT brand FROM integrations ORDER BY brand").fetchall()
        return [r[0] for r in rows]

    def list_integrations(self, brand: str) -> list[str]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT integration FROM integrations WHERE brand = ? ORDER BY integration",
                (brand,),
            ).fetchall()
        return [r[0] for r in rows]


class FirestoreKeyStore:
    """Firestore documents `tenants/{brand}` (wrapped data key and the brand's integration
    names) and `tenants/{brand}/integrations/{name}` (sealed records).

    Every write is a Firestore transaction that reads the brand document first, so two
    writers of one brand serialise (Firestore retries the loser) and neither the index of
    integrations nor a record sealed under a replaced data key is ever lost or kept.
    """

    def __init__(
        self,
        project: str | None = None,
        database: str | None = None,
        client: Any = None,
        max_attempts: int = 25,
    ) -> None:
        from google.cloud import firestore

        self._firestore = firestore
        self._client = client or firestore.Client(project=project, database=database)
        self._max_attempts = max_attempts

    def _brand(self, brand: str) -> Any:
        return self._client.collection("tenants").document(brand)

    def _record(self, brand: str, integration: str) -> Any:
        return self._brand(brand).collection("integrations").document(integration)

    def _run(self, fn: Any, *args: Any) -> Any:
        transaction = self._client.transaction(max_attempts=self._max_attempts)
        return self._firestore.transactional(fn)(transaction, *args)

    @staticmethod
    def _data_key(snapshot: Any) -> WrappedDataKey | None:
        data = snapshot.to_dict() if snapshot.exists else None
        if not data or "data_key" not in data:
            return None
        key = data["data_key"]
        return WrappedDataKey(
            key["data_key_id"], key["master_key_id"], key["nonce"], key["ciphertext"],
            key["format_version"],
        )  # fmt: skip

    @staticmethod
    def _key_doc(wrapped: WrappedDataKey) -> dict[str, Any]:
        return {
            "data_key_id": wrapped.data_key_id,
            "master_key_id": wrapped.master_key_id,
            "format_version": wrapped.format_version,
            "nonce": wrapped.nonce,
            "ciphertext": wrapped.ciphertext,
        }

    def get_data_key(self, brand: str) -> WrappedDataKey | None:
        return self._data_key(self._brand(brand).get())

    def create_data_key(self, brand: str, wrapped: WrappedDataKey) -> WrappedDataKey:
        def create(transaction: Any) -> WrappedDataKey:
            ref = self._brand(brand)
            snapshot = ref.get(transaction=transaction)
            existing = self._data_key(snapshot)
            if existing is not None:
                return existing
            integrations = (snapshot.to_dict() or {}).get("integrations", [])
            transaction.set(ref, {"data_key": self._key_doc(wrapped), "integrations": integrations})
            return wrapped

        result: WrappedDataKey = self._run(create)
        return result

    def replace_data_key(
        self, brand: str, expected: WrappedDataKey, wrapped: WrappedDataKey
    ) -> bool:
        def replace(transaction: Any) -> bool:
            ref = self._brand(brand)
            if self._data_key(ref.get(transaction=transaction)) != expected:
                return False
            transaction.update(ref, {"data_key": self._key_doc(wrapped)})
            return True

        result: bool = self._run(replace)
        return result

    def get_integration(self, brand: str, integration: str) -> SealedSecret | None:
        snapshot = self._record(brand, integration).get()
        if not snapshot.exists:
            return None
        data = snapshot.to_dict()
        return SealedSecret(
            data["data_key_id"], data["nonce"], data["ciphertext"], data["format_version"]
        )

    def put_integration(self, brand: str, integration: str, sealed: SealedSecret) -> None:
        def put(transaction: Any) -> None:
            ref = self._brand(brand)
            snapshot = ref.get(transaction=transaction)
            current = self._data_key(snapshot)
            if current is None or current.data_key_id != sealed.data_key_id:
                raise _changed(brand)
            names = set(snapshot.to_dict().get("integrations", [])) | {integration}
            transaction.set(
                self._record(brand, integration),
                {
                    "data_key_id": sealed.data_key_id,
                    "format_version": sealed.format_version,
                    "nonce": sealed.nonce,
                    "ciphertext": sealed.ciphertext,
                },
            )
            transaction.update(ref, {"integrations": sorted(names)})

        self._run(put)

    def delete_integration(self, brand: str, integration: str) -> bool:
        def delete(transaction: Any) -> bool:
            ref = self._brand(brand)
            snapshot = ref.get(transaction=transaction)
            names = set((snapshot.to_dict() or {}).get("integrations", []))
            if integration not in names:
                return False
            transaction.delete(self._record(brand, integration))
            if names == {integration}:
                transaction.delete(ref)
            else:
                transaction.update(ref, {"integrations": sorted(names - {integration})})
            return True

        result: bool = self._run(delete)
        return result

    def list_brands(self) -> list[str]:
        docs = self._client.collection("tenants").select(["integrations"]).stream()
        return sorted(d.id for d in docs if (d.to_dict() or {}).get("integrations"))

    def list_integrations(self, brand: str) -> list[str]:
        snapshot = self._brand(brand).get(field_paths=["integrations"])
        return sorted((snapshot.to_dict() or {}).get("integrations", [])) if snapshot.exists else []
