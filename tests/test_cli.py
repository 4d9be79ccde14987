"""The command line, run as a user would run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def kapp(*args: str, cwd: Path | None = None,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("KAPP_")}
    return subprocess.run([sys.executable, "-m", "kapp", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300, env={**full_env, **(env or {})},
                          stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("command", [[], ["demo"], ["db"], ["db", "upgrade"], ["db", "check"],
                                     ["audit"], ["audit", "verify"]])
def test_every_command_has_help(command: list[str]) -> None:
    result = kapp(*command, "--help")
    assert result.returncode == 0
    assert "usage: kapp" in result.stdout


def test_demo_then_check_succeed(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    made = kapp("demo", "--db", str(db), "--patients", "4", "--seed", "7",
                "--password", "demo-pass-1")
    assert made.returncode == 0, made.stderr
    assert "patients: 4" in made.stdout
    assert "nurse1, nurse2, prescriber1, admin" in made.stdout
    assert "Recovery key" in made.stdout
    assert not db.read_bytes().startswith(b"SQLite format 3\0")
    checked = kapp("db", "check", "--db", str(db), "--user", "nurse1",
                   env={"KAPP_PASSWORD": "demo-pass-1"})
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Integrity: ok" in checked.stdout and "Healthy" in checked.stdout
    refused = kapp("db", "check", "--db", str(db), "--user", "nurse1",
                   env={"KAPP_PASSWORD": "not-it"})
    assert refused.returncode == 2 and "password is not right" in refused.stderr


def test_a_new_demo_needs_a_password_or_an_explicit_plain_database(tmp_path: Path) -> None:
    refused = kapp("demo", "--db", str(tmp_path / "a.db"), "--patients", "1")
    assert refused.returncode == 2 and "--password" in refused.stderr
    assert not (tmp_path / "a.db").exists()
    plain = kapp("demo", "--db", str(tmp_path / "b.db"), "--patients", "1", "--no-encryption")
    assert plain.returncode == 0, plain.stderr
    assert (tmp_path / "b.db").read_bytes().startswith(b"SQLite format 3\0")
    assert "Recovery key" not in plain.stdout


def test_upgrade_creates_then_reports_up_to_date(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    refused = kapp("db", "upgrade", "--db", str(db))
    assert refused.returncode == 2 and "--no-encryption" in refused.stderr
    assert not db.exists()
    first = kapp("db", "upgrade", "--db", str(db), "--no-encryption")
    assert first.returncode == 0 and "Upgraded the database" in first.stdout
    again = kapp("db", "upgrade", "--db", str(db))
    assert again.returncode == 0 and "already at schema revision" in again.stdout


def test_check_fails_on_a_damaged_file(tmp_path: Path) -> None:
    db = tmp_path / "bad.db"
    assert kapp("db", "upgrade", "--db", str(db), "--no-encryption").returncode == 0
    data = bytearray(db.read_bytes())
    for offset in range(4096 + 100, len(data), 4096):  # scribble over every page but the first
        data[offset:offset + 64] = b"\xff" * 64
    db.write_bytes(bytes(data))
    result = kapp("db", "check", "--db", str(db))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr


def test_check_of_a_missing_file_says_so(tmp_path: Path) -> None:
    result = kapp("db", "check", "--db", str(tmp_path / "nothing.db"))
    assert result.returncode == 2 and "no database" in result.stderr


def test_demo_takes_protocol_settings_and_refuses_a_malformed_one(tmp_path: Path) -> None:
    db = tmp_path / "dense.db"
    made = kapp("demo", "--db", str(db), "--patients", "2", "--no-encryption", "--set",
                "vitals_interval_infusion_min=3")
    assert made.returncode == 0, made.stderr
    bad = kapp("demo", "--db", str(tmp_path / "bad.db"), "--set", "vitals_interval=abc")
    assert bad.returncode == 2 and "SETTING=NUMBER" in bad.stderr
