"""A failed range run (a backfill of several brand-days) names its brands and days, and is
scrubbed of those brands' secrets (issue 15, item 3): ranges carry no partition tag."""

import dagster as dg
import pytest

from tests.alerts.conftest import World
from tests.alerts.test_failures_and_secrets import _failure_context
from tests.support import AFTER_THE_FIXTURES
from warroom_pipelines.partitions import brand_date_partitions, partition_key
from warroom_pipelines.sensors.alerts import pipeline_failure_notice

pytestmark = [pytest.mark.integration, AFTER_THE_FIXTURES]

GLOBEX_HOOK_SECRET = "whsec-globex-1a2b3c4d5e6f7788"  # globex's webhook secret in the vault


@dg.asset(partitions_def=brand_date_partitions)
def leaky_source() -> None:
    raise ConnectionError(f"partner refused signature secret {GLOBEX_HOOK_SECRET}")


def test_a_failed_range_run_notice_names_its_brands_and_days_and_scrubs_them(
    world: World,
) -> None:
    result = dg.materialize(
        [leaky_source],
        instance=world.instance,
        tags={
            "dagster/asset_partition_range_start": str(partition_key("acme", "2026-11-01")),
            "dagster/asset_partition_range_end": str(partition_key("globex", "2026-11-02")),
        },
        raise_on_error=False,
    )
    assert not result.success
    pipeline_failure_notice(_failure_context(world, result))
    world.tick()

    (notice,) = world.bodies("platform")
    body = notice["notice"]
    assert (body["brand"], body["date"]) == ("acme, globex", "2026-11-01..2026-11-02")
    assert "acme, globex 2026-11-01..2026-11-02" in notice["title"]
    assert "partner refused signature secret ****" in body["error"]
    assert GLOBEX_HOOK_SECRET not in str(notice)
