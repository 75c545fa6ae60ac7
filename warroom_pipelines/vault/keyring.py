"""The master keyring of a profile.

- production: `PERFORMANCE_ENCRYPTION_KEY` is required; without it War Room refuses to start
  with `MissingEncryptionKey` and the message `MISSING_KEY_MESSAGE`.
- local: the environment's key if set; otherwise a development key kept in
  `$DAGSTER_HOME/warroom_dev_master.key` (created on first use, owner-only, mode 0600), with
  a `DevelopmentKeyWarning` each time it is used. A development key protects nothing on a
  shared machine: never use it for real credentials.
"""

from __future__ import annotations

import base64
import os
import stat
import warnings
from collections.abc import Mapping
from pathlib import Path

from warroom_pipelines.vault.crypto import (
    KEY_BYTES,
    KEY_ENV,
    PREVIOUS_KEYS_ENV,
    InvalidMasterKey,
    MasterKeyring,
    MissingEncryptionKey,
)

DEV_KEY_FILE = "warroom_dev_master.key"
MISSING_KEY_MESSAGE = (
    f"{KEY_ENV} is not set: the production profile refuses to start without the master key "
    "of the key vault. Set it to the base64 encoding of 32 random bytes, e.g. "
    'python -c "import base64,os; print(base64.b64encode(os.urandom(32)).decode())" '
    "(keep it in your secret manager; losing it loses every stored credential)."
)


class DevelopmentKeyWarning(UserWarning):
    """The local profile is encrypting with a development key from a file."""


_warned: set[Path] = set()


def keyring_for_profile(
    profile: str, dagster_home: Path, environ: Mapping[str, str] | None = None
) -> MasterKeyring:
    env = os.environ if environ is None else environ
    if env.get(KEY_ENV, "").strip():
        return MasterKeyring.from_env(env)
    if profile != "local":
        raise MissingEncryptionKey(MISSING_KEY_MESSAGE)
    path = dagster_home / DEV_KEY_FILE
    encoded = _read_or_create_dev_key(path)
    if path not in _warned:
        # Once per process and file: every step opens the vault, and Dagster resets the
        # warnings registry around each run, so the default "once per location" repeats.
        _warned.add(path)
        warnings.warn(
            DevelopmentKeyWarning(
                f"{KEY_ENV} is not set: encrypting credentials with the development key in "
                f"{path}. Set the variable before storing real credentials."
            ),
            stacklevel=2,
        )
    try:
        return MasterKeyring.from_strings(
            encoded,
            env.get(PREVIOUS_KEYS_ENV, ""),
            current_source=f"the development key file {path}",
        )
    except InvalidMasterKey as exc:
        raise InvalidMasterKey(
            f"{exc}: the file is corrupt; restore it from a backup (the credentials stored "
            "under it cannot be read without it)"
        ) from None


def _read_or_create_dev_key(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    encoded = base64.b64encode(os.urandom(KEY_BYTES))
    try:
        # O_EXCL: two processes starting at once never overwrite each other's key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise InvalidMasterKey(
                f"the development key file {path} is readable by others (mode {mode:o}); "
                f"run: chmod 600 {path}"
            ) from None
        return path.read_text().strip()
    with os.fdopen(fd, "wb") as handle:
        handle.write(encoded + b"\n")
    return encoded.decode()
