"""Backups in the window: automatic ones (daily while kapp runs, and on closing), the
administrator's Backups dialog, and the offer to restore a damaged database at start-up.

Wiring (done by ``install_backups(window)``): a File ▸ Backups… action (Ctrl+Shift+B),
an hourly QTimer that makes the day's backup off the GUI thread when it is due, and a
hook on the main window's close that makes the closing backup.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kapp.domain.errors import KappError, StorageUnavailable, ValidationError
from kapp.services.backups import BackupSettings
from kapp.ui.background import action_problem, read_problem
from kapp.ui.context import AppContext
from kapp.ui.session_steps._forms import tone

log = logging.getLogger(__name__)

CHECK_EVERY_MS = 60 * 60 * 1000  # look once an hour whether today's backup is due
REASONS = {"auto": "daily", "close": "on closing", "manual": "by hand",
           "pre-restore": "before a restore"}


class AutoBackup(QObject):
    """Makes the automatic backups of the window's database."""

    finished = Signal(str)  # a message for the status bar

    def __init__(self, ctx: AppContext, window: QMainWindow) -> None:
        super().__init__(window)
        self.ctx = ctx
        self.window = window
        self._running = threading.Lock()
        self.timer = QTimer(self)
        self.timer.setInterval(CHECK_EVERY_MS)
        self.timer.timeout.connect(self.backup_if_due)
        self.timer.start()
        window.installEventFilter(self)
        self.finished.connect(self._tell)
        QTimer.singleShot(60_000, self.backup_if_due)  # a minute after start-up

    def backup_if_due(self) -> None:
        backups = self.ctx.services.backups
        try:
            due = backups.daily_due()
        except KappError:
            return
        if due and self._running.acquire(blocking=False):
            threading.Thread(target=self._make, args=("auto",), daemon=True,
                             name="kapp-backup").start()

    def _make(self, reason: str) -> None:
        try:
            made = self.ctx.services.backups.automatic(reason)
            if made is not None:
                self.finished.emit(f"Backup made: {made.name}")
        except KappError as exc:
            self.finished.emit(f"The automatic backup failed: {exc}")
        except Exception:  # a backup must never take the window down
            log.exception("automatic backup failed")
            self.finished.emit("The automatic backup failed; see the log.")
        finally:
            self._running.release()

    def backup_on_close(self) -> None:
        if not self.ctx.services.backups.available:
            return
        with self._running:  # wait for a daily backup still running
            try:
                self.ctx.services.backups.automatic("close")
            except KappError as exc:
                log.warning("closing backup failed: %s", exc)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window and event.type() == QEvent.Type.Close:
            self.timer.stop()
            self.backup_on_close()
        return False

    def _tell(self, message: str) -> None:
        bar = self.window.statusBar()
        bar.showMessage(message, 15_000)


class BackupsDialog(QDialog):
    """For an administrator: the backups, back up now, verify, restore, settings."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.backups = ctx.services.backups
        self.setWindowTitle("Backups")
        self.resize(820, 560)
        layout = QVBoxLayout(self)
        self.where = QLabel()
        self.where.setWordWrap(True)
        layout.addWidget(self.where)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Backup", "Made (UTC)", "Why", "Size"])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().hide()
        layout.addWidget(self.table, 1)
        buttons = QHBoxLayout()
        self.create_button = QPushButton("&Back up now")
        self.verify_button = QPushButton("&Verify selected")
        self.restore_button = QPushButton("&Restore selected…")
        for button in (self.create_button, self.verify_button, self.restore_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.create_button.clicked.connect(self.create_backup)
        self.verify_button.clicked.connect(self.verify_selected)
        self.restore_button.clicked.connect(self.restore_selected)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.message)

        self.settings_box = box = QGroupBox("Automatic backups")
        form = QFormLayout(box)
        self.daily = QSpinBox(maximum=366)
        self.weekly = QSpinBox(maximum=520)
        self.monthly = QSpinBox(maximum=1200)
        self.on_close = QCheckBox("Back up when kapp is closed")
        self.every_day = QCheckBox("Back up once a day while kapp runs")
        self.folder = QLineEdit()
        self.folder.setPlaceholderText("the “backups” folder beside the database")
        form.addRow("Daily backups kept:", self.daily)
        form.addRow("Weekly backups kept:", self.weekly)
        form.addRow("Monthly backups kept:", self.monthly)
        form.addRow(self.on_close)
        form.addRow(self.every_day)
        form.addRow("Backup folder:", self.folder)
        self.field_errors: dict[str, QLabel] = {}
        for name in ("daily", "weekly", "monthly", "folder"):
            label = QLabel()
            label.setStyleSheet("color: palette(highlight);")
            label.hide()
            self.field_errors[name] = label
            form.addRow("", label)
        layout.addWidget(box)
        close = QDialogButtonBox()
        self.save_button = close.addButton("&Save settings",
                                           QDialogButtonBox.ButtonRole.ApplyRole)
        close.addButton(QDialogButtonBox.StandardButton.Close)
        self.save_button.clicked.connect(self.save_settings)
        close.rejected.connect(self.reject)
        layout.addWidget(close)
        again = QShortcut(QKeySequence(Qt.Key.Key_F5), self)
        again.activated.connect(self.load)
        self.load()

    # -- filling -----------------------------------------------------------------------------
    def load(self) -> bool:
        """Read the settings and the backups (F5 again). Settings that could not be read
        (the database server out of reach) cannot be changed: the form would otherwise
        offer the defaults, and saving them would overwrite the clinic's own."""
        try:
            settings = self.backups.settings()
        except KappError as exc:
            self.settings_box.hide()  # not zeros or defaults that look like the settings
            self.save_button.setEnabled(False)
            if not self.backups.available:
                self.refresh()  # says where the backups are made; reads nothing
            self._say(read_problem("The backup settings", exc), problem=True)
            return False
        self.settings_box.show()
        self.save_button.setEnabled(True)
        self._say("")
        self.daily.setValue(settings.daily)
        self.weekly.setValue(settings.weekly)
        self.monthly.setValue(settings.monthly)
        self.on_close.setChecked(settings.on_close)
        self.every_day.setChecked(settings.every_day)
        self.folder.setText(settings.folder)
        return self.refresh()

    def refresh(self) -> bool:
        if not self.backups.available:
            self.where.setText("This database runs on a server: it is backed up there.")
            for button in (self.create_button, self.verify_button, self.restore_button):
                button.setEnabled(False)
            return True
        try:
            folder = self.backups.folder()
            found = self.backups.list()
        except KappError as exc:
            self._say(read_problem("The list of backups", exc), problem=True)
            return False
        self.where.setText(f"Backups are kept in {folder}. Each one was checked before it "
                           "was kept.")
        self.table.setRowCount(len(found))
        for row, item in enumerate(found):
            values = [item.name, f"{item.made_at:%Y-%m-%d %H:%M}",
                      REASONS.get(item.reason, item.reason), f"{item.size / 1e6:.1f} MB"]
            for column, text in enumerate(values):
                cell = QTableWidgetItem(text)
                cell.setData(Qt.ItemDataRole.UserRole, str(item.path))
                self.table.setItem(row, column, cell)
        self.table.resizeColumnsToContents()
        if found:
            self.table.selectRow(0)

    def selected(self) -> Path | None:
        items = self.table.selectedItems()
        return Path(items[0].data(Qt.ItemDataRole.UserRole)) if items else None

    def _say(self, text: str, *, problem: bool = False) -> None:
        """A line under the buttons: a problem in the danger colours with ⚠, else ✓."""
        if not text:
            self.message.clear()
            self.message.setStyleSheet("")
            return
        self.message.setText(("⚠ " if problem else "✓ ") + text)
        if problem:
            background, foreground = tone(self, "danger")
            self.message.setStyleSheet(f"background: {background}; color: {foreground}; "
                                       "padding: 6px; border-radius: 4px;")
        else:
            self.message.setStyleSheet("")

    def _failed(self, problem: KappError, not_done: str) -> None:
        """A storage problem in words fit for what did not happen (no form's entry)."""
        self._say(action_problem(problem, not_done) if isinstance(
            problem, StorageUnavailable) else str(problem), problem=True)

    # -- actions -----------------------------------------------------------------------------
    def create_backup(self) -> None:
        try:
            made = self.backups.create(actor=self.ctx.actor())
        except KappError as exc:
            self._failed(exc, "No backup was made.")
            return
        self.refresh()
        self._say(f"Backup made and verified: {made.name}")

    def verify_selected(self) -> None:
        path = self.selected()
        if path is None:
            self._say("Choose a backup in the list first.", problem=True)
            return
        try:
            check = self.backups.verify(actor=self.ctx.actor(), path=path)
        except KappError as exc:
            self._failed(exc, "The backup was not checked.")
            return
        if check.ok:
            self._say(f"{path.name} is whole: {check.patients} patients, "
                      f"{check.sessions} sessions.")
        else:
            self._say(f"{path.name} is NOT usable: " + "; ".join(check.problems), problem=True)

    def restore_selected(self) -> None:
        path = self.selected()
        if path is None:
            self._say("Choose a backup in the list first.", problem=True)
            return
        try:
            check = self.backups.verify(actor=self.ctx.actor(), path=path)
            now = self.backups.session_count()
        except KappError as exc:
            self._failed(exc, "Nothing was restored: the database is unchanged.")
            return
        if not check.ok:
            self._say(f"{path.name} is NOT usable: " + "; ".join(check.problems), problem=True)
            return
        if not self.confirm_restore(path.name, now, check.sessions or 0):
            return
        try:
            result = self.backups.restore(actor=self.ctx.actor(), path=path)
        except KappError as exc:
            self._say(str(exc), problem=True)
            return
        self.refresh()
        self._say(f"Restored {path.name}: the database now holds {result.sessions_after} "
                  f"sessions (it held {result.sessions_before}). The database as it was is "
                  f"kept as {result.kept_copy.name}.")

    def confirm_restore(self, name: str, now: int, then: int) -> bool:
        answer = QMessageBox.question(
            self, "Restore a backup",
            f"The database now holds {now} sessions; the backup {name} holds {then}.\n\n"
            "Entries made after the backup will no longer be shown (the database as it is "
            "now is kept as a copy first). Restore the backup?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def save_settings(self) -> None:
        for label in self.field_errors.values():
            label.hide()
        settings = BackupSettings(self.folder.text().strip(), self.daily.value(),
                                  self.weekly.value(), self.monthly.value(),
                                  self.on_close.isChecked(), self.every_day.isChecked())
        try:
            self.backups.update_settings(actor=self.ctx.actor(), settings=settings)
        except ValidationError as exc:
            for error in exc.errors:
                label = self.field_errors.get(error.field)
                if label is not None:
                    label.setText("⚠ " + error.message)
                    label.show()
            self._say(str(exc), problem=True)
            return
        except KappError as exc:
            self._failed(exc, "The settings were NOT saved; they are still in the form as "
                              "you typed them.")
            return
        self.refresh()
        self._say("Settings saved.")


def install_backups(window: QMainWindow) -> AutoBackup:
    """Automatic backups for ``window`` (a MainWindow with ``.ctx``) and its File menu
    entry Backups… (Ctrl+Shift+B) for administrators."""
    ctx: AppContext = window.ctx  # type: ignore[attr-defined]
    auto = AutoBackup(ctx, window)
    action = QAction("&Backups…", window)
    action.setShortcut(QKeySequence("Ctrl+Shift+B"))
    action.triggered.connect(lambda: BackupsDialog(ctx, window).exec())
    menus = [a.menu() for a in window.menuBar().actions() if a.menu() is not None]
    file_menu = next((m for m in menus if m.title().replace("&", "") == "File"), None)
    if file_menu is not None:
        first = file_menu.actions()[0] if file_menu.actions() else None
        file_menu.insertAction(first, action)
    else:
        window.addAction(action)
    window.backups_action = action  # type: ignore[attr-defined]
    window.auto_backup = auto  # type: ignore[attr-defined]
    return auto


def offer_restore(message: str, latest_backup: str | None) -> bool:
    """At start-up, for a damaged database: say what is wrong and offer the restore.
    True when the user chose to restore ``latest_backup``."""
    from kapp.ui.app import ensure_application

    ensure_application()
    box = QMessageBox(QMessageBox.Icon.Critical, "kapp: the database is damaged", message)
    restore = None
    if latest_backup:
        restore = box.addButton("Restore the latest backup", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("Quit", QMessageBox.ButtonRole.RejectRole)
    box.exec()
    return restore is not None and box.clickedButton() is restore
