"""Measure what encryption costs (not collected by pytest; run by hand):

    .venv/bin/python tests/storage/bench_encryption.py [--writes N] [--audit-rows N]

- opening: sign-in (argon2id unwrap with the default parameters) and the database open,
  plain vs encrypted;
- the same write work on a plain and an encrypted file (one transaction per patient, each
  with its audit entry, synchronous=FULL as in use);
- with --audit-rows: the audit viewer's first page, a deep page, the count and the chain
  verification on a trail of that many entries (encrypted).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

from kapp.domain.enums import Role
from kapp.services import vault
from kapp.services.audit_view import AuditFilter, verify_trail
from kapp.services.facade import Services
from kapp.services.patients import PatientForm
from kapp.storage import audit
from kapp.storage.engine import create_engine, sqlite_url
from kapp.storage.keyfile import KeyFile, key_file_path
from kapp.storage.models import AuditEntry


def _clinic(folder: Path, encrypted: bool) -> tuple[Path, Services]:
    path = folder / ("enc.db" if encrypted else "plain.db")
    if encrypted:
        made = vault.create_clinic(path)
        services = Services.for_database(made.database, made.keyring)
    else:
        services = Services.for_database(vault.open_plain(path, create=True).database)
    services.protocol.ensure_defaults()
    admin = services.users.create_first_admin(username="admin", full_name="Ada Admin")
    services.keyring.enrol("admin", "bench-pass-1")
    services.users.create_user(actor=admin, username="nurse1", full_name="Nia Nurse",
                               role=Role.NURSE)
    return path, services


def _writes(services: Services, count: int) -> float:
    nurse = services.users.by_username("nurse1")
    started = time.perf_counter()
    for n in range(count):
        services.patients.create(actor=nurse, form=PatientForm(
            mrn=f"B-{n:06d}", given_name="Bench", family_name=f"Person{n}",
            date_of_birth=date(1980, 1, 1), sex="female", indication="trd"))
    return time.perf_counter() - started


def _median_ms(fn, repeat: int = 7) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def bench_open_and_write(folder: Path, writes: int) -> None:
    enc_path, enc = _clinic(folder, True)
    plain_path, plain = _clinic(folder, False)
    for name, services in (("plain", plain), ("encrypted", enc)):
        seconds = _writes(services, writes)
        print(f"{writes} write transactions, {name:9}: {seconds:6.2f} s "
              f"({seconds / writes * 1000:5.2f} ms each)")
        started = time.perf_counter()
        for _ in range(20):
            services.patients.search("Person1", limit=200)
        print(f"  search as you type, {name:9}: {(time.perf_counter() - started) / 20 * 1000:5.1f}"
              " ms per search")
        services.db.dispose()

    key = KeyFile.load(key_file_path(enc_path)).unwrap_user("admin", "bench-pass-1")
    print(f"unwrap the key (argon2id default) : "
          f"{_median_ms(lambda: KeyFile.load(key_file_path(enc_path)).unwrap_user('admin', 'bench-pass-1')):6.1f} ms")  # noqa: E501

    def connect(path: Path, key: bytes | None) -> None:
        engine = create_engine(sqlite_url(path), key=key)
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT count(*) FROM patients").scalar()
        engine.dispose()

    print(f"connect + first query, plain      : {_median_ms(lambda: connect(plain_path, None)):6.1f} ms")  # noqa: E501
    print(f"connect + first query, encrypted  : {_median_ms(lambda: connect(enc_path, key)):6.1f} ms")  # noqa: E501

    def sign_in() -> None:
        vault.open_clinic(enc_path, "admin", "bench-pass-1").database.dispose()

    def open_plain() -> None:
        vault.open_plain(plain_path).database.dispose()

    print(f"open_plain (schema check), plain  : {_median_ms(open_plain, 5):6.1f} ms")
    print(f"open_clinic (unwrap + open), enc. : {_median_ms(sign_in, 5):6.1f} ms")


def bench_audit(folder: Path, rows: int) -> None:
    path = folder / "trail.db"
    made = vault.create_clinic(path)
    services = Services.for_database(made.database, made.keyring)
    admin = services.users.create_first_admin(username="admin", full_name="Ada Admin")
    started = time.perf_counter()
    engine = made.database.engine
    with engine.begin() as conn:
        last = conn.exec_driver_sql(
            "SELECT seq, entry_hash FROM audit_log ORDER BY seq DESC LIMIT 1").first()
        seq, prev = last
        at = datetime(2020, 1, 1, tzinfo=UTC)
        origin = str(uuid.uuid4())
        batch = []
        for n in range(rows):
            seq += 1
            at += timedelta(seconds=30)
            entry = SimpleNamespace(id=uuid.uuid4(), seq=seq, at=at, user_id=admin.id,
                                    action="vitals.record", entity="vitals_readings",
                                    entity_id=str(n), patient_id=None, session_id=None,
                                    old_values=None, new_values={"systolic": 120 + n % 40},
                                    reason=None, origin=origin, prev_hash=prev)
            entry.entry_hash = prev = audit.entry_hash(entry, prev)  # type: ignore[arg-type]
            batch.append(vars(entry))
            if len(batch) == 20000:
                conn.execute(AuditEntry.__table__.insert(), batch)
                batch.clear()
        if batch:
            conn.execute(AuditEntry.__table__.insert(), batch)
    print(f"wrote {rows:,} audit entries in {time.perf_counter() - started:.1f} s; file "
          f"{path.stat().st_size / 1e6:.0f} MB")
    svc = services.audit
    first = svc.page(actor=admin)
    print(f"first page (200 rows)            : {_median_ms(lambda: svc.page(actor=admin)):7.1f} ms")
    cursor = first.next_cursor
    for _ in range(50):
        cursor = svc.page(actor=admin, after=cursor).next_cursor
    print(f"page 51 by keyset                : {_median_ms(lambda: svc.page(actor=admin, after=cursor)):7.1f} ms")  # noqa: E501
    print(f"count, no filter                 : {_median_ms(lambda: svc.count(actor=admin), 3):7.1f} ms")  # noqa: E501
    day = AuditFilter(date_from=date(2020, 1, 3), date_to=date(2020, 1, 3))
    print(f"first page, one day              : {_median_ms(lambda: svc.page(actor=admin, filters=day)):7.1f} ms")  # noqa: E501
    print(f"distinct actions                 : {_median_ms(lambda: svc.actions(actor=admin), 3):7.1f} ms")  # noqa: E501
    started = time.perf_counter()
    report = verify_trail(made.database)
    print(f"verify chain                     : {time.perf_counter() - started:7.1f} s "
          f"({report.checked:,} entries, intact={report.intact})")
    made.database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--writes", type=int, default=300)
    parser.add_argument("--audit-rows", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench_open_and_write(Path(tmp), args.writes)
        if args.audit_rows:
            bench_audit(Path(tmp), args.audit_rows)


if __name__ == "__main__":
    main()
