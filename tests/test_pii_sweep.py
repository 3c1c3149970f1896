"""The PII sweep (issue 9): after a grantee uploads SSNs where they belong, where they do
not (a column they were shifted into) and in a column the contract does not have, no
full SSN is found anywhere the hub keeps or shows data — the database, the stored files,
any page or htmx fragment any role reaches, any download, the log — except the
uploader's own original file, which is where the SSNs came from.

One scenario is built once for the module, through the pages and services people use:
coalition A's reporter uploads 2025Q2's files through the upload page, its administrator
certifies them, the program officer accepts them and asks for every export (rendered,
PDFs included); then the reporter uploads 2025Q3's files, whose shifted SSNs are errors,
so that version stays a draft with findings. The checks, roll-ups and exports run in
process (Celery is eager in tests). Everything is rolled back at the end.
"""

import csv
import html
import io
import logging
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine
from django.conf import settings
from django.db import connection, transaction
from django.test import Client, TestCase
from django.urls import reverse
from pypdf import PdfReader

from bpij import tenancy
from bpij.models import StaffRole, User
from reporting import services
from reporting.checks import synthetic
from reporting.models import Export, ExportKind, Finding, Submission, SubmissionState, Upload
from reporting.services import exports
from tests import builders, factories
from tests.conftest import build_cast, sign_in

# -- The SSNs -----------------------------------------------------------------------------

# Distinctive numbers (area 219, group 09), each written once in the files below, half
# with dashes and half without; a leak is either spelling (or a mix) of any of them.
IN_SSN_COLUMN = ["219-09-8801", "219098802"]  # 2025Q2, where they belong
IN_EXTRA_COLUMN = ["219-09-8803", "219098804"]  # 2025Q2, social_security_number
IN_JOB_TITLE = "219-09-8805"  # 2025Q2's placements: a free-text column
DRAFT_SSN_COLUMN = "219098806"  # 2025Q3
IN_STATE_CODE = "219-09-8807"  # 2025Q3, shifted into state_code
IN_ZIP_CODE = "219098808"  # 2025Q3, shifted into zip_code
DRAFT_EXTRA_COLUMN = "219-09-8809"  # 2025Q3, social_security_number
IN_PARTICIPANT_ID = "219098810"  # 2025Q3, typed as the participant's ID

MASKED_IN_STATE_CODE = "***-**-8807"

ACCEPTED_SSNS = [*IN_SSN_COLUMN, *IN_EXTRA_COLUMN, IN_JOB_TITLE]
# 2025Q3's placements, sent as a workbook whose cells hold the SSNs as numbers.
AS_NUMBERS = {"job_title": 219098811, "participant_id": 219098812, "ssn": 219098813}
DRAFT_SSNS = [
    DRAFT_SSN_COLUMN,
    IN_STATE_CODE,
    IN_ZIP_CODE,
    DRAFT_EXTRA_COLUMN,
    IN_PARTICIPANT_ID,
    *(str(number) for number in AS_NUMBERS.values()),
]
ALL_SSNS = ACCEPTED_SSNS + DRAFT_SSNS


def _digits(ssn: str) -> str:
    return ssn.replace("-", "")


def _pattern(ssn: str) -> str:
    d = _digits(ssn)
    return rf"(?<![0-9]){d[:3]}-?{d[3:5]}-?{d[5:]}(?![0-9])"


FULL_SSN = re.compile("|".join(_pattern(ssn) for ssn in ALL_SSNS))
# A full SSN in a bytea column reads as hex in a row's text.
FULL_SSN_HEX = re.compile(
    "|".join(
        spelling.encode().hex()
        for ssn in ALL_SSNS
        for spelling in (_digits(ssn), f"{_digits(ssn)[:3]}-{_digits(ssn)[3:5]}-{_digits(ssn)[5:]}")
    )
)


def full_ssns(text: str) -> list[str]:
    return sorted({m.group(0) for m in FULL_SSN.finditer(text)})


# -- Reading what a file holds ------------------------------------------------------------


def readable(data: bytes, depth: int = 0) -> str:
    """What a person (or a thief) reads in these bytes: the text of a PDF, the members of
    a zip (a workbook's XML, a data pack's CSV files) and the bytes themselves."""
    parts = [data.decode("utf-8", errors="replace")]
    if data.startswith(b"%PDF"):
        reader = PdfReader(io.BytesIO(data))
        parts += [page.extract_text() or "" for page in reader.pages]
    elif data.startswith(b"PK") and depth < 2:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts += [readable(archive.read(name), depth + 1) for name in archive.namelist()]
    return "\n".join(parts)


def body(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


# -- The scenario -------------------------------------------------------------------------

ROLES = (
    "admin_a",
    "reporter_a",
    "viewer_a",
    "coach_a",
    "officer",
    "jff_admin",
    "fpo",
    "coach_b",
    "outsider_b",
)
# Only coalition A's filers may take an original file (docs/access.md); it is the file
# they sent, SSNs and all.
ORIGINAL_TAKERS = {"admin_a", "reporter_a"}
EASTERN = ZoneInfo("America/New_York")
# Those who read coalition A's findings (docs/access.md): its members, its coach, staff.
FINDINGS_READERS = {"admin_a", "reporter_a", "viewer_a", "coach_a", "officer", "jff_admin"}


class Recorder(logging.Handler):
    """Every log record, before any handler's filter: what code asked to be logged."""

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@dataclass
class Scenario:
    people: dict[str, User]
    accepted: Submission
    draft: Submission
    uploads: list[Upload]
    exports: list[Export]
    cookies: dict[str, dict[str, str]] = field(default_factory=dict)
    log: Recorder = field(default_factory=Recorder)

    def client(self, who: str) -> Client:
        client = Client()
        for name, value in self.cookies[who].items():
            client.cookies[name] = value
        return client


def _rows(data: bytes) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(data.decode()))
    return list(reader.fieldnames or []), list(reader)


def _csv(header: list[str], rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\r\n", restval="")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def accepted_files() -> tuple[bytes, bytes]:
    """2025Q2: files that pass the checks (an extra column is a warning), with SSNs in
    the ssn column, in an extra column and in a placement's job title."""
    people, placements = synthetic.generate_files(12, seed=91, period="2025Q2")
    header, rows = _rows(people)
    rows[0]["ssn"], rows[1]["ssn"] = IN_SSN_COLUMN
    rows[2]["social_security_number"], rows[3]["social_security_number"] = IN_EXTRA_COLUMN
    jobs_header, jobs = _rows(placements)
    assert jobs, "the synthetic file has placements"
    jobs[0]["job_title"] = IN_JOB_TITLE
    return _csv([*header, "social_security_number"], rows), _csv(jobs_header, jobs)


def draft_files() -> tuple[bytes, bytes]:
    """2025Q3: SSNs shifted into state_code, zip_code and participant_id (errors), one
    in the ssn column (twice) and one in an extra column; the placements are a workbook with
    SSNs typed as numbers in job_title, participant_id and an extra ``ssn`` column."""
    people, placements = synthetic.generate_files(20, seed=92, period="2025Q3")
    header, rows = _rows(people)
    rows[0]["ssn"] = DRAFT_SSN_COLUMN
    rows[1]["state_code"] = IN_STATE_CODE
    rows[2]["zip_code"] = IN_ZIP_CODE
    rows[3]["social_security_number"] = DRAFT_EXTRA_COLUMN
    rows[4]["participant_id"] = IN_PARTICIPANT_ID
    # The same SSN twice in the file (D02 compares SSNs and must not quote them), and
    # 2025Q2's first SSN given again for another person.
    rows[5]["ssn"] = DRAFT_SSN_COLUMN
    rows[6]["ssn"] = IN_SSN_COLUMN[0]
    jobs_header, jobs = _rows(placements)
    assert len(jobs) >= len(AS_NUMBERS), "the synthetic file has placements"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append([*jobs_header, "ssn"])
    for index, job in enumerate(jobs):
        cells: list[str | int] = [job[name] for name in jobs_header] + [""]
        if index < len(AS_NUMBERS):
            name = list(AS_NUMBERS)[index]
            cells[[*jobs_header, "ssn"].index(name)] = AS_NUMBERS[name]
        sheet.append(cells)
    workbook = io.BytesIO()
    book.save(workbook)
    return _csv([*header, "social_security_number"], rows), workbook.getvalue()


def _committed(callable_):
    # Run what is queued on commit (checks, roll-ups) now, as a worker would.
    with TestCase.captureOnCommitCallbacks(execute=True):
        return callable_()


def upload_through_the_page(client: Client, submission: Submission, kind: str, data: bytes):
    payload = io.BytesIO(data)
    extension = "xlsx" if data.startswith(b"PK") else "csv"
    payload.name = f"{kind}-{submission.period.quarter}.{extension}"
    response = _committed(
        lambda: client.post(
            reverse("reporting:upload", args=[submission.code]), {"kind": kind, "file": payload}
        )
    )
    assert response.status_code == 302, response.status_code


def start_through_the_page(client: Client, coalition, quarter: str) -> Submission:
    response = _committed(
        lambda: client.post(reverse("reporting:submission-start", args=[coalition.code, quarter]))
    )
    assert response.status_code == 302, response.status_code
    return Submission.objects.filter(period__coalition=coalition, period__quarter=quarter).latest(
        "version"
    )


def build_scenario(log: Recorder, traveller) -> Scenario:
    cast = build_cast()
    a = cast.coalition_a
    fpo = factories.StaffFactory(email="fpo@dol.example", staff_role=StaffRole.FUNDER_VIEWER)
    coach_b = factories.StaffFactory(email="coach.b@jff.example", staff_role=StaffRole.COACH)
    factories.CoachAssignmentFactory(coalition=cast.coalition_b, coach=coach_b)
    people = {name: cast[name] for name in ROLES if name not in ("fpo", "coach_b")}
    people |= {"fpo": fpo, "coach_b": coach_b}
    builders.period_of(a, "2025Q2")
    reporter = sign_in(Client(), cast.reporter_a)
    admin = sign_in(Client(), cast.admin_a)

    # 2025Q2: uploaded, certified, accepted.
    traveller.move_to(datetime(2025, 7, 10, 10, tzinfo=EASTERN))
    accepted = start_through_the_page(reporter, a, "2025Q2")
    people_file, placement_file = accepted_files()
    upload_through_the_page(reporter, accepted, "participants", people_file)
    upload_through_the_page(reporter, accepted, "placements", placement_file)
    accepted.refresh_from_db()
    assert accepted.state == SubmissionState.READY, accepted.state
    certified = _committed(
        lambda: admin.post(
            reverse("reporting:certify", args=[accepted.code]),
            {"name": "Ada Admin", "title": "Director", "agreed": "on"},
        )
    )
    assert certified.status_code == 302
    accepted.refresh_from_db()
    _committed(lambda: services.submission_accept(submission=accepted, actor=cast.officer))
    services.rollup_program(quarter="2025Q2")

    # Every export of the quarter, asked for by the program officer and rendered.
    made = []
    for kind, coalition in [
        (ExportKind.COALITION_REPORT, a),
        (ExportKind.DATA_PACK_XLSX, a),
        (ExportKind.DATA_PACK_CSV, a),
        (ExportKind.PROGRAM_SUMMARY, None),
        (ExportKind.DATA_PACK_XLSX, None),
        (ExportKind.DATA_PACK_CSV, None),
    ]:
        export = exports.export_request(
            actor=cast.officer, kind=kind, quarter="2025Q2", coalition=coalition, enqueue=False
        )
        exports.export_render(export_id=export.pk)
        export.refresh_from_db()
        assert export.file, (kind, export.status, export.error)
        made.append(export)

    # 2025Q3: the shifted SSNs are errors, so the version waits for fixes.
    traveller.move_to(datetime(2025, 10, 20, 10, tzinfo=EASTERN))
    builders.period_of(a, "2025Q3")
    reporter = sign_in(Client(), cast.reporter_a)  # a session does not last a quarter
    draft = start_through_the_page(reporter, a, "2025Q3")
    people_file, placement_file = draft_files()
    upload_through_the_page(reporter, draft, "participants", people_file)
    upload_through_the_page(reporter, draft, "placements", placement_file)
    draft.refresh_from_db()
    assert draft.state == SubmissionState.NEEDS_FIXES, draft.state
    found = set(Finding.objects.filter(upload__submission=draft).values_list("column", "code"))
    shifted = {("state_code", "V09"), ("zip_code", "V10"), ("participant_id", "V06")}
    assert shifted | {("ssn", "D02")} <= found, found

    return Scenario(
        people=people,
        accepted=accepted,
        draft=draft,
        uploads=list(Upload.objects.filter(submission__in=[accepted, draft])),
        exports=made,
        log=log,
    )


@pytest.fixture(scope="module")
def scenario(django_db_setup, django_db_blocker) -> Iterator[Scenario]:
    log = Recorder()
    root = logging.getLogger()
    level = root.level
    root.addHandler(log)
    root.setLevel(logging.DEBUG)
    try:
        with (
            time_machine.travel(datetime(2025, 7, 10, 10, tzinfo=EASTERN)) as traveller,
            django_db_blocker.unblock(),
            transaction.atomic(),
        ):
            # Test code is trusted: it builds in the system scope (tests/conftest.py).
            with tenancy.system_scope():
                built = build_scenario(log, traveller)
            for who, person in built.people.items():
                built.cookies[who] = {
                    name: m.value for name, m in sign_in(Client(), person).cookies.items()
                }
            yield built
            transaction.set_rollback(True)
    finally:
        root.removeHandler(log)
        root.setLevel(level)


# -- Where to look ------------------------------------------------------------------------


def database_rows() -> Iterator[tuple[str, str]]:
    """Every row of every table, as PostgreSQL writes it out as text (what a dump holds),
    read as the owner: row-level security does not hide rows from a stolen dump."""
    quote = connection.ops.quote_name
    with tenancy.as_owner(), connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT t::text FROM {quote(table)} AS t")
            for (text,) in cursor.fetchall():
                yield table, text


def stored_files() -> Iterator[Path]:
    return (path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file())


def start_pages(s: Scenario) -> list[str]:
    """Where each role's walk starts: their home, and every page about the two versions
    and their files (most roles are refused some of them, which is checked too)."""
    a = s.accepted.coalition
    pages = [
        reverse("home"),
        reverse("grantees:coalition-detail", args=[a.code]),
        reverse("reporting:period-list", args=[a.code]),
        reverse("reporting:board"),
        reverse("reporting:review-queue"),
        reverse("reporting:program-dashboard"),
        reverse("reporting:program-exports"),
        reverse("reporting:export-list", args=[a.code]),
        reverse("audit-log"),
        reverse("coaching:home"),
        reverse("coaching:coalition", args=[a.code]),
    ]
    for version in (s.accepted, s.draft):
        pages += [
            reverse("reporting:period-detail", args=[a.code, version.period.quarter]),
            reverse("reporting:findings", args=[version.code]),
            reverse("reporting:preview", args=[version.code]),
            reverse("reporting:submission-review", args=[version.code]),
            reverse("reporting:submission-status", args=[version.code]),
        ]
    pages.append(reverse("reporting:submission-receipt", args=[s.accepted.code]))
    return pages


def downloads(s: Scenario) -> list[str]:
    urls = [reverse("reporting:upload-annotated", args=[u.code]) for u in s.uploads]
    urls += [reverse("reporting:export-download", args=[e.code]) for e in s.exports]
    urls += [reverse("reporting:board-export", args=[fmt]) for fmt in ("csv", "xlsx")]
    # The list of participants missing since the accepted report (H01).
    urls += [
        reverse("reporting:findings-list", args=[v.code, "H01"]) for v in (s.accepted, s.draft)
    ]
    return urls


def originals(s: Scenario) -> list[str]:
    return [reverse("reporting:upload-original", args=[u.code]) for u in s.uploads]


LINK = re.compile(r'\b(href|hx-get)="([^"#]*)')
# Not followed: signing out would end the walk; Django admin is off; allauth's pages are
# about the person's own account.
NOT_FOLLOWED = ("/accounts/", "/admin/", "/static/")
PAGES_PER_ROLE = 300
VARIANTS_PER_PATH = 6  # query strings (filters, pages) followed per path


def walk(client: Client, starts: list[str], skip: set[str]) -> Iterator[tuple[str, bool, object]]:
    """Every page reachable from ``starts`` by links within the hub (bounded), each link
    to an htmx fragment requested as htmx does; yields (url, htmx, response)."""
    queue: list[tuple[str, bool]] = [(url, False) for url in starts]
    queue += [(url, True) for url in starts]
    seen: set[tuple[str, bool]] = set()
    variants: dict[str, int] = {}
    while queue and len(seen) < PAGES_PER_ROLE:
        url, htmx = queue.pop(0)
        if (url, htmx) in seen or urlsplit(url).path in skip:
            continue
        path = urlsplit(url).path
        if urlsplit(url).query:
            if variants.get(path, 0) >= VARIANTS_PER_PATH:
                continue
            variants[path] = variants.get(path, 0) + 1
        seen.add((url, htmx))
        response = client.get(url, HTTP_HX_REQUEST="true") if htmx else client.get(url)
        yield url, htmx, response
        if response.status_code == 302 and response["Location"].startswith("/"):
            if not response["Location"].startswith(NOT_FOLLOWED):
                queue.append((response["Location"], False))
            continue
        if "html" not in response.get("Content-Type", ""):
            continue
        for attribute, link in LINK.findall(response.content.decode(errors="replace")):
            link = html.unescape(link)
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or not link.startswith("/"):
                continue
            if link.startswith(NOT_FOLLOWED):
                continue
            queue.append((link, attribute == "hx-get"))


# -- The sweep ----------------------------------------------------------------------------


def test_the_files_really_held_the_ssns(scenario):
    """The sweep proves something: the uploader's own original holds every SSN, in
    every column, as it was sent — the one place they may be."""
    found: set[str] = set()
    for url in originals(scenario):
        response = scenario.client("reporter_a").get(url)
        assert response.status_code == 200, url
        found.update(full_ssns(readable(body(response))))
    assert {_digits(s) for s in found} == {_digits(s) for s in ALL_SSNS}


def test_no_full_ssn_is_in_the_database(scenario):
    leaks = [
        (table, full_ssns(text) or "(hex)")
        for table, text in database_rows()
        if FULL_SSN.search(text) or FULL_SSN_HEX.search(text)
    ]
    assert leaks == []


def test_no_full_ssn_is_in_a_stored_file(scenario):
    files = list(stored_files())
    assert len(files) >= len(scenario.uploads) + len(scenario.exports)
    leaks = [(str(path), full_ssns(readable(path.read_bytes()))) for path in files]
    assert [(path, found) for path, found in leaks if found] == []


@pytest.mark.parametrize("who", ROLES)
def test_no_page_any_role_reaches_shows_a_full_ssn(scenario, db, who):
    client = scenario.client(who)
    # The original is checked in its own test (only its uploader's coalition takes it).
    skip = {urlsplit(url).path for url in originals(scenario)}
    leaks = []
    answered = 0
    masked_shown = False
    for url, htmx, response in walk(client, start_pages(scenario), skip):
        answered += response.status_code == 200
        text = readable(body(response))
        masked_shown |= MASKED_IN_STATE_CODE in text
        found = full_ssns(text)
        if found:
            leaks.append((url, "htmx" if htmx else "page", response.status_code, found))
    assert leaks == []
    assert answered >= 3
    # The walk reached the findings of those who may read them, where the shifted SSN
    # is named by its last four digits.
    assert masked_shown == (who in FINDINGS_READERS)


@pytest.mark.parametrize("who", ROLES)
def test_no_download_any_role_reaches_holds_a_full_ssn(scenario, db, who):
    client = scenario.client(who)
    leaks = []
    for url in downloads(scenario):
        response = client.get(url)
        found = full_ssns(readable(body(response)))
        if found:
            leaks.append((url, response.status_code, found))
    for url in originals(scenario):
        response = client.get(url)
        if who in ORIGINAL_TAKERS:
            assert response.status_code == 200, url
        else:
            assert response.status_code in (403, 404), (url, response.status_code)
            assert full_ssns(readable(body(response))) == []
    assert leaks == []


def test_the_officer_took_every_download(scenario, db):
    """The downloads above are real files, not refusals, for someone who may take them
    all: the annotated workbooks, both data packs, both PDFs and the board's exports."""
    client = scenario.client("officer")
    for url in downloads(scenario):
        response = client.get(url)
        assert response.status_code == 200, url
        assert len(body(response)) > 0, url


def test_no_full_ssn_was_logged(scenario, caplog):
    caplog.set_level(logging.DEBUG)
    # The walk above logged through the same handler; what the checks and renders logged
    # while the scenario was built is in its recorder.
    text = "\n".join([*scenario.log.lines, caplog.text])
    assert full_ssns(text) == []
