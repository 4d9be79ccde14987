"""An installed, non-editable kapp finds its migrations and instrument files."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_wheel_ships_migrations_and_resources_and_uses_them(tmp_path: Path) -> None:
    wheel_dir = tmp_path / "wheel"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "-w", str(wheel_dir), str(ROOT)],
                   check=True, capture_output=True)
    wheel = next(wheel_dir.glob("kapp-*.whl"))
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        archive.extractall(site)
    assert "kapp/_migrations/env.py" in names
    assert "kapp/_resources/instruments/phq9.json" in names

    # Run from an empty folder with the unpacked wheel first on the path, so nothing can
    # come from the source tree: the paths found must be inside the installed package,
    # and a database made there must reach the head revision.
    probe = (
        "import sys; from kapp.paths import migrations_dir, instruments_dir;"
        "from kapp.storage.database import open_database;"
        "from kapp.storage.engine import sqlite_url;"
        "from kapp.storage.migrate import head_revision;"
        "print(migrations_dir()); print(instruments_dir());"
        "o = open_database(sqlite_url('probe.db')); print(o.upgrade.to_revision == head_revision())"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    assert out[0].startswith(str(site)) and out[1].startswith(str(site))
    assert out[2] == "True"
