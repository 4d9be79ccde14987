"""The Backups dialog and the automatic backups in the window."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from kapp.ui.backups import BackupsDialog
from kapp.ui.context import AppContext

pytestmark = [pytest.mark.gui, pytest.mark.sqlite_only]  # backups copy the SQLite file


@pytest.fixture
def admin_ctx(services, staff, qtbot):
    ctx = AppContext(services)
    ctx.set_user(staff.admin)
    return ctx


def test_back_up_verify_and_restore_from_the_dialog(admin_ctx, planned, qtbot, monkeypatch):
    dialog = BackupsDialog(admin_ctx)
    qtbot.addWidget(dialog)
    assert dialog.table.rowCount() == 0
    dialog.create_button.click()
    assert dialog.table.rowCount() == 1
    assert "Backup made and verified" in dialog.message.text()
    dialog.verify_button.click()
    assert "is whole: 1 patients, 1 sessions" in dialog.message.text()
    asked = []
    monkeypatch.setattr(dialog, "confirm_restore",
                        lambda name, now, then: asked.append((now, then)) or True)
    dialog.restore_button.click()
    assert asked == [(1, 1)]
    assert "Restored" in dialog.message.text() and "kept as" in dialog.message.text()
    assert dialog.table.rowCount() == 2  # the backup and the pre-restore copy
    shots = os.environ.get("KAPP_SCREENSHOTS")
    if shots:
        dialog.resize(820, 600)
        dialog.grab().save(str(Path(shots) / "backups-dialog.png"))


def test_settings_errors_show_next_to_the_field(admin_ctx, qtbot):
    dialog = BackupsDialog(admin_ctx)
    qtbot.addWidget(dialog)
    for box in (dialog.daily, dialog.weekly, dialog.monthly):
        box.setValue(0)
    dialog.folder.setText("relative/folder")
    dialog.save_button.click()
    assert dialog.field_errors["folder"].isVisibleTo(dialog)
    assert "full path" in dialog.field_errors["folder"].text()
    dialog.folder.setText("")
    dialog.daily.setValue(3)
    dialog.save_button.click()
    assert "Settings saved" in dialog.message.text()
    assert admin_ctx.services.backups.settings().daily == 3


def test_a_nurse_is_told_she_may_not(services, staff, qtbot):
    ctx = AppContext(services)
    ctx.set_user(staff.nurse)
    dialog = BackupsDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.create_button.click()
    assert "may not manage backups" in dialog.message.text()
    assert dialog.table.rowCount() == 0


def test_closing_the_window_makes_a_backup(services, staff, qtbot, monkeypatch):
    from kapp.ui.app import build_main_window

    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    window = build_main_window(services, "test.db", user=staff.nurse)
    qtbot.addWidget(window)
    assert window.backups_action.shortcut().toString() == "Ctrl+Shift+B"
    assert services.backups.list() == []
    window.show()
    window.close()
    assert [b.reason for b in services.backups.list()] == ["close"]


def test_the_daily_backup_runs_off_the_gui_thread(services, staff, qtbot):
    from kapp.ui.app import build_main_window

    window = build_main_window(services, "test.db", user=staff.nurse)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.auto_backup.finished, timeout=20_000) as signal:
        window.auto_backup.backup_if_due()
    assert signal.args[0].startswith("Backup made")
    assert not services.backups.daily_due()
