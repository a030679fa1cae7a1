"""ISO week helpers checked against Python's own ISO calendar."""

import datetime as dt

import pandas as pd
import pytest

from gnelib.periods import (
    PeriodError,
    previous_week,
    shift_week,
    trailing_weeks,
    validate_week,
    week_of,
    week_range,
    week_start,
    weeks_between,
    weeks_in_year,
    year_over_year_week,
)


@pytest.mark.parametrize(
    "text", ["2026-47", "W47", "2026-W54", "2025-W53", "2026-W00", "", "latest", None, 202647]
)
def test_malformed_or_impossible_weeks_name_the_format(text):
    with pytest.raises(PeriodError, match="YYYY-Www"):
        validate_week(text)


def test_canonical_form_and_week_53():
    assert validate_week("2026-w7") == "2026-W07"
    assert validate_week("2026W47") == "2026-W47"
    assert validate_week("2026-W53") == "2026-W53"  # 2026 has 53 ISO weeks
    assert [weeks_in_year(year) for year in (2020, 2025, 2026)] == [
        dt.date(year, 12, 28).isocalendar().week for year in (2020, 2025, 2026)
    ]


def test_week_start_and_range_match_the_warehouse_calendar():
    assert week_start("2026-W18") == pd.Timestamp(
        "2026-04-27"
    )  # docs/warehouse.md: W18 starts Mon 2026-04-27
    start, end = week_range("2026-W47")
    assert (start, end) == (pd.Timestamp("2026-11-16"), pd.Timestamp("2026-11-23"))
    assert week_of("2026-11-22 23:59") == "2026-W47" and week_of(dt.date(2026, 11, 23)) == "2026-W48"


def test_shifting_across_year_ends():
    assert previous_week("2027-W01") == "2026-W53"
    assert shift_week("2026-W53", 1) == "2027-W01"
    assert trailing_weeks("2026-W02", 4) == ["2025-W50", "2025-W51", "2025-W52", "2026-W01"]  # 2025 has 52
    assert trailing_weeks("2026-W47", 3, include_current=True) == ["2026-W45", "2026-W46", "2026-W47"]


def test_weeks_between_is_inclusive_and_ordered():
    weeks = weeks_between("2026-W18", "2026-W47")
    assert len(weeks) == 30 and weeks[0] == "2026-W18" and weeks[-1] == "2026-W47"
    with pytest.raises(PeriodError, match="first week"):
        weeks_between("2026-W47", "2026-W18")


def test_year_over_year_week():
    assert year_over_year_week("2026-W47") == "2025-W47"
    assert year_over_year_week("2026-W53") == "2025-W52"  # 2025 has no week 53
    assert year_over_year_week("2026-W47", available=weeks_between("2026-W18", "2026-W47")) is None
