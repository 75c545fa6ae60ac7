"""Which hours are settled: a channel's hour is judged only once its platform has finished
reporting it, decided from the data the connector has seen, never from the clock.

A connector's watermark is the newest `ingested_at` of its rows: the platform had reported
everything it was going to report about an hour once the hour has been over for the
platform's settle lag at that moment. Before then an hour's rows are partial (at HH:05 about
1 % of the last hour has arrived) and judging it would page on every tick.
"""

from __future__ import annotations

import pandas as pd

from warroom_pipelines.channels import registry

HOUR = pd.Timedelta(hours=1)

# A channel without a documented delay. The demo source's rows carry their platform's channel
# (and it delivers each hour's rows over the following hours, as real accounts do).
DEFAULT_SETTLE_LAG = pd.Timedelta(hours=3)


def settle_lag(channel: str) -> pd.Timedelta:
    """How long after an hour ends the channel's hourly report of it is complete (each
    platform's record says; ../shared/adapi/ documents the platforms' delays)."""
    lag = registry.settle_lag(channel)
    return DEFAULT_SETTLE_LAG if lag is None else pd.Timedelta(lag)


def settled_until(history: pd.DataFrame) -> dict[str, pd.Timestamp]:
    """Per channel, the end of its newest settled hour (hours starting before it are settled).

    Rows without `ingested_at` (a caller scoring data it knows to be settled, such as a
    warehouse query of past days) are settled up to the brand's last reported hour.
    """
    channels = sorted(map(str, history["channel"].unique()))
    if "ingested_at" not in history.columns or history["ingested_at"].isna().all():
        end = history["hour_start"].max() + HOUR
        return {channel: end for channel in channels}
    by_channel = history.groupby("channel", observed=True)
    newest, last = by_channel["ingested_at"].max(), by_channel["hour_start"].max()
    out = {}
    for channel in channels:
        seen = pd.Timestamp(newest[channel])
        out[channel] = (
            (seen - settle_lag(channel)).floor("h") if pd.notna(seen) else last[channel] + HOUR
        )
    return out
