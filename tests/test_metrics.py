"""The metric catalogue is the one definition the table, the Sentry, alerts and pages read."""

from datetime import UTC, datetime

import numpy as np
import pytest

from warroom_pipelines.alerts.messages import format_value
from warroom_pipelines.channels.demo import demo_metrics
from warroom_pipelines.dashboard.model import METRICS, Tile
from warroom_pipelines.dashboard.pages import TIMES, fmt
from warroom_pipelines.metrics import CATALOGUE, RATIOS, VOLUMES
from warroom_pipelines.schema import COLUMNS, DERIVED_COLUMNS, RAW_COLUMNS, finalize
from warroom_pipelines.sentry import detectors, explain, features

DAY = datetime(2026, 11, 3).date()


def test_every_ratio_is_derived_from_volumes_of_the_table() -> None:
    assert set(VOLUMES) <= set(RAW_COLUMNS)
    for ratio in (m for m in CATALOGUE.values() if m.kind == "ratio"):
        assert {ratio.numerator, ratio.denominator} <= set(VOLUMES), ratio.name


def test_the_unified_table_derives_each_catalogue_ratio_from_the_rows_totals() -> None:
    raw = demo_metrics("acme", DAY)
    raw.loc[0, ["clicks", "conversions"]] = [0, 0.0]  # zero denominators give nulls
    table = finalize(raw, brand="acme", ingested_at=datetime(2026, 11, 3, 12, tzinfo=UTC))
    assert list(DERIVED_COLUMNS) == list(RATIOS) == ["ctr", "cpc", "cpm", "cpa", "cvr", "roas"]
    assert "aov" not in COLUMNS  # the Sentry's own ratio is not a column
    for name, ratio in RATIOS.items():
        den = table[ratio.denominator].astype("float64")
        want = np.where(den > 0, table[ratio.numerator] * ratio.scale / den.where(den > 0), np.nan)
        np.testing.assert_allclose(table[name].to_numpy(), want, rtol=1e-12, err_msg=name)
    assert table["cpc"].isna().any() and table["cpa"].isna().any()


def test_the_sentry_judges_each_metric_in_its_catalogue_direction() -> None:
    z = np.array([[-6.0, 6.0]])
    for name in features.METRICS:
        kept = detectors.harmful(name, z)[0]
        harm = CATALOGUE[name].harmful
        assert kept[0 if harm < 0 else 1] == 6.0 and kept[1 if harm < 0 else 0] == 0.0, name
    for name, ratio in features.RATIOS.items():
        assert (ratio.a, ratio.b) == (CATALOGUE[name].numerator, CATALOGUE[name].denominator)


def test_a_volume_drop_that_is_no_stop_is_info_but_a_ratio_drop_is_not() -> None:
    # Delivery at half of normal is a paused campaign, not an outage; a CTR at half is news.
    assert explain.severity("spend", -12.0, 12.0, "channel", 6.0, share=0.5) == "info"
    assert explain.severity("ctr", -12.0, 12.0, "channel", 6.0, share=0.5) == "critical"


@pytest.mark.parametrize(
    ("name", "alert", "page"),
    [
        ("ctr", "1.25%", "1.25%"),
        ("cpa", "GBP 12.50", "£12.50"),
        ("roas", "12.50x", f"12.50{TIMES}"),
        ("conversions", "12", "12.5"),
    ],
)
def test_alerts_and_pages_write_a_value_in_its_catalogue_format(name, alert, page) -> None:
    value = 0.0125 if CATALOGUE[name].format == "percent" else 12.5
    assert format_value(name, value, "GBP") == alert
    assert fmt(CATALOGUE[name], value, currency="GBP") == page


def test_the_headline_tiles_colour_a_change_by_the_catalogue_direction() -> None:
    verdicts = {m.name: Tile(m, "week", "GBP", 120.0, 100.0).verdict for m in METRICS}
    assert verdicts == {
        "spend": "neutral",  # a budget decision, not a fault
        "conversions": "good",
        "cpa": "bad",
        "roas": "good",
        "ctr": "good",
    }
    assert [m.label for m in METRICS] == ["Spend", "Conversions", "CPA", "ROAS", "CTR"]
