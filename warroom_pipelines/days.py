"""UTC days: a War Room date partition is a UTC day; ad accounts live in their own zone.

An account east or west of UTC reports a UTC day across two of its local days, so a client
fetches every local day that overlaps the UTC day and keeps only the hours inside it. These
helpers know nothing of channels, so that the schema, the connectors and the demo share them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd


def utc_day_bounds(day: date) -> tuple[pd.Timestamp, pd.Timestamp]:
    """[start, end) of a UTC day as tz-aware timestamps."""
    start = pd.Timestamp(datetime(day.year, day.month, day.day), tz="UTC")
    return start, start + pd.Timedelta(days=1)


def local_dates_covering(day: date, tz: str) -> list[date]:
    """The account-local dates whose hours overlap the UTC day, in order."""
    zone = ZoneInfo(tz)
    start, end = utc_day_bounds(day)
    first = start.tz_convert(zone).date()
    last = (end - pd.Timedelta(microseconds=1)).tz_convert(zone).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def local_hours_to_utc(local_dates: pd.Series, hours: pd.Series, tz: str) -> pd.Series:
    """Convert account-local (date, hour-of-day) pairs to the UTC start of that hour.

    On the autumn daylight-saving change the repeated local hour is reported once by the
    platforms; it is placed at its first (summer-time) occurrence. A spring-forward hour
    that does not exist locally is placed on the hour before it; `aggregate_hours`
    then merges the two buckets so that no key is duplicated.
    """
    naive = pd.to_datetime(local_dates.astype("string")) + pd.to_timedelta(
        hours.astype("int64"), unit="h"
    )
    aware = naive.dt.tz_localize(tz, ambiguous=True, nonexistent="shift_backward")
    return aware.dt.tz_convert("UTC").dt.floor("h").astype("datetime64[us, UTC]")


def in_utc_day(hour_start: pd.Series, day: date) -> pd.Series:
    """Mask of the UTC hours that belong to the UTC day."""
    start, end = utc_day_bounds(day)
    return (hour_start >= start) & (hour_start < end)


def utc_dates(hour_start: pd.Series) -> pd.Series:
    """The UTC date (naive midnight) of each hour: the date partition it belongs to."""
    return hour_start.dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize()
