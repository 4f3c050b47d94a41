"""Users, roles, sessions, CSRF tokens and login throttling of the workbench (no web framework here).

- Passwords are hashed with argon2id (argon2-cffi); only the hash is stored.
- A session is a random token in an HttpOnly cookie; the store keeps its sha256, its CSRF token and its expiry.
- Each write names the role it needs in :data:`PERMISSIONS`: an analyst reviews, an operator uploads.
- Failed logins are counted per user name and per client address; past the limit, logins are refused for a while.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from uavsim.errors import InputError
from uavsim.store import Store

ROLES = ("viewer", "operator", "analyst")
PERMISSIONS = {"review": ("analyst",), "upload": ("operator",)}  # action -> roles allowed to do it
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-@")
_HASHER = PasswordHasher()


@dataclass(frozen=True)
class AuthPolicy:
    """How long a session lives and how many failed logins are tolerated (per name and per address)."""

    session_ttl_s: float = 8 * 3600.0
    max_failures: int = 5
    failure_window_s: float = 15 * 60.0
    min_password_len: int = 8


@dataclass(frozen=True)
class Session:
    user: str
    role: str
    csrf_token: str
    expires_unix: float

    def may(self, action: str) -> bool:
        return self.role in PERMISSIONS[action]


def check_user_name(name: str) -> str:
    if not name or len(name) > 64 or not set(name) <= _NAME_CHARS:
        raise InputError(f"user name {name!r}: use 1-64 letters, digits or . _ - @")
    return name


def add_user(store: Store, name: str, role: str, password: str, policy: AuthPolicy = AuthPolicy()) -> None:
    """Create a user, or replace the role and password of an existing one."""
    check_user_name(name)
    if role not in ROLES:
        raise InputError(f"role {role!r}: must be one of {', '.join(ROLES)}")
    if len(password) < policy.min_password_len:
        raise InputError(f"password for {name!r}: at least {policy.min_password_len} characters")
    store.add_user(name, role, _HASHER.hash(password))


def _token_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def throttled(store: Store, name: str, client: str, policy: AuthPolicy, now: float | None = None) -> bool:
    """True while the name or the address has too many recent failures."""
    since = (now or time.time()) - policy.failure_window_s
    return any(store.login_failures(k, since) >= policy.max_failures for k in (f"user:{name}", f"addr:{client}"))


def login(store: Store, name: str, password: str, client: str, policy: AuthPolicy = AuthPolicy()
          ) -> tuple[str, Session] | None:
    """A new session token and its session, or None (and the failure counted) when the password is wrong."""
    now = time.time()
    user = store.user(name)
    # Verify against a dummy hash for unknown names too, so that timing does not reveal which names exist.
    ok = _verify(user["password_hash"] if user else _DUMMY_HASH, password) and user is not None
    if not ok:
        store.record_login_failure((f"user:{name}", f"addr:{client}"), now, policy.failure_window_s)
        return None
    token = secrets.token_urlsafe(32)
    session = Session(user["name"], user["role"], secrets.token_urlsafe(32), now + policy.session_ttl_s)
    store.add_session(_token_key(token), session.user, session.csrf_token, session.expires_unix)
    return token, session


def session_of(store: Store, token: str | None) -> Session | None:
    """The live session of a cookie token (None when absent, unknown or expired)."""
    if not token:
        return None
    row = store.session(_token_key(token), time.time())
    return Session(row["user"], row["role"], row["csrf_token"], row["expires_unix"]) if row else None


def logout(store: Store, token: str | None) -> None:
    if token:
        store.end_session(_token_key(token))


def csrf_ok(session: Session | None, supplied: str | None) -> bool:
    return bool(session and supplied and hmac.compare_digest(session.csrf_token, supplied))


def is_loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))
