"""Submitting a mutation's command: its signature checked, its text sealed, its outcome told.

A rejection is data (``code``, ``message``, ``field``), not an error: the command
broke a rule of the domain and nothing was recorded. Errors are kept for requests
that cannot be served at all (no credential, broker down).
"""

import uuid
from collections.abc import Callable
from typing import Any

import graphene
from graphene.utils.str_converters import to_camel_case

from accountability.events import commands as c
from accountability.events import vocabulary as v
from accountability.events.errors import Rejection, RejectionDetail
from accountability.events.privacy import SealedText
from accountability.events.rules import Rule, ensure_identifier, ensure_role
from accountability.events.signing import SIGNATURE_BYTES, Signature, from_b64

from .context import Accepted as AcceptedOutcome
from .context import Refused, RequestContext
from .queries import require_actor
from .types import Accepted, CommandOutcome, Rejected

SIGNED_FIELDS_MISSING = "SIGNED_FIELDS_MISSING"
TEXT_WRITERS = frozenset({v.Role.OFFICER})
"""Who may record a narrative or a note (ADR 0014)."""

Builder = Callable[[Any, str], c.Command]
TextBuilder = Callable[[Any, SealedText], c.Command]


def command(
    input_type: type[graphene.InputObjectType], description: str, build: Builder
) -> graphene.Field:
    """A mutation that submits the command ``build`` makes of its input."""

    async def resolve(root: None, info: Any, input: Any) -> Accepted | Rejected:
        return await _submit(info, input, build)

    return _field(input_type, description, resolve)


def text_command(
    input_type: type[graphene.InputObjectType], description: str, build: TextBuilder, action: str
) -> graphene.Field:
    """A mutation whose text is sealed with the case's key before the command is built."""

    async def resolve(root: None, info: Any, input: Any) -> Accepted | Rejected:
        return await _submit_text(info, input, build, action)

    return _field(input_type, description, resolve)


def _field(
    input_type: type[graphene.InputObjectType], description: str, resolve: Callable[..., Any]
) -> graphene.Field:
    return graphene.Field(
        CommandOutcome,
        required=True,
        input=input_type(required=True),
        description=description,
        resolver=resolve,
    )


def _rejected(command_id: str, stream_id: str, detail: RejectionDetail) -> Rejected:
    return Rejected(
        command_id=command_id,
        stream_id=stream_id,
        code=detail.code,
        message=detail.message,
        field=to_camel_case(detail.field) if detail.field else None,
    )


def _signature(data: Any) -> Signature | RejectionDetail | None:
    """The input's signature, or why it cannot be one."""
    given = data.signature
    if given is None:
        return None
    if data.command_id is None or data.occurred_at is None:
        return RejectionDetail(
            SIGNED_FIELDS_MISSING,
            "a signed command names its commandId and occurredAt, which its signature covers",
            "command_id" if data.command_id is None else "occurred_at",
        )
    try:
        return Signature(given.key_id, from_b64(given.signature, "signature", SIGNATURE_BYTES))
    except ValueError as exc:
        return RejectionDetail(Rule.INVALID_SIGNATURE, str(exc), "signature")


async def _submit(
    info: Any, data: Any, build: Builder, command_id: str | None = None
) -> Accepted | Rejected:
    require_actor(info)
    context: RequestContext = info.context
    command_id = command_id or data.command_id or str(uuid.uuid4())
    command = build(data, command_id)
    signature = _signature(data)
    if isinstance(signature, RejectionDetail):
        return _rejected(command_id, command.stream_id, signature)
    outcome = await context.submitter.submit(
        command,
        command_id=command_id,
        occurred_at=data.occurred_at,
        correlation_id=data.correlation_id,
        signature=signature,
    )
    if isinstance(outcome, AcceptedOutcome):
        return Accepted(
            command_id=outcome.command_id,
            stream_id=outcome.stream_id,
            events=outcome.events,
            visible=outcome.visible,
        )
    return _rejected(outcome.command_id, outcome.stream_id, outcome.rejection)


async def _submit_text(
    info: Any, data: Any, build: TextBuilder, action: str
) -> Accepted | Rejected:
    """Seal ``data.text`` with the case's key at the edge, then submit the command.

    Text commands are the officers' (the decider says so too); the role is checked
    before sealing, so that no one else makes the key store create a case's key.
    """
    actor = require_actor(info)
    context: RequestContext = info.context
    command_id = data.command_id or str(uuid.uuid4())
    try:
        ensure_role(actor, TEXT_WRITERS, action)
        ensure_identifier(data.case_id, "case_id")
        sealed = await context.submitter.seal_text(data.case_id, data.text)
    except (Rejection, Refused) as refusal:
        return _rejected(command_id, c.case_stream(data.case_id), refusal.detail)
    return await _submit(info, data, lambda d, _: build(d, sealed), command_id)
