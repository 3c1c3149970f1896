"""Demo data for ``manage.py seed_demo``: 34 fictional coalitions, their grants and targets,
and the demo sign-ins.

Everything here is invented. Every organization carries "(demo)", every address ends in
``.example`` and every account is flagged ``is_demo``, so demo rows are never mistaken for
a real grantee's. ``seed()`` is idempotent: it creates what is missing, brings demo rows
back to these definitions, and leaves existing passwords alone unless asked.
"""

import os
from collections.abc import Iterable
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import models, transaction

from bpij.models import StaffRole, User
from grantees import calendar
from grantees.models import (
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

DEFAULT_PASSWORD = "bpij-demo-2026"
PERIOD_START = date(2023, 10, 1)
PERIOD_END = date(2028, 6, 30)

RE, BB, TR = Sector.RENEWABLE_ENERGY.value, Sector.BROADBAND.value, Sector.TRANSPORTATION.value
DEV, SCALE = Track.DEVELOPMENT.value, Track.SCALING.value

# The last two digits of a DOL award number are the state's FIPS code.
STATE_FIPS = {
    "AZ": "04", "CA": "06", "CO": "08", "DC": "11", "GA": "13", "IL": "17", "KY": "21",
    "LA": "22", "MA": "25", "MI": "26", "MN": "27", "MT": "30", "NV": "32", "NM": "35",
    "NY": "36", "NC": "37", "ND": "38", "OH": "39", "OK": "40", "OR": "41", "PA": "42",
    "TN": "47", "TX": "48", "UT": "49", "VA": "51", "WA": "53",
}  # fmt: skip


def _coalition(
    number: int,
    slug: str,
    name: str,
    lead: str,
    partners: list[str],
    states: list[str],
    sectors: list[str],
    track: str,
    amount: int,
) -> dict[str, Any]:
    return {
        "slug": slug,
        "name": f"{name} (demo)",
        "lead_organization": f"{lead} (demo)",
        "partner_organizations": [f"{p} (demo)" for p in partners],
        "states_served": states,
        "sectors": sectors,
        "track": track,
        "award_number": f"HG-{40900 + number}-23-60-A-{STATE_FIPS[states[0]]}",
        "amount": Decimal(amount),
    }


# The first state of each coalition is its primary state: together they cover 25 states
# and DC. Amounts total $94,000,000.
DEMO_COALITIONS: list[dict[str, Any]] = [
    _coalition(
        1, "cascadia-clean-energy", "Cascadia Clean Energy Workforce Coalition",
        "Puget Sound Technical College",
        ["Evergreen Solar Installers", "Cascade Electrical Workers Local 77",
         "Columbia Basin Workforce Board", "Salish Sea Utility Cooperative"],
        ["WA", "OR"], [RE], SCALE, 3_450_000,
    ),
    _coalition(
        2, "willamette-broadband", "Willamette Valley Broadband Builders",
        "Willamette Valley Community College",
        ["Mid-Valley Workforce Partnership", "Oak Creek Fiber Networks"],
        ["OR"], [BB], DEV, 1_980_000,
    ),
    _coalition(
        3, "golden-state-transit", "Golden State Transit Careers Alliance",
        "Central Coast Workforce Board",
        ["Pacific Rail Maintenance Co.", "Bayshore Transit Workers Union",
         "San Joaquin Technical Institute", "Coastline Bus Manufacturing",
         "Golden Gate Apprenticeship Council"],
        ["CA"], [TR], SCALE, 4_520_000,
    ),
    _coalition(
        4, "sierra-solar", "Sierra Solar Pathways Coalition",
        "Sierra Foothills College",
        ["High Sierra Solar Cooperative", "Tahoe Basin Workforce Board",
         "Granite Peak Electric"],
        ["CA", "NV"], [RE], DEV, 2_240_000,
    ),
    _coalition(
        5, "high-desert-grid", "High Desert Grid Workforce Partnership",
        "Great Basin Institute of Technology",
        ["Silver State Power & Light", "Mojave Line Workers Local 12",
         "High Desert Broadband Cooperative"],
        ["NV", "AZ"], [RE, BB], DEV, 2_610_000,
    ),
    _coalition(
        6, "sonoran-infrastructure", "Sonoran Infrastructure Jobs Coalition",
        "Saguaro Community College District",
        ["Sonoran Workforce Connection", "Desert Rail Constructors",
         "Southwest Road Builders Association", "Copper Valley Transit Authority"],
        ["AZ"], [TR], SCALE, 3_420_000,
    ),
    _coalition(
        7, "rio-grande-energy", "Rio Grande Energy Trades Collaborative",
        "Rio Grande Valley Technical College",
        ["Mesa Solar Works", "Borderland Workforce Alliance"],
        ["NM", "TX"], [RE], DEV, 1_760_000,
    ),
    _coalition(
        8, "front-range-fiber", "Front Range Fiber Futures",
        "Front Range Workforce Center",
        ["Foothills Fiber Company", "Centennial Communications Workers",
         "Boulder Creek Community College"],
        ["CO"], [BB], SCALE, 2_980_000,
    ),
    _coalition(
        9, "wasatch-transit", "Wasatch Transit & Rail Workforce Network",
        "Wasatch Mountain College",
        ["Beehive Rail Services", "Great Salt Lake Workforce Board",
         "Intermountain Transit Mechanics Union"],
        ["UT"], [TR], DEV, 2_150_000,
    ),
    _coalition(
        10, "big-sky-broadband", "Big Sky Broadband Workforce Coalition",
        "Big Sky Tribal College",
        ["Treasure State Telecom Cooperative", "Missouri Breaks Workforce Board"],
        ["MT", "ND"], [BB], DEV, 1_870_000,
    ),
    _coalition(
        11, "northern-plains-wind", "Northern Plains Wind Careers Coalition",
        "Northern Plains Community College",
        ["Prairie Wind Services", "Red River Valley Workforce Board",
         "Plains Turbine Technicians Union", "Dakota Rural Electric Cooperative"],
        ["ND", "MN"], [RE], SCALE, 3_310_000,
    ),
    _coalition(
        12, "north-star-transit", "North Star Transit Workforce Alliance",
        "Twin Rivers Technical College",
        ["North Star Metro Transit", "Lakes Region Workforce Council",
         "Iron Range Bus Builders"],
        ["MN"], [TR], SCALE, 2_870_000,
    ),
    _coalition(
        13, "gulf-coast-energy", "Gulf Coast Energy Transition Coalition",
        "Gulf Coast Workforce Solutions Board",
        ["Bayside Offshore Wind Services", "Coastal Plains College",
         "Gulf Electrical Trades Council", "Galveston Grid Storage Co.",
         "Sabine Pass Apprenticeship Center"],
        ["TX", "LA"], [RE], SCALE, 4_610_000,
    ),
    _coalition(
        14, "lone-star-broadband", "Lone Star Rural Broadband Partnership",
        "Hill Country Technical College",
        ["Pecos Plains Telephone Cooperative", "West Texas Workforce Board"],
        ["TX"], [BB], DEV, 2_050_000,
    ),
    _coalition(
        15, "red-river-roads", "Red River Roads & Bridges Coalition",
        "Red River Career Tech Center",
        ["Sooner Bridge Builders", "Cimarron Workforce Board",
         "Heartland Operating Engineers Local 4"],
        ["OK"], [TR], DEV, 2_330_000,
    ),
    _coalition(
        16, "bayou-grid", "Bayou Grid Resilience Workforce Coalition",
        "Delta Parish Community College",
        ["Crescent Power Line Services", "Acadiana Workforce Board",
         "Bayou Port Logistics"],
        ["LA"], [RE, TR], DEV, 2_470_000,
    ),
    _coalition(
        17, "prairie-state-ev", "Prairie State EV Infrastructure Coalition",
        "Prairie State Workforce Partnership",
        ["Lakeshore EV Charging Co.", "Illinois Valley Community College District",
         "Midwest Electrical Apprenticeship Trust", "Corn Belt Transit Cooperative"],
        ["IL"], [TR, RE], SCALE, 3_440_000,
    ),
    _coalition(
        18, "great-lakes-fiber", "Great Lakes Fiber Workforce Coalition",
        "Great Lakes Regional Workforce Board",
        ["Freshwater Fiber Networks", "Huron Shores College",
         "Lake Erie Communications Workers Local 31"],
        ["MI", "OH"], [BB], SCALE, 3_140_000,
    ),
    _coalition(
        19, "motor-city-mobility", "Motor City Mobility Careers",
        "Motor City Technical Institute",
        ["Riverfront Transit Works", "Wolverine Workforce Board"],
        ["MI"], [TR], DEV, 1_890_000,
    ),
    _coalition(
        20, "buckeye-solar", "Buckeye Solar & Storage Pathways",
        "Scioto Valley Community College",
        ["Buckeye Sunworks", "Central Ohio Workforce Council", "Miami Valley Battery Co."],
        ["OH"], [RE], DEV, 2_260_000,
    ),
    _coalition(
        21, "keystone-infrastructure", "Keystone Infrastructure Careers Coalition",
        "Keystone Workforce Investment Board",
        ["Allegheny Rail & Bridge", "Susquehanna Technical College",
         "Commonwealth Fiber Builders", "Three Rivers Laborers Local 18"],
        ["PA"], [TR, BB], SCALE, 3_640_000,
    ),
    _coalition(
        22, "allegheny-energy", "Allegheny Energy Workforce Partnership",
        "Laurel Highlands College",
        ["Ridgeline Solar Services", "Monongahela Workforce Board"],
        ["PA", "OH"], [RE], DEV, 1_650_000,
    ),
    _coalition(
        23, "empire-state-offshore", "Empire State Offshore Wind Coalition",
        "Long Island Maritime College",
        ["Atlantic Turbine Assembly", "Harbor Marine Trades Union",
         "South Shore Workforce Board", "Empire Offshore Logistics"],
        ["NY"], [RE], SCALE, 4_170_000,
    ),
    _coalition(
        24, "hudson-valley-broadband", "Hudson Valley Broadband Builders",
        "Hudson Valley Workforce Alliance",
        ["Catskill Connect Fiber", "Mid-Hudson Community College",
         "Berkshire Line Technicians"],
        ["NY", "MA"], [BB], DEV, 2_090_000,
    ),
    _coalition(
        25, "bay-state-transit", "Bay State Transit Workforce Coalition",
        "Commonwealth Technical Institute",
        ["Bay State Rail Maintenance", "Pioneer Valley Workforce Board",
         "Transit Mechanics Local 589"],
        ["MA"], [TR], SCALE, 3_060_000,
    ),
    _coalition(
        26, "peach-state-ev", "Peach State EV Workforce Coalition",
        "Chattahoochee Technical Institute",
        ["Peachtree Battery Works", "Piedmont Georgia Workforce Board",
         "Southern Charging Networks"],
        ["GA"], [TR, RE], DEV, 2_580_000,
    ),
    _coalition(
        27, "piedmont-broadband", "Piedmont Broadband Careers Coalition",
        "Piedmont Triad Community College",
        ["Blue Ridge Fiber Cooperative", "Triad Workforce Development Board",
         "Shenandoah Telecom Builders", "Carolina Communications Workers"],
        ["NC", "VA"], [BB], SCALE, 3_290_000,
    ),
    _coalition(
        28, "carolina-clean-energy", "Carolina Clean Energy Trades Alliance",
        "Sandhills Workforce Board",
        ["Longleaf Solar Farms", "Cape Fear Technical College"],
        ["NC"], [RE], DEV, 1_820_000,
    ),
    _coalition(
        29, "old-dominion-offshore", "Old Dominion Offshore Wind Coalition",
        "Tidewater Community College District",
        ["Chesapeake Turbine Services", "Hampton Roads Workforce Council",
         "Tidewater Shipfitters Union", "Virginia Capes Port Authority"],
        ["VA"], [RE], SCALE, 3_900_000,
    ),
    _coalition(
        30, "capital-region-transit", "Capital Region Transit Careers Coalition",
        "Capital Region Workforce Investment Council",
        ["Anacostia Rail Maintenance", "Potomac Bus Operators Union",
         "District Technical Institute"],
        ["DC", "VA"], [TR], SCALE, 3_120_000,
    ),
    _coalition(
        31, "potomac-digital", "Potomac Digital Equity Workforce Coalition",
        "District Community College",
        ["Capitol Fiber Works", "Ward 8 Workforce Collaborative"],
        ["DC"], [BB], DEV, 1_740_000,
    ),
    _coalition(
        32, "tennessee-valley-grid", "Tennessee Valley Grid Workforce Coalition",
        "Tennessee Valley Technical College",
        ["Valley Power Line Services", "Cumberland Workforce Board",
         "Smoky Mountain Electrical Workers", "Riverbend Solar Developers"],
        ["TN", "KY"], [RE], SCALE, 3_400_000,
    ),
    _coalition(
        33, "cumberland-broadband", "Cumberland Broadband Workforce Coalition",
        "Eastern Kentucky Technical College",
        ["Appalachian Fiber Cooperative", "Big Sandy Workforce Board",
         "Cumberland Gap Telecom"],
        ["KY", "TN"], [BB], DEV, 2_310_000,
    ),
    _coalition(
        34, "bluegrass-roads", "Bluegrass Roads & Rail Coalition",
        "Bluegrass Regional Workforce Board",
        ["Bluegrass Bridge Constructors", "Kentucky River Community College"],
        ["KY"], [TR], DEV, 1_880_000,
    ),
]  # fmt: skip

# Targets as a share of participants served; participants served is one per $4,500.
DOLLARS_PER_PARTICIPANT = Decimal(4500)
TARGET_SHARES: dict[str, Decimal] = {
    Measure.PARTICIPANTS_SERVED: Decimal("1"),
    Measure.BEGAN_TRAINING: Decimal("0.85"),
    Measure.COMPLETED_TRAINING: Decimal("0.70"),
    Measure.EARNED_CREDENTIAL: Decimal("0.55"),
    Measure.ENTERED_EMPLOYMENT: Decimal("0.60"),
    Measure.TRAINING_RELATED_EMPLOYMENT: Decimal("0.45"),
    Measure.INCUMBENT_ADVANCED: Decimal("0.05"),
}

# (e-mail, staff role, full name, is_staff)
DEMO_STAFF: list[tuple[str, str, str, bool]] = [
    ("admin@jff.example", StaffRole.JFF_ADMIN, "Dana Whitfield", True),
    ("officer@jff.example", StaffRole.PROGRAM_OFFICER, "Marcus Okafor", False),
    ("coach1@jff.example", StaffRole.COACH, "Priya Ramaswamy", False),
    ("coach2@jff.example", StaffRole.COACH, "Jonah Feldstein", False),
    ("coach3@jff.example", StaffRole.COACH, "Lucía Marquez", False),
    ("coach4@jff.example", StaffRole.COACH, "Terrence Holloway", False),
    ("coach5@jff.example", StaffRole.COACH, "Mei-Ling Chao", False),
    ("coach6@jff.example", StaffRole.COACH, "Samuel Oyelaran", False),
    ("fpo@dol.example", StaffRole.FUNDER_VIEWER, "Harriet Lindqvist", False),
]
COACH_EMAILS = [email for email, role, _, _ in DEMO_STAFF if role == StaffRole.COACH]

# Coalition accounts: admin@<slug>.example and so on.
MEMBER_ACCOUNTS: list[tuple[str, str]] = [
    ("admin", MemberRole.ADMIN),
    ("reporter", MemberRole.REPORTER),
    ("viewer", MemberRole.VIEWER),
]

_FIRST_NAMES = [
    "Avery", "Bianca", "Caleb", "Dolores", "Emeka", "Fatima", "Gavin", "Hana", "Isaiah",
    "Jasmine", "Kwame", "Leah", "Mateo", "Nadia", "Owen", "Paloma", "Quinn", "Rosa",
    "Tobias", "Uma", "Victor", "Wren", "Xavier", "Yara", "Zane", "Aiyana", "Bruno",
    "Carmen", "Darius", "Elena", "Felix", "Grace", "Hector", "Imani",
]  # fmt: skip
_LAST_NAMES = [
    "Abernathy", "Bellweather", "Castellano", "Drummond", "Eastwick", "Fairbanks",
    "Galloway", "Hargrove", "Ingersoll", "Jablonski", "Kettering", "Lindgren", "Mbeki",
    "Northcott", "Okonkwo", "Pemberton", "Quintero", "Rasmussen", "Sandoval", "Thorne",
    "Underhill", "Valdez", "Whitcombe", "Yamashiro", "Zielinski",
]  # fmt: skip


def member_email(prefix: str, slug: str) -> str:
    return f"{prefix}@{slug}.example"


def member_name(coalition_index: int, account_index: int) -> str:
    n = coalition_index * len(MEMBER_ACCOUNTS) + account_index
    first = _FIRST_NAMES[n % len(_FIRST_NAMES)]
    last = _LAST_NAMES[(n * 7 + coalition_index) % len(_LAST_NAMES)]
    return f"{first} {last}"


def coach_for(coalition_index: int) -> str:
    """Round-robin: coaches 1-4 get six coalitions each, coaches 5-6 five."""
    return COACH_EMAILS[coalition_index % len(COACH_EMAILS)]


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def target_values(amount: Decimal) -> dict[str, int]:
    """Grant-to-date targets for every measure, scaled to the award amount."""
    served = amount / DOLLARS_PER_PARTICIPANT
    return {measure: _round(served * share) for measure, share in TARGET_SHARES.items()}


def milestones(value: int, start: date = PERIOD_START, end: date = PERIOD_END) -> dict[str, int]:
    """Cumulative milestones rising linearly to ``value`` in the last quarter."""
    quarters = calendar.quarters_between(start, end)
    n = len(quarters)
    return {str(q): value * (i + 1) // n for i, q in enumerate(quarters)}


# --- Seeding -------------------------------------------------------------------------


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    found: int = 0


@dataclass
class SeedResult:
    tallies: dict[str, Tally] = field(default_factory=dict)
    passwords_reset: int = 0
    skipped_non_demo: list[str] = field(default_factory=list)

    def tally(self, name: str) -> Tally:
        return self.tallies.setdefault(name, Tally())

    @property
    def data_changed(self) -> bool:
        return any(t.created or t.updated for t in self.tallies.values())


def _sync(
    result: SeedResult,
    label: str,
    model: type[models.Model],
    key_fields: tuple[str, ...],
    wanted: list[dict[str, Any]],
    existing: Iterable[models.Model],
) -> None:
    """Create the rows of ``wanted`` that are missing, and bring the others back to it.

    ``wanted`` rows are dicts of field values; ``key_fields`` identify a row. One query
    to create, one to update, none when nothing differs.
    """
    tally = result.tally(label)
    by_key = {tuple(getattr(obj, f) for f in key_fields): obj for obj in existing}
    to_create, to_update, changed_fields = [], [], set()
    for values in wanted:
        obj = by_key.get(tuple(values[f] for f in key_fields))
        if obj is None:
            to_create.append(model(**values))
            continue
        diff = [f for f, v in values.items() if getattr(obj, f) != v]
        if diff:
            for f in diff:
                setattr(obj, f, values[f])
            changed_fields.update(diff)
            to_update.append(obj)
        else:
            tally.found += 1
    if to_create:
        model._default_manager.bulk_create(to_create)
    if to_update:
        model._default_manager.bulk_update(to_update, sorted(changed_fields))
    tally.created += len(to_create)
    tally.updated += len(to_update)


def _demo_users() -> list[dict[str, Any]]:
    users = [
        {
            "email": email,
            "full_name": name,
            "staff_role": role,
            "is_staff": is_staff,
        }
        for email, role, name, is_staff in DEMO_STAFF
    ]
    for i, spec in enumerate(DEMO_COALITIONS):
        for j, (prefix, _role) in enumerate(MEMBER_ACCOUNTS):
            users.append(
                {
                    "email": member_email(prefix, spec["slug"]),
                    "full_name": member_name(i, j),
                    "staff_role": "",
                    "is_staff": False,
                }
            )
    return users


def _seed_users(result: SeedResult, password: str, reset_passwords: bool) -> dict[str, User]:
    specs = _demo_users()
    emails = [s["email"] for s in specs]
    existing = {u.email: u for u in User.objects.filter(email__in=emails)}
    tally = result.tally("users")
    hashed = None
    new_users = []
    for spec in specs:
        if spec["email"] in existing:
            tally.found += 1
            continue
        hashed = hashed or make_password(password)
        user = User(**spec, is_demo=True)
        user.password = hashed
        new_users.append(user)
    if new_users:
        User.objects.bulk_create(new_users)
    tally.created += len(new_users)

    if reset_passwords and existing:
        hashed = hashed or make_password(password)
        demo_users = [u for u in existing.values() if u.is_demo]
        result.skipped_non_demo = sorted(u.email for u in existing.values() if not u.is_demo)
        for user in demo_users:
            user.password = hashed
        User.objects.bulk_update(demo_users, ["password"])
        result.passwords_reset = len(demo_users)
    return {u.email: u for u in User.objects.filter(email__in=emails)}


def seed(password: str | None = None, *, reset_passwords: bool = False) -> SeedResult:
    """Create (or bring back) the demo coalitions, grants, targets and sign-ins.

    Writes no audit entries: nobody did anything, the demo data is just there.
    """
    password = password or os.environ.get("DEMO_PASSWORD") or DEFAULT_PASSWORD
    result = SeedResult()
    slugs = [spec["slug"] for spec in DEMO_COALITIONS]
    coalition_fields = [
        "name",
        "lead_organization",
        "partner_organizations",
        "states_served",
        "sectors",
        "track",
    ]
    with transaction.atomic():
        _sync(
            result,
            "coalitions",
            Coalition,
            ("slug",),
            [
                {"slug": s["slug"], **{f: deepcopy(s[f]) for f in coalition_fields}}
                for s in DEMO_COALITIONS
            ],
            Coalition.objects.filter(slug__in=slugs),
        )
        coalitions = {c.slug: c for c in Coalition.objects.filter(slug__in=slugs)}

        award_numbers = [spec["award_number"] for spec in DEMO_COALITIONS]
        _sync(
            result,
            "grants",
            Grant,
            ("award_number",),
            [
                {
                    "award_number": s["award_number"],
                    "coalition_id": coalitions[s["slug"]].pk,
                    "amount": s["amount"],
                    "start_date": PERIOD_START,
                    "end_date": PERIOD_END,
                }
                for s in DEMO_COALITIONS
            ],
            Grant.objects.filter(award_number__in=award_numbers),
        )
        grants = {g.award_number: g for g in Grant.objects.filter(award_number__in=award_numbers)}

        wanted_targets = []
        for s in DEMO_COALITIONS:
            grant = grants[s["award_number"]]
            for measure, value in target_values(s["amount"]).items():
                wanted_targets.append(
                    {
                        "coalition_id": grant.coalition_id,
                        "grant_id": grant.pk,
                        "measure": str(measure),
                        "value": value,
                        "milestones": milestones(value, grant.start_date, grant.end_date),
                    }
                )
        _sync(
            result,
            "targets",
            Target,
            ("coalition_id", "grant_id", "measure"),
            wanted_targets,
            Target.objects.filter(grant__in=grants.values()),
        )

        users = _seed_users(result, password, reset_passwords)
        coalition_ids = [c.pk for c in coalitions.values()]

        wanted_members = [
            {
                "coalition_id": coalitions[s["slug"]].pk,
                "user_id": users[member_email(prefix, s["slug"])].pk,
                "role": str(role),
            }
            for s in DEMO_COALITIONS
            for prefix, role in MEMBER_ACCOUNTS
        ]
        _sync(
            result,
            "memberships",
            Membership,
            ("coalition_id", "user_id"),
            wanted_members,
            Membership.objects.filter(coalition_id__in=coalition_ids),
        )

        wanted_assignments = [
            {"coalition_id": coalitions[s["slug"]].pk, "coach_id": users[coach_for(i)].pk}
            for i, s in enumerate(DEMO_COALITIONS)
        ]
        _sync(
            result,
            "coach assignments",
            CoachAssignment,
            ("coalition_id", "coach_id"),
            wanted_assignments,
            CoachAssignment.objects.filter(coalition_id__in=coalition_ids),
        )
    return result


def sign_in_table() -> list[tuple[str, str]]:
    """(role, e-mail) rows for the demo sign-ins, for the command to print."""
    rows: list[tuple[str, str]] = []
    for email, role, _, _ in DEMO_STAFF:
        label = StaffRole(role).label
        if role == StaffRole.COACH:
            if email == COACH_EMAILS[0]:
                rows.append((f"{label} ({len(COACH_EMAILS)})", f"{email} … {COACH_EMAILS[-1]}"))
            continue
        rows.append((label, email))
    for prefix, role in MEMBER_ACCOUNTS:
        rows.append((f"{MemberRole(role).label}, every coalition", member_email(prefix, "<slug>")))
    return rows
