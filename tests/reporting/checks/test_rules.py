"""One failing and one passing example for every rule code of DATA-CONTRACT.md §3."""

import pytest

from tests.reporting.checks.cases import ALL_CODES, CASES, WARNINGS


def test_every_rule_code_has_a_case():
    assert sorted(case.code for case in CASES) == ALL_CODES


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.code)
def test_the_failing_example_gives_the_finding_where_the_grantee_sees_it(case):
    result = case.failing.check()
    found = [f for f in result.findings if f.code == case.code]
    assert case.at in [(f.file, f.row, f.column) for f in found], [
        f.as_dict() for f in result.findings
    ]
    assert {f.severity for f in found} == {"warning" if case.code in WARNINGS else "error"}
    assert all(f.message for f in found)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.code)
def test_the_passing_example_gives_no_finding_at_all(case):
    result = case.passing.check()
    assert [f.as_dict() for f in result.findings] == []
