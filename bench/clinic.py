"""The ten-year clinic the benchmark runs on: built once with ``kapp demo``, then cached."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from kapp.storage.database import open_database
from kapp.storage.engine import sqlite_url

# A busy clinic that charts every 3 minutes during the infusion and every 6 in recovery:
# with 3,000 patients over the demo's history this gives about 60,000 sessions and about
# 1.5 million vitals readings (issue 7's ten-year scale). The file is unencrypted so that
# the figures measure kapp itself; what encryption adds is measured apart, same work.
FULL = {"patients": 3000}
SMALL = {"patients": 30}
PROTOCOL = {"vitals_interval_infusion_min": 3, "vitals_interval_recovery_min": 6}
SEED = 7


@dataclass(frozen=True)
class Clinic:
    path: Path
    patients: int
    sessions: int
    vitals: int
    size_bytes: int
    heaviest_mrn: str
    heaviest_sessions: int


def build(cache_dir: Path, *, small: bool, log=print) -> Clinic:
    """The cached clinic, made with ``kapp demo`` if missing, brought to this kapp's
    schema (a newer kapp upgrades the cached file rather than rebuilding it)."""
    scale = SMALL if small else FULL
    name = f"clinic-{scale['patients']}p-seed{SEED}.db"
    path = cache_dir / name
    if not path.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        for leftover in cache_dir.glob(partial.name + "*"):
            leftover.unlink()
        log(f"Building the benchmark clinic ({scale['patients']:,} patients); "
            "this runs once and is cached in " + str(cache_dir))
        settings = [arg for key, value in PROTOCOL.items()
                    for arg in ("--set", f"{key}={value}")]
        subprocess.run([sys.executable, "-m", "kapp", "demo", "--db", str(partial),
                        "--patients", str(scale["patients"]), "--seed", str(SEED),
                        "--no-encryption", *settings], check=True, stdout=subprocess.DEVNULL)
        with sqlite3.connect(partial) as conn:  # fold the WAL in before renaming
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        partial.rename(path)
    _prepare(path)
    with sqlite3.connect(path) as conn:  # no -wal left to make a start-up run quick_check
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return describe(path)


def _prepare(path: Path) -> None:
    """Bring the clinic to this kapp's schema; switch off the automatic backups (each
    benchmark child would otherwise copy gigabytes when it starts or closes, measuring the
    disk instead of kapp; a clinic makes that copy once a day, off the GUI thread); and end
    any session an interrupted benchmark run left in a chair (the demo clinic has nobody
    in a chair), so every run starts from the same clinic."""
    from dataclasses import replace

    from kapp.services.facade import Services

    db = open_database(sqlite_url(path)).database
    try:
        services = Services.for_database(db)
        admin = services.users.by_username("admin")
        settings = services.backups.settings()
        if settings.on_close or settings.every_day:
            services.backups.update_settings(
                actor=admin, settings=replace(settings, on_close=False, every_day=False))
        nurse = services.users.by_username("nurse1")
        for session in services.sessions.in_progress():
            services.sessions.abort(actor=nurse, session_id=session.id,
                                    reason="benchmark session, not a patient's")
    finally:
        db.dispose()


def describe(path: Path) -> Clinic:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        count = lambda table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: E731
        mrn, most = conn.execute(
            "SELECT p.mrn, count(*) FROM sessions s JOIN patients p ON p.id = s.patient_id "
            "GROUP BY p.id ORDER BY 2 DESC LIMIT 1").fetchone()
        return Clinic(path, count("patients"), count("sessions"), count("vitals_readings"),
                      path.stat().st_size, mrn, most)
    finally:
        conn.close()


def working_copy(clinic: Clinic, folder: Path) -> Path:
    """A copy to write into, so the cached clinic stays as built."""
    target = folder / "working.db"
    shutil.copyfile(clinic.path, target)
    return target
