"""The sign-in window of a closed, encrypted clinic says an account is locked (wrong
passwords typed before the database is open count too: kapp/services/lockout.py)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from kapp.domain.clock import FixedClock
from kapp.services import vault
from kapp.services.facade import Services
from kapp.services.startup import VaultGate
from kapp.storage.keyfile import KdfParams
from kapp.ui.sign_in import SignInDialog
from tests.gui_helpers import shot

pytestmark = pytest.mark.gui

FAST = KdfParams(time_cost=1, memory_cost=1024, parallelism=1)


def test_the_sign_in_window_says_a_closed_clinic_locked_the_account(
        qtbot, tmp_path: Path, clock: FixedClock) -> None:
    path = tmp_path / "clinic.db"
    made = vault.create_clinic(path, clock=clock, kdf=FAST)
    Services.for_database(made.database, made.keyring).users.create_first_admin(
        username="admin", full_name="Ada Admin", password="admin-pass-1")
    made.database.dispose()
    gate = VaultGate(path, database_label=str(path), clock=clock)
    dialog = SignInDialog(gate.try_sign_in, database_label=str(path),
                          recover=gate.recover)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    form = dialog.form
    qtbot.keyClicks(form.username, "admin")
    qtbot.keyClick(form.username, Qt.Key.Key_Return)
    for _ in range(5):  # the clinic's default: five in a row
        qtbot.keyClicks(form.password, "a wrong guess")
        qtbot.keyClick(form.password, Qt.Key.Key_Return)
        assert form.password.text() == ""
    until = (clock.now() + timedelta(minutes=5)).astimezone()
    assert form.problem.label.text() == (
        f"Too many failed attempts: this account is locked until {until:%H:%M}. Try again "
        "then, or ask an administrator.")
    # The right password waits as well, and the clinic stays closed.
    qtbot.keyClicks(form.password, "admin-pass-1")
    qtbot.keyClick(form.password, Qt.Key.Key_Return)
    assert form.problem.label.text().startswith(f"This account is locked until {until:%H:%M}")
    assert form.problem.isVisible() and gate.services is None
    assert form.password.hasFocus() or not dialog.isActiveWindow()
    label = form.problem.label  # the whole message shows (the window grows to fit it)
    qtbot.waitUntil(lambda: form.problem.height() >= label.minimumHeight() > 0
                    and dialog.height() >= dialog.layout().totalHeightForWidth(dialog.width()))
    shot(dialog, "sign_in_closed_clinic_locked")
    clock.advance(minutes=5)
    with qtbot.waitSignal(dialog.accepted):
        qtbot.keyClicks(form.password, "admin-pass-1")
        qtbot.keyClick(form.password, Qt.Key.Key_Return)
    assert dialog.result_value.user.username == "admin"
    gate.close()
