"""Master keys per profile: production requires the key; local falls back to a dev key file."""

from __future__ import annotations

import stat
import warnings
from pathlib import Path

import pytest

from tests.vault.conftest import new_key
from warroom_pipelines.vault.crypto import InvalidMasterKey, MasterKeyring, MissingEncryptionKey
from warroom_pipelines.vault.keyring import (
    DEV_KEY_FILE,
    MISSING_KEY_MESSAGE,
    DevelopmentKeyWarning,
    keyring_for_profile,
)


def test_production_without_the_key_fails_with_the_documented_message(tmp_path: Path) -> None:
    with pytest.raises(MissingEncryptionKey) as err:
        keyring_for_profile("production", tmp_path, {})
    assert str(err.value) == MISSING_KEY_MESSAGE
    assert "PERFORMANCE_ENCRYPTION_KEY is not set" in MISSING_KEY_MESSAGE
    assert not (tmp_path / DEV_KEY_FILE).exists()


def test_the_environment_key_wins_in_every_profile(tmp_path: Path) -> None:
    key, old = new_key(), new_key()
    env = {"PERFORMANCE_ENCRYPTION_KEY": key, "PERFORMANCE_ENCRYPTION_KEY_PREVIOUS": old}
    for profile in ("local", "production"):
        ring = keyring_for_profile(profile, tmp_path, env)
        assert ring == MasterKeyring.from_strings(key, old)
    assert not (tmp_path / DEV_KEY_FILE).exists()


def test_local_creates_an_owner_only_dev_key_and_warns(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with pytest.warns(DevelopmentKeyWarning, match="development key"):
        first = keyring_for_profile("local", home, {})
    path = home / DEV_KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with warnings.catch_warnings():
        warnings.simplefilter("error", DevelopmentKeyWarning)  # said once per process
        again = keyring_for_profile("local", home, {})
    assert first == again  # the same key on every start


def test_a_dev_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    with pytest.warns(DevelopmentKeyWarning):
        keyring_for_profile("local", tmp_path, {})
    path = tmp_path / DEV_KEY_FILE
    path.chmod(0o644)
    with pytest.raises(InvalidMasterKey, match="chmod 600") as err:
        keyring_for_profile("local", tmp_path, {})
    assert path.read_text().strip() not in str(err.value)
