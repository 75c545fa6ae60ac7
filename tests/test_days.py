from datetime import date

import pandas as pd

from warroom_pipelines.days import in_utc_day, local_dates_covering, local_hours_to_utc, utc_dates


def test_a_utc_day_spans_two_local_days_west_and_east_of_utc() -> None:
    assert local_dates_covering(date(2026, 6, 1), "America/Los_Angeles") == [
        date(2026, 5, 31),
        date(2026, 6, 1),
    ]
    assert local_dates_covering(date(2026, 6, 1), "Asia/Singapore") == [
        date(2026, 6, 1),
        date(2026, 6, 2),
    ]
    assert local_dates_covering(date(2026, 6, 1), "UTC") == [date(2026, 6, 1)]


def test_new_york_hours_on_both_daylight_saving_days() -> None:
    spring = local_hours_to_utc(
        pd.Series([date(2026, 3, 8)] * 4), pd.Series([0, 1, 2, 3]), "America/New_York"
    )
    # 02:00 does not exist that night: it joins 01:00 (06:00 UTC); 03:00 is EDT (07:00 UTC).
    assert [t.hour for t in spring] == [5, 6, 6, 7]
    autumn = local_hours_to_utc(
        pd.Series([date(2026, 11, 1)] * 4), pd.Series([0, 1, 2, 3]), "America/New_York"
    )
    # 01:00 happens twice; the platforms report it once, at its first (EDT) occurrence.
    assert [t.hour for t in autumn] == [4, 5, 7, 8]


def test_in_utc_day_is_half_open() -> None:
    hours = pd.Series(
        pd.to_datetime(["2026-06-01 00:00Z", "2026-06-01 23:00Z", "2026-06-02 00:00Z"])
    )
    assert in_utc_day(hours, date(2026, 6, 1)).tolist() == [True, True, False]


def test_an_hour_belongs_to_the_utc_date_it_starts_on() -> None:
    hours = pd.Series(pd.to_datetime(["2026-06-01 23:00+02:00", "2026-06-02 01:00+02:00"]))
    assert utc_dates(hours).tolist() == [pd.Timestamp("2026-06-01"), pd.Timestamp("2026-06-01")]
