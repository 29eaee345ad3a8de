"""Principals and their bearer credentials, stored hashed.

A credential reads ``acct_<id>_<secret>``. Only SHA-256 of the secret is stored: the
secret is 256 random bits, so a slow password hash would add nothing but latency.
The id lets a request find its row without scanning.

Every change (a principal or credential created, a credential revoked) is written to
the access log in the same transaction, naming who made it: ``operator:<os user>``
for the command line unless the caller says otherwise. A credential is checked on
every request, so a revocation or an expiry takes effect on the next one.
"""

import getpass
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import ColumnElement, Connection, select, update

from accountability.events.countries import COUNTRIES
from accountability.events.types import CountryCode
from accountability.events.vocabulary import Role

from .access_log import OPERATOR, entry, insert_entries
from .store import credentials, principals

_TOKEN: Final = re.compile(r"acct_([0-9a-f]{16})_([A-Za-z0-9_-]{43})")


class CredentialError(ValueError):
    """A principal or credential request that cannot be honoured."""


@dataclass(frozen=True, slots=True)
class Principal:
    principal_id: str
    name: str
    role: Role
    member_state: CountryCode | None


@dataclass(frozen=True, slots=True)
class IssuedCredential:
    credential_id: str
    principal: Principal
    token: str
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class CredentialInfo:
    credential_id: str
    principal: Principal
    label: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def operator() -> str:
    """Who runs this process, as the access log names a change made from the command line."""
    try:
        return f"{OPERATOR}:{getpass.getuser()}"
    except (OSError, KeyError):  # no user name in this environment
        return f"{OPERATOR}:unknown"


def _record(
    conn: Connection,
    now: datetime,
    by: str | None,
    *,
    action: str,
    ids: list[str],
    arguments: dict[str, Any],
) -> None:
    row = entry(
        at=now,
        principal_id=by or operator(),
        role=OPERATOR,
        member_state=None,
        action=action,
        outcome="done",
        ids=ids,
        arguments=arguments,
    )
    insert_entries(conn, [row])


def ensure_principal(
    conn: Connection,
    *,
    principal_id: str,
    name: str,
    role: Role,
    member_state: str | None,
    now: datetime,
    by: str | None = None,
) -> Principal:
    """Create the principal, or return it when it already exists with the same role."""
    if role is Role.MEMBER_STATE:
        if member_state is None:
            raise CredentialError("a member_state principal needs its country (--country)")
        if member_state not in COUNTRIES:
            raise CredentialError(f"unknown country code '{member_state}' (ISO 3166-1 alpha-3)")
    elif member_state is not None:
        raise CredentialError(f"an {role.value} principal is bound to no country")
    existing = find_principal(conn, principal_id)
    if existing is not None:
        if existing.role is not role or existing.member_state != member_state:
            raise CredentialError(
                f"principal '{principal_id}' exists as {existing.role.value}"
                f"{f' of {existing.member_state}' if existing.member_state else ''}"
            )
        return existing
    conn.execute(
        principals.insert().values(
            principal_id=principal_id,
            name=name,
            role=role.value,
            member_state=member_state,
            created_at=now,
        )
    )
    described = {"role": role.value, "member_state": member_state, "name": name}
    _record(conn, now, by, action="credentials.principal", ids=[principal_id], arguments=described)
    return Principal(principal_id, name, role, CountryCode(member_state) if member_state else None)


def find_principal(conn: Connection, principal_id: str) -> Principal | None:
    row = conn.execute(select(principals).where(principals.c.principal_id == principal_id)).first()
    if row is None:
        return None
    return Principal(row.principal_id, row.name, Role(row.role), row.member_state)


def issue(
    conn: Connection,
    principal: Principal,
    label: str,
    now: datetime,
    valid_for: timedelta | None = None,
    *,
    by: str | None = None,
) -> IssuedCredential:
    credential_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    expires_at = now + valid_for if valid_for is not None else None
    conn.execute(
        credentials.insert().values(
            credential_id=credential_id,
            principal_id=principal.principal_id,
            secret_hash=_hash(secret),
            label=label,
            created_at=now,
            expires_at=expires_at,
            revoked_at=None,
        )
    )
    described = {
        "principal_id": principal.principal_id,
        "role": principal.role.value,
        "member_state": principal.member_state,
        "label": label,
        "expires_at": expires_at.isoformat() if expires_at else None,
    }
    _record(conn, now, by, action="credentials.create", ids=[credential_id], arguments=described)
    return IssuedCredential(credential_id, principal, f"acct_{credential_id}_{secret}", expires_at)


def authenticate(conn: Connection, token: str, now: datetime) -> Principal | None:
    """The principal a token names, or None when it is malformed, unknown, expired or revoked."""
    match = _TOKEN.fullmatch(token)
    if match is None:
        return None
    credential_id, secret = match.groups()
    row = conn.execute(
        select(
            credentials.c.secret_hash,
            credentials.c.expires_at,
            credentials.c.revoked_at,
            principals.c.principal_id,
            principals.c.name,
            principals.c.role,
            principals.c.member_state,
        )
        .join(principals, principals.c.principal_id == credentials.c.principal_id)
        .where(credentials.c.credential_id == credential_id)
    ).first()
    if row is None or not hmac.compare_digest(row.secret_hash, _hash(secret)):
        return None
    if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        return None
    return Principal(row.principal_id, row.name, Role(row.role), row.member_state)


def revoke(conn: Connection, credential_id: str, now: datetime, by: str | None = None) -> bool:
    """Revoke an active credential; False when there is none with that id."""
    return _revoke(conn, credentials.c.credential_id == credential_id, now, by) > 0


def revoke_labelled(conn: Connection, label: str, now: datetime, by: str | None = None) -> int:
    return _revoke(conn, credentials.c.label == label, now, by)


def _revoke(conn: Connection, which: ColumnElement[bool], now: datetime, by: str | None) -> int:
    active = which & credentials.c.revoked_at.is_(None)
    rows = conn.execute(
        select(credentials.c.credential_id, credentials.c.principal_id).where(active)
    ).all()
    if not rows:
        return 0
    ids = [row.credential_id for row in rows]
    conn.execute(
        update(credentials).where(credentials.c.credential_id.in_(ids)).values(revoked_at=now)
    )
    holders = {"principal_ids": sorted({row.principal_id for row in rows})}
    _record(conn, now, by, action="credentials.revoke", ids=ids, arguments=holders)
    return len(ids)


def list_credentials(conn: Connection) -> list[CredentialInfo]:
    rows = conn.execute(
        select(credentials, principals.c.name, principals.c.role, principals.c.member_state)
        .join(principals, principals.c.principal_id == credentials.c.principal_id)
        .order_by(credentials.c.created_at)
    )
    return [
        CredentialInfo(
            row.credential_id,
            Principal(row.principal_id, row.name, Role(row.role), row.member_state),
            row.label,
            row.created_at,
            row.expires_at,
            row.revoked_at,
        )
        for row in rows
    ]
