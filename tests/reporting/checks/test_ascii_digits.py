"""Digits mean ASCII 0-9: polars' \\d also matches other scripts' digits, which let
fullwidth numbers through the checks and then broke storing the records."""

import pytest

from tests.reporting.checks.cases import Files, job, person


@pytest.mark.parametrize(
    ("files", "code", "column"),
    [
        (Files([person(1)], [job(1, hours_per_week="４０")]), "V04", "hours_per_week"),
        (Files([person(1)], [job(1, hourly_wage="１８.００")]), "V04", "hourly_wage"),
        (Files([person(1)], [job(1, naics_code="２３７１３０")]), "V08", "naics_code"),
        (Files([person(1, zip_code="９４１１０")]), "V10", "zip_code"),
        (Files([person(1, ssn="１２３-４５-６７８９")]), "V11", "ssn"),
        (Files([person(1, training_onet="４７-２１１１.００")]), "V07", "training_onet"),
        (Files([person(1, entry_date="２０２４０１１５")]), "V02", "entry_date"),
    ],
)
def test_numbers_in_other_scripts_digits_are_refused(files, code, column):
    found = {(f.code, f.column) for f in files.check().findings}
    assert (code, column) in found
