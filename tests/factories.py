"""factory_boy factories. Every object graph stays inside one coalition: a grant's
targets and a membership's invitation belong to the grant's or membership's coalition."""

from datetime import date
from decimal import Decimal

import factory
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from bpij.models import StaffRole, User
from grantees.models import (
    CoachAssignment,
    Coalition,
    Grant,
    MemberRole,
    Membership,
    Sector,
    Target,
    Track,
)

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save(update_fields=["password"])


class StaffFactory(UserFactory):
    """JFF staff with a TOTP authenticator, so they pass the MFA requirement."""

    staff_role = StaffRole.PROGRAM_OFFICER

    @factory.post_generation
    def mfa(obj, create, extracted, **kwargs):
        if create and extracted is not False:
            TOTP.activate(obj, generate_totp_secret())


class CoalitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Coalition

    name = factory.Sequence(lambda n: f"Coalition {n} (test)")
    slug = factory.Sequence(lambda n: f"coalition-{n}")
    lead_organization = factory.Sequence(lambda n: f"Lead College {n}")
    partner_organizations = factory.LazyFunction(lambda: ["Union Local 1", "Workforce Board"])
    states_served = factory.LazyFunction(lambda: ["OR"])
    sectors = factory.LazyFunction(lambda: [Sector.RENEWABLE_ENERGY])
    track = Track.DEVELOPMENT


class GrantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Grant

    coalition = factory.SubFactory(CoalitionFactory)
    award_number = factory.Sequence(lambda n: f"HG-T{n:05d}-23-60-A-41")
    amount = Decimal("2750000.00")
    start_date = date(2023, 10, 1)
    end_date = date(2028, 6, 30)


class TargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Target

    grant = factory.SubFactory(GrantFactory)
    coalition = factory.SelfAttribute("grant.coalition")
    measure = "A-2"
    value = 600


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    coalition = factory.SubFactory(CoalitionFactory)
    user = factory.SubFactory(UserFactory)
    role = MemberRole.ADMIN


class CoachAssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CoachAssignment

    coalition = factory.SubFactory(CoalitionFactory)
    coach = factory.SubFactory(StaffFactory, staff_role=StaffRole.COACH)
