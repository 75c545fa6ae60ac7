"""`warroom keys`: credentials from a file or stdin, masked listing, delete, rotation."""

from __future__ import annotations

import base64
import io
import json
import os
from pathlib import Path

import pytest

from tests.vault.samples import SAMPLES, SECRET_MARKERS
from warroom_pipelines.cli import main


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.setenv("WARROOM_PROFILE", "local")
    monkeypatch.setenv("PERFORMANCE_ENCRYPTION_KEY", new_key())
    monkeypatch.delenv("PERFORMANCE_ENCRYPTION_KEY_PREVIOUS", raising=False)
    assert main(["brands", "add", "acme", "globex"]) == 0
    return tmp_path


def test_set_list_delete(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    creds = home / "meta.json"
    creds.write_text(json.dumps(SAMPLES["meta_ads"]))
    assert (
        main(
            [
                "keys",
                "set",
                "--brand",
                "acme",
                "--integration",
                "meta_ads",
                "--from-file",
                str(creds),
            ]
        )
        == 0
    )
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(SAMPLES["slack"])))
    assert main(["keys", "set", "--brand", "globex", "--integration", "slack"]) == 0
    assert main(["keys", "list"]) == 0
    assert main(["keys", "list", "--brand", "acme"]) == 0
    out = capsys.readouterr().out
    assert "acme/meta_ads [master key" in out and "globex/slack [master key" in out
    assert "access_token=****0001" in out
    assert main(["keys", "delete", "--brand", "globex", "--integration", "slack"]) == 0
    assert main(["keys", "list", "--brand", "globex"]) == 0
    out += capsys.readouterr().out
    assert out.rstrip().endswith("(no credentials stored)")
    assert not any(m in out for m in SECRET_MARKERS)
    assert (home / "warroom_keys.sqlite").exists()


def test_bad_input_is_reported_without_the_secret(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO('{"access_token": "EAAG-meta-secret-0001",'))
    assert main(["keys", "set", "--brand", "acme", "--integration", "meta_ads"]) == 2
    bad = {**SAMPLES["meta_ads"], "ad_account_ids": ["EAAG-meta-secret-0001"]}
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(bad)))
    assert main(["keys", "set", "--brand", "acme", "--integration", "meta_ads"]) == 2
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(SAMPLES["meta_ads"])))
    assert main(["keys", "set", "--brand", "Not|A|Brand", "--integration", "meta_ads"]) == 2
    captured = capsys.readouterr()
    assert "not valid JSON (line 1" in captured.err
    assert "field 'ad_account_ids'" in captured.err
    assert "invalid brand key" in captured.err
    assert not any(m in captured.out + captured.err for m in SECRET_MARKERS)


def test_rotate_master(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(SAMPLES["tiktok_ads"])))
    assert main(["keys", "set", "--brand", "acme", "--integration", "tiktok_ads"]) == 0
    old = os.environ["PERFORMANCE_ENCRYPTION_KEY"]
    monkeypatch.setenv("PERFORMANCE_ENCRYPTION_KEY", new_key())
    assert main(["keys", "list"]) == 2  # the old key is gone: a clear error
    assert "not configured" in capsys.readouterr().err
    monkeypatch.setenv("PERFORMANCE_ENCRYPTION_KEY_PREVIOUS", old)
    assert main(["keys", "rotate-master"]) == 0
    assert "1 brand(s) re-wrapped" in capsys.readouterr().out
    monkeypatch.delenv("PERFORMANCE_ENCRYPTION_KEY_PREVIOUS")
    assert main(["keys", "list"]) == 0
    assert "acme/tiktok_ads" in capsys.readouterr().out


def test_secrets_are_not_accepted_as_arguments(home: Path) -> None:
    with pytest.raises(SystemExit):
        main(["keys", "set", "--brand", "acme", "--integration", "meta_ads", "--access-token", "x"])


def test_keys_for_an_unregistered_brand_are_refused_with_a_hint(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(SAMPLES["meta_ads"])))
    assert main(["keys", "set", "--brand", "acme-typo", "--integration", "meta_ads"]) == 2
    err = capsys.readouterr().err
    assert "brand 'acme-typo' is not registered" in err
    assert "warroom brands add acme-typo" in err
    assert main(["keys", "list"]) == 0
    assert "(no credentials stored)" in capsys.readouterr().out
