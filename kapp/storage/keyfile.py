"""The database key and its wrappings: envelope encryption for an encrypted kapp database.

An encrypted database is encrypted (SQLCipher, AES-256) under one random 256-bit *data
key*. Nobody types that key: it is kept in a small JSON *key file* next to the database
(``<database>.keys``), wrapped (AES-256-GCM) once per account under a key derived from that
account's password (argon2id, the account's own salt, the parameters stored beside it),
and once under a *recovery key* that the administrator is shown once, as readable groups.

- Signing in unwraps the data key with the account's password; a wrong password fails the
  GCM tag check here and never touches the database.
- Changing a password rewraps the data key; the database is not re-encrypted.
- Removing an account removes its wrapping. (An account that may have copied the data key
  while it had access calls for ``PRAGMA rekey``: not done here.)
- The key file holds nothing readable without a password or the recovery key; it is
  written atomically (temporary file, fsync, rename), readable only by its owner.

Losing the key file loses the database (the recovery key unwraps the copy *in* the key
file): back it up with the database.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kapp.domain.errors import KappError
from kapp.paths import KEY_FILE_SUFFIX, key_file_path  # noqa: F401 - kept importable here

FORMAT = "kapp-key-file"
VERSION = 1
KEY_BYTES = 32
SALT_BYTES = 16
NONCE_BYTES = 12

RECOVERY_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
RECOVERY_BITS = 160
RECOVERY_GROUP = 4
_RECOVERY_CHARS = RECOVERY_BITS // 5  # 32 characters, 8 groups of 4


class KeyFileError(KappError):
    """The key file is missing, unreadable or damaged."""


class WrongPassword(KappError):
    """The user name or password does not open the database."""


class WrongRecoveryKey(KappError):
    """The recovery key does not open the database."""


@dataclass(frozen=True, slots=True)
class KdfParams:
    """argon2id parameters. The defaults are argon2-cffi's (RFC 9106's low-memory
    choice): 64 MiB, 3 passes, 4 lanes, about 0.2 s here. OWASP's floor is 19 MiB, t=2."""

    time_cost: int = 3
    memory_cost: int = 65536  # KiB
    parallelism: int = 4

    def check(self) -> None:
        # A damaged or hostile key file must not make kapp allocate gigabytes or loop.
        if not (1 <= self.time_cost <= 50 and 8 <= self.memory_cost <= 4 * 1024 * 1024
                and 1 <= self.parallelism <= 64):
            raise KeyFileError("The key file holds key-derivation settings out of range.")


DEFAULT_KDF = KdfParams()


def normalise_username(username: str) -> str:
    return (username or "").strip().lower()


# -- recovery key -------------------------------------------------------------------------
def new_recovery_key() -> str:
    """A random recovery key, as eight groups of four characters (160 bits)."""
    number = secrets.randbits(RECOVERY_BITS)
    chars = []
    for _ in range(_RECOVERY_CHARS):
        number, digit = divmod(number, 32)
        chars.append(RECOVERY_ALPHABET[digit])
    text = "".join(reversed(chars))
    return "-".join(text[i:i + RECOVERY_GROUP] for i in range(0, len(text), RECOVERY_GROUP))


def parse_recovery_key(text: str) -> bytes:
    """The key's bytes, forgiving what people do when they type it: lower case, spaces or
    no dashes, O for 0 and I or L for 1."""
    cleaned = "".join(ch for ch in (text or "").upper() if ch not in " -\t\r\n")
    cleaned = cleaned.translate(str.maketrans("OIL", "011"))
    if len(cleaned) != _RECOVERY_CHARS or any(ch not in RECOVERY_ALPHABET for ch in cleaned):
        raise WrongRecoveryKey(
            f"A recovery key has {_RECOVERY_CHARS} letters and digits in groups of "
            f"{RECOVERY_GROUP} (like ABCD-EFGH-...); check what was typed.")
    number = 0
    for ch in cleaned:
        number = number * 32 + RECOVERY_ALPHABET.index(ch)
    return number.to_bytes(RECOVERY_BITS // 8, "big")


# -- wrapping -----------------------------------------------------------------------------
def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise KeyFileError("The key file is damaged (a field is missing or not text).")
    try:
        return base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise KeyFileError("The key file is damaged (a field is not base64).") from exc


def _derive(secret: bytes, salt: bytes, kdf: KdfParams) -> bytes:
    return hash_secret_raw(secret, salt, time_cost=kdf.time_cost, memory_cost=kdf.memory_cost,
                           parallelism=kdf.parallelism, hash_len=KEY_BYTES, type=Type.ID)


def _aad(label: str) -> bytes:
    # Binds each wrapping to its slot: one account's wrapping copied into another
    # account's slot does not open.
    return f"{FORMAT}/{VERSION}/{label}".encode()


def wrap(data_key: bytes, secret: bytes, label: str, kdf: KdfParams) -> dict[str, Any]:
    salt, nonce = secrets.token_bytes(SALT_BYTES), secrets.token_bytes(NONCE_BYTES)
    wrapped = AESGCM(_derive(secret, salt, kdf)).encrypt(nonce, data_key, _aad(label))
    return {"kdf": "argon2id", **asdict(kdf), "salt": _b64(salt), "nonce": _b64(nonce),
            "wrapped_key": _b64(wrapped)}


def unwrap(entry: dict[str, Any], secret: bytes, label: str) -> bytes | None:
    """The data key, or None when the secret is wrong (the GCM tag does not check out)."""
    if not isinstance(entry, dict) or entry.get("kdf") != "argon2id":
        raise KeyFileError("The key file is damaged (unknown key derivation).")
    try:
        kdf = KdfParams(int(entry["time_cost"]), int(entry["memory_cost"]),
                        int(entry["parallelism"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise KeyFileError("The key file is damaged (key-derivation settings).") from exc
    kdf.check()
    salt, nonce = _unb64(entry.get("salt")), _unb64(entry.get("nonce"))
    wrapped = _unb64(entry.get("wrapped_key"))
    if len(nonce) != NONCE_BYTES or len(salt) < 8:
        raise KeyFileError("The key file is damaged (salt or nonce).")
    try:
        key = AESGCM(_derive(secret, salt, kdf)).decrypt(nonce, wrapped, _aad(label))
    except InvalidTag:
        return None
    if len(key) != KEY_BYTES:
        raise KeyFileError("The key file is damaged (the key has the wrong length).")
    return key


def _user_label(username: str) -> str:
    return f"user/{username}"


RECOVERY_LABEL = "recovery"


# -- the file -----------------------------------------------------------------------------
@dataclass
class KeyFile:
    """The parsed key file: a wrapping per account and one for the recovery key."""

    path: Path
    users: dict[str, dict[str, Any]]
    recovery: dict[str, Any]
    created_at: str
    database: str

    @classmethod
    def load(cls, path: Path) -> KeyFile:
        try:
            raw = path.read_bytes()
        except FileNotFoundError as exc:
            raise KeyFileError(f"The key file {path} is missing.") from exc
        except OSError as exc:
            raise KeyFileError(f"The key file {path} cannot be read ({exc.strerror}).") from exc
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise KeyFileError(f"The key file {path} is damaged (not valid JSON).") from exc
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise KeyFileError(f"{path} is not a kapp key file.")
        if data.get("version") != VERSION:
            raise KeyFileError(f"The key file {path} was written by another version of kapp "
                               f"(key-file version {data.get('version')}).")
        users, recovery = data.get("users"), data.get("recovery")
        if not isinstance(users, dict) or not isinstance(recovery, dict):
            raise KeyFileError(f"The key file {path} is damaged (no wrappings).")
        return cls(path=path, users=users, recovery=recovery,
                   created_at=str(data.get("created_at", "")),
                   database=str(data.get("database", "")))

    def to_json(self) -> str:
        return json.dumps({
            "format": FORMAT,
            "version": VERSION,
            "about": "The key of an encrypted kapp database, wrapped for each account's "
                     "password and for the recovery key. Without a password or the recovery "
                     "key it opens nothing. Keep it with the database and its backups.",
            "database": self.database,
            "created_at": self.created_at,
            "cipher": "AES-256-GCM",
            "users": dict(sorted(self.users.items())),
            "recovery": self.recovery,
        }, indent=2) + "\n"

    def save(self) -> None:
        write_atomically(self.path, self.to_json().encode("utf-8"))

    def unwrap_user(self, username: str, password: str) -> bytes:
        name = normalise_username(username)
        entry = self.users.get(name)
        if entry is None:
            # The same work as a real attempt (an account's own argon2 settings), so that
            # timing does not tell which user names exist.
            _derive(password.encode("utf-8"), b"\0" * SALT_BYTES, self._decoy_kdf())
            raise WrongPassword("The user name or password is not right.")
        key = unwrap(entry, password.encode("utf-8"), _user_label(name))
        if key is None:
            raise WrongPassword("The user name or password is not right.")
        return key

    def _decoy_kdf(self) -> KdfParams:
        for entry in [*self.users.values(), self.recovery]:
            try:
                kdf = KdfParams(int(entry["time_cost"]), int(entry["memory_cost"]),
                                int(entry["parallelism"]))
                kdf.check()
                return kdf
            except (KeyError, TypeError, ValueError, KeyFileError):
                continue
        return DEFAULT_KDF

    def unwrap_recovery(self, recovery_key: str) -> bytes:
        key = unwrap(self.recovery, parse_recovery_key(recovery_key), RECOVERY_LABEL)
        if key is None:
            raise WrongRecoveryKey("This recovery key does not open this database.")
        return key


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a crash leaves the old file or the new one,
    never a torn one: a temporary file beside it, fsync, rename, fsync the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    if sys.platform != "win32":  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Serialise read-modify-write of the key file between kapp processes on this host."""
    lock_path = path.with_name(path.name + ".lock")
    try:
        import fcntl
    except ImportError:  # Windows: one kapp per workstation writes it; accept the race
        yield
        return
    with open(lock_path, "a+b") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def create_key_file(db_path: Path, *, kdf: KdfParams | None = None) -> tuple[bytes, str]:
    """A new data key and a key file holding it under a new recovery key (no accounts
    yet). Returns ``(data_key, recovery_key)``. Refuses to replace an existing key file."""
    path = key_file_path(db_path)
    if path.exists():
        raise KeyFileError(f"A key file already exists at {path}; kapp will not replace it.")
    data_key = secrets.token_bytes(KEY_BYTES)
    recovery_key = new_recovery_key()
    key_file = KeyFile(
        path=path, users={},
        recovery=wrap(data_key, parse_recovery_key(recovery_key), RECOVERY_LABEL,
                      kdf or DEFAULT_KDF),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        database=Path(db_path).name)
    key_file.save()
    return data_key, recovery_key


class FileKeyRing:
    """The ``KeyRing`` of an encrypted database (see kapp/services/keys.py): holds the data
    key in memory while kapp runs and keeps the key file's wrappings in step with the
    accounts."""

    encrypted = True

    def __init__(self, db_path: Path, data_key: bytes, *, kdf: KdfParams | None = None) -> None:
        if len(data_key) != KEY_BYTES:
            raise ValueError("the data key must be 32 bytes")
        self.db_path = Path(db_path)
        self.path = key_file_path(db_path)
        self._key = data_key
        self.kdf = kdf or DEFAULT_KDF

    @property
    def data_key(self) -> bytes:
        return self._key

    def usernames(self) -> list[str]:
        return sorted(KeyFile.load(self.path).users)

    def enrol(self, username: str, password: str) -> None:
        name = self._checked(username, password)
        with _locked(self.path):
            key_file = KeyFile.load(self.path)
            key_file.users[name] = wrap(self._key, password.encode("utf-8"),
                                        _user_label(name), self.kdf)
            key_file.save()

    def rewrap(self, username: str, old_password: str, new_password: str) -> None:
        name = self._checked(username, new_password)
        with _locked(self.path):
            key_file = KeyFile.load(self.path)
            if name in key_file.users and key_file.unwrap_user(name, old_password) != self._key:
                raise KeyFileError("The key file does not belong to this database.")
            key_file.users[name] = wrap(self._key, new_password.encode("utf-8"),
                                        _user_label(name), self.kdf)
            key_file.save()

    def forget(self, username: str) -> None:
        name = normalise_username(username)
        with _locked(self.path):
            key_file = KeyFile.load(self.path)
            if key_file.users.pop(name, None) is not None:
                key_file.save()

    def replace_recovery_key(self) -> str:
        """Replace the recovery key (the old one stops working); show the new one once."""
        recovery_key = new_recovery_key()
        with _locked(self.path):
            key_file = KeyFile.load(self.path)
            key_file.recovery = wrap(self._key, parse_recovery_key(recovery_key),
                                     RECOVERY_LABEL, self.kdf)
            key_file.save()
        return recovery_key

    @staticmethod
    def _checked(username: str, password: str) -> str:
        name = normalise_username(username)
        if not name:
            raise ValueError("a user name is needed")
        if not password:
            raise WrongPassword("An empty password cannot protect the database key.")
        return name
