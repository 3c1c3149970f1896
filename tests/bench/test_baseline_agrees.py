"""The benchmark's yardstick, bench/baseline.py (the rules written plainly with the csv
module), finds exactly what the engine finds, as a multiset of (code, file, row, column):
so that "N× faster than a straightforward implementation" compares like with like."""

import pytest

from bench import baseline
from bench.agreement import compare, compare_synthetic, fuzz_files
from reporting import contract
from tests.reporting.checks.cases import CASES

ROW_CODES = {f"V{i:02d}" for i in range(1, 12)} | {"D01", "D02", "D03", "F04"}
ROW_CODES |= {f"L{i:02d}" for i in range(1, 17)}


KINDS = {
    contract.Kind.PARTICIPANT_ID: "id",
    contract.Kind.HOURLY_WAGE: "wage",
} | {
    kind: kind.value for kind in contract.Kind if kind.name not in {"PARTICIPANT_ID", "HOURLY_WAGE"}
}


@pytest.mark.parametrize("kind", [contract.PARTICIPANTS, contract.PLACEMENTS])
def test_the_baselines_own_column_table_is_the_contracts(kind):
    def ours(column: contract.Column) -> tuple:
        return (
            column.name,
            column.pirl,
            KINDS[column.kind],
            column.required,
            sorted(column.codes),
            column.two_digit,
            column.blank_means,
            column.max_length,
        )

    def theirs(column: baseline.Column) -> tuple:
        return (*column[:4], sorted(column.codes), *column[5:])

    assert [theirs(c) for c in baseline.COLUMNS[kind]] == [ours(c) for c in contract.COLUMNS[kind]]
    assert baseline.US_STATE_CODES == contract.US_STATE_CODES
    assert (baseline.MAX_FILE_BYTES, baseline.MAX_DATA_ROWS) == (
        contract.MAX_FILE_BYTES,
        contract.MAX_DATA_ROWS,
    )


def test_the_baseline_finds_what_the_engine_finds_in_a_synthetic_submission():
    comparison = compare_synthetic(500, seed=3, error_rate=0.1)

    assert comparison.agree, comparison.describe()
    assert len({code for code, *_ in comparison.engine}) >= 10


def test_they_agree_with_tricky_values_in_every_column():
    participants, placements = fuzz_files(500, seed=4)

    comparison = compare(participants, placements)

    assert comparison.agree, comparison.describe()
    # Every rule that reads rows came into play.
    assert {code for code, *_ in comparison.engine} == ROW_CODES


@pytest.mark.parametrize(
    ("case", "which"),
    [(c, w) for c in CASES if c.code not in {"H01", "H02"} for w in ("failing", "passing")],
    ids=lambda value: value if isinstance(value, str) else value.code,
)
def test_they_agree_on_each_rule_codes_examples(case, which):
    files = getattr(case, which)

    comparison = compare(files.participant_bytes(), files.placement_bytes(), files.period)

    assert comparison.agree, comparison.describe()
