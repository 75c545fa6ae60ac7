"""`warroom brands add [--demo]`: a brand is a demo brand or a connected brand, never both,
and its kind does not change by adding it again under the other kind."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from warroom_pipelines.brand_keys import BRANDS, DEMO_REGISTRY
from warroom_pipelines.cli import main
from warroom_pipelines.commands.brands import registered_brands


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.setenv("WARROOM_PROFILE", "local")
    return tmp_path


def _kinds(capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    capsys.readouterr()
    assert main(["brands", "list"]) == 0
    return dict(line.split("\t") for line in capsys.readouterr().out.splitlines())


def test_add_demo_registers_a_demo_brand_beside_a_connected_one(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["brands", "add", "--demo", "initech"]) == 0
    assert "initech: added (demo brand)" in capsys.readouterr().out
    assert main(["brands", "add", "acme"]) == 0
    assert "acme: added (connected brand)" in capsys.readouterr().out
    assert _kinds(capsys) == {"acme": "connected", "initech": "demo"}
    # Both are scheduled brands; only the demo one is served by the demo source.
    assert sorted(registered_brands()) == ["acme", "initech"]
    assert registered_brands(DEMO_REGISTRY) == ["initech"]
    with dg.DagsterInstance.get() as instance:
        assert set(instance.get_dynamic_partitions(BRANDS)) == {"acme", "initech"}
        assert instance.get_dynamic_partitions(DEMO_REGISTRY) == ["initech"]


def test_adding_a_brand_again_under_its_own_kind_is_harmless(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["brands", "add", "--demo", "initech"]) == 0
    assert main(["brands", "add", "--demo", "initech", "hooli"]) == 0
    out = capsys.readouterr().out
    assert "initech: already registered" in out and "hooli: added (demo brand)" in out
    assert registered_brands(DEMO_REGISTRY) == ["initech", "hooli"]


def test_a_connected_brand_cannot_be_added_as_demo(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["brands", "add", "acme"]) == 0
    capsys.readouterr()
    assert main(["brands", "add", "--demo", "acme", "hooli"]) == 2
    err = capsys.readouterr().err
    assert "acme: already registered as a connected brand" in err
    # Refused whole: neither the clashing brand nor its neighbour changed.
    assert registered_brands(DEMO_REGISTRY) == []
    assert _kinds(capsys) == {"acme": "connected"}


def test_a_demo_brand_cannot_be_added_as_connected(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["brands", "add", "--demo", "initech"]) == 0
    capsys.readouterr()
    assert main(["brands", "add", "initech"]) == 2
    assert "initech: already registered as a demo brand" in capsys.readouterr().err
    assert _kinds(capsys) == {"initech": "demo"}


def test_the_demo_refuses_a_connected_brand(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["brands", "add", "acme"]) == 0
    capsys.readouterr()
    assert main(["demo", "--days", "1", "--brands", "acme"]) == 2
    assert "acme: registered as connected brands" in capsys.readouterr().err
    assert registered_brands(DEMO_REGISTRY) == []
