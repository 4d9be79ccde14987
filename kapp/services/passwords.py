"""Password hashing with argon2id (argon2-cffi), stored as PHC strings.

Production uses ``PasswordHasher()``'s defaults (argon2id, 64 MiB, t=3, p=4: about a
quarter of a second per check). Tests swap in cheap parameters with ``use_hasher``.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
# A hash to verify against when the user name is unknown, so that an unknown name takes
# as long as a wrong password and timing does not tell which names exist.
_dummy: str | None = None


def use_hasher(hasher: PasswordHasher) -> PasswordHasher:
    """Replace the hasher (tests: low cost); returns the previous one."""
    global _hasher, _dummy
    previous, _hasher, _dummy = _hasher, hasher, None
    return previous


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify(stored: str | None, password: str) -> bool:
    """True when ``password`` matches the stored PHC string. An account without a hash
    never matches (it costs the same time)."""
    global _dummy
    if not stored:
        if _dummy is None:
            _dummy = _hasher.hash("kapp-no-such-account")
        stored = _dummy
        password = password + "\0"  # never matches the dummy
    try:
        return _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    try:
        return _hasher.check_needs_rehash(stored)
    except InvalidHashError:
        return True
