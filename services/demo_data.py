"""Synthetic demo data shaped like the UN's published figures (DOMAIN.md).

Yearly totals and the published mission splits are the UN's (first revision where
DOMAIN.md gives one); everything else (which contingent, which victim, how each
Member State follows up) is invented from a seeded random generator. Each Member
State gets a behaviour profile drawn at random, not taken from any real record:
the demo shows what the product does, it says nothing about any real country.
Case ids start with ``DEMO-`` so demo cases are never mistaken for real ones.
"""

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Final

from accountability.events import commands as c
from accountability.events.commands import Actor, CommandEnvelope
from accountability.events.types import CaseId, CommandId, CountryCode
from accountability.events.vocabulary import (
    AgeGroup,
    AllegationType,
    AssistanceKind,
    ClosureReason,
    Finding,
    FocalPointRole,
    InterimAction,
    InvestigatingEntity,
    PersonnelCategory,
    ProsecutionOutcome,
    Role,
    SanctionAuthority,
    SanctionKind,
    Sex,
)

# Allegations in peacekeeping missions by year received (DOMAIN.md, later revisions
# where given: 2017 63, 2018 56).
YEARLY_TOTALS: Final = {
    2015: 69, 2016: 80, 2017: 63, 2018: 56, 2019: 80,
    2020: 66, 2021: 75, 2022: 79, 2023: 100, 2024: 102,
}  # fmt: skip

# Published splits by mission (DOMAIN.md); the rest of a year goes to other missions.
MISSION_SPLITS: Final = {
    2015: {"MINUSCA": 22, "MONUSCO": 16, "MINUSTAH": 9},
    2016: {"MINUSCA": 52},
    2019: {"MINUSCA": 41, "MONUSCO": 15},
    2023: {"MONUSCO": 66, "MINUSCA": 24, "UNMISS": 6},
    2024: {"MONUSCO": 44, "MINUSCA": 40},
}

# Missions open in a year, with a weight for the allegations not split above.
_OPEN: Final = {
    "MINUSCA": (2014, 2026, 30), "MONUSCO": (2010, 2026, 25), "MINUSTAH": (2004, 2017, 10),
    "MINUJUSTH": (2017, 2019, 3), "UNMISS": (2011, 2026, 8), "MINUSMA": (2013, 2023, 8),
    "UNMIL": (2003, 2018, 6), "UNOCI": (2004, 2017, 4), "UNAMID": (2007, 2020, 5),
    "UNIFIL": (2006, 2026, 3), "UNISFA": (2011, 2026, 2), "MINURSO": (1991, 2026, 1),
}  # fmt: skip

# Plausible contributors of uniformed personnel by mission.
_CONTRIBUTORS: Final = {
    "MINUSCA": "RWA BGD PAK EGY ZMB MAR GAB CMR MRT NPL PER SEN TZA BDI NER BFA TGO COG",
    "MONUSCO": "IND PAK BGD ZAF TZA MWI URY NPL MAR EGY GTM SEN IDN",
    "MINUSTAH": "BRA URY LKA NPL ARG CHL JOR PAK BGD SEN",
    "MINUJUSTH": "BGD IND JOR NPL RWA SEN",
    "UNMISS": "IND RWA NPL CHN GHA MNG BGD ETH KOR",
    "MINUSMA": "TCD BGD SEN EGY TGO BFA NER GIN CIV BEN",
    "UNMIL": "NGA GHA PAK ZWE BGD",
    "UNOCI": "BGD PAK MAR NER TGO",
    "UNAMID": "RWA ETH EGY NGA SEN",
    "UNIFIL": "ITA IND IDN GHA FRA ESP MYS",
    "UNISFA": "ETH GHA",
    "MINURSO": "BGD EGY HND",
}
_HOSTS: Final = {
    "MINUSCA": "CAF", "MONUSCO": "COD", "MINUSTAH": "HTI", "MINUJUSTH": "HTI",
    "UNMISS": "SSD", "MINUSMA": "MLI", "UNMIL": "LBR", "UNOCI": "CIV", "UNAMID": "SDN",
    "UNIFIL": "LBN", "UNISFA": "SDN", "MINURSO": "MAR",
}  # fmt: skip
_INTERNATIONAL_STAFF: Final = (
    "USA",
    "GBR",
    "FRA",
    "CAN",
    "KEN",
    "UGA",
    "NGA",
    "IND",
    "PHL",
    "CMR",
    "SEN",
    "DEU",
)

_CATEGORIES: Final = (
    (PersonnelCategory.MILITARY_MC, 55), (PersonnelCategory.POLICE_FPU, 10),
    (PersonnelCategory.CIVILIAN_INT, 9), (PersonnelCategory.CIVILIAN_NS, 8),
    (PersonnelCategory.MILITARY_MO, 6), (PersonnelCategory.POLICE_UNPOL, 6),
    (PersonnelCategory.CIVILIAN_UNV, 6),
)  # fmt: skip

COMPACT_OPENED: Final = datetime(2017, 9, 18, 12, tzinfo=UTC)
OFFICER: Final = Actor("demo-officer", Role.OFFICER)


class Profile(StrEnum):
    """How a Member State follows up, in the demo only."""

    PROMPT = "prompt"
    SLOW = "slow"
    SILENT = "silent"


@dataclass(frozen=True, slots=True)
class Demo:
    streams: list[list[CommandEnvelope]]
    profiles: dict[str, Profile]
    cases: int

    @property
    def commands(self) -> int:
        return sum(len(s) for s in self.streams)


def state_actor(code: str) -> Actor:
    return Actor(f"demo-{code.lower()}", Role.MEMBER_STATE, CountryCode(code))


@dataclass
class _Stream:
    """The commands of one stream being written, each at its instant in the world."""

    seed: int
    stream_key: str
    now: datetime
    commands: list[CommandEnvelope] = field(default_factory=list)

    def add(self, actor: Actor, at: datetime, command: c.Command) -> bool:
        """Add ``command`` unless ``at`` is still in the future; say whether it was added."""
        if at > self.now:
            return False
        name = f"demo/{self.seed}/{self.stream_key}/{len(self.commands)}"
        command_id = CommandId(str(uuid.uuid5(uuid.NAMESPACE_URL, name)))
        self.commands.append(CommandEnvelope(command_id, command_id, actor, at, at, command))
        return True


def _weighted(
    rng: random.Random, choices: tuple[tuple[PersonnelCategory, int], ...]
) -> PersonnelCategory:
    values = [value for value, _ in choices]
    weights = [weight for _, weight in choices]
    return rng.choices(values, weights)[0]


def _days(rng: random.Random, low: int, high: int) -> timedelta:
    return timedelta(days=rng.randint(low, high), hours=rng.randint(0, 8))


def _missions_for(year: int, total: int, rng: random.Random) -> list[str]:
    """``total`` missions for ``year``: the published split first, the rest by weight."""
    split = MISSION_SPLITS.get(year, {})
    missions = [m for m, n in split.items() for _ in range(n)]
    open_missions = [(m, w) for m, (start, end, w) in _OPEN.items() if start <= year <= end]
    names = [m for m, _ in open_missions if m not in split] or [m for m, _ in open_missions]
    weights = [w for m, w in open_missions if m in names]
    missions += rng.choices(names, weights, k=max(0, total - len(missions)))
    return missions[:total]


def generate(seed: int = 2016, *, now: datetime | None = None, scale: int = 1) -> Demo:
    """Every demo command, grouped by stream in the order they must be decided.

    ``scale`` multiplies the yearly totals (benchmarks use it to build large logs).
    """
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    states = sorted({code for codes in _CONTRIBUTORS.values() for code in codes.split()})
    profiles = {code: rng.choices(list(Profile), weights=(35, 40, 25))[0] for code in states}
    streams: list[list[CommandEnvelope]] = []
    cases = 0
    for year, published in YEARLY_TOTALS.items():
        total = published * scale
        for number, mission in enumerate(_missions_for(year, total, rng), start=1):
            case_id = CaseId(
                f"DEMO-{year}-{number:04d}" if scale == 1 else f"DEMO-{year}-{number:06d}"
            )
            received = datetime(year, 1, 1, 9, tzinfo=UTC) + _days(rng, 0, 364)
            stream = _Stream(seed, case_id, now)
            _case(rng, stream, case_id, mission=mission, received=received, profiles=profiles)
            if stream.commands:
                streams.append(stream.commands)
                cases += 1
    for code in states:
        stream = _Stream(seed, f"state:{code}", now)
        _commitments(rng, stream, CountryCode(code))
        if stream.commands:
            streams.append(stream.commands)
    return Demo(streams, profiles, cases)


def _commitments(rng: random.Random, stream: _Stream, code: CountryCode) -> None:
    """Compact, Circle of Leadership, Trust Fund, focal points: drawn at random."""
    actor = state_actor(code)
    if rng.random() < 0.6:
        signed = COMPACT_OPENED + _days(rng, 0, 830)
        stream.add(actor, signed, c.SignVoluntaryCompact(code))
    if rng.random() < 0.45:
        stream.add(actor, COMPACT_OPENED + _days(rng, 0, 2000), c.JoinCircleOfLeadership(code))
    if rng.random() < 0.25:
        for _ in range(rng.randint(1, 3)):
            amount = rng.choice([10_000, 25_000, 50_000, 100_000, 250_000])
            contributed = datetime(2016, 3, 1, tzinfo=UTC) + _days(rng, 0, 3000)
            stream.add(actor, contributed, c.ContributeToTrustFund(code, amount))
    for role, share in ((FocalPointRole.PATERNITY, 0.4), (FocalPointRole.SEA, 0.3)):
        if rng.random() < share:
            designated = datetime(2017, 1, 1, tzinfo=UTC) + _days(rng, 0, 2500)
            stream.add(actor, designated, c.DesignateFocalPoint(code, role))


def _case(
    rng: random.Random,
    stream: _Stream,
    case_id: CaseId,
    *,
    mission: str,
    received: datetime,
    profiles: dict[str, Profile],
) -> None:
    kind = rng.choices(
        [AllegationType.SEXUAL_EXPLOITATION, AllegationType.SEXUAL_ABUSE, AllegationType.OTHER],
        weights=(50, 45, 5),
    )[0]
    incident = (received - _days(rng, 0, 400)).date() if rng.random() < 0.7 else None
    if not stream.add(OFFICER, received, c.ReportAllegation(case_id, kind, mission, incident)):
        return
    at = received + timedelta(hours=2)
    contingent = CountryCode(rng.choice(_CONTRIBUTORS[mission].split()))
    uniformed: dict[CountryCode, str] = {}
    first: PersonnelCategory | None = None
    for number in range(1, rng.choices([1, 2, 3], weights=(80, 15, 5))[0] + 1):
        # Every alleged perpetrator of a case shares the first one's category (and, being
        # uniformed, its contingent): a case is then one allegation in the UN's counting
        # unit, so that the statistics of each year reproduce the published totals.
        drawn = _weighted(rng, _CATEGORIES)
        category = first = first or drawn
        if category.uniformed:
            nationality = contingent
            uniformed.setdefault(nationality, f"P{number}")
        elif category is PersonnelCategory.CIVILIAN_NS:
            nationality = CountryCode(_HOSTS[mission])
        else:
            nationality = CountryCode(rng.choice(_INTERNATIONAL_STAFF))
        sex = Sex.MALE if rng.random() < 0.95 else Sex.FEMALE
        stream.add(
            OFFICER,
            at,
            c.IdentifyAllegedPerpetrator(case_id, category, nationality, sex, f"P{number}"),
        )
    victims: list[tuple[str, Sex]] = []
    for number in range(1, rng.choices([1, 2, 3, 4], weights=(72, 16, 8, 4))[0] + 1):
        age = rng.choices(list(AgeGroup), weights=(55, 30, 15))[0]
        sex = rng.choices([Sex.FEMALE, Sex.MALE, Sex.UNKNOWN], weights=(90, 7, 3))[0]
        stream.add(OFFICER, at, c.RecordVictim(case_id, age, sex, f"V{number}"))
        victims.append((f"V{number}", sex))
    if uniformed:
        for code, perpetrator in sorted(uniformed.items()):
            _follow_up(
                rng, stream, case_id,
                code=code, perpetrator=perpetrator,
                profile=profiles.get(code, Profile.SLOW), received=received,
            )  # fmt: skip
    else:
        _un_investigation(rng, stream, case_id, received + _days(rng, 5, 30), "I1")
    _victims(
        rng, stream, case_id,
        received=received, victims=victims, perpetrator=next(iter(uniformed.values()), "P1"),
    )  # fmt: skip
    if rng.random() < 0.85:  # most allegations appear in the UN's public table
        stream.add(OFFICER, received + _days(rng, 15, 60), c.PublishCase(case_id, case_id))
    if stream.commands and rng.random() < 0.8:
        last = stream.commands[-1].occurred_at
        if last < stream.now - timedelta(days=365) and len(stream.commands) > 3:
            stream.add(
                OFFICER,
                last + _days(rng, 30, 180),
                c.CloseCase(case_id, ClosureReason.INVESTIGATION_COMPLETED),
            )


def _victims(
    rng: random.Random,
    stream: _Stream,
    case_id: CaseId,
    *,
    received: datetime,
    victims: list[tuple[str, Sex]],
    perpetrator: str,
) -> None:
    """Assistance to victims, and now and then a paternity claim."""
    for victim, _ in victims:
        if rng.random() < 0.6:
            kinds = tuple(sorted(rng.sample(list(AssistanceKind)[:5], rng.randint(1, 3))))
            stream.add(
                OFFICER, received + _days(rng, 5, 60),
                c.ProvideVictimAssistance(case_id, victim, kinds),
            )  # fmt: skip
    if any(sex is Sex.FEMALE for _, sex in victims) and rng.random() < 0.05:
        filed = received + _days(rng, 200, 400)
        if not stream.add(OFFICER, filed, c.FilePaternityClaim(case_id, perpetrator, "C1")):
            return
        if rng.random() < 0.35:
            established = filed + _days(rng, 60, 300)
            stream.add(OFFICER, established, c.EstablishPaternity(case_id, "C1"))
            if rng.random() < 0.5:
                stream.add(
                    OFFICER, established + _days(rng, 30, 200),
                    c.ArrangeChildSupport(case_id, "C1"),
                )  # fmt: skip


def _follow_up(
    rng: random.Random,
    stream: _Stream,
    case_id: CaseId,
    *,
    code: CountryCode,
    perpetrator: str,
    profile: Profile,
    received: datetime,
) -> None:
    state = state_actor(code)
    notified = received + _days(rng, 1, 20)
    if not stream.add(OFFICER, notified, c.NotifyMemberState(case_id, code)):
        return
    on_time, late, never = {
        Profile.PROMPT: (85, 12, 3),
        Profile.SLOW: (25, 50, 25),
        Profile.SILENT: (5, 20, 75),
    }[profile]
    reply = rng.choices(["on_time", "late", "never"], weights=(on_time, late, never))[0]
    investigation = f"I-{code}"
    if profile is Profile.PROMPT and rng.random() < 0.5:
        stream.add(
            OFFICER, notified + _days(rng, 2, 12),
            c.TakeInterimAction(case_id, perpetrator, InterimAction.PAYMENTS_SUSPENDED),
        )  # fmt: skip
    if reply != "on_time":  # the UN asks again once the reply is overdue
        for _ in range(1 if profile is Profile.SLOW else rng.randint(1, 3)):
            stream.add(OFFICER, notified + _days(rng, 12, 120), c.RequestFollowUp(case_id, code))
    if reply == "never" or rng.random() < 0.05:
        if reply != "never":
            stream.add(state, notified + _days(rng, 2, 30), c.DeclineToInvestigate(case_id, code))
        _un_investigation(rng, stream, case_id, notified + _days(rng, 30, 60), investigation)
        return
    replied = notified + (_days(rng, 1, 9) if reply == "on_time" else _days(rng, 11, 60))
    if not stream.add(state, replied, c.ReplyIntentToInvestigate(case_id, code)):
        return
    appoint = {Profile.PROMPT: 0.9, Profile.SLOW: 0.5, Profile.SILENT: 0.3}[profile]
    if rng.random() < appoint:
        stream.add(
            state, replied + _days(rng, 1, 20), c.AppointNationalInvestigationOfficer(case_id, code)
        )
    opened = replied + _days(rng, 5, 40)
    entity = InvestigatingEntity.NIO if rng.random() < 0.6 else InvestigatingEntity.TCC
    if not stream.add(
        state, opened, c.OpenInvestigation(case_id, entity, code, False, investigation)
    ):
        return
    duration = {Profile.PROMPT: (60, 200), Profile.SLOW: (150, 420), Profile.SILENT: (200, 600)}
    concluded = opened + _days(rng, *duration[profile])
    substantiated = rng.random() < 0.45
    finding = Finding.SUBSTANTIATED if substantiated else Finding.NOT_SUBSTANTIATED
    if not stream.add(
        state,
        concluded,
        c.ConcludeInvestigation(case_id, investigation, finding, rng.random() < 0.75),
    ):
        return
    if substantiated:
        _actions(
            rng, stream, case_id,
            code=code, perpetrator=perpetrator, profile=profile, concluded=concluded,
        )  # fmt: skip


def _actions(
    rng: random.Random,
    stream: _Stream,
    case_id: CaseId,
    *,
    code: CountryCode,
    perpetrator: str,
    profile: Profile,
    concluded: datetime,
) -> None:
    state = state_actor(code)
    sanction, prosecute = {
        Profile.PROMPT: (0.85, 0.5),
        Profile.SLOW: (0.4, 0.15),
        Profile.SILENT: (0.1, 0.05),
    }[profile]
    at = concluded + _days(rng, 5, 60)
    stream.add(OFFICER, at, c.RepatriatePersonnel(case_id, perpetrator))
    if rng.random() < sanction:
        kind = rng.choice(
            [SanctionKind.DISMISSAL, SanctionKind.RANK_REDUCTION, SanctionKind.IMPRISONMENT]
        )
        months = rng.randint(3, 36) if kind is SanctionKind.IMPRISONMENT else None
        stream.add(
            state,
            at + _days(rng, 10, 120),
            c.ImposeSanction(case_id, perpetrator, kind, SanctionAuthority.MEMBER_STATE, months),
        )
    if rng.random() < prosecute:
        referred = at + _days(rng, 5, 60)
        stream.add(state, referred, c.MakeCriminalReferral(case_id, perpetrator))
        outcome = rng.choices(list(ProsecutionOutcome), weights=(70, 20, 10))[0]
        months = rng.randint(6, 60) if outcome is ProsecutionOutcome.CONVICTED else None
        stream.add(
            state,
            referred + _days(rng, 90, 400),
            c.ConcludeProsecution(case_id, perpetrator, outcome, months),
        )


def _un_investigation(
    rng: random.Random, stream: _Stream, case_id: CaseId, opened: datetime, investigation: str
) -> None:
    if not stream.add(
        OFFICER,
        opened,
        c.OpenInvestigation(case_id, InvestigatingEntity.OIOS, None, False, investigation),
    ):
        return
    finding = Finding.SUBSTANTIATED if rng.random() < 0.4 else Finding.NOT_SUBSTANTIATED
    stream.add(
        OFFICER,
        opened + _days(rng, 90, 300),
        c.ConcludeInvestigation(case_id, investigation, finding, rng.random() < 0.7),
    )


def iter_commands(demo: Demo) -> Iterator[CommandEnvelope]:
    for stream in demo.streams:
        yield from stream


def demo_member_states(demo: Demo) -> list[str]:
    return sorted(demo.profiles)


def demo_date_range(demo: Demo) -> tuple[date, date]:
    instants = [cmd.occurred_at for cmd in iter_commands(demo)]
    return min(instants).date(), max(instants).date()
