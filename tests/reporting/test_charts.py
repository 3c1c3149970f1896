"""The server-rendered SVG charts: well-formed, accessible images whose numbers are also
written out, with nothing a PDF renderer could not draw (no script, no stylesheet, no
external reference)."""

import xml.etree.ElementTree as ET

import pytest

from reporting import charts

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def elements(root: ET.Element, tag: str) -> list[ET.Element]:
    return list(root.iter(f"{SVG}{tag}"))


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in elements(root, "text")]


PROGRESS = [
    charts.Progress("Participants served", actual=620, target=1000, expected=421),
    charts.Progress("Entered employment", actual=90, target=300, expected=126),
    charts.Progress("Began training", actual=1300, target=1000, expected=421),
]


def test_every_chart_is_an_image_with_a_title_and_a_description():
    for svg in (
        charts.progress_chart(PROGRESS, chart_id="p", title="Progress", description="Bars"),
        charts.line_chart(["2025Q1"], [charts.Series("A", [1])], chart_id="l", title="Trend"),
        charts.grouped_bar_chart(["x"], [charts.Series("A", [1])], chart_id="g", title="By x"),
    ):
        root = parse(svg)
        ident = root.get("aria-labelledby").split()
        assert root.get("role") == "img"
        assert [root.find(f"{SVG}title").get("id"), root.find(f"{SVG}desc").get("id")] == ident
        assert root.get("viewBox").startswith(("0 0 640 ", "0 0 500 "))


def test_charts_carry_nothing_a_pdf_renderer_cannot_draw():
    svg = str(charts.progress_chart(PROGRESS, chart_id="p", title="Progress"))
    for forbidden in ("<script", "<style", "style=", "href", "<foreignObject", "url("):
        assert forbidden not in svg
    assert svg.count("http") == 1  # the SVG namespace only


def test_text_is_escaped():
    svg = charts.progress_chart(
        [charts.Progress("<b>Served</b> & more", 1, 2)],
        chart_id='x" onload="alert(1)',
        title="Q&A <script>",
    )
    root = parse(svg)  # still well-formed
    assert root.find(f"{SVG}title").text == "Q&A <script>"
    assert "<b>" not in svg
    assert 'onload="' not in svg


def test_progress_bars_write_each_share_and_count_beside_the_bar():
    root = parse(charts.progress_chart(PROGRESS, chart_id="p", title="Progress"))
    words = texts(root)
    assert "62% · 620 of 1,000" in words
    assert "30% · 90 of 300" in words
    assert "130% · 1,300 of 1,000" in words
    # A target line for each measure plus the legend's, a pace diamond for each plus the
    # legend's: markers in shapes, not colour alone.
    assert len(elements(root, "polygon")) == 4
    assert "where pace says it should be by now" in words


def test_progress_bars_are_as_long_as_their_share_of_target():
    root = parse(charts.progress_chart(PROGRESS[:2], chart_id="p", title="Progress"))
    navy = [r for r in elements(root, "rect") if r.get("fill") == charts.COLOURS[0]]
    widths = [float(r.get("width")) for r in navy]
    # The axis ends at 100% of target (no measure is past it): 200 px for 100%.
    assert widths == [pytest.approx(124), pytest.approx(60)]


def test_a_measure_without_a_target_says_so():
    root = parse(charts.progress_chart([charts.Progress("Served", 5, 0)], chart_id="p", title="t"))
    assert "5 (no target)" in texts(root)


def test_a_trend_line_breaks_where_a_quarter_has_no_figure():
    root = parse(
        charts.line_chart(
            ["2024Q4", "2025Q1", "2025Q2", "2025Q3", "2025Q4"],
            [
                charts.Series("New participants", [10, 20, None, 40, 50]),
                charts.Series("Entered employment", [1, 2, 3, 4, 5]),
            ],
            chart_id="t",
            title="Trend",
        )
    )
    # Two runs for the first series, one for the second.
    assert len(elements(root, "polyline")) == 3
    # Each series marks its points with its own shape (circles, then squares), legend
    # included.
    assert len(elements(root, "circle")) == 4 + 1
    assert len(elements(root, "rect")) == 5 + 1
    words = texts(root)
    assert {"New participants", "Entered employment", "2024Q4", "2025Q4"} <= set(words)
    assert "50" in words  # the axis ends on a round number at or above the largest value


def test_a_trend_without_figures_says_so():
    root = parse(charts.line_chart([], [charts.Series("A", [])], chart_id="t", title="Trend"))
    assert "No figures yet" in texts(root)


def test_grouped_bars_write_every_value_and_na_where_there_is_none():
    root = parse(
        charts.grouped_bar_chart(
            ["Renewable energy", "Broadband"],
            [charts.Series("Served", [1200, 800]), charts.Series("Rate", [None, 45.5])],
            chart_id="g",
            title="By sector",
            formatter=charts.count,
        )
    )
    words = texts(root)
    assert {"1,200", "800", "46", "n/a", "Renewable energy", "Broadband"} <= set(words)
    # Bars start at the axis (x = 160); the legend's swatches do not.
    bars = [r for r in elements(root, "rect") if r.get("x") == "160"]
    assert len(bars) == 3


def test_percent_bars_can_be_drawn_on_a_fixed_scale():
    root = parse(
        charts.grouped_bar_chart(
            ["E-1"],
            [charts.Series("Rate", [50.0])],
            chart_id="g",
            title="Rates",
            formatter=charts.percent,
            max_value=100,
        )
    )
    bar = next(r for r in elements(root, "rect") if float(r.get("height")) == 12)
    assert float(bar.get("width")) == pytest.approx((640 - 160 - 80) / 2)
    assert "50.0%" in texts(root)


@pytest.mark.parametrize(
    ("value", "ceiling"),
    [(0, 1), (7, 10), (10, 10), (11, 20), (2400, 2500), (2600, 5000), (0.3, 0.5)],
)
def test_axes_end_on_a_round_number(value, ceiling):
    assert charts.nice_ceiling(value) == pytest.approx(ceiling)
