"""Where kapp finds its bundled files and keeps its data.

``migrations/`` and ``resources/`` sit at the top of the source tree; the wheel ships
them inside the package as ``kapp._migrations`` and ``kapp._resources`` (see
``[tool.setuptools]`` in pyproject.toml). Look in the package first, so an installed
kapp uses its own copy, and fall back to the source tree for a plain checkout.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from platformdirs import user_data_path

_SOURCE_ROOT = Path(__file__).resolve().parent.parent


def _bundled(package: str, source_dir: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            candidate = Path(location)
            if candidate.is_dir():
                return candidate
    candidate = _SOURCE_ROOT / source_dir
    if candidate.is_dir():
        return candidate
    raise FileNotFoundError(f"kapp's {source_dir} folder is missing from this installation")


def migrations_dir() -> Path:
    return _bundled("kapp._migrations", "migrations")


def resources_dir() -> Path:
    return _bundled("kapp._resources", "resources")


def instruments_dir() -> Path:
    return resources_dir() / "instruments"


def default_data_dir() -> Path:
    """The platform's per-user data folder (on Windows under LOCALAPPDATA, which is not
    redirected to a cloud-synced folder the way Documents often is)."""
    return user_data_path("kapp", appauthor=False, roaming=False)


def default_database_path() -> Path:
    return default_data_dir() / "kapp.db"


# -- a clinic's files (light: the start-up reads these before the database layer loads) ---
KEY_FILE_SUFFIX = ".keys"
SQLITE_HEADER = b"SQLite format 3\x00"  # the first 16 bytes of every plain SQLite file


def key_file_path(db_path: Path | str) -> Path:
    """The key file that sits beside an encrypted database."""
    db_path = Path(db_path)
    return db_path.with_name(db_path.name + KEY_FILE_SUFFIX)


def is_plain_sqlite_file(path: Path | str) -> bool:
    """True when the file starts with the plain SQLite header (an unencrypted database)."""
    try:
        with open(path, "rb") as f:
            return f.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    except OSError:
        return False
