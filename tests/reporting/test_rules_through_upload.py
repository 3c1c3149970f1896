"""Every rule code, failing and passing, through a real upload: the file is stored, the
check job runs, and the finding is stored where the grantee's spreadsheet shows it."""

import io

import pytest
from django.urls import reverse

from reporting.models import Finding, Submission, SubmissionState
from tests.reporting.checks.cases import CASES, csv_bytes, person

UPLOAD_CASES = [case for case in CASES if case.failing.history is None]


@pytest.fixture(autouse=True)
def in_october_2025(time_machine):
    time_machine.move_to("2025-10-20 10:00 -0400")


def upload_files(client, coalition, quarter, participants: bytes, placements: bytes | None):
    client.post(reverse("reporting:submission-start", args=[coalition.code, quarter]))
    submission = Submission.objects.get(period__coalition=coalition, period__quarter=quarter)
    for kind, content in (("participants", participants), ("placements", placements)):
        if content is None:
            continue
        payload = io.BytesIO(content)
        payload.name = f"{kind}.csv"
        response = client.post(
            reverse("reporting:upload", args=[submission.code]), {"kind": kind, "file": payload}
        )
        assert response.status_code == 302
    return submission


def stored(submission):
    return set(
        Finding.objects.filter(upload__submission=submission, upload__is_current=True).values_list(
            "code", "file", "row", "column"
        )
    )


@pytest.mark.parametrize("case", UPLOAD_CASES, ids=lambda case: case.code)
@pytest.mark.parametrize("outcome", ["failing", "passing"])
def test_each_rule_through_an_upload(
    cast, client_for, period_a, django_capture_on_commit_callbacks, case, outcome
):
    files = getattr(case, outcome)
    with django_capture_on_commit_callbacks(execute=True):
        submission = upload_files(
            client_for(cast.admin_a),
            cast.coalition_a,
            files.period,
            files.participant_bytes(),
            files.placement_bytes(),
        )
    codes = {code for code, *_ in stored(submission)}
    if outcome == "failing":
        file, row, column = case.at
        assert (case.code, file, row, column or "") in stored(submission)
    else:
        assert case.code not in codes


def test_history_rules_compare_with_the_previous_accepted_report(
    cast, client_for, django_capture_on_commit_callbacks
):
    """H01/H02 against the coalition's latest accepted report of an earlier quarter."""
    from reporting.services import periods_ensure

    periods_ensure(grant=cast.coalition_a.grants.get())
    client = client_for(cast.admin_a)
    with django_capture_on_commit_callbacks(execute=True):
        earlier = upload_files(
            client, cast.coalition_a, "2025Q2", csv_bytes([person(1), person(2)]), None
        )
    Submission.objects.filter(pk=earlier.pk).update(state=SubmissionState.ACCEPTED)
    with django_capture_on_commit_callbacks(execute=True):
        later = upload_files(
            client,
            cast.coalition_a,
            "2025Q3",
            csv_bytes([person(1, entry_date="20240116")]),
            None,
        )
    codes = {(code, row, column) for code, _, row, column in stored(later)}
    assert ("H02", 2, "entry_date") in codes
    assert any(code == "H01" for code, _, _ in codes)


def test_quarterly_figures_for_a_coalition_read_its_accepted_report(
    cast, client_for, period_a, django_capture_on_commit_callbacks, tmp_path
):
    """`quarterly_figures --coalition` gives the same figures as the files it was sent."""
    import json
    from io import StringIO

    from django.core.management import call_command

    from tests.reporting.checks.cases import job

    people = csv_bytes([person(1), person(2), person(3, exit_date="20250815")])
    jobs = csv_bytes([job(1), job(3)])
    with django_capture_on_commit_callbacks(execute=True):
        submission = upload_files(
            client_for(cast.admin_a), cast.coalition_a, "2025Q3", people, jobs
        )
    Submission.objects.filter(pk=submission.pk).update(state=SubmissionState.ACCEPTED)
    (tmp_path / "p.csv").write_bytes(people)
    (tmp_path / "l.csv").write_bytes(jobs)

    def figures(*args):
        out = StringIO()
        call_command("quarterly_figures", *args, "--period", "2025Q3", stdout=out)
        return json.loads(out.getvalue())

    stored = figures("--coalition", "alpha")
    from_files = figures(
        "--participants", str(tmp_path / "p.csv"), "--placements", str(tmp_path / "l.csv"),
        "--grant-start", "2023-10-01",
    )  # fmt: skip
    assert stored == from_files
    assert stored["windows"]["grant_to_date"]["A-2"] == 3
