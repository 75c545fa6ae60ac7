"""The War Room home and everything War Room writes in it are owner-only (folders 0700,
files 0600), even when the shell's umask is 000."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from tests.vault.samples import SAMPLES

WARROOM = [sys.executable, "-m", "warroom_pipelines.cli"]


def warroom(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "WARROOM_PROFILE": "local",
        "WARROOM_NOW": "2026-11-15T18:00Z",
        "OMP_NUM_THREADS": "1",
    }
    for setting in (
        "PERFORMANCE_ENCRYPTION_KEY",
        "WARROOM_DUCKDB_PATH",
        "WARROOM_BATCH_BRANDS",
        "WARROOM_COMMAND_CENTER_DIR",
    ):
        env.pop(setting, None)
    done = subprocess.run(
        [*WARROOM, *args],
        cwd=home.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        umask=0,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def test_everything_in_the_home_is_owner_only_under_umask_000(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o777)
    home.chmod(0o777)  # a home left open by an earlier run
    creds = tmp_path / "slack.json"
    creds.write_text(json.dumps(SAMPLES["slack"]))

    warroom(home, "demo", "--days", "2", "--brands", "acme", "globex")
    warroom(
        home, "keys", "set", "--brand", "acme", "--integration", "slack", "--from-file", str(creds)
    )
    warroom(home, "dashboard", "--brand", "acme")
    warroom(home, "sql", "SELECT count(*) FROM unified_performance")

    created = {p.relative_to(home).as_posix(): p for p in home.rglob("*")}
    # What the issue names: the instance's config, the warehouse, the run storage, the pages
    # and the key files.
    for name in (
        "dagster.yaml",
        "warroom.ducklake",
        "warroom.ducklake.files",
        "storage",
        "command_center/index.html",
        "command_center/brands/acme.html",
        "warroom_keys.sqlite",
        "warroom_dev_master.key",
    ):
        assert name in created, sorted(created)
    open_to_others = {
        name: oct(stat.S_IMODE(path.lstat().st_mode))
        for name, path in {".": home, **created}.items()
        if stat.S_IMODE(path.lstat().st_mode) != (0o700 if path.is_dir() else 0o600)
    }
    assert open_to_others == {}
