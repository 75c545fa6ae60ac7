"""The command_center asset through Dagster, after a real refresh of two brands."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pandas as pd
import pytest

from tests.support import AFTER_THE_FIXTURES
from warroom_pipelines.assets.channels import channel_assets
from warroom_pipelines.assets.dashboard import command_center
from warroom_pipelines.assets.unified import unified_performance
from warroom_pipelines.channels.demo import demo_metrics
from warroom_pipelines.partitions import partition_key
from warroom_pipelines.resources.dashboard import CommandCenterResource
from warroom_pipelines.resources.demo import DemoSourceResource

pytestmark = AFTER_THE_FIXTURES


SECRET = "EAAB-not-for-screens-7731"


class LeakySource(DemoSourceResource):
    """A platform client whose error quotes the request URL, access token and all."""

    def metrics(self, brand: str, day: date, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
        raise ConnectionResetError(
            f"read timed out: https://graph.example/v19/act_1/insights?access_token={SECRET}"
        )


@pytest.fixture
def refreshed(instance: dg.DagsterInstance, resources: dict[str, Any], tmp_path: Path):
    instance.add_dynamic_partitions("brands", ["acme", "initech"])
    day = datetime.now(UTC).date() - timedelta(days=1)
    assets = [*channel_assets, unified_performance]
    assert dg.materialize(
        assets, instance=instance, resources=resources, partition_key=partition_key("acme", day)
    ).success
    failed = dg.materialize(
        assets,
        instance=instance,
        resources=dict(resources, demo_source=LeakySource()),
        partition_key=partition_key("initech", day),
        raise_on_error=False,
    )
    assert not failed.success
    folder = tmp_path / "command_center"
    return dict(resources, command_center=CommandCenterResource(folder=str(folder))), folder, day


def test_command_center_writes_pages_views_and_metadata(
    instance: dg.DagsterInstance, refreshed, warehouse_path: Path
) -> None:
    resources, folder, day = refreshed
    result = dg.materialize([command_center], instance=instance, resources=resources)
    assert result.success
    metadata = result.asset_materializations_for_node("command_center")[0].metadata
    assert metadata["overview"].value == str(folder / "index.html")
    pages = metadata["brand_pages"].value
    assert isinstance(pages, dict)
    assert set(pages) == {"acme", "initech"}
    assert all(Path(p).is_file() for p in pages.values())
    summary = metadata["summary"].value
    assert isinstance(summary, str)
    spend = round(float(demo_metrics("acme", day)["spend"].sum()), 2)
    assert "acme" in summary and "initech" in summary
    assert metadata["views"].value == "daily_performance, campaign_performance, open_incidents"

    # The views are there for analysts, beside the tables.
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        daily = con.execute(
            "SELECT sum(spend) FROM daily_performance WHERE brand = 'acme' AND date = ?", [day]
        ).fetchone()
    assert daily is not None and daily[0] == pytest.approx(spend)


def test_the_last_ingestion_error_is_shown_without_secrets(
    instance: dg.DagsterInstance, refreshed
) -> None:
    resources, folder, _ = refreshed
    assert dg.materialize([command_center], instance=instance, resources=resources).success
    initech = (folder / "brands" / "initech.html").read_text()
    acme = (folder / "brands" / "acme.html").read_text()
    row = re.search(r'<tr data-freshness="demo">.*?</tr>', initech)
    assert row and "read timed out" in row[0] and "graph.example/v19/act_1/insights" in row[0]
    for page in folder.rglob("*.html"):
        assert SECRET not in page.read_text()
    assert 'data-freshness="demo"' not in acme
    assert "not connected" in initech  # no rows from any channel
