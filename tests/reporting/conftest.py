import pytest

from reporting import services
from reporting.models import ReportingPeriod


@pytest.fixture
def period_a(cast) -> ReportingPeriod:
    """Coalition A's 2025Q3 period (its grant runs 2023-10-01 .. 2028-06-30)."""
    services.periods_ensure(grant=cast.coalition_a.grants.get())
    return ReportingPeriod.objects.get(coalition=cast.coalition_a, quarter="2025Q3")
