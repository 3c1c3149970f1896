"""Workbooks saved by LibreOffice Calc, shared by the modules that read them: converting
takes seconds, so it is done once per test process."""

import pytest

from bench.agreement import fuzz_files
from reporting.checks import synthetic
from tests.reporting.checks.cases import csv_bytes, person
from tests.spreadsheet_program import saved_as_xlsx


@pytest.fixture(scope="session")
def saved_by_calc(tmp_path_factory) -> dict[str, bytes]:
    """Synthetic and fuzzed files opened and saved as .xlsx by LibreOffice Calc: SSNs,
    ZIPs, dates written as 20250315, flags and codes typed as numbers; blanks left out."""
    p_csv, l_csv = synthetic.generate_files(1_500, seed=5, error_rate=0.05)
    p_fuzz, l_fuzz = fuzz_files(1_000, seed=6)
    return saved_as_xlsx(
        {
            "p": p_csv,
            "l": l_csv,
            "p_fuzz": p_fuzz,
            "l_fuzz": l_fuzz,
            "typed": csv_bytes(typed_by_calc()),
        },
        tmp_path_factory.mktemp("calc"),
    )


def typed_by_calc() -> list[dict[str, str]]:
    """Rows whose values Calc types when it opens the CSV: SSNs and ZIPs of digits
    (leading zeros and all) become numbers, ISO dates become dates, TRUE and FALSE
    numbers shown as truth values; some cells are blank."""
    rows = []
    for i in range(1, 41):
        rows.append(
            person(
                i,
                ssn=["012345678", "123456789", f"123-45-{6000 + i:04d}", ""][i % 4],
                zip_code=["02134", "00501", "021341234", "94110", "", "2134"][i % 6],
                entry_date=["2024-01-15", "20240115", "2024-01-15 08:30", ""][i % 4],
                training_end_date=["2024-06-01", "20240601"][i % 2],
                disability=["0", "1", "TRUE", "FALSE", ""][i % 5],
                low_income=["1", "0", "1.0", "-0", "1e0"][i % 5],
            )
        )
    return rows
