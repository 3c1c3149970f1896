import pytest
from django.urls import reverse

from reporting import services
from reporting.models import ReportingPeriod, Submission
from tests.reporting.checks.cases import LEADING_ZEROS, csv_bytes
from tests.spreadsheet_program import saved_as_xlsx


@pytest.fixture
def period_a(cast) -> ReportingPeriod:
    """Coalition A's 2025Q3 period (its grant runs 2023-10-01 .. 2028-06-30)."""
    services.periods_ensure(grant=cast.coalition_a.grants.get())
    return ReportingPeriod.objects.get(coalition=cast.coalition_a, quarter="2025Q3")


@pytest.fixture(scope="session")
def saved_by_libreoffice(tmp_path_factory) -> dict[str, bytes]:
    """``LEADING_ZEROS`` as LibreOffice Calc saves it as .xlsx (made once per run)."""
    folder = tmp_path_factory.mktemp("libreoffice")
    return saved_as_xlsx({"leading_zeros": csv_bytes(LEADING_ZEROS)}, folder)


@pytest.fixture
def report(cast, client_for, period_a):
    """Coalition A's administrator, signed in, with the 2025Q3 report started."""
    client = client_for(cast.admin_a)
    client.post(reverse("reporting:submission-start", args=[cast.coalition_a.code, "2025Q3"]))
    return client, Submission.objects.get(period=period_a)
