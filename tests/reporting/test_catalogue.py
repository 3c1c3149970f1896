"""One figure catalogue (reporting/catalogue.py, issue 15): the figures are computed in
its order, every reader takes its labels, DOL lines, windows and kinds from it, and the
rate, the median and the program's combination exist once."""

from datetime import date

import polars as pl
import pytest

from grantees.calendar import Quarter
from reporting import catalogue, datapacks, figures
from reporting.selectors import dashboards, reports
from reporting.selectors import review as review_selectors
from reporting.services import rollups


def test_the_figures_are_computed_for_every_catalogue_figure_in_its_order():
    result = figures.compute_figures(
        pl.DataFrame(schema=figures.participants_schema()),
        figures.empty_placements(),
        report_quarter=Quarter(2025, 3),
        grant_start=date(2023, 10, 1),
    )
    for window in catalogue.WINDOW_NAMES:
        assert tuple(result["windows"][window]) == catalogue.FIGURE_KEYS
    assert tuple(figures.CHARACTERISTICS) == catalogue.CHARACTERISTIC_KEYS


def test_the_catalogue_holds_each_figures_kind_and_dol_line():
    assert len(catalogue.FIGURES) == len(set(catalogue.FIGURE_KEYS)) == 42
    assert catalogue.RATE_KEYS == ("E-1", "E-3", "E-4", "E-5")
    assert catalogue.MEDIAN_KEYS == ("D-3", "E-2")
    assert catalogue.INDICATOR_KEYS == ("E-1", "E-2", "E-3", "E-4", "E-5")
    assert catalogue.line_label("A-2") == "A-2 Total participants served"
    # Section B's categories are numbered B-1 to B-25 in the contract's order.
    assert [catalogue.BY_KEY[k].line for k in catalogue.CHARACTERISTIC_KEYS] == [
        f"B-{n}" for n in range(1, 26)
    ]


def test_every_reader_takes_the_catalogues_labels_lines_and_windows():
    assert dashboards.LABELS is catalogue.LABELS
    assert review_selectors.FIGURE_LABELS is catalogue.LABELS
    assert review_selectors.WINDOW_LABELS is catalogue.WINDOW_LABELS
    assert figures.rate is catalogue.rate
    # The PDF's rows: every figure once, with the catalogue's line and caption.
    sections = reports.sections_for(
        {"windows": {w: {} for w in catalogue.WINDOW_NAMES}}, Quarter(2025, 3), date(2023, 10, 1)
    )
    assert [s.title for s in sections] == list(catalogue.SECTIONS)
    rows = [(row.key, row.line, row.label) for s in sections for row in s.rows]
    assert rows == [(f.key, f.line, f.caption) for f in catalogue.FIGURES]


def test_there_is_one_median_and_one_combine():
    for module in (rollups, figures, dashboards, reports, datapacks):
        for name in ("median", "combine", "Part", "_median_half_up", "MEDIAN_KEYS"):
            assert not hasattr(module, name), f"{module.__name__}.{name}"
    assert catalogue.median([1000, 2001]) == 1501
    assert catalogue.median([3, 1, 2]) == 2
    assert catalogue.median([]) is None
    assert catalogue.middle(2, 3) == 3  # half up
    assert catalogue.wage_text(2350) == "23.50"


@pytest.mark.parametrize(
    ("segment", "plain", "with_kind"),
    [
        ("sector:broadband", "Broadband", "Sector: Broadband"),
        ("track:scaling", "Scaling", "Track: Scaling"),
        ("state:OR", "Oregon", "State: Oregon"),
        ("program", "All coalitions", "All coalitions"),
    ],
)
def test_one_segment_label_names_segments_for_pages_and_spreadsheets(segment, plain, with_kind):
    assert dashboards.segment_label(segment) == plain
    assert dashboards.segment_label(segment, with_kind=True) == with_kind
    assert not hasattr(datapacks, "segment_label")
