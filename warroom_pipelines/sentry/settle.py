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
from warroom_pipelines.schema import DEMO_SOURCE

HOUR = pd.Timedelta(hours=1)

# A channel without a documented delay.
DEFAULT_SETTLE_LAG = pd.Timedelta(hours=3)
# The demo source's rows carry their platform's channel, but the demo delivers each hour's
# rows over the following hours its own way (an account-hour's batch 0.05 h + Gamma(3, 0.4 h)
# after the hour, each row a few minutes more: 99.5 % within 4 h), whatever platform they
# stand in for: demo rows (`source` "demo") settle by this lag, not by their channel's
# (TikTok's 1 h would judge them while they still arrive, as ingestion gaps).
DEMO_SETTLE_LAG = pd.Timedelta(hours=4)


def settle_lag(channel: str) -> pd.Timedelta:
    """How long after an hour ends the channel's hourly report of it is complete (each
    platform's record says; ../shared/adapi/ documents the platforms' delays)."""
    known = registry.find(channel)
    return DEFAULT_SETTLE_LAG if known is None else pd.Timedelta(known.settle_lag)


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
    demo = (
        (history["source"] == DEMO_SOURCE).groupby(history["channel"], observed=True).all()
        if "source" in history.columns
        else pd.Series(False, index=newest.index)
    )
    out = {}
    for channel in channels:
        seen = pd.Timestamp(newest[channel])
        lag = DEMO_SETTLE_LAG if demo[channel] else settle_lag(channel)
        out[channel] = (seen - lag).floor("h") if pd.notna(seen) else last[channel] + HOUR
    return out


# Settled hours without an anomaly after which an incident the Sentry left open is over.
QUIET_HOURS = 3


def quiet_end(last_anomalous_hour: pd.Timestamp, settled: pd.Timestamp) -> pd.Timestamp | None:
    """The end of an incident whose rows still say open (the hour after its last anomalous
    hour), once its series has been settled for QUIET_HOURS hours past it with no anomaly;
    None while it may still be going on.

    The Sentry writes an incident's end only into the partition that holds its first normal
    hour: an incident that stopped at midnight (its next day's partition has no row of it) or
    whose brand was not scored again keeps an open end in its rows for ever.
    """
    end = pd.Timestamp(last_anomalous_hour) + HOUR
    return end if pd.Timestamp(settled) >= end + QUIET_HOURS * HOUR else None
