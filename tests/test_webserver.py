"""The Dagster UI serves War Room's asset graph (through its GraphQL API)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.support import free_port

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def webserver(tmp_path):
    port = free_port()
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("dagster-webserver")),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-w",
            "workspace.yaml",
        ],
        cwd=ROOT,
        env={**os.environ, "DAGSTER_HOME": str(tmp_path)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{url}/server_info", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            assert process.poll() is None, "webserver exited"
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def test_the_ui_serves_the_asset_graph(webserver) -> None:
    query = "{ assetNodes { assetKey { path } partitionDefinition { description } } }"
    deadline = time.monotonic() + 120
    while True:
        body = requests.post(f"{webserver}/graphql", json={"query": query}, timeout=60).json()
        nodes = body.get("data", {}).get("assetNodes") or []
        if nodes or time.monotonic() > deadline:
            break
        time.sleep(1)  # the code location may still be loading
    keys = {"/".join(n["assetKey"]["path"]) for n in nodes}
    assert {"channel_metrics/demo", "unified_performance"} <= keys
    unified = next(n for n in nodes if n["assetKey"]["path"] == ["unified_performance"])
    assert "brand" in unified["partitionDefinition"]["description"]
