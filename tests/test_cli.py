"""The command line, run as a user would run it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def kapp(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kapp", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


@pytest.mark.parametrize("command", [[], ["demo"], ["db"], ["db", "upgrade"], ["db", "check"]])
def test_every_command_has_help(command: list[str]) -> None:
    result = kapp(*command, "--help")
    assert result.returncode == 0
    assert "usage: kapp" in result.stdout


def test_demo_then_check_succeed(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    made = kapp("demo", "--db", str(db), "--patients", "4", "--seed", "7")
    assert made.returncode == 0, made.stderr
    assert "patients: 4" in made.stdout
    checked = kapp("db", "check", "--db", str(db))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Integrity: ok" in checked.stdout and "Healthy" in checked.stdout


def test_upgrade_creates_then_reports_up_to_date(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    first = kapp("db", "upgrade", "--db", str(db))
    assert first.returncode == 0 and "Upgraded the database" in first.stdout
    again = kapp("db", "upgrade", "--db", str(db))
    assert again.returncode == 0 and "already at schema revision" in again.stdout


def test_check_fails_on_a_damaged_file(tmp_path: Path) -> None:
    db = tmp_path / "bad.db"
    assert kapp("db", "upgrade", "--db", str(db)).returncode == 0
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
    made = kapp("demo", "--db", str(db), "--patients", "2", "--set",
                "vitals_interval_infusion_min=3")
    assert made.returncode == 0, made.stderr
    bad = kapp("demo", "--db", str(tmp_path / "bad.db"), "--set", "vitals_interval=abc")
    assert bad.returncode == 2 and "SETTING=NUMBER" in bad.stderr
