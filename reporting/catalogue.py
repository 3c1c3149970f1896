"""The figure catalogue: every figure of DATA-CONTRACT.md §6, once.

Each figure's key, the hub's label, its section, its line of DOL's ETA-9173-H1B
quarterly performance report (line number and caption in DOL's wording, docs/exports.md)
and what kind of value it is (a count, a rate, a median wage or median earnings); the
three windows of §6; and the arithmetic every reader of figures shares: the rate (§6
rounding), the median (the mean of the two middle values, rounded half up) and
``combine``, which adds coalitions' figures into the program's. ``figures`` computes
from records in this order; roll-ups, dashboards, the PDFs and the data packs read their
labels, lines and kinds here.

Pure: no Django, no database (the import contracts in pyproject.toml hold it so).
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

# -- Windows (§6) -------------------------------------------------------------------------

CURRENT_QUARTER = "current_quarter"
ROLLING_4_QUARTERS = "rolling_4_quarters"
GRANT_TO_DATE = "grant_to_date"
WINDOW_NAMES = (CURRENT_QUARTER, ROLLING_4_QUARTERS, GRANT_TO_DATE)
WINDOWS: tuple[tuple[str, str], ...] = (
    (CURRENT_QUARTER, "Current quarter"),
    (ROLLING_4_QUARTERS, "Rolling 4 quarters"),
    (GRANT_TO_DATE, "Grant to date"),
)
WINDOW_LABELS = dict(WINDOWS)

# -- Figures ------------------------------------------------------------------------------

COUNT = "count"
RATE = "rate"  # {numerator, denominator, rate}; the rate a percentage to one decimal
WAGE = "wage"  # D-3: the median hourly wage, a string of dollars with two decimals
EARNINGS = "earnings"  # E-2: median quarterly earnings, whole dollars

A = "A. Participation"
B = "B. Characteristics of participants served"
C = "C. Training"
D = "D. Employment"
E = "E. WIOA-aligned indicators"


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    section: str
    # The figure's line of the ETA-9173-H1B form and its caption there. §4 numbers the
    # lines of sections A, C, D and E; section B lists its categories without numbers,
    # so they are numbered B-1 to B-25 in the contract's order.
    line: str
    caption: str
    kind: str = COUNT

    @property
    def line_label(self) -> str:
        """The line as the form prints it: "A-2 Total participants served"."""
        return f"{self.line} {self.caption}"

    @property
    def is_money(self) -> bool:
        return self.kind in (WAGE, EARNINGS)

    @property
    def is_indicator(self) -> bool:
        return self.section == E


# Report order.
FIGURES: tuple[Figure, ...] = (
    Figure("A-1", "Exiters", A, "A-1", "Total exiters"),
    Figure("A-2", "Participants served", A, "A-2", "Total participants served"),
    Figure("A-3", "New participants", A, "A-3", "Total new participants"),
    Figure("B-sex-male", "Male", B, "B-1", "Male"),
    Figure("B-sex-female", "Female", B, "B-2", "Female"),
    Figure("B-sex-unknown", "Sex not self-identified", B, "B-3", "Sex: did not self-identify"),
    Figure("B-hispanic", "Hispanic or Latino", B, "B-4", "Hispanic/Latino"),
    Figure(
        "B-race-american-indian",
        "American Indian or Alaska Native",
        B,
        "B-5",
        "American Indian or Alaska Native",
    ),
    Figure("B-race-asian", "Asian", B, "B-6", "Asian"),
    Figure("B-race-black", "Black or African American", B, "B-7", "Black or African American"),
    Figure(
        "B-race-pacific-islander",
        "Native Hawaiian or Other Pacific Islander",
        B,
        "B-8",
        "Native Hawaiian or Other Pacific Islander",
    ),
    Figure("B-race-white", "White", B, "B-9", "White"),
    Figure("B-race-multiple", "More than one race", B, "B-10", "More than one race"),
    Figure(
        "B-age-17-29",
        "Age 17–29 at entry",
        B,
        "B-11",
        "Age at entry 17–29 (youth and young adults)",
    ),
    Figure("B-age-30-44", "Age 30–44 at entry", B, "B-12", "Age at entry 30–44"),
    Figure("B-age-45-54", "Age 45–54 at entry", B, "B-13", "Age at entry 45–54"),
    Figure("B-age-55-plus", "Age 55 or older at entry", B, "B-14", "Age at entry 55 and over"),
    Figure("B-veteran", "Veteran", B, "B-15", "Eligible veteran status"),
    Figure(
        "B-disability", "Individual with a disability", B, "B-16", "Individual with a disability"
    ),
    Figure("B-low-income", "Low income", B, "B-17", "Low-income individual"),
    Figure("B-incumbent", "Incumbent worker", B, "B-18", "Incumbent worker"),
    Figure(
        "B-employed-at-entry",
        "Employed at entry",
        B,
        "B-19",
        "Employment status at entry: employed",
    ),
    Figure(
        "B-unemployed-at-entry",
        "Unemployed at entry",
        B,
        "B-20",
        "Employment status at entry: unemployed",
    ),
    Figure(
        "B-not-in-labor-force",
        "Not in the labor force at entry",
        B,
        "B-21",
        "Employment status at entry: not in the labor force",
    ),
    Figure(
        "B-edu-none",
        "No secondary credential",
        B,
        "B-22",
        "Highest education: no secondary credential",
    ),
    Figure(
        "B-edu-secondary",
        "Secondary diploma or equivalent",
        B,
        "B-23",
        "Highest education: secondary diploma or equivalent",
    ),
    Figure(
        "B-edu-postsecondary",
        "Postsecondary below a bachelor's",
        B,
        "B-24",
        "Highest education: postsecondary below a bachelor's degree",
    ),
    Figure(
        "B-edu-bachelors-plus",
        "Bachelor's degree or beyond",
        B,
        "B-25",
        "Highest education: bachelor's degree or beyond",
    ),
    Figure("C-1", "Began training", C, "C-1", "Total participants who began training"),
    Figure(
        "C-2",
        "Began registered apprenticeship training",
        C,
        "C-2",
        "Total participants who began registered apprenticeship training",
    ),
    Figure("C-3", "Completed training", C, "C-3", "Total participants who completed training"),
    Figure("C-4", "Earned a credential", C, "C-4", "Total participants who earned a credential"),
    Figure("D-1", "Entered employment", D, "D-1", "Total participants who entered employment"),
    Figure(
        "D-2",
        "Entered training-related employment",
        D,
        "D-2",
        "Total participants who entered training-related employment",
    ),
    Figure(
        "D-3", "Median hourly wage at placement", D, "D-3", "Median hourly wage at placement", WAGE
    ),
    Figure("D-4", "Incumbent workers retained", D, "D-4", "Incumbent workers retained"),
    Figure("D-5", "Incumbent workers advanced", D, "D-5", "Incumbent workers advanced"),
    Figure(
        "E-1",
        "Employment rate, 2nd quarter after exit",
        E,
        "E-1",
        "Employment rate — 2nd quarter after exit",
        RATE,
    ),
    Figure(
        "E-2",
        "Median earnings, 2nd quarter after exit",
        E,
        "E-2",
        "Median earnings — 2nd quarter after exit",
        EARNINGS,
    ),
    Figure(
        "E-3",
        "Employment rate, 4th quarter after exit",
        E,
        "E-3",
        "Employment rate — 4th quarter after exit",
        RATE,
    ),
    Figure("E-4", "Credential attainment rate", E, "E-4", "Credential attainment rate", RATE),
    Figure(
        "E-5",
        "Measurable skill gains rate (program year)",
        E,
        "E-5",
        "Measurable skill gains rate (program year to date)",
        RATE,
    ),
)

BY_KEY = {figure.key: figure for figure in FIGURES}
FIGURE_KEYS = tuple(BY_KEY)
LABELS = {figure.key: figure.label for figure in FIGURES}
SECTIONS = tuple(dict.fromkeys(figure.section for figure in FIGURES))
RATE_KEYS = tuple(figure.key for figure in FIGURES if figure.kind == RATE)
MEDIAN_KEYS = tuple(figure.key for figure in FIGURES if figure.is_money)
INDICATOR_KEYS = tuple(figure.key for figure in FIGURES if figure.is_indicator)
CHARACTERISTIC_KEYS = tuple(figure.key for figure in FIGURES if figure.section == B)


def line_label(key: str) -> str:
    """A figure's line as the form prints it: "A-2 Total participants served"."""
    return BY_KEY[key].line_label


# -- The arithmetic every reader shares ---------------------------------------------------


def rate(numerator: int, denominator: int) -> dict[str, Any]:
    """A rate as §6 gives it: the percentage rounded half-up to one decimal from the
    exact fraction (1/16 → 6.3), or None ("n/a") when the denominator is 0."""
    if denominator == 0:
        return {"numerator": numerator, "denominator": 0, "rate": None}
    tenths = math.floor(Fraction(1000 * numerator, denominator) + Fraction(1, 2))
    return {"numerator": numerator, "denominator": denominator, "rate": tenths / 10}


def middle(lower: float | None, higher: float | None) -> int | None:
    """The median from its two middle values (equal for an odd count): their mean,
    rounded half up to a whole unit. The values are non-negative whole numbers (cents or
    dollars); None without values."""
    if lower is None or higher is None:
        return None
    return (int(lower) + int(higher) + 1) // 2


def median(values: Iterable[int]) -> int | None:
    """The contract's median of whole units (``middle`` of the sorted values), or None
    without values."""
    ordered = sorted(values)
    if not ordered:
        return None
    n = len(ordered)
    return middle(ordered[(n - 1) // 2], ordered[n // 2])


def wage_text(cents: int | None) -> str | None:
    """D-3 as the contract stores it: dollars with two decimals ("23.50")."""
    return None if cents is None else f"{cents // 100}.{cents % 100:02d}"


@dataclass
class Part:
    """One coalition's counted figures (the three windows of §6) and median inputs:
    {window: {"D-3": hourly wages in cents, "E-2": earnings in dollars}}."""

    windows: dict[str, dict[str, Any]]
    medians: dict[str, dict[str, list[int]]] = field(default_factory=dict)


def combine(parts: list[Part], *, period: str) -> dict[str, Any]:
    """Several coalitions' figures as one, in the shape of ``figures.compute_figures``:
    counts summed, rates from the summed numerators and denominators, medians over the
    concatenated values."""
    result: dict[str, Any] = {}
    for window in WINDOW_NAMES:
        out: dict[str, Any] = {}
        for key in FIGURE_KEYS:
            if key in MEDIAN_KEYS:
                value = median(v for part in parts for v in part.medians[window][key])
                out[key] = wage_text(value) if BY_KEY[key].kind == WAGE else value
            elif key in RATE_KEYS:
                numerator = sum(part.windows[window][key]["numerator"] for part in parts)
                denominator = sum(part.windows[window][key]["denominator"] for part in parts)
                out[key] = rate(numerator, denominator)
            else:
                out[key] = sum(int(part.windows[window][key]) for part in parts)
        result[window] = out
    return {"period": period, "windows": result}
