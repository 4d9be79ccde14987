"""Accounts: argon2id passwords, sign-in, lockout (injected clock), administration, the
key ring told about every password, clinic settings, signatures that need the password."""

from __future__ import annotations

import json
import uuid
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from kapp.domain.accounts import (
    AccountDeactivated,
    AccountLocked,
    SignInRefused,
    WrongCredentials,
)
from kapp.domain.enums import Role
from kapp.domain.errors import PermissionDenied, ValidationError
from kapp.services.facade import Services
from kapp.storage import models as m


class RecordingKeyRing:
    encrypted = True

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def enrol(self, username: str, password: str) -> None:
        self.calls.append(("enrol", username, password))

    def rewrap(self, username: str, old_password: str, new_password: str) -> None:
        self.calls.append(("rewrap", username, old_password, new_password))

    def forget(self, username: str) -> None:
        self.calls.append(("forget", username))


def _audit(db, action_prefix: str = "") -> list[SimpleNamespace]:
    with db.reading() as s:
        rows = s.execute(sa.select(m.AuditEntry).order_by(m.AuditEntry.seq)).scalars().all()
        copies = [SimpleNamespace(action=r.action, old_values=r.old_values, reason=r.reason,
                                  new_values=r.new_values, entity_id=r.entity_id,
                                  user_id=r.user_id) for r in rows]
    return [r for r in copies if r.action.startswith(action_prefix)]


def test_passwords_are_stored_as_argon2id_phc_strings(services, staff, db):
    with db.reading() as s:
        stored = s.get(m.User, staff.nurse.id).password_hash
    assert stored.startswith("$argon2id$")
    assert staff.password(staff.nurse) not in stored


def test_sign_in_with_the_right_password_returns_the_user_and_is_audited(services, staff, db):
    user = services.users.authenticate("  Nurse1 ", staff.password("nurse1"))
    assert user == staff.nurse
    assert _audit(db, "user.sign_in")[-1].action == "user.sign_in"


def test_wrong_password_and_unknown_user_read_the_same(services, staff, db):
    with pytest.raises(WrongCredentials) as wrong:
        services.users.authenticate("nurse1", "not-my-password")
    with pytest.raises(WrongCredentials) as unknown:
        services.users.authenticate("nobody-here", "not-my-password")
    assert str(wrong.value) == str(unknown.value) == "Wrong user name or password."
    failures = _audit(db, "user.sign_in.failed")
    assert len(failures) == 2
    text = json.dumps([(f.new_values, f.reason, f.entity_id) for f in failures])
    assert "not-my-password" not in text and "nobody-here" not in text


def test_five_failures_lock_the_account_for_five_minutes_then_it_opens(
        services, staff, clock, db):
    for _ in range(4):
        with pytest.raises(WrongCredentials):
            services.users.authenticate("nurse1", "wrong password!")
    with pytest.raises(AccountLocked) as caught:
        services.users.authenticate("nurse1", "wrong password!")
    until = clock.now().replace(minute=clock.now().minute + 5)
    assert caught.value.until == until
    assert f"locked until {until.astimezone():%H:%M}" in str(caught.value)
    # Even the right password waits while locked.
    with pytest.raises(AccountLocked):
        services.users.authenticate("nurse1", staff.password("nurse1"))
    # Another account is not affected.
    assert services.users.authenticate("nurse2", staff.password("nurse2")) == staff.nurse2
    clock.advance(minutes=4, seconds=59)
    with pytest.raises(AccountLocked):
        services.users.authenticate("nurse1", staff.password("nurse1"))
    clock.advance(seconds=1)
    assert services.users.authenticate("nurse1", staff.password("nurse1")) == staff.nurse
    assert len(_audit(db, "user.sign_in.failed")) == 5
    assert len(_audit(db, "user.sign_in.refused")) == 2


def test_lockout_follows_the_clinic_settings(services, staff, clock):
    services.settings.update(actor=staff.admin, values={"lockout_attempts": 3,
                                                        "lockout_minutes": 15})
    for _ in range(2):
        with pytest.raises(WrongCredentials):
            services.users.authenticate("doc1", "wrong password!")
    with pytest.raises(AccountLocked) as caught:
        services.users.authenticate("doc1", "wrong password!")
    assert (caught.value.until - clock.now()).total_seconds() == 15 * 60


def test_a_success_resets_the_count_of_failures(services, staff):
    for _ in range(4):
        with pytest.raises(WrongCredentials):
            services.users.authenticate("nurse1", "wrong password!")
    services.users.authenticate("nurse1", staff.password("nurse1"))
    for _ in range(4):
        with pytest.raises(WrongCredentials):
            services.users.authenticate("nurse1", "wrong password!")


def test_a_deactivated_account_is_told_so_only_with_its_right_password(services, staff):
    services.users.deactivate(actor=staff.admin, user_id=staff.nurse2.id, reason="left")
    with pytest.raises(WrongCredentials):
        services.users.authenticate("nurse2", "wrong password!")
    with pytest.raises(AccountDeactivated, match="deactivated"):
        services.users.authenticate("nurse2", staff.password("nurse2"))
    with pytest.raises(PermissionDenied, match="deactivated"):
        services.records.add_note(actor=staff.nurse2, patient_id=uuid.uuid4(), text="hello")


def test_admin_creates_resets_and_deactivates_and_the_key_ring_follows(db):
    ring = RecordingKeyRing()
    services = Services.for_database(db, keyring=ring)
    admin = services.users.create_first_admin(username="boss", full_name="Bea Boss",
                                              password="boss-password-1",
                                              clinic_name="Harbour Clinic")
    assert services.settings.current().clinic_name == "Harbour Clinic"
    nurse = services.users.create_user(actor=admin, username="nina", full_name="Nina N",
                                       role=Role.NURSE, password="first-password")
    services.users.reset_password(actor=admin, user_id=nurse.id,
                                  new_password="second-password")
    with pytest.raises(WrongCredentials):
        services.users.authenticate("nina", "first-password")
    services.users.change_password(actor=nurse, old_password="second-password",
                                   new_password="third-password!")
    assert services.users.authenticate("nina", "third-password!") == nurse
    services.users.deactivate(actor=admin, user_id=nurse.id, reason="left the clinic")
    assert ring.calls == [
        ("enrol", "boss", "boss-password-1"),
        ("enrol", "nina", "first-password"),
        ("enrol", "nina", "second-password"),
        ("rewrap", "nina", "second-password", "third-password!"),
        ("forget", "nina"),
    ]
    text = json.dumps([(a.old_values, a.new_values, a.reason) for a in _audit(db)])
    for secret in ("boss-password-1", "first-password", "second-password", "third-password"):
        assert secret not in text


def test_a_reset_ends_a_lockout(services, staff):
    for _ in range(5):
        with pytest.raises(SignInRefused):
            services.users.authenticate("nurse1", "wrong password!")
    services.users.reset_password(actor=staff.admin, user_id=staff.nurse.id,
                                  new_password="a brand new one")
    assert services.users.authenticate("nurse1", "a brand new one") == staff.nurse


def test_changing_ones_own_password_needs_the_current_one(services, staff, db):
    with pytest.raises(WrongCredentials) as caught:
        services.users.change_password(actor=staff.nurse, old_password="not it at all",
                                       new_password="another long one")
    assert caught.value.field == "old_password"
    assert services.users.authenticate("nurse1", staff.password("nurse1")) == staff.nurse


@pytest.mark.parametrize(("password", "words"), [
    ("short", "at least 10 characters"),
    ("", "Enter a password"),
    ("nurse9-nurse9"[:0] + "aaaaaaaaaaaa", "too few different"),
    (" leading space x", "cannot start or end with a space"),
])
def test_password_rules_give_clear_messages(services, staff, password, words):
    with pytest.raises(ValidationError) as caught:
        services.users.create_user(actor=staff.admin, username="newbie", full_name="New B",
                                   role=Role.NURSE, password=password)
    assert caught.value.errors[0].field == "password"
    assert words in str(caught.value)
    assert services.users.by_username("newbie") is None


def test_the_last_administrator_cannot_be_deactivated(services, staff):
    second = services.users.create_user(actor=staff.admin, username="admin2",
                                        full_name="Abe Admin", role=Role.ADMIN,
                                        password="admin2-password")
    with pytest.raises(ValidationError, match="your own account"):
        services.users.deactivate(actor=staff.admin, user_id=staff.admin.id, reason="x")
    services.users.deactivate(actor=second, user_id=staff.admin.id, reason="retired")
    assert not services.users.get(staff.admin.id).active


def test_verify_password_counts_failures_and_never_bypasses_a_lockout(services, staff):
    doc = staff.prescriber
    assert services.users.verify_password(doc.id, staff.password(doc))
    for _ in range(5):
        assert not services.users.verify_password(doc.id, "wrong password!")
    assert not services.users.verify_password(doc.id, staff.password(doc))  # locked
    with pytest.raises(AccountLocked):
        services.users.authenticate("doc1", staff.password(doc))


def test_clinic_settings_are_admin_only_checked_and_audited(services, staff, db):
    assert services.settings.current().idle_lock_minutes == 5
    with pytest.raises(PermissionDenied, match="change the clinic settings"):
        services.settings.update(actor=staff.prescriber, values={"idle_lock_minutes": 10})
    with pytest.raises(ValidationError) as caught:
        services.settings.update(actor=staff.admin, values={"idle_lock_minutes": 0,
                                                            "lockout_attempts": "many"})
    assert {e.field for e in caught.value.errors} == {"idle_lock_minutes", "lockout_attempts"}
    assert "from 1 to 30 minutes" in str(caught.value)
    updated = services.settings.update(actor=staff.admin, values={"idle_lock_minutes": 10},
                                       reason="busy ward")
    assert updated.idle_lock_minutes == 10
    entry = _audit(db, "settings.update")[-1]
    assert (entry.old_values, entry.new_values) == ({"idle_lock_minutes": 5},
                                                    {"idle_lock_minutes": 10})


def test_signing_needs_the_signers_password_and_a_wrong_one_writes_nothing(
        services, staff, planned, whole_session, db):
    whole_session(planned)
    with pytest.raises(WrongCredentials, match="Wrong password"):
        services.sessions.sign(actor=staff.prescriber, session_id=planned.id,
                               password=staff.password(staff.nurse))
    assert services.sessions.get(planned.id).signed_at is None
    assert _audit(db)[-1].action == "session.sign.failed"
    signed = services.sessions.sign(actor=staff.prescriber, session_id=planned.id,
                                    password=staff.password(staff.prescriber),
                                    meaning="reviewed and signed")
    assert signed.signed_by_id == staff.prescriber.id
    assert signed.signed_at == services.db.clock.now()
    assert signed.signature_meaning == "reviewed and signed"


def test_an_addendum_is_signed_with_the_authors_password(services, staff, planned,
                                                        whole_session, db):
    whole_session(planned)
    services.sessions.sign(actor=staff.prescriber, session_id=planned.id,
                           password=staff.password(staff.prescriber))
    with pytest.raises(WrongCredentials):
        services.records.add_addendum(actor=staff.nurse, session_id=planned.id,
                                      text="Phoned: home safely.", password="nope nope nope")
    with db.reading() as s:
        assert s.execute(sa.select(sa.func.count()).select_from(m.Addendum)).scalar() == 0
    added = services.records.sign_addendum(actor=staff.nurse, session_id=planned.id,
                                           text="Phoned: home safely.",
                                           password=staff.password(staff.nurse))
    assert added.signed_by_id == staff.nurse.id
    assert added.signature_meaning == "addendum written and signed"
