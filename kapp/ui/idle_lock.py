"""The idle screen lock of a shared workstation.

After ``idle_lock_minutes`` (clinic setting) without a key press or mouse input anywhere in
kapp, a short warning appears; if nobody touches anything, every kapp window is covered:
the main window's content, menus and title are hidden behind a lock page, and any open
dialog is covered too. Nothing is closed or rebuilt underneath: session screens keep their
half-typed entries and their timers keep running. Just before covering, every open form
saves its draft (``kapp.ui.drafts.save_all``), so a crash while locked loses nothing.

The same person unlocks with their password, or another person signs in with theirs and
becomes the signed-in user (``ctx.set_user``) with every open session screen as it was,
except that a form holding the first person's half-typed entry keeps it as their draft
and shows the newcomer their own draft instead (``DraftKeeper``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from enum import Enum
from typing import Any, Protocol

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QStyle,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from kapp.domain.entities import User
from kapp.services.changes import Change
from kapp.ui.context import AppContext
from kapp.ui.drafts import save_all
from kapp.ui.sign_in import SignInForm, heading

WARNING_SECONDS = 30
LOCKED_TITLE = "kapp — locked"

_ACTIVITY = frozenset({
    QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick,
    QEvent.Type.MouseMove, QEvent.Type.Wheel, QEvent.Type.TouchBegin, QEvent.Type.TouchUpdate,
    QEvent.Type.TabletPress,
})


class IdleTimer(Protocol):
    """What the lock needs of a timer (a single-shot QTimer; tests inject their own)."""

    timeout: Any  # a signal

    def start(self, msec: int) -> None: ...
    def stop(self) -> None: ...


def _single_shot_timer(parent: QObject) -> QTimer:
    timer = QTimer(parent)
    timer.setSingleShot(True)
    return timer


class State(Enum):
    ACTIVE = "active"
    WARNING = "warning"
    LOCKED = "locked"


class LockPage(QWidget):
    """What covers a window while locked. The page in the window that can take input has
    the unlock form; others only say where to unlock."""

    def __init__(self, parent: QWidget, *, form: SignInForm | None, clinic_name: str,
                 who: User | None) -> None:
        super().__init__(parent)
        self.setObjectName("kappLockPage")
        self.setAutoFillBackground(True)  # opaque: nothing shows through
        self.form = form
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        panel = QWidget()
        panel.setFixedWidth(max(min(520, parent.width() - 32), 320))
        layout = QVBoxLayout(panel)
        layout.setSpacing(12)
        icon = QLabel()
        icon.setPixmap(self.style().standardIcon(
            QStyle.StandardPixmap.SP_MessageBoxInformation).pixmap(48, 48))
        layout.addWidget(icon, 0, Qt.AlignmentFlag.AlignHCenter)
        title = f"{clinic_name}: screen locked" if clinic_name else "Screen locked"
        title_label = heading(title)
        title_label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(title_label)
        if form is not None:
            lines = ["Patient information is hidden. Infusions and their timers keep "
                     "running."]
            if who is not None:
                lines.append(f"<b>{who.full_name}</b> was signed in: type your password to "
                             "carry on.")
            lines.append("Someone else? Type your own user name and password; the open "
                         "sessions stay exactly as they are.")
            text = QLabel("<p>" + "</p><p>".join(lines) + "</p>")
            text.setWordWrap(True)
            layout.addWidget(text)
            layout.addWidget(form)
        else:
            text = QLabel("Patient information is hidden. Unlock in the kapp window.")
            text.setWordWrap(True)
            layout.addWidget(text)
        # No alignment flags around wrapped text: an aligned item gets its size hint, not
        # the height its wrapped lines need at this width.
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(panel)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)


class _Covered:
    """One covered window and how to put it back as it was."""

    def __init__(self, window: QWidget, page: LockPage, *, main: bool) -> None:
        self.window = window
        self.page = page
        self.title = window.windowTitle()
        self.main = main
        self.size = window.size()
        self.hidden: list[QWidget] = []
        if isinstance(window, QMainWindow):
            for part in (window.centralWidget(), window.menuBar(), window.statusBar()):
                if part is not None and part.isVisible():
                    part.hide()
                    self.hidden.append(part)
            for toolbar in window.findChildren(QWidget, options=Qt.FindChildOption
                                               .FindDirectChildrenOnly):
                if toolbar.inherits("QToolBar") and toolbar.isVisible():
                    toolbar.hide()
                    self.hidden.append(toolbar)
        window.setWindowTitle(LOCKED_TITLE)
        hint = page.sizeHint()
        if window.width() < hint.width() or window.height() < hint.height():
            window.resize(max(window.width(), hint.width()),
                          max(window.height(), hint.height()))
        page.setGeometry(window.rect())
        page.show()
        page.raise_()

    def fit(self) -> None:
        self.page.setGeometry(self.window.rect())
        self.page.raise_()

    def restore(self) -> None:
        self.page.hide()
        self.page.deleteLater()
        for part in self.hidden:
            part.show()
        self.window.setWindowTitle(self.title)
        if self.window.size() != self.size:
            self.window.resize(self.size)


class IdleLock(QObject):
    """Watches for input anywhere in kapp's windows and locks after the idle time."""

    locked = Signal()
    unlocked = Signal(object)  # the user now signed in
    warningShown = Signal()  # noqa: N815

    def __init__(self, window: QMainWindow, ctx: AppContext, *,
                 timer: IdleTimer | None = None,
                 idle_minutes: Callable[[], int] | None = None,
                 warning_seconds: int = WARNING_SECONDS) -> None:
        super().__init__(window)
        self.window = window
        self.ctx = ctx
        self.state = State.ACTIVE
        self.warning_seconds = warning_seconds
        self._idle_minutes = idle_minutes or (
            lambda: ctx.services.settings.current().idle_lock_minutes)
        self._minutes = self._idle_minutes()
        self.timer: IdleTimer = timer if timer is not None else _single_shot_timer(self)
        self.timer.timeout.connect(self._on_timeout)
        self._covered: list[_Covered] = []
        self._focus: QWidget | None = None
        self.form: SignInForm | None = None
        self.banner: QLabel | None = None
        ctx.changes.changed.connect(self._on_changed)
        self._watching = True
        # Input is watched where it enters kapp, at each top-level window's QWindow, not by
        # a filter on the whole application: that one would call into Python for every
        # event of every widget (some 2,600 to open a patient, ~20-60 ms of it). Only while
        # locked does the lock filter the application (to hold shortcuts behind it).
        window.installEventFilter(self)  # its own Show and Close
        app = QApplication.instance()
        assert isinstance(app, QGuiApplication)
        app.focusWindowChanged.connect(self._watch_windows)  # a dialog that comes up
        self._watch_windows()
        self.restart()

    # -- the clock ------------------------------------------------------------------------
    @property
    def idle_minutes(self) -> int:
        return self._minutes

    def restart(self) -> None:
        """Input was seen: start counting the idle time again."""
        self._hide_banner()
        self.state = State.ACTIVE
        warn = min(self.warning_seconds, self._minutes * 60 // 2)
        self.timer.start(max(self._minutes * 60 - warn, 1) * 1000)

    def _on_timeout(self) -> None:
        if self.state is State.ACTIVE:
            self.state = State.WARNING
            self._show_banner()
            self.timer.start(max(min(self.warning_seconds, self._minutes * 60 // 2), 1) * 1000)
            self.warningShown.emit()
        elif self.state is State.WARNING:
            self.lock()

    def _on_changed(self, changes: frozenset[Change]) -> None:
        if Change.SETTINGS in changes:
            self._minutes = self._idle_minutes()
            if self.state is State.ACTIVE:
                self.restart()

    # -- input anywhere ---------------------------------------------------------------------
    def _watch_windows(self, *_focus: object) -> None:
        """Watch every top-level window's input (installing twice is harmless in Qt)."""
        if self._watching:
            for window in QGuiApplication.topLevelWindows():
                window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if not self._watching:
            return False
        kind = event.type()
        if watched is self.window:
            if kind == QEvent.Type.Close:
                QTimer.singleShot(0, self, self._after_close)
            elif kind == QEvent.Type.Show:
                self._watch_windows()
        if self.state is State.LOCKED:
            if kind == QEvent.Type.Shortcut and not self._inside_form(watched):
                return True  # no menu or window shortcut acts behind the lock
            if kind == QEvent.Type.Show and isinstance(watched, QWidget) \
                    and watched.isWindow() and not self._is_covered(watched) \
                    and not isinstance(watched, LockPage) \
                    and watched.windowType() in (Qt.WindowType.Dialog, Qt.WindowType.Window):
                QTimer.singleShot(0, self, lambda w=watched: self._cover_late(w))
            if kind == QEvent.Type.Resize:
                for covered in self._covered:
                    if covered.window is watched:
                        covered.fit()
            return False
        if kind in _ACTIVITY:
            self.restart()
        return False

    def _after_close(self) -> None:
        if not self.window.isVisible():
            self.stop()

    def stop(self) -> None:
        """The window is gone: watch no more."""
        self.timer.stop()
        self._hide_banner()
        self._watching = False
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
            for window in QGuiApplication.topLevelWindows():
                window.removeEventFilter(self)
        self.window.removeEventFilter(self)
        for covered in reversed(self._covered):
            covered.restore()
        self._covered.clear()
        self.state = State.ACTIVE

    def _inside_form(self, obj: QObject) -> bool:
        node: QObject | None = obj
        while node is not None:
            if isinstance(node, LockPage):
                return True
            node = node.parent()
        return False

    def _is_covered(self, window: QWidget) -> bool:
        return any(c.window is window for c in self._covered)

    # -- warning ----------------------------------------------------------------------------
    def _show_banner(self) -> None:
        host = QApplication.activeModalWidget() or self.window
        self.banner = QLabel(host)
        self.banner.setObjectName("kappIdleWarning")
        self.banner.setWordWrap(True)
        self.banner.setAutoFillBackground(True)
        self.banner.setFrameShape(QLabel.Shape.Box)
        self.banner.setMargin(10)
        self.banner.setText(f"⚠ The screen locks in {self.warning_seconds} seconds. "
                            "Move the mouse or press a key to stay signed in.")
        self.banner.setGeometry(8, 8, max(host.width() - 16, 200),
                                self.banner.heightForWidth(max(host.width() - 16, 200)) + 4)
        self.banner.show()
        self.banner.raise_()

    def _hide_banner(self) -> None:
        if self.banner is not None:
            self.banner.hide()
            self.banner.deleteLater()
            self.banner = None

    # -- locking ----------------------------------------------------------------------------
    def lock(self, *, switch_user: bool = False) -> None:
        """Cover every kapp window now (also File ▸ Sign out / switch user)."""
        if self.state is State.LOCKED:
            return
        self.timer.stop()
        self._hide_banner()
        save_all(self.ctx)  # every half-typed form, now: the lock may last till a crash
        self.state = State.LOCKED
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)  # shortcuts held, late windows covered (above)
        self._focus = QApplication.focusWidget()
        popup = QApplication.activePopupWidget()
        if popup is not None:
            popup.close()
        QToolTip.hideText()
        user = self.ctx.user
        self.form = SignInForm(self._try_unlock, username="" if switch_user or user is None
                               else user.username, button_text="Unlock")
        self.form.signedIn.connect(self._unlock)
        clinic = self._clinic_name()
        modal = QApplication.activeModalWidget()
        host = modal if modal is not None and modal.isVisible() else self.window
        windows = [self.window] + [w for w in QApplication.topLevelWidgets()
                                   if w is not self.window and w.isVisible() and w.isWindow()
                                   and w.windowType() in (Qt.WindowType.Dialog,
                                                          Qt.WindowType.Window)]
        for window in windows:
            form = self.form if window is host else None
            page = LockPage(window, form=form, clinic_name=clinic, who=None
                            if switch_user else user)
            self._covered.append(_Covered(window, page, main=window is self.window))
        self.form.focus()
        self.locked.emit()

    def _cover_late(self, window: QWidget) -> None:
        if self.state is State.LOCKED and window.isVisible() and not self._is_covered(window):
            page = LockPage(window, form=None, clinic_name=self._clinic_name(), who=None)
            self._covered.append(_Covered(window, page, main=False))

    def _try_unlock(self, username: str, password: str) -> User:
        return self.ctx.services.users.authenticate(username, password)

    def _unlock(self, user: User) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        for covered in reversed(self._covered):
            covered.restore()
        self._covered.clear()
        self.form = None
        if user != self.ctx.user:
            self.ctx.set_user(user)
        self.state = State.ACTIVE
        if self._focus is not None:
            with contextlib.suppress(RuntimeError):  # the widget went away meanwhile
                self._focus.setFocus()
        self._focus = None
        self.restart()
        self.unlocked.emit(user)

    def _clinic_name(self) -> str:
        try:
            return self.ctx.services.settings.current().clinic_name
        except Exception:  # the lock must appear even if the database cannot be read
            return ""

    @property
    def is_locked(self) -> bool:
        return self.state is State.LOCKED
