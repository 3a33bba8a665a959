"""API keys: `af_<id>_<secret>`. Only the secret's SHA-256 is stored (a high-entropy secret
needs no slow hash); a key is found by its public id, then compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlmodel import Session, col, select

from app.history.service import utcnow
from app.models import ApiKey

SCOPES = ("read", "write", "admin")
# A scope and the scopes it grants.
_GRANTS = {"read": {"read"}, "write": {"read", "write"}, "admin": {"read", "write", "admin"}}
_KEY = re.compile(r"^af_([a-z0-9]{8})_([A-Za-z0-9_-]{20,100})$")
_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


@dataclass(frozen=True)
class Principal:
    key_id: str
    name: str
    scopes: frozenset[str]
    revoked: bool


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(session: Session, *, name: str, scopes: list[str]) -> tuple[ApiKey, str]:
    """A new key; the returned string is the only time the key is seen."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise ValueError(f"scopes must be some of {', '.join(SCOPES)}; got {scopes}")
    key_id = "".join(secrets.choice(_ID_ALPHABET) for _ in range(8))
    secret = secrets.token_urlsafe(32)
    row = ApiKey(
        id=key_id,
        name=name,
        scopes=sorted(set(scopes)),
        secret_sha256=_digest(secret),
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return row, f"af_{key_id}_{secret}"


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.exec(select(ApiKey).order_by(col(ApiKey.created_at))))


def revoke_key(session: Session, key_id: str) -> bool:
    """Revoke by public id (or the whole key); False when no such key."""
    match = _KEY.match(key_id)
    row = session.get(ApiKey, match.group(1) if match else key_id)
    if row is None:
        return False
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()
    return True


def authenticate(session: Session, key: str) -> Principal | None:
    """The key's principal, or None when the key is malformed, unknown or wrong."""
    match = _KEY.match(key)
    if match is None:
        return None
    row = session.get(ApiKey, match.group(1))
    if row is None or not hmac.compare_digest(row.secret_sha256, _digest(match.group(2))):
        return None
    scopes = frozenset(g for s in row.scopes for g in _GRANTS.get(s, ()))
    return Principal(row.id, row.name, scopes, row.revoked_at is not None)
