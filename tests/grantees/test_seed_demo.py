import re
from collections import Counter
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Sum

from bpij.models import AuditEvent, StaffRole, User
from grantees import calendar, demo
from grantees.models import (
    US_STATES,
    CoachAssignment,
    Coalition,
    Grant,
    Measure,
    MemberRole,
    Membership,
    Sector,
    Target,
    Track,
)

PASSWORD = "bpij-demo-2026"
MODELS = [Coalition, Grant, Target, User, Membership, CoachAssignment]


def seed(*args: str) -> str:
    out = StringIO()
    # The coalitions' own demo; the reports and coaching are tests/reporting/test_demo.py's.
    call_command("seed_demo", "--no-reports", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def seeded(monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    return seed()


def snapshot() -> dict[str, list[tuple]]:
    return {m.__name__: sorted(map(tuple, m.objects.values_list())) for m in MODELS}


@pytest.mark.django_db
def test_34_fictional_coalitions(seeded):
    coalitions = list(Coalition.objects.all())
    assert len(coalitions) == 34
    for c in coalitions:
        assert c.name.endswith("(demo)")
        assert c.lead_organization.endswith("(demo)")
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", c.slug)
        assert len(c.slug) <= 30
        assert 2 <= len(c.partner_organizations) <= 5
        assert all(p.endswith("(demo)") for p in c.partner_organizations)
        assert 1 <= len(c.states_served) <= 3
        assert set(c.states_served) <= set(US_STATES)
        assert 1 <= len(c.sectors) <= 2
        assert set(c.sectors) <= set(Sector.values)


@pytest.mark.django_db
def test_spread_over_25_states_and_dc_all_sectors_and_tracks(seeded):
    coalitions = list(Coalition.objects.all())
    primary = {c.states_served[0] for c in coalitions}
    assert len(primary) == 26
    assert "DC" in primary
    assert len(primary - {"DC"}) == 25
    assert {s for c in coalitions for s in c.sectors} == set(Sector.values)
    assert any(len(c.sectors) == 2 for c in coalitions)
    assert any(len(c.states_served) > 1 for c in coalitions)
    assert {c.track for c in coalitions} == set(Track.values)


@pytest.mark.django_db
def test_one_grant_each_totalling_about_94_million(seeded):
    assert Grant.objects.count() == 34
    assert set(Grant.objects.values_list("coalition", flat=True)) == set(
        Coalition.objects.values_list("pk", flat=True)
    )
    total = Grant.objects.aggregate(total=Sum("amount"))["total"]
    assert Decimal("93500000") <= total <= Decimal("94500000")
    for grant in Grant.objects.all():
        assert re.fullmatch(r"HG-40\d{3}-23-60-A-\d{2}", grant.award_number)
        assert Decimal("1500000") <= grant.amount <= Decimal("5000000")
        assert str(grant.start_date) == "2023-10-01"
        assert str(grant.end_date) == "2028-06-30"


@pytest.mark.django_db
def test_seven_targets_per_grant_with_rising_milestones(seeded):
    quarters = [str(q) for q in calendar.quarters_between(demo.PERIOD_START, demo.PERIOD_END)]
    assert quarters[0] == "2023Q4"
    assert quarters[-1] == "2028Q2"
    for grant in Grant.objects.prefetch_related("targets"):
        targets = {t.measure: t for t in grant.targets.all()}
        assert set(targets) == set(Measure.values)
        assert all(t.coalition_id == grant.coalition_id for t in targets.values())
        served = targets[Measure.PARTICIPANTS_SERVED].value
        assert served == pytest.approx(float(grant.amount) / 4500, abs=1)
        assert targets[Measure.BEGAN_TRAINING].value < served
        assert targets[Measure.INCUMBENT_ADVANCED].value < targets[Measure.ENTERED_EMPLOYMENT].value
        for target in targets.values():
            assert list(target.milestones) == quarters
            values = list(target.milestones.values())
            assert values == sorted(values)
            assert values[-1] == target.value


@pytest.mark.django_db
def test_every_coalition_has_one_coach_and_three_members(seeded):
    coaches = Counter()
    for coalition in Coalition.objects.all():
        assignments = list(coalition.coach_assignments.select_related("coach"))
        assert len(assignments) == 1
        assert assignments[0].coach.staff_role == StaffRole.COACH
        coaches[assignments[0].coach.email] += 1
        members = {m.user.email: m.role for m in coalition.memberships.select_related("user")}
        assert members == {
            f"admin@{coalition.slug}.example": MemberRole.ADMIN,
            f"reporter@{coalition.slug}.example": MemberRole.REPORTER,
            f"viewer@{coalition.slug}.example": MemberRole.VIEWER,
        }
    assert sorted(coaches) == [f"coach{i}@jff.example" for i in range(1, 7)]
    assert max(coaches.values()) - min(coaches.values()) <= 1


@pytest.mark.django_db
def test_staff_accounts(seeded):
    roles = dict(User.objects.exclude(staff_role="").values_list("email", "staff_role"))
    assert roles == {
        "admin@jff.example": StaffRole.JFF_ADMIN,
        "officer@jff.example": StaffRole.PROGRAM_OFFICER,
        **{f"coach{i}@jff.example": StaffRole.COACH for i in range(1, 7)},
        "fpo@dol.example": StaffRole.FUNDER_VIEWER,
    }
    assert User.objects.get(email="admin@jff.example").is_staff
    assert list(User.objects.filter(is_staff=True).values_list("email", flat=True)) == [
        "admin@jff.example"
    ]
    assert not User.objects.filter(is_superuser=True).exists()


@pytest.mark.django_db
def test_every_account_is_demo_named_and_signs_in(seeded):
    users = list(User.objects.all())
    assert len(users) == 34 * 3 + 9
    assert all(u.is_demo and u.is_active and u.full_name for u in users)
    assert all(u.email.endswith(".example") for u in users)
    assert len({u.password for u in users}) == 1  # hashed once
    user = User.objects.get(email="reporter@cascadia-clean-energy.example")
    assert user.check_password(PASSWORD)
    assert User.objects.get(email="coach1@jff.example").check_password(PASSWORD)


@pytest.mark.django_db
def test_password_from_environment(monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "another-demo-secret")
    seed("--quiet")
    assert User.objects.get(email="officer@jff.example").check_password("another-demo-secret")


@pytest.mark.django_db
def test_running_twice_changes_nothing(seeded):
    before = snapshot()
    out = seed()
    assert snapshot() == before
    assert "nothing changed" in out
    assert " 0 created" in out
    assert "brought back" not in out


@pytest.mark.django_db
def test_rerun_keeps_changed_passwords_unless_asked(seeded):
    user = User.objects.get(email="admin@jff.example")
    user.set_password("my-own-password")
    user.save()

    seed("--quiet")
    user.refresh_from_db()
    assert user.check_password("my-own-password")

    out = seed("--quiet", "--reset-passwords")
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert "Passwords reset for 111 demo accounts" in out


@pytest.mark.django_db
def test_reset_passwords_leaves_real_accounts_alone(monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    User.objects.create_user(email="coach2@jff.example", password="real-person", full_name="R")
    seed("--quiet", "--reset-passwords")
    real = User.objects.get(email="coach2@jff.example")
    assert real.check_password("real-person")
    assert not real.is_demo


@pytest.mark.django_db
def test_rerun_brings_demo_rows_back(seeded):
    coalition = Coalition.objects.get(slug="cascadia-clean-energy")
    Coalition.objects.filter(pk=coalition.pk).update(track=Track.DEVELOPMENT, sectors=[])
    Target.objects.filter(coalition=coalition, measure=Measure.BEGAN_TRAINING).delete()
    Membership.objects.filter(coalition=coalition, user__email__startswith="viewer@").update(
        role=MemberRole.REPORTER
    )

    out = seed("--quiet")

    coalition.refresh_from_db()
    assert coalition.track == Track.SCALING
    assert coalition.sectors == [Sector.RENEWABLE_ENERGY]
    assert Target.objects.filter(coalition=coalition).count() == 7
    assert (
        Membership.objects.get(coalition=coalition, user__email__startswith="viewer@").role
        == MemberRole.VIEWER
    )
    assert "brought back" in out
    assert Coalition.objects.count() == 34


@pytest.mark.django_db
def test_seeding_is_not_audited(seeded):
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_prints_summary_and_sign_ins(seeded):
    assert "coalitions" in seeded
    assert "34 created" in seeded
    assert "admin@jff.example" in seeded
    assert "coach1@jff.example" in seeded
    assert "reporter@<slug>.example" in seeded
    assert PASSWORD in seeded
    assert "admin@jff.example" not in seed("--quiet")


@pytest.mark.django_db
def test_if_empty_leaves_a_database_with_coalitions_alone():
    from tests.factories import CoalitionFactory

    CoalitionFactory(name="Real Coalition")
    out = StringIO()
    call_command("seed_demo", "--if-empty", stdout=out)
    assert Coalition.objects.count() == 1
    assert "admin@jff.example" in out.getvalue()


@pytest.mark.django_db
def test_says_it_is_loading_before_it_loads(seeded):
    assert seeded.splitlines()[0] == (
        "Loading the demo data (coalitions and sign-ins); this takes a minute or so…"
    )


@pytest.mark.django_db
def test_if_empty_says_the_demo_data_is_already_there():
    from tests.factories import CoalitionFactory

    CoalitionFactory(name="Real Coalition")
    out = StringIO()
    call_command("seed_demo", "--if-empty", stdout=out)
    assert out.getvalue().splitlines()[0] == (
        "Demo data already there (the database has coalitions): not loaded again."
    )
