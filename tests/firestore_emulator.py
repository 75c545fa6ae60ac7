"""Google's Firestore emulator, started by the tests themselves (session scoped).

Import the `firestore_emulator` fixture into a conftest to use it. The emulator is a gcloud
wrapper script plus a Java child: it runs in its own process group and the whole group is
stopped at teardown, or the Java process outlives the tests. Without gcloud, Java or the
emulator component the fixture skips, naming what is missing, except in CI (`CI=true`)
where the emulator is required and its absence fails the run.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import clock_behind_the_real_one, free_port

EMULATOR_HOST_ENV = "FIRESTORE_EMULATOR_HOST"
STARTUP_SECONDS = 90


def _missing() -> list[str]:
    missing = [tool for tool in ("gcloud", "java") if shutil.which(tool) is None]
    if "gcloud" in missing:
        return missing
    root = subprocess.run(
        ["gcloud", "info", "--format=value(installation.sdk_root)"],
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.strip()
    if not (Path(root) / "platform" / "cloud-firestore-emulator").is_dir():
        missing.append(
            "the gcloud Firestore emulator component (apt: google-cloud-cli-firestore-emulator, "
            "or: gcloud components install cloud-firestore-emulator)"
        )
    return missing


def _ready(host: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://{host}/", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 15)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        # The wrapper has exited; make sure nothing else of its group is left.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        return


@pytest.fixture(scope="session")
def firestore_emulator() -> Iterator[str]:
    """Host:port of a running emulator; FIRESTORE_EMULATOR_HOST points at it meanwhile."""
    missing = _missing()
    if missing:
        message = "Firestore emulator tests need " + " and ".join(missing)
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (required in CI)")
        pytest.skip(message)
    if clock_behind_the_real_one():
        pytest.skip("gRPC enforces deadlines set from the moved clock on the real one")
    host = f"127.0.0.1:{free_port()}"
    # Kept open for the session: the emulator writes to it until teardown.
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115
        prefix="firestore-emulator-", suffix=".log", delete=False
    )
    process = subprocess.Popen(
        ["gcloud", "emulators", "firestore", "start", f"--host-port={host}", "--quiet"],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    previous = os.environ.get(EMULATOR_HOST_ENV)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not _ready(host):
            if process.poll() is not None or time.monotonic() > deadline:
                output = Path(log.name).read_text(errors="replace")[-2000:]
                pytest.fail(f"the Firestore emulator did not start on {host}:\n{output}")
            time.sleep(0.5)
        os.environ[EMULATOR_HOST_ENV] = host
        yield host
    finally:
        _stop(process)
        if previous is None:
            os.environ.pop(EMULATOR_HOST_ENV, None)
        else:
            os.environ[EMULATOR_HOST_ENV] = previous
        log.close()
        os.unlink(log.name)
