"""What encryption costs: the same work on an encrypted and a plain copy of one small clinic.

Both clinics are written by ``kapp demo`` with the same seed (one with ``--password``, one
with ``--no-encryption``), cached beside the big one, and copied before each run so that
the writes never pile up in the cache. The work, interleaved so that both files see the
same machine: recording one vitals reading (durable commit), a patient search, and
opening a patient's records (the patient page's overview and the progress read).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from bench.cases import Figure, vitals_recorder
from bench.clinic import PROTOCOL, SEED, describe
from bench.stats import Timing, repeat

PASSWORD = "bench-pass-7"  # a synthetic clinic of invented people


def _build(cache_dir: Path, patients: int, encrypted: bool) -> Path:
    name = f"clinic-{patients}p-seed{SEED}-{'encrypted' if encrypted else 'plain'}.db"
    path = cache_dir / name
    if path.exists():
        return path
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = path.with_name("partial-" + name)
    for leftover in cache_dir.glob(partial.name + "*"):
        leftover.unlink()
    settings = [arg for key, value in PROTOCOL.items() for arg in ("--set", f"{key}={value}")]
    secret = ["--password", PASSWORD] if encrypted else ["--no-encryption"]
    subprocess.run([sys.executable, "-m", "kapp", "demo", "--db", str(partial), "--patients",
                    str(patients), "--seed", str(SEED), *secret, *settings], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for file in _files(partial):
        file.rename(path.with_name(name + file.name.removeprefix(partial.name)))
    return path


def _files(path: Path) -> list[Path]:
    """The database and what belongs beside it (its key file)."""
    return [f for f in path.parent.glob(path.name + "*") if not f.name.endswith("-shm")]


def _copy(path: Path, folder: Path) -> Path:
    for file in _files(path):
        shutil.copyfile(file, folder / file.name)
    return folder / path.name


def _open(path: Path, encrypted: bool):
    from kapp.services import vault
    from kapp.services.facade import Services

    opened = (vault.open_clinic(path, "nurse1", PASSWORD) if encrypted
              else vault.open_plain(path))
    return Services.for_database(opened.database, opened.keyring)


def _work(services, mrn: str) -> dict[str, Callable[[], object]]:
    patient_id = services.patients.by_mrn(mrn).id

    def open_records() -> None:
        services.patient_view.forget_kept()  # read from the file each time, nothing kept
        services.patient_view.overview(patient_id)
        services.progress.progress(patient_id)

    return {
        "record one vitals reading": vitals_recorder(services),
        "patient search": lambda: services.patients.search("DEMO-00", limit=200),
        "open a patient's records": open_records,
    }


def encryption(cache_dir: Path, folder: Path, patients: int, rounds: int,
               per_round: int) -> list[Figure]:
    """One figure per kind of work: the encrypted file's timing against the plain one's."""
    plain_path = _copy(_build(cache_dir, patients, False), folder)
    secret_path = _copy(_build(cache_dir, patients, True), folder)
    mrn = describe(plain_path).heaviest_mrn
    plain, secret = _open(plain_path, False), _open(secret_path, True)
    try:
        work = {"plain": _work(plain, mrn), "encrypted": _work(secret, mrn)}
        samples: dict[str, dict[str, list[float]]] = {k: {n: [] for n in work[k]}
                                                      for k in work}
        for _ in range(rounds):  # interleaved: both files see the same machine
            for kind in ("plain", "encrypted"):
                for name, action in work[kind].items():
                    samples[kind][name] += repeat(action, per_round).samples_ms
    finally:
        plain.db.dispose()
        secret.db.dispose()
    figures = []
    for name in work["plain"]:
        enc, base = Timing(tuple(samples["encrypted"][name])), Timing(
            tuple(samples["plain"][name]))
        ratio = enc.median / base.median
        figures.append(Figure(
            f"Encryption cost: {name}",
            f"encrypted median {enc.median:.1f} ms, p95 {enc.p95:.1f} ms (plain: median "
            f"{base.median:.1f} ms, p95 {base.p95:.1f} ms)", "", None, f"{ratio:.2f}x",
            enc, base, f"same work, plain file ({patients} patients)"))
    return figures
