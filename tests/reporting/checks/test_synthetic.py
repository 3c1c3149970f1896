"""The seeded generator the benchmarks use: deterministic, clean when asked to be."""

import collections

from grantees.calendar import Quarter
from reporting.checks import engine
from reporting.checks.synthetic import generate_files

PERIOD = Quarter.parse("2025Q3")


def test_the_same_seed_gives_the_same_bytes_and_another_seed_other_bytes():
    assert generate_files(50, seed=1) == generate_files(50, seed=1, period="2025Q3")
    assert generate_files(50, seed=1) != generate_files(50, seed=2)


def test_a_clean_submission_has_no_finding_at_all():
    participants, placements = generate_files(3000, seed=11, error_rate=0, period=PERIOD)

    result = engine.check_submission(("p.csv", participants), ("l.csv", placements), period=PERIOD)

    assert result.findings == []
    assert result.participants.kept.height == 3000
    assert 0.3 < result.placements.kept.height / 3000 < 0.6


def test_an_error_rate_breaks_about_that_share_of_rows():
    participants, placements = generate_files(3000, seed=5, error_rate=0.05, period=PERIOD)

    result = engine.check_submission(("p.csv", participants), ("l.csv", placements), period=PERIOD)

    held = 3000 - result.participants.kept.height
    assert 0.03 * 3000 < held < 0.1 * 3000
    assert len(collections.Counter(f.code for f in result.findings)) >= 10


def test_the_checking_core_imports_no_django():
    import subprocess
    import sys

    from django.conf import settings

    code = (
        "import sys, reporting.checks.engine, reporting.checks.synthetic; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'django', 'celery'}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert done.stdout.strip() == "[]"
