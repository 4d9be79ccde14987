"""The sign-in window shows while the clinic is still opening (kapp/ui/opening.py): a
sign-in submitted before the database layer has loaded waits for it, saying so, and then
goes on; a plain file with no accounts turns into the first-run screen."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from kapp.services.startup import SignedIn
from kapp.ui import app as ui_app
from tests.gui_helpers import shot


class SlowGate:
    """A clinic whose opening takes until the test releases it."""

    database_label = "/clinic/kapp.db"

    def __init__(self, services, user) -> None:
        self.services, self.user = services, user
        self.release = threading.Event()
        self.preloaded = False
        self.checked: list[str] = []

    def accounts_known(self) -> bool:
        return True

    def preload(self) -> None:
        assert self.release.wait(60)
        self.preloaded = True

    def can_recover(self) -> bool:
        return False

    def try_sign_in(self, username: str, password: str) -> SignedIn:
        assert self.preloaded  # the sign-in waited for the clinic to open
        self.checked.append(username)
        return SignedIn(self.services, self.user)


def test_a_sign_in_before_the_clinic_has_opened_waits_and_says_so(
        qapp: QApplication, services, staff, tmp_path: Path) -> None:
    nurse = staff.nurse
    gate = SlowGate(services, nurse)
    seen: list[tuple[bool, bool]] = []

    def while_waiting(dialog) -> None:
        seen.append((dialog.opening.isVisible(), dialog.form.isEnabled()))
        shot(dialog, "sign_in_opening_the_clinic")
        gate.release.set()

    def typed(dialog) -> None:
        QTimer.singleShot(30_000, dialog, dialog.reject)  # never hang the suite
        dialog.form.username.setText("nurse1")
        dialog.form.password.setText("typed at once")
        QTimer.singleShot(50, dialog, lambda: while_waiting(dialog))
        dialog.form.submit()  # before the clinic has opened

    signed = ui_app.ask_sign_in(gate, on_shown=typed)
    assert signed is not None and signed.user == nurse
    assert seen == [(True, False)]  # "Opening the clinic…", the fields held as typed
    assert gate.checked == ["nurse1"]


def test_a_failure_while_opening_closes_the_sign_in_and_is_raised(
        qapp: QApplication, services, staff) -> None:
    nurse = staff.nurse
    from kapp.domain.errors import KappError

    class Refused(SlowGate):
        def preload(self) -> None:
            raise KappError("written by a newer version of kapp")

    def safety(dialog) -> None:
        QTimer.singleShot(30_000, dialog, dialog.reject)  # never hang the suite

    with pytest.raises(KappError, match="newer version"):
        ui_app.ask_sign_in(Refused(services, nurse), on_shown=safety)


def test_a_plain_file_without_accounts_shows_the_first_run_screen(
        tmp_path: Path, qapp: QApplication, monkeypatch: pytest.MonkeyPatch) -> None:
    from kapp import app
    from kapp.cli import build_parser
    from kapp.services.vault import open_plain

    path = tmp_path / "plain.db"
    open_plain(path, create=True).database.dispose()
    asked: list[bool] = []
    monkeypatch.setattr("kapp.ui.app.ask_first_run",
                        lambda gate: asked.append(gate.has_accounts()))
    assert app.run_app(build_parser().parse_args(["--db", str(path)])) == 0
    assert asked == [False]


def test_the_first_run_window_stays_open_once_the_clinic_has_loaded(
        tmp_path: Path, qapp: QApplication, monkeypatch: pytest.MonkeyPatch) -> None:
    """A new clinic: the background load finds no accounts, which is what first run is
    for; the window must wait for the person, not close (it once did, so `make run` on a
    fresh clone flashed a window and quit)."""
    from kapp.services.startup import VaultGate
    from kapp.ui import opening

    loaders: list[opening.ClinicLoader] = []

    class Recorded(opening.ClinicLoader):
        def __init__(self, gate) -> None:
            super().__init__(gate)
            loaders.append(self)

    monkeypatch.setattr(opening, "ClinicLoader", Recorded)
    gate = VaultGate(tmp_path / "new.db", database_label="new", plain_new=True)
    seen: list[bool] = []

    def fill_after_loading(dialog) -> None:
        QTimer.singleShot(30_000, dialog, dialog.reject)  # never hang the suite

        def submit() -> None:  # runs after every other reaction to the load
            seen.append(dialog.isVisible())
            if not dialog.isVisible():
                return
            dialog.clinic_name.setText("Harbour Ketamine Clinic")
            dialog.full_name.setText("Ada Admin")
            dialog.username.setText("admin")
            dialog.password.setText("harbour clinic admin")
            dialog.password_again.setText("harbour clinic admin")
            dialog.create_button.click()  # unencrypted: no recovery key page

        loaders[-1].done.connect(lambda: QTimer.singleShot(0, dialog, submit))

    signed = ui_app.ask_first_run(gate, on_shown=fill_after_loading)
    assert seen == [True]  # still open after the clinic had loaded
    assert signed is not None and signed.user.username == "admin"
    gate.close()
