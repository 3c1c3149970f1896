"""Figures definitions v2 (issue 10) wherever figures leave the hub: every page, PDF and
data pack prints the cohorts of DOL's reporting lag; the stored roll-ups are recomputed
by a migration; files exported before keep their bytes and say they were made under v1.

Every report here is 2025Q3 of a grant that started 2023-10-01: the E-1/E-2 cohort of
the current quarter exits in 2024Q3 (it was 2025Q1 under v1), E-3/E-4's in 2024Q1 (it
was 2024Q3).
"""

import hashlib
import io
import re
import zipfile

import pytest
from django.apps import apps
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection
from django.db.migrations import RunPython
from django.db.migrations.loader import MigrationLoader
from django.urls import reverse
from pypdf import PdfReader

from reporting import datapacks, figures, pdf, selectors, services
from reporting.models import Export, ExportKind, ExportStatus, ProgramRollup, Rollup
from reporting.services import exports
from tests.reporting import test_exports
from tests.reporting.test_datapacks import provenance_of, read_csv, read_xlsx

reported = test_exports.reported
renderer = test_exports.renderer

NEW_COHORTS = ("exits in 2024Q3", "exits 2023Q4–2024Q3", "exits in 2024Q1", "exits 2023Q2–2024Q1")
OLD_COHORTS = ("exits in 2025Q1", "exits 2024Q2–2025Q1")


def squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def assert_new_cohorts(text: str) -> None:
    for cohort in NEW_COHORTS:
        assert squeezed(cohort) in squeezed(text), cohort
    for cohort in OLD_COHORTS:
        assert squeezed(cohort) not in squeezed(text), cohort


# -- Cohort periods wherever they are printed -----------------------------------------


def test_the_preview_prints_the_cohort_under_each_indicator(cast, client_for, reported):
    version = reported[0]
    page = client_for(cast.admin_a).get(reverse("reporting:preview", args=[version.code]))
    assert page.status_code == 200
    assert_new_cohorts(page.content.decode())
    assert "PY2025 to date (2025Q3)" in page.content.decode()


def test_the_review_page_prints_the_cohort_under_each_indicator(cast, client_for, reported):
    page = client_for(cast.officer).get(
        reverse("reporting:submission-review", args=[reported[0].code])
    )
    assert page.status_code == 200
    assert_new_cohorts(page.content.decode())


def test_the_coalition_dashboard_prints_the_new_cohorts(cast, client_for, reported):
    page = client_for(cast.coach_a).get(
        reverse("coaching:coalition-dashboard", args=[cast.coalition_a.code])
    )
    assert page.status_code == 200
    text = page.content.decode()
    assert "exits in 2024Q3" in text
    assert "exits in 2024Q1" in text
    assert "exits through 2024Q3" in text  # Grant to Date
    assert "exits in 2025Q1" not in text


@pytest.mark.pdf
def test_the_pdfs_print_the_new_cohorts_and_their_definitions(cast, reported):
    rollup = Rollup.objects.get(coalition=cast.coalition_a, quarter="2025Q3")
    stamp = {**provenance_of(reported[0]), "figures_definitions": "v2"}
    report = pdf.coalition_report_pdf(period_id=rollup.period_id, provenance=stamp)
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(report)).pages)
    assert_new_cohorts(text)
    assert squeezed("Figures definitions v2: cohorts lagging 4 and 6 quarters") in squeezed(text)
    summary = pdf.program_summary_pdf(quarter="2025Q3", provenance=stamp)
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(summary)).pages)
    assert squeezed("exits through 2024Q3") in squeezed(text)


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_the_data_packs_carry_the_new_cohorts_and_their_definitions(cast, reported, fmt):
    render = datapacks.data_pack_xlsx if fmt == "xlsx" else datapacks.data_pack_csv
    content = render(
        quarter="2025Q3",
        coalition_id=cast.coalition_a.pk,
        provenance={**provenance_of(reported[0]), "figures_definitions": "v2"},
    )
    tables = (read_xlsx if fmt == "xlsx" else read_csv)(content)
    spans = {
        (row["Window"], row["Figure"]): (row["Cohort from"], row["Cohort to"])
        for row in tables["Figures"]
        if row["Quarter"] == "2025Q3"
    }
    assert spans["Current quarter", "E-1"] == ("2024Q3", "2024Q3")
    assert spans["Rolling 4 quarters", "E-3"] == ("2023Q2", "2024Q1")
    assert spans["Grant to date", "E-4"] == ("2023Q4", "2024Q1")
    about = {row["Item"]: row["Value"] for row in tables["About"]}
    assert about["Figures definitions"] == figures.DEFINITIONS_TEXT["v2"]


def test_a_pack_made_from_a_stamp_without_definitions_says_v1(cast, reported):
    # What an export requested before the change would have been stamped with.
    content = datapacks.data_pack_csv(
        quarter="2025Q3", coalition_id=cast.coalition_a.pk, provenance=provenance_of(reported[0])
    )
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        readme = archive.read("README.csv").decode("utf-8-sig")
    assert figures.DEFINITIONS_TEXT["v1"] in readme


# -- Exports: new ones say v2, earlier ones read as v1 and stay as they were ----------


def test_a_new_export_is_stamped_with_the_current_definitions(cast, reported, renderer):
    export = services.export_request(
        actor=cast.officer, kind=ExportKind.COALITION_REPORT, quarter="2025Q3",
        coalition=cast.coalition_a,
    )  # fmt: skip
    services.export_render(export_id=export.pk)
    export.refresh_from_db()
    assert export.provenance["figures_definitions"] == "v2"
    assert export.figures_definitions == "v2"
    ((_, kwargs),) = renderer.calls
    assert kwargs["provenance"]["figures_definitions"] == "v2"


def test_other_definitions_never_reuse_a_stored_file(cast, reported, monkeypatch):
    before = exports.sources_for(
        kind=ExportKind.COALITION_REPORT, quarter="2025Q3", coalition=cast.coalition_a
    ).key
    monkeypatch.setattr(figures, "DEFINITIONS", "v3")
    after = exports.sources_for(
        kind=ExportKind.COALITION_REPORT, quarter="2025Q3", coalition=cast.coalition_a
    ).key
    assert before != after


def test_an_export_without_definitions_in_its_provenance_was_made_under_v1():
    assert Export(provenance={"export": "x"}).figures_definitions == "v1"
    assert Export(provenance={"figures_definitions": "v2"}).figures_definitions == "v2"


def earlier_export(cast, renderer) -> Export:
    """A report rendered and stored as the hub did before issue 10: no definitions."""
    export = services.export_request(
        actor=cast.officer, kind=ExportKind.COALITION_REPORT, quarter="2025Q3",
        coalition=cast.coalition_a,
    )  # fmt: skip
    services.export_render(export_id=export.pk)
    export.refresh_from_db()
    provenance = {k: v for k, v in export.provenance.items() if k != "figures_definitions"}
    Export.objects.filter(pk=export.pk).update(provenance=provenance)
    export.refresh_from_db()
    return export


def test_the_exports_page_says_which_definitions_each_file_was_made_under(
    cast, client_for, reported, renderer
):
    old = earlier_export(cast, renderer)
    new = services.export_request(
        actor=cast.officer, kind=ExportKind.DATA_PACK_XLSX, quarter="2025Q3",
        coalition=cast.coalition_a,
    )  # fmt: skip
    services.export_render(export_id=new.pk)
    page = client_for(cast.officer).get(
        reverse("reporting:export-list", args=[cast.coalition_a.code])
    )
    rows = {
        code: re.sub(r"\s+", " ", row)
        for code, row in re.findall(
            r'<tr id="export-([0-9a-f-]+)"(.*?)</tr>', page.content.decode(), re.S
        )
    }
    assert "Figures definitions v1" in rows[str(old.code)]
    assert "Figures definitions v2" in rows[str(new.code)]
    assert figures.DEFINITIONS_TEXT["v1"] in page.content.decode()


# -- The data migration -----------------------------------------------------------------


def figures_migration():
    """The migration of issue 10, found by name so renumbering does not break it."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    (key,) = [k for k in loader.disk_migrations if k[0] == "reporting" and "figures" in k[1]]
    (operation,) = [
        op for op in loader.disk_migrations[key].operations if isinstance(op, RunPython)
    ]
    return operation.code


def test_the_migration_recomputes_roll_ups_stored_under_the_old_definitions(
    cast, reported, renderer
):
    rollup = Rollup.objects.get(coalition=cast.coalition_a, quarter="2025Q3")
    program = ProgramRollup.objects.get(quarter="2025Q3", segment="program")
    current = rollup.figures
    export = earlier_export(cast, renderer)
    with export.file.open("rb") as handle:
        stored = handle.read()
    # Figures as v1 would have stored them: other E values, another cohort.
    stale = {**current, "windows": {
        w: {**v, "E-1": {"numerator": 1, "denominator": 9, "rate": 11.1}, "E-2": 1}
        for w, v in current["windows"].items()
    }}  # fmt: skip
    Rollup.objects.update(figures=stale)
    ProgramRollup.objects.update(figures=stale)

    with connection.schema_editor() as editor:
        figures_migration()(apps, editor)
    rollup.refresh_from_db()
    assert rollup.figures == stale, (
        "mid-plan the migration only marks the roll-ups due: today's roll-up code would "
        "read tables a later migration had not yet altered"
    )
    # Once the whole plan has run, post_migrate recomputes them.
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")

    rollup.refresh_from_db()
    assert rollup.figures == current == selectors.figures_for(reported[0])
    # The program's rows are replaced, not updated.
    assert ProgramRollup.objects.get(quarter="2025Q3", segment="program").figures == (
        program.figures
    )
    export.refresh_from_db()
    with export.file.open("rb") as handle:
        assert handle.read() == stored
    assert hashlib.sha256(stored).hexdigest() == export.sha256
    assert export.status == ExportStatus.READY
    assert "figures_definitions" not in export.provenance
    assert export.figures_definitions == "v1"

    Rollup.objects.update(figures=stale)
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    rollup.refresh_from_db()
    assert rollup.figures == stale, "a later migrate with nothing due recomputes nothing"


def test_on_a_database_with_nothing_sent_the_migration_only_looks(
    db, django_assert_max_num_queries
):
    with django_assert_max_num_queries(3):
        figures_migration()(apps, None)
    assert not Rollup.objects.exists()
