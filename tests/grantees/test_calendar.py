"""The reporting calendar of DATA-CONTRACT.md §1."""

from datetime import date

import pytest

from grantees import calendar
from grantees.calendar import Quarter


@pytest.mark.parametrize(
    ("quarter", "start", "end"),
    [
        ("2025Q3", date(2025, 7, 1), date(2025, 9, 30)),
        ("2024Q1", date(2024, 1, 1), date(2024, 3, 31)),
        ("2023Q4", date(2023, 10, 1), date(2023, 12, 31)),
    ],
)
def test_a_quarter_is_a_calendar_quarter(quarter, start, end):
    q = Quarter.parse(quarter)
    assert (q.start, q.end, str(q)) == (start, end, quarter)


@pytest.mark.parametrize(
    ("quarter", "due"),
    [
        ("2025Q1", date(2025, 5, 15)),  # Thursday
        ("2025Q2", date(2025, 8, 14)),  # Thursday
        ("2025Q3", date(2025, 11, 14)),  # Friday
        ("2025Q4", date(2026, 2, 13)),  # Feb 14 2026 is a Saturday: the Friday before
        ("2026Q3", date(2026, 11, 13)),  # Nov 14 2026 is a Saturday
        ("2026Q4", date(2027, 2, 12)),  # Feb 14 2027 is a Sunday
        ("2024Q4", date(2025, 2, 14)),  # Friday
        ("2023Q4", date(2024, 2, 14)),  # Wednesday
    ],
)
def test_a_report_is_due_45_days_after_the_quarter_weekends_moving_to_friday(quarter, due):
    assert Quarter.parse(quarter).due == due
    assert due.weekday() < 5


def test_quarter_arithmetic_crosses_years():
    assert Quarter.parse("2025Q1") - 1 == Quarter.parse("2024Q4")
    assert Quarter.parse("2024Q4") + 5 == Quarter.parse("2026Q1")


def test_the_bpij_period_of_performance_has_19_quarters():
    quarters = calendar.quarters_between(date(2023, 10, 1), date(2028, 6, 30))
    assert (str(quarters[0]), str(quarters[-1]), len(quarters)) == ("2023Q4", "2028Q2", 19)


@pytest.mark.parametrize(
    ("day", "year"),
    [(date(2025, 7, 1), 2025), (date(2026, 6, 30), 2025), (date(2026, 1, 15), 2025)],
)
def test_the_program_year_starts_on_july_1_and_is_named_by_its_start(day, year):
    assert calendar.program_year(day) == year
    assert calendar.program_year_bounds(2025) == (date(2025, 7, 1), date(2026, 6, 30))


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 11, 13), "2026Q3"),  # due today: still the one to file
        (date(2026, 11, 14), "2026Q4"),
        (date(2023, 10, 2), "2023Q4"),
        (date(2028, 8, 14), "2028Q2"),
        (date(2028, 8, 15), None),
    ],
)
def test_the_next_report_is_the_first_not_yet_past_due(today, expected):
    quarter = calendar.next_report(date(2023, 10, 1), date(2028, 6, 30), today)
    assert (str(quarter) if quarter else None) == expected


@pytest.mark.parametrize("text", ["2025Q5", "2025-Q3", "Q3 2025", ""])
def test_a_malformed_quarter_is_refused_with_the_right_form(text):
    with pytest.raises(ValueError, match="2025Q3"):
        Quarter.parse(text)
