"""Build real, sealed event streams for tests, through the pure decider."""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from accountability.events import commands as c
from accountability.events.commands import Actor, CommandEnvelope
from accountability.events.decider import StreamState, decide, evolve, initial_state
from accountability.events.envelope import Envelope, seal
from accountability.events.types import CaseId, CommandId, CountryCode
from accountability.events.vocabulary import (
    AgeGroup,
    AllegationType,
    Finding,
    InvestigatingEntity,
    PersonnelCategory,
    ProsecutionOutcome,
    Role,
    SanctionKind,
    Sex,
)
from accountability.services.topics import partition_for

OFFICER = Actor("officer-1", Role.OFFICER)
T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


def state_actor(code: str) -> Actor:
    return Actor(f"ms-{code.lower()}", Role.MEMBER_STATE, CountryCode(code))


def command(
    cmd: c.Command, *, actor: Actor = OFFICER, at: datetime = T0, command_id: str | None = None
) -> CommandEnvelope:
    cid = CommandId(command_id or str(uuid.uuid4()))
    return CommandEnvelope(cid, cid, actor, at, at, cmd)


@dataclass
class Log:
    """Streams decided and sealed in order, as they would stand in the log."""

    partitions: int = 4
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    recorded_when_occurred: bool = False
    """Record each command shortly after it occurred (for "as of" tests), not all at ``now``."""
    states: dict[str, StreamState] = field(default_factory=dict)
    records: list[tuple[int, int, bytes]] = field(default_factory=list)
    envelopes: list[Envelope] = field(default_factory=list)
    _next_offset: dict[int, int] = field(default_factory=dict)

    def submit(self, envelope: CommandEnvelope) -> list[Envelope]:
        stream_id = envelope.stream_id
        state = self.states.get(stream_id) or initial_state(stream_id)
        recorded = self.now
        if self.recorded_when_occurred:
            recorded = envelope.occurred_at + timedelta(minutes=5)
        sealed = seal(state.head, envelope, decide(state, envelope, self.now), recorded)
        partition = partition_for(stream_id, self.partitions)
        for env, raw in sealed:
            state = evolve(state, env)
            offset = self._next_offset.get(partition, 0)
            self._next_offset[partition] = offset + 1
            self.records.append((partition, offset, raw))
            self.envelopes.append(env)
        self.states[stream_id] = state
        return [env for env, _ in sealed]

    def case(
        self,
        case_id: str,
        nationality: str = "GAB",
        *,
        at: datetime = T0,
        reply_after: timedelta | None = timedelta(days=3),
        substantiated: bool | None = True,
        prosecuted: bool = True,
    ) -> None:
        """One case with the usual follow-up; ``None`` leaves a step out."""
        cid = CaseId(case_id)
        ms = CountryCode(nationality)
        member = state_actor(nationality)
        self.submit(command(c.ReportAllegation(cid, AllegationType.SEXUAL_ABUSE, "MINUSCA"), at=at))
        self.submit(command(
            c.IdentifyAllegedPerpetrator(cid, PersonnelCategory.MILITARY_MC, ms, Sex.MALE),
            at=at + timedelta(hours=1),
        ))  # fmt: skip
        self.submit(command(
            c.RecordVictim(cid, AgeGroup.CHILD, Sex.FEMALE), at=at + timedelta(hours=1)
        ))  # fmt: skip
        notified = at + timedelta(days=2)
        self.submit(command(c.NotifyMemberState(cid, ms), at=notified))
        if reply_after is None:
            return
        replied = notified + reply_after
        self.submit(command(c.ReplyIntentToInvestigate(cid, ms), actor=member, at=replied))
        self.submit(
            command(c.AppointNationalInvestigationOfficer(cid, ms), actor=member, at=replied)
        )
        opened = replied + timedelta(days=5)
        self.submit(command(
            c.OpenInvestigation(cid, InvestigatingEntity.NIO, ms, investigation_id="I1"),
            actor=member, at=opened,
        ))  # fmt: skip
        if substantiated is None:
            return
        finding = Finding.SUBSTANTIATED if substantiated else Finding.NOT_SUBSTANTIATED
        concluded = opened + timedelta(days=90)
        self.submit(command(
            c.ConcludeInvestigation(cid, "I1", finding, victims_interviewed=True),
            actor=member, at=concluded,
        ))  # fmt: skip
        if substantiated:
            self.submit(command(
                c.ImposeSanction(cid, "P1", SanctionKind.DISMISSAL), actor=member,
                at=concluded + timedelta(days=10),
            ))  # fmt: skip
            if prosecuted:
                self.submit(command(
                    c.ConcludeProsecution(cid, "P1", ProsecutionOutcome.CONVICTED, 24),
                    actor=member, at=concluded + timedelta(days=60),
                ))  # fmt: skip
