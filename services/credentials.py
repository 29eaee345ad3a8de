"""Principals and their bearer credentials, stored hashed.

A credential reads ``acct_<id>_<secret>``. Only SHA-256 of the secret is stored: the
secret is 256 random bits, so a slow password hash would add nothing but latency.
The id lets a request find its row without scanning.
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import Connection, select, update

from accountability.events.countries import COUNTRIES
from accountability.events.types import CountryCode
from accountability.events.vocabulary import Role

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


def ensure_principal(
    conn: Connection,
    *,
    principal_id: str,
    name: str,
    role: Role,
    member_state: str | None,
    now: datetime,
) -> Principal:
    """Create the principal, or return it when it already exists with the same role."""
    if role is Role.MEMBER_STATE:
        if member_state is None:
            raise CredentialError("a member_state principal needs its country (--country)")
        if member_state not in COUNTRIES:
            raise CredentialError(f"unknown country code '{member_state}' (ISO 3166-1 alpha-3)")
    elif member_state is not None:
        raise CredentialError(f"a {role.value} principal is bound to no country")
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


def revoke(conn: Connection, credential_id: str, now: datetime) -> bool:
    result = conn.execute(
        update(credentials)
        .where(credentials.c.credential_id == credential_id, credentials.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return bool(result.rowcount)


def revoke_labelled(conn: Connection, label: str, now: datetime) -> int:
    result = conn.execute(
        update(credentials)
        .where(credentials.c.label == label, credentials.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(result.rowcount)


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
