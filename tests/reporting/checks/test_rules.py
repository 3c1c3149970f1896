"""One failing and one passing example for every rule code of DATA-CONTRACT.md §3."""

import re
from pathlib import Path

import pytest

from reporting import checks
from reporting.checks import rules
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


def _codes_in_the_engine() -> set[str]:
    """Every rule code written in the checking core's source: the codes it can emit
    (``"V11:masked"`` is V11 with a reason, as values.py slices it)."""
    folder = Path(checks.__file__).parent
    found: set[str] = set()
    for source in folder.glob("*.py"):
        if source.name == "rules.py":
            continue
        found |= set(re.findall(r"""["']([FVDLH][0-9]{2})(?=["':])""", source.read_text()))
    return found


def test_every_rule_code_the_engine_can_emit_has_a_plain_title():
    emitted = _codes_in_the_engine()
    assert set(ALL_CODES) | {"F06"} <= emitted, "the source scan finds the engine's codes"
    assert sorted(emitted - set(rules.RULES)) == []
    for code in emitted:
        rule = rules.RULES[code]
        assert rule.title
        assert rule.title != code
        assert rule.todo
        assert str(rule.severity) == ("warning" if code in WARNINGS | {"F06"} else "error")


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.code)
def test_every_finding_of_the_failing_examples_has_a_title(case):
    for finding in case.failing.check().findings:
        assert rules.title(finding.code) != finding.code, finding.as_dict()
        assert rules.RULES[finding.code].severity is finding.severity
