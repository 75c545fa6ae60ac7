"""Helpers shared by the test modules (fixtures live in conftest.py)."""

from __future__ import annotations

import socket
import time
from email.message import Message
from email.parser import BytesParser
from pathlib import Path
from typing import Any, cast

import pytest
import time_machine

from warroom_pipelines.resources.ad_platforms import AdPlatformsResource
from warroom_pipelines.resources.demo import DemoSourceResource
from warroom_pipelines.resources.vault import VaultResource
from warroom_pipelines.resources.warehouse import WarehouseIOManager, WarehouseResource

# Every dated fixture in the suite lies before this instant, and so does the real date. A test
# module whose data is dated runs with the machine's clock here (the `now` marker in
# tests/conftest.py), so that Dagster knows its day partitions and the connectors do not refuse
# its days as future, on any real date. It lies ahead of the real clock because some parts read
# both clocks: gRPC sets its deadlines from the moved one and enforces them on the real one, and
# Dagster's code server runs in a subprocess that the move does not reach.
AFTER_THE_FIXTURES = pytest.mark.now("2030-01-01T12:00Z")


def clock_behind_the_real_one() -> bool:
    """Whether `--machine-clock` moved this process's clock into the real clock's past."""
    escape = time_machine.escape_hatch
    return escape.is_travelling() and time.time() < escape.time.time() - 60


def free_port() -> int:
    """A loopback port nobody listens on right now, for a server a test starts."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def multipart_parts(content_type: str, body: bytes) -> list[tuple[str, bytes]]:
    """(content type, bytes) of each part of a multipart/related request body, as Google's
    upload endpoints receive them (metadata JSON first, then the data)."""
    raw = b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    parts = cast(list[Message], BytesParser().parsebytes(raw).get_payload())
    return [(str(p["Content-Type"]), cast(bytes, p.get_payload(decode=True))) for p in parts]


def local_resources(
    warehouse_path: Path, home: Path, demo_source: DemoSourceResource | None = None
) -> dict[str, Any]:
    """The local profile's brand-asset resources on temporary files; no brand has platform
    keys, so the platform assets write empty 'not connected' partitions."""
    warehouse = WarehouseResource(path=str(warehouse_path))
    return {
        "warehouse": warehouse,
        "io_manager": WarehouseIOManager(warehouse=warehouse),
        "demo_source": demo_source or DemoSourceResource(),
        "ad_platforms": AdPlatformsResource(),
        "vault": VaultResource(profile="local", key_store="sqlite", dagster_home=str(home)),
    }
