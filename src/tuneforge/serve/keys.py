"""API keys: random tokens shown once at creation and stored only as SHA-256 hashes, each with scopes.

A key is 32 random bytes, so a fast hash is enough: there is nothing to brute-force as with passwords.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tuneforge.errors import ConfigError
from tuneforge.serve.db import ApiKey, utcnow

__all__ = ["SCOPES", "KeyInfo", "KeyStore"]

SCOPES = ("predict", "feedback", "admin")


@dataclass(frozen=True)
class KeyInfo:
    id: str
    name: str
    scopes: frozenset[str]
    revoked: bool


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _info(row: ApiKey) -> KeyInfo:
    return KeyInfo(row.id, row.name, frozenset(row.scopes.split(",")), row.revoked_at is not None)


class KeyStore:
    """Create, list, revoke and verify keys in the serving database."""

    def __init__(self, engine: Engine, *, cache_seconds: float = 0) -> None:
        """`cache_seconds`: how long a verified key is trusted without asking the database again; a revocation
        takes effect within that time."""
        self.engine, self.cache_seconds = engine, cache_seconds
        self._cache: dict[str, tuple[KeyInfo, float]] = {}

    def create(self, name: str, scopes: list[str]) -> str:
        """Store a new key and return it; this is the only time the key itself is seen."""
        unknown = sorted(set(scopes) - set(SCOPES))
        if unknown or not scopes:
            raise ConfigError(f"--scopes: unknown scope(s) {unknown or '(none given)'}; expected some of {SCOPES}")
        key_id = secrets.token_hex(4)
        key = f"tf_{key_id}_{secrets.token_urlsafe(32)}"
        try:
            with Session(self.engine) as session, session.begin():
                session.add(ApiKey(id=key_id, name=name, key_hash=_hash(key), scopes=",".join(sorted(set(scopes)))))
        except IntegrityError:
            raise ConfigError(
                f"--name: a key named '{name}' exists already; revoke it or choose another name"
            ) from None
        return key

    def all_keys(self) -> list[tuple[KeyInfo, str]]:
        """Every key with its creation time (ISO 8601), oldest first."""
        with Session(self.engine) as session:
            rows = session.scalars(select(ApiKey).order_by(ApiKey.created_at)).all()
            return [(_info(row), row.created_at.isoformat()) for row in rows]

    def revoke(self, name_or_id: str) -> KeyInfo:
        with Session(self.engine) as session, session.begin():
            row = session.scalars(
                select(ApiKey).where((ApiKey.name == name_or_id) | (ApiKey.id == name_or_id))
            ).first()
            if row is None:
                raise ConfigError(f"no key named or with id '{name_or_id}'; see `tuneforge keys list`")
            row.revoked_at = row.revoked_at or utcnow()
            return _info(row)

    def cached(self, key: str) -> KeyInfo | None:
        """The key's record if it was verified less than `cache_seconds` ago, else None (then call `verify`)."""
        hit = self._cache.get(_hash(key))
        return hit[0] if hit and hit[1] > time.monotonic() else None

    def verify(self, key: str) -> KeyInfo | None:
        """The key's record when it exists and is not revoked, else None."""
        key_hash = _hash(key)
        with Session(self.engine) as session:
            row = session.scalars(select(ApiKey).where(ApiKey.key_hash == key_hash)).first()
            if row is None or row.revoked_at is not None:
                self._cache.pop(key_hash, None)
                return None
            info = _info(row)
        if self.cache_seconds:
            self._cache[key_hash] = (info, time.monotonic() + self.cache_seconds)
        return info
