from __future__ import annotations

import pandas as pd

from warroom_pipelines.channels.report import aggregate_hours


def test_aggregate_hours_merges_the_spring_forward_collision() -> None:
    frame = pd.DataFrame(
        {
            "brand": ["a", "a"],
            "channel": ["meta_ads"] * 2,
            "account_id": ["1"] * 2,
            "campaign_id": ["c"] * 2,
            "campaign_name": ["C"] * 2,
            "hour_start": pd.to_datetime(["2026-03-08 06:00Z"] * 2),
            "impressions": [100, 50],
            "clicks": [3, 2],
            "spend": [1.5, 1.0],
            "conversions": [1.0, 0.0],
            "conversion_value": [10.0, 0.0],
        }
    )
    merged = aggregate_hours(frame)
    assert len(merged) == 1
    assert merged.iloc[0][["impressions", "clicks", "spend"]].tolist() == [150, 5, 2.5]
