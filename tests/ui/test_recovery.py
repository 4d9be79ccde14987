"""The sign-in window's way back in when every password is lost: the recovery key."""

from __future__ import annotations

import pytest
from gui_helpers import shot

from kapp.services import vault
from kapp.services.startup import OpenGate, VaultGate
from kapp.ui.recovery import RecoveryDialog
from kapp.ui.sign_in import SignInDialog

pytestmark = pytest.mark.gui



def _fill(qtbot, dialog: RecoveryDialog, key: str, user: str, password: str,
          again: str | None = None) -> None:
    for field, text in ((dialog.key, key), (dialog.username, user),
                        (dialog.password, password),
                        (dialog.password_again, password if again is None else again)):
        field.clear()
        qtbot.keyClicks(field, text)


def test_the_recovery_key_signs_an_administrator_in_with_a_new_password(
        qtbot, encrypted_clinic) -> None:
    path, key = encrypted_clinic
    gate = VaultGate(path, database_label=str(path))
    sign_in = SignInDialog(gate.try_sign_in, database_label=str(path), recover=gate.recover)
    qtbot.addWidget(sign_in)
    sign_in.show()
    shot(sign_in, "sign_in_encrypted")
    sign_in.recover_button.click()
    dialog = sign_in.recovery_dialog
    qtbot.waitExposed(dialog)

    _fill(qtbot, dialog, "ABCD-" * 7 + "ABCD", "admin", "a brand new passphrase")
    dialog.ok_button.click()
    assert "does not open" in dialog.problems["recovery_key"].text()
    _fill(qtbot, dialog, key, "nurse1", "a brand new passphrase")
    dialog.ok_button.click()
    assert "administrator" in dialog.problems["username"].text()
    _fill(qtbot, dialog, key, "admin", "a brand new passphrase", again="something else")
    dialog.ok_button.click()
    assert "differ" in dialog.problems["password_again"].text()
    shot(dialog, "recovery_key")
    assert gate.services is None  # nothing opened by the refusals

    _fill(qtbot, dialog, key, "admin", "a brand new passphrase")
    with qtbot.waitSignal(sign_in.accepted):
        dialog.ok_button.click()
    assert sign_in.result_value.user.username == "admin"
    gate.close()
    vault.open_clinic(path, "admin", "a brand new passphrase").database.dispose()


def test_no_recovery_offer_without_encryption(qtbot, services) -> None:
    gate = OpenGate(services, "server")
    assert not gate.can_recover()
    dialog = SignInDialog(gate.try_sign_in, recover=None)
    qtbot.addWidget(dialog)
    assert dialog.recover_button is None
