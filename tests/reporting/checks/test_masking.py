"""An SSN never appears in clear in a finding, a message or an exception."""

import re

import pytest

from grantees.calendar import Quarter
from reporting.checks import engine
from tests.reporting.checks.cases import Files, csv_bytes, person

SSNS = ["123-45-6789", "123456789", "000-45-6789", "666456789", "123-00-6789", "1234-5678"]


def test_no_finding_shows_more_than_the_last_four_digits_of_an_ssn():
    people = [person(i, ssn=ssn) for i, ssn in enumerate(SSNS, start=1)]
    people.append(person(9, ssn="123456789", participant_id="234567890"))
    people.append(person(10, participant_id="345 67 8901"))
    result = Files(people).check()

    text = " ".join(f"{f.value} {f.message}" for f in result.findings)
    assert not re.search(r"\d{5}", text.replace("20240115", "")), text
    # Eight digits (1234-5678) may be an SSN whose leading zero a spreadsheet dropped:
    # it is shown by its last four, as a full SSN is.
    assert {f.value for f in result.findings if f.column == "ssn"} <= {
        "***-**-6789",
        "***-**-5678",
        "(masked)",
    }
    assert "***-**-7890" in {f.value for f in result.findings if f.code == "V06"}
    assert "***-**-8901" in {f.value for f in result.findings if f.code == "V05"}


def test_a_failing_ssn_hasher_does_not_leak_the_ssn_it_was_given():
    def broken(ssn: str) -> str:
        raise RuntimeError("hasher unavailable")

    people = [person(1, ssn="123-45-6789"), person(2, ssn="123-45-6789")]
    with pytest.raises(RuntimeError) as error:
        engine.check_submission(
            ("p.csv", csv_bytes(people)), period=Quarter.parse("2025Q3"), ssn_hasher=broken
        )
    assert "6789" not in str(error.value)
