"""What the pipeline had stored of a demo brand at each of its ticks, to replay the Sentry
as it ran rather than on the finished data.

The hourly refresh (HH:05) pulls today's partition, and yesterday's until 06:00 UTC, from
the platform as it reports at that moment: the last hours are partial, and a restated
account-day shows its first report until the restatement lands. The daily restatement
(06:30) re-pulls each of the 7 days before yesterday and rebuilds their anomalies. Every row
a pull writes carries the pull's time as `ingested_at`, which is what the Sentry's watermark
reads (`settle.settled_until`). So the history a tick scores is, per day, the rows the
platform had reported at that day's latest pull up to the tick.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd

from warroom_pipelines.channels.demo import DemoConfig, as_seen, demo_rows
from warroom_pipelines.sentry.settle import settle_lag

HOUR = pd.Timedelta(hours=1)
DAY = pd.Timedelta(days=1)
TICK = pd.Timedelta(minutes=5)  # hourly_refresh runs at minute 5
YESTERDAY_UNTIL = pd.Timedelta(hours=6)  # ... and pulls yesterday too until 06:00 UTC
RESTATEMENT_AT = pd.Timedelta(hours=6, minutes=30)  # daily_restatement
RESTATED_DAYS = 7  # days before yesterday it re-pulls for the demo (schedules.py)


def _midnight(day: date) -> pd.Timestamp:
    return pd.Timestamp(day, tz="UTC")


def hourly_ticks(day: date) -> list[pd.Timestamp]:
    """The hourly refresh's ticks that pull `day`: HH:05 of the day, then of the next
    morning until 06:00."""
    first = _midnight(day) + TICK
    return [first + n * HOUR for n in range(24 + int(YESTERDAY_UNTIL / HOUR))]


def restatement_ticks(day: date) -> list[pd.Timestamp]:
    """The daily restatement's runs that re-pull `day`."""
    return [_midnight(day) + n * DAY + RESTATEMENT_AT for n in range(2, 2 + RESTATED_DAYS)]


def last_pull(day: date, at: pd.Timestamp) -> pd.Timestamp | None:
    """When `day`'s partition was last pulled at or before `at` (None: not yet)."""
    pulls = [t for t in (*hourly_ticks(day), *restatement_ticks(day)) if t <= at]
    return max(pulls) if pulls else None


@dataclass
class BrandReplay:
    """One demo brand's rows, every version with its arrival, and the views of them."""

    brand: str
    demo: DemoConfig
    _rows: dict[date, pd.DataFrame] = field(default_factory=dict)
    _seen: dict[tuple[date, pd.Timestamp | None], pd.DataFrame] = field(default_factory=dict)

    def rows(self, day: date) -> pd.DataFrame:
        if day not in self._rows:
            self._rows[day] = demo_rows(self.brand, day, self.demo)
        return self._rows[day]

    def day_as_pulled(self, day: date, pull: pd.Timestamp | None) -> pd.DataFrame:
        """The day's rows as a pull at `pull` stored them (None: as finally reported, without
        `ingested_at`, so that every hour reads as settled)."""
        key = (day, pull)
        if key not in self._seen:
            frame = as_seen(self.rows(day), pull)
            frame["date"] = pd.Timestamp(day)
            if pull is not None:
                frame["ingested_at"] = pull
            self._seen[key] = frame
        return self._seen[key]

    def history(self, first: date, day: date, at: pd.Timestamp | None) -> pd.DataFrame:
        """Days `first`..`day` as stored at `at` (None: the finished data)."""
        frames = []
        for d in _days(first, day):
            pull = last_pull(d, at) if at is not None else None
            if at is None or pull is not None:
                frames.append(self.day_as_pulled(d, pull))
        return pd.concat(frames, ignore_index=True)

    def complete_at(self, day: date) -> pd.Series:
        """When each (channel, hour) of `day` had been fully reported in its first version:
        the latest first arrival of its rows (a restatement later is not incompleteness)."""
        rows = self.rows(day)
        first = rows.groupby(["channel", "account_id", "campaign_id", "hour_start"])[
            "arrives_at"
        ].min()
        return first.groupby(level=["channel", "hour_start"]).max()

    def forget_before(self, day: date) -> None:
        """Drop what no later tick reads (keeps memory flat over a long replay)."""
        self._rows = {d: f for d, f in self._rows.items() if d >= day}
        self._seen = {k: f for k, f in self._seen.items() if k[0] >= day}


def ticks_scoring(day: date, replay: BrandReplay) -> Iterator[pd.Timestamp]:
    """The ticks that score `day`: every hourly refresh that pulls it once the day's first
    hour can be settled, then each restatement run that finds the day changed (the others
    rebuild the same rows)."""
    soonest = min(settle_lag(channel) for channel in replay.demo.sources())
    yield from (t for t in hourly_ticks(day) if t - soonest >= _midnight(day) + HOUR)
    previous = replay.day_as_pulled(day, hourly_ticks(day)[-1])
    for tick in restatement_ticks(day):
        now = replay.day_as_pulled(day, tick)
        if not now.drop(columns="ingested_at").equals(previous.drop(columns="ingested_at")):
            yield tick
        previous = now


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
