"""Sealed text: ciphertext only, bound to its key and its case, refused in clear.

First the value type (``events/privacy.py``): what is sealed never shows the text, and
opens only with its own key for its own case, unchanged. Then the decider's rules for
narratives, notes and erasure, given-when-then.
"""

import base64
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.domain import OFFICER, T0, Log, command

from accountability.events import commands as c
from accountability.events.case import CaseState
from accountability.events.catalogue import (
    CaseNoteAdded,
    Event,
    NarrativeRecorded,
    VictimDataErased,
)
from accountability.events.commands import Actor
from accountability.events.decider import StreamState, decide
from accountability.events.errors import Rejection
from accountability.events.privacy import (
    PREFIX,
    TEXT_LIMIT,
    CannotOpen,
    CaseKey,
    MalformedSealedText,
    SealedText,
    is_sealed,
    open_text,
    parse_sealed,
    seal_text,
    text_problem,
)
from accountability.events.rules import Rule
from accountability.events.types import CaseId, CountryCode
from accountability.events.vocabulary import ClosureReason, ErasureReason

KEY = CaseKey("0123456789abcdef", bytes(range(32)))
OTHER_KEY = CaseKey("fedcba9876543210", bytes(range(32, 64)))
NONCE = b"\x24" * 12
CASE = "C-2024-017"
ACCOUNT = "She said the patrol came to the camp at night and offered food."


def sealed(text: str = ACCOUNT, key: CaseKey = KEY, case_id: str = CASE) -> SealedText:
    return seal_text(text, key, case_id, NONCE)


# --- the sealed form --------------------------------------------------------------------

TEXTS = st.text(min_size=8, max_size=300).filter(lambda t: t.strip())


@settings(max_examples=200, deadline=None)
@given(text=TEXTS, nonce=st.binary(min_size=12, max_size=12))
def test_sealed_text_never_shows_the_text_and_opens_to_it(text: str, nonce: bytes) -> None:
    sealed_text = seal_text(text, KEY, CASE, nonce)
    body = parse_sealed(sealed_text).ciphertext

    assert text not in sealed_text
    assert text.encode() not in body
    assert base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode() not in sealed_text
    assert is_sealed(sealed_text)
    assert open_text(sealed_text, KEY, CASE) == text


def test_the_sealed_form_names_its_version_and_key_and_nothing_else() -> None:
    text = sealed()

    version, key_id, nonce, body = text.removeprefix("enc:").split(":")
    assert (text.startswith(PREFIX), version, key_id) == (True, "v1", KEY.key_id)
    assert base64.urlsafe_b64decode(nonce + "==") == NONCE
    assert len(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))) == len(ACCOUNT) + 16


def test_the_same_text_sealed_twice_with_fresh_nonces_differs() -> None:
    assert seal_text(ACCOUNT, KEY, CASE, b"\x01" * 12) != seal_text(
        ACCOUNT, KEY, CASE, b"\x02" * 12
    )


def _flip(text: str, index: int) -> str:
    """``text`` with one bit of the decoded ciphertext (or nonce) flipped."""
    head, nonce, body = text.rsplit(":", 2)
    part = nonce if index < 0 else body
    raw = bytearray(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    raw[abs(index) % len(raw)] ^= 0x01
    changed = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    return f"{head}:{changed}:{body}" if index < 0 else f"{head}:{nonce}:{changed}"


@pytest.mark.parametrize(
    ("text", "key", "case_id", "reason"),
    [
        pytest.param(sealed(), OTHER_KEY, CASE, "sealed with key", id="another-key"),
        pytest.param(sealed(), CaseKey(KEY.key_id, OTHER_KEY.material), CASE, "does not open",
                     id="same-id-other-material"),
        pytest.param(sealed(), KEY, "C-2024-018", "does not open", id="another-case"),
        pytest.param(_flip(sealed(), 0), KEY, CASE, "does not open", id="ciphertext-changed"),
        pytest.param(_flip(sealed(), 60), KEY, CASE, "does not open", id="tag-changed"),
        pytest.param(_flip(sealed(), -1), KEY, CASE, "does not open", id="nonce-changed"),
        pytest.param(sealed()[:-8], KEY, CASE, "does not open", id="truncated"),
        pytest.param(sealed(key=OTHER_KEY).replace(OTHER_KEY.key_id, KEY.key_id), KEY, CASE,
                     "does not open", id="key-id-relabelled"),
    ],
)  # fmt: skip
def test_sealed_text_opens_only_with_its_key_for_its_case_unchanged(
    text: str, key: CaseKey, case_id: str, reason: str
) -> None:
    with pytest.raises(CannotOpen, match=reason):
        open_text(text, key, case_id)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        pytest.param(ACCOUNT, "plain text is never stored", id="plain-text"),
        pytest.param("enc:v2:" + sealed().removeprefix(PREFIX), "'v2' is unknown", id="version"),
        pytest.param(sealed().replace(KEY.key_id, "K" * 16), "not enc:v1", id="key-id"),
        pytest.param(sealed() + ":more", "not enc:v1", id="extra-part"),
        pytest.param(sealed().replace(":", "::", 1), "'' is unknown", id="empty-version"),
        pytest.param(sealed().replace(KEY.key_id + ":", KEY.key_id + "::"), "not enc:v1",
                     id="empty-part"),
        pytest.param(PREFIX + KEY.key_id + ":" + "A" * 15 + ":" + "B" * 30, "not enc:v1",
                     id="short-nonce"),
        pytest.param("", "plain text", id="empty"),
    ],
)  # fmt: skip
def test_anything_but_sealed_text_is_refused_for_what_it_is(text: str, reason: str) -> None:
    assert not is_sealed(text)
    with pytest.raises(MalformedSealedText, match=reason):
        parse_sealed(text)


def test_a_case_key_never_shows_its_material() -> None:
    assert KEY.material.hex() not in repr(KEY)
    assert "material" not in repr(KEY)
    with pytest.raises(ValueError, match="32 bytes"):
        CaseKey(KEY.key_id, b"short")
    with pytest.raises(ValueError, match="16 lowercase hex"):
        CaseKey("NOT-HEX", KEY.material)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param("Seen on 3 May.\n\tTwo witnesses.", None, id="lines-and-tabs"),
        pytest.param("   \n ", "empty", id="blank"),
        pytest.param("x" * (TEXT_LIMIT + 1), f"at most {TEXT_LIMIT}", id="too-long"),
        pytest.param("bell\x07", "printable", id="control-character"),
    ],
)
def test_plain_text_is_checked_at_the_edge_before_it_is_sealed(
    text: str, problem: str | None
) -> None:
    found = text_problem(text)
    assert (found is None) if problem is None else (found is not None and problem in found)


# --- the decider's rules, given-when-then ----------------------------------------------

NOW = datetime.now(UTC)


def given_case(*steps: c.Command) -> tuple[Log, StreamState]:
    """A reported case with a Gabonese perpetrator, then ``steps`` by an officer."""
    log = Log()
    log.case(CASE, "GAB", reply_after=None)
    for number, step in enumerate(steps, 1):
        log.submit(command(step, at=T0 + timedelta(days=10 + number)))
    return log, log.states[f"case:{CASE}"]


def when(state: StreamState, cmd: c.Command, actor: Actor = OFFICER) -> list[Event]:
    return decide(state, command(cmd, actor=actor, at=T0 + timedelta(days=30)), NOW)


def narrative(text: str = ACCOUNT, key: CaseKey = KEY) -> c.RecordNarrative:
    return c.RecordNarrative(CaseId(CASE), sealed(text, key))


def test_a_narrative_and_notes_are_recorded_sealed_and_bind_the_case_to_one_key() -> None:
    _, state = given_case(narrative())

    assert isinstance(state, CaseState)
    assert state.text_key_id == KEY.key_id
    assert when(state, c.AddCaseNote(CaseId(CASE), sealed("First note."))) == [
        CaseNoteAdded("N1", sealed("First note."))
    ]
    assert when(state, narrative("A fuller account.")) == [
        NarrativeRecorded(sealed("A fuller account."))
    ]
    with pytest.raises(Rejection) as refused:
        when(state, narrative(key=OTHER_KEY))
    assert (refused.value.code, refused.value.field) == (Rule.TEXT_KEY_MISMATCH, "text")


def test_plain_text_never_becomes_an_event() -> None:
    _, state = given_case()

    with pytest.raises(Rejection) as refused:
        when(state, c.RecordNarrative(CaseId(CASE), SealedText(ACCOUNT)))

    assert (refused.value.code, refused.value.field) == (Rule.TEXT_NOT_SEALED, "text")
    assert ACCOUNT not in refused.value.message


def test_an_erasure_names_the_key_it_destroys_and_the_case_takes_no_more_text() -> None:
    _, state = given_case(narrative(), c.AddCaseNote(CaseId(CASE), sealed("A note.")))

    erased = when(state, c.EraseVictimData(CaseId(CASE), ErasureReason.VICTIM_REQUEST))
    assert erased == [VictimDataErased(KEY.key_id, ErasureReason.VICTIM_REQUEST)]

    _, after = given_case(
        narrative(), c.EraseVictimData(CaseId(CASE), ErasureReason.VICTIM_REQUEST)
    )
    for refused_command in (narrative(), c.AddCaseNote(CaseId(CASE), sealed("More."))):
        with pytest.raises(Rejection) as refused:
            when(after, refused_command)
        assert refused.value.code == Rule.VICTIM_DATA_ERASED
    # The case's facts go on: erasure is about its text, not its follow-up.
    assert when(after, c.RequestFollowUp(CaseId(CASE), CountryCode("GAB")))


def test_a_case_without_text_can_be_erased_and_then_takes_none() -> None:
    _, state = given_case(c.EraseVictimData(CaseId(CASE), ErasureReason.RETENTION_EXPIRED))

    assert isinstance(state, CaseState)
    assert state.text_key_id is None
    with pytest.raises(Rejection) as refused:
        when(state, narrative())
    assert refused.value.code == Rule.VICTIM_DATA_ERASED


def test_a_closed_case_is_still_erased() -> None:
    _, state = given_case(narrative(), c.CloseCase(CaseId(CASE), ClosureReason.ACTION_COMPLETED))

    assert when(state, c.EraseVictimData(CaseId(CASE), ErasureReason.LEGAL_ORDER)) == [
        VictimDataErased(KEY.key_id, ErasureReason.LEGAL_ORDER)
    ]


def test_a_withdrawn_case_is_still_erased() -> None:
    log, _ = given_case(narrative())
    report = log.envelopes[0]
    log.submit(command(c.RetractEvent(report.stream_id, report.event_id, "entered twice"),
                       at=T0 + timedelta(days=20)))  # fmt: skip
    state = log.states[f"case:{CASE}"]

    assert isinstance(state, CaseState)
    assert state.withdrawn
    assert when(state, c.EraseVictimData(CaseId(CASE), ErasureReason.RECORDED_IN_ERROR)) == [
        VictimDataErased(KEY.key_id, ErasureReason.RECORDED_IN_ERROR)
    ]


def test_a_narrative_is_retracted_but_never_corrected_and_an_erasure_stands() -> None:
    log, state = given_case(narrative())
    recorded = log.envelopes[-1]

    assert when(state, c.RetractEvent(recorded.stream_id, recorded.event_id, "wrong case"))
    with pytest.raises(Rejection) as refused:
        when(state, c.CorrectEvent(recorded.stream_id, recorded.event_id, "{}", "typo"))
    assert refused.value.code == Rule.EVENT_NOT_CORRECTABLE
    assert "record a new narrative" in refused.value.message
