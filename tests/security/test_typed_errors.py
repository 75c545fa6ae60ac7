"""Bad input at the terminal gets one clear line and exit 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from warroom_pipelines.cli import main
from warroom_pipelines.vault.keyring import DEV_KEY_FILE


@pytest.fixture
def home(acme_home: Path) -> Path:
    return acme_home


def _keys_set(path: Path) -> int:
    return main(
        ["keys", "set", "--brand", "acme", "--integration", "meta_ads", "--from-file", str(path)]
    )


def test_an_invalid_brand_for_the_demo_is_one_line(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--brands", "a|b", "--days", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("warroom: invalid brand key 'a|b'") and err.count("\n") == 1


def test_credentials_that_are_not_utf8_are_refused(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    creds = tmp_path / "creds.json"
    creds.write_bytes(b'{"access_token": "\xff\xfe"}')
    assert _keys_set(creds) == 2
    assert "is not UTF-8 text" in capsys.readouterr().err


def test_credentials_nested_100k_deep_are_refused(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    creds = tmp_path / "creds.json"
    creds.write_text("[" * 100_000 + "]" * 100_000)
    assert _keys_set(creds) == 2
    assert "nests too deeply" in capsys.readouterr().err


def test_a_corrupt_development_key_file_is_named_as_such(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key_file = home / DEV_KEY_FILE
    key_file.write_text("this is not a key\n")
    key_file.chmod(0o600)
    assert main(["keys", "list"]) == 2
    error = capsys.readouterr().err.splitlines()[-1]
    assert error.startswith(f"warroom: the development key file {key_file} is not valid base64")
    assert "corrupt" in error and "PERFORMANCE_ENCRYPTION_KEY" not in error
