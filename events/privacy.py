"""Sealed text: sensitive free text as ciphertext only, under a key held outside the log.

A case's narrative and notes may say things about a victim that must be erasable.
The log is immutable, so they never enter it in clear: the API seals them at the
edge with the case's key (AES-256-GCM) and the events carry only the sealed form,
a self-describing string::

    enc:v1:<key id>:<nonce>:<ciphertext and tag>

``key id`` is 16 lowercase hex digits naming the case's key in the key store;
``nonce`` (12 bytes) and ``ciphertext and tag`` are URL-safe base64 without
padding. The associated data binds the text to its header and its case:
``enc:v1:<key id>:<case id>`` in UTF-8, so a sealed text copied into another case,
or given another key id, does not open. Destroying the case's key (erasure) leaves
every event, byte and hash as it was and the text unreadable for good.

Pure: the caller supplies the key and the nonce (``services/keys.py`` holds keys
and draws nonces).
"""

import base64
import binascii
import re
from dataclasses import dataclass, field
from typing import Final, Literal, NewType

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import DomainError

SealedText = NewType("SealedText", str)
"""Ciphertext of a sensitive free text, in the ``enc:v1`` form; never the text itself."""

VERSION: Final = "v1"
PREFIX: Final = f"enc:{VERSION}:"
KEY_BYTES: Final = 32
NONCE_BYTES: Final = 12
TAG_BYTES: Final = 16
TEXT_LIMIT: Final = 20_000
"""Characters of plain text a narrative or a note may hold."""
SEALED_LIMIT: Final = 120_000
"""Characters of sealed text an event may hold: ample for TEXT_LIMIT characters of UTF-8."""

_KEY_ID: Final = re.compile(r"[0-9a-f]{16}")
_B64URL: Final = r"[A-Za-z0-9_-]"
SEALED_PATTERN: Final = rf"^enc:v1:[0-9a-f]{{16}}:{_B64URL}{{16}}:{_B64URL}{{22,}}$"
"""A regular expression (JSON Schema, ECMA-262) for the sealed form."""
_SEALED: Final = re.compile(SEALED_PATTERN)


TextStatus = Literal["readable", "withheld", "erased", "unreadable"]
"""What a reader gets of a sealed text: the text, or why not (its role may not read it,
the case's key was destroyed, or it does not open)."""


@dataclass(frozen=True, slots=True)
class OpenedText:
    """A sealed text as a reader sees it: its plain text only when ``readable``."""

    status: TextStatus
    text: str | None = None


class PrivacyError(DomainError):
    """Base of the errors of sealed text."""


class MalformedSealedText(PrivacyError):
    """A string that is not sealed text of a version this code reads."""


class CannotOpen(PrivacyError):
    """Sealed text that does not open with this key for this case: wrong key, wrong
    case, or changed since it was sealed."""


@dataclass(frozen=True, slots=True)
class CaseKey:
    """One case's AES-256 key. Its material never appears in a repr or a log line."""

    key_id: str
    material: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not _KEY_ID.fullmatch(self.key_id):
            raise ValueError(f"key id {self.key_id!r} is not 16 lowercase hex digits")
        if len(self.material) != KEY_BYTES:
            raise ValueError(f"a case key is {KEY_BYTES} bytes, not {len(self.material)}")


@dataclass(frozen=True, slots=True)
class Sealed:
    """The parts of a sealed text."""

    key_id: str
    nonce: bytes
    ciphertext: bytes
    """The AES-GCM ciphertext with its 16-byte tag at the end."""


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def parse_sealed(text: str) -> Sealed:
    """The parts of ``text``, or :class:`MalformedSealedText` saying what is wrong."""
    if not text.startswith("enc:"):
        raise MalformedSealedText("it is not sealed text (enc:v1:…): plain text is never stored")
    if not text.startswith(PREFIX):
        raise MalformedSealedText(f"sealed text of version {text.split(':')[1]!r} is unknown")
    if len(text) > SEALED_LIMIT or not _SEALED.fullmatch(text):
        raise MalformedSealedText("it is not enc:v1:<key id>:<nonce>:<ciphertext>")
    key_id, nonce_text, body_text = text.removeprefix(PREFIX).split(":")
    try:
        nonce, body = _b64decode(nonce_text), _b64decode(body_text)
    except (binascii.Error, ValueError):
        raise MalformedSealedText("its nonce or ciphertext is not base64") from None
    if len(nonce) != NONCE_BYTES or len(body) < TAG_BYTES:
        raise MalformedSealedText(
            f"its nonce must be {NONCE_BYTES} bytes and its ciphertext at least {TAG_BYTES}"
        )
    return Sealed(key_id, nonce, body)


def is_sealed(text: str) -> bool:
    try:
        parse_sealed(text)
    except MalformedSealedText:
        return False
    return True


def associated_data(key_id: str, case_id: str) -> bytes:
    """What a sealed text is bound to: its header and its case."""
    return f"{PREFIX}{key_id}:{case_id}".encode()


def seal_text(plaintext: str, key: CaseKey, case_id: str, nonce: bytes) -> SealedText:
    """``plaintext`` sealed with ``key`` for ``case_id``; ``nonce`` must never repeat."""
    if len(nonce) != NONCE_BYTES:
        raise ValueError(f"a nonce is {NONCE_BYTES} bytes, not {len(nonce)}")
    body = AESGCM(key.material).encrypt(
        nonce, plaintext.encode("utf-8"), associated_data(key.key_id, case_id)
    )
    return SealedText(f"{PREFIX}{key.key_id}:{_b64encode(nonce)}:{_b64encode(body)}")


def open_text(text: str, key: CaseKey, case_id: str) -> str:
    """The plain text of ``text``, or :class:`CannotOpen` (:class:`MalformedSealedText`)."""
    sealed = parse_sealed(text)
    if sealed.key_id != key.key_id:
        raise CannotOpen(f"it was sealed with key {sealed.key_id}, not {key.key_id}")
    try:
        plain = AESGCM(key.material).decrypt(
            sealed.nonce, sealed.ciphertext, associated_data(sealed.key_id, case_id)
        )
    except InvalidTag:
        raise CannotOpen(
            f"it does not open with key {key.key_id} for case {case_id}: another case's "
            "text, or changed since it was sealed"
        ) from None
    try:
        return plain.decode("utf-8")
    except UnicodeDecodeError:  # pragma: no cover - only text is ever sealed
        raise CannotOpen("its content is not UTF-8 text") from None


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be a narrative or a note; None when it can."""
    if not text.strip():
        return "must not be empty or only spaces"
    if len(text) > TEXT_LIMIT:
        return f"must be at most {TEXT_LIMIT} characters, not {len(text)}"
    if any(not (c.isprintable() or c in "\n\t") for c in text):
        return "must be printable text (line breaks and tabs allowed)"
    return None
