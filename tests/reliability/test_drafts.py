"""Drafts: a half-typed form comes back after a crash or the lock, to its author only."""

from __future__ import annotations

import sqlite3

import pytest
from PySide6.QtWidgets import QLineEdit, QSpinBox, QTextEdit

from kapp.domain.errors import PermissionDenied, ValidationError
from kapp.services.drafts import FormDrafts
from kapp.services.facade import Services
from kapp.storage.database import open_database
from kapp.storage.engine import sqlite_url
from kapp.ui.context import AppContext
from kapp.ui.drafts import DraftKeeper


def test_save_load_discard_per_author(services, staff, planned) -> None:
    drafts = services.drafts
    key = f"note:{planned.id}"
    drafts.save(actor=staff.nurse, form_key=key, content={"text": "Pt reports nau"})
    drafts.save(actor=staff.nurse, form_key=key, content={"text": "Pt reports nausea, mild"})
    assert drafts.load(actor=staff.nurse, form_key=key) == {"text": "Pt reports nausea, mild"}
    assert drafts.load(actor=staff.nurse2, form_key=key) is None  # a draft stays with its author
    assert [d.form_key for d in drafts.mine(actor=staff.nurse)] == [key]
    assert drafts.discard(actor=staff.nurse, form_key=key)
    assert drafts.load(actor=staff.nurse, form_key=key) is None
    assert not drafts.discard(actor=staff.nurse, form_key=key)


@pytest.mark.parametrize("key", ["note:\x00", "note\t1", "\x07"])
def test_a_form_name_with_control_characters_is_refused(services, staff, key) -> None:
    """Found on PostgreSQL, whose text cannot hold a NUL (the driver raised a DataError);
    no form of kapp names itself so."""
    for call in (lambda: services.drafts.save(actor=staff.nurse, form_key=key,
                                              content={"text": "typed"}),
                 lambda: services.drafts.find(actor=staff.nurse, form_key=key)):
        with pytest.raises(ValidationError, match="form's name"):
            call()


def test_find_says_when_and_others_names_colleagues_but_not_their_words(
        services, staff, clock) -> None:
    drafts = services.drafts
    drafts.save(actor=staff.nurse, form_key="note:s", content={"text": "mine"})
    clock.advance(minutes=2)
    drafts.save(actor=staff.nurse2, form_key="note:s", content={"text": "his"})
    drafts.save(actor=staff.nurse2, form_key="note:other", content={"text": "elsewhere"})
    found = drafts.find(actor=staff.nurse, form_key="note:s")
    assert found.content == {"text": "mine"} and found.saved_at < clock.now()
    assert drafts.find(actor=staff.prescriber, form_key="note:s") is None
    others = drafts.others(actor=staff.nurse, form_key="note:s")
    assert [(o.full_name, o.saved_at) for o in others] == [("Ned Nurse", clock.now())]
    assert not hasattr(others[0], "content")
    assert [o.full_name for o in drafts.others(actor=staff.prescriber, form_key="note:s")] \
        == ["Ned Nurse", "Nia Nurse"]  # newest first


def test_of_forms_reads_several_forms_as_find_and_others_each_do(services, staff, clock):
    drafts = services.drafts
    drafts.save(actor=staff.nurse, form_key="note:s", content={"text": "mine"})
    clock.advance(minutes=1)
    drafts.save(actor=staff.nurse2, form_key="note:s", content={"text": "his"})
    drafts.save(actor=staff.nurse2, form_key="dissociation:s", content={"words": "floating"})
    drafts.save(actor=staff.nurse, form_key="note:elsewhere", content={"text": "not asked"})
    keys = ["note:s", "dissociation:s", "note:none"]
    for actor in (staff.nurse, staff.nurse2, staff.prescriber):
        got = drafts.of_forms(actor=actor, form_keys=keys)
        assert list(got) == keys
        for key in keys:
            assert got[key] == FormDrafts(drafts.find(actor=actor, form_key=key),
                                          tuple(drafts.others(actor=actor, form_key=key)))
    assert drafts.of_forms(actor=staff.nurse, form_keys=keys)["note:none"] == FormDrafts(None, ())
    with pytest.raises(ValidationError, match="form's name"):
        drafts.of_forms(actor=staff.nurse, form_keys=["note:s", "\x07"])


def test_an_empty_form_keeps_no_draft(services, staff) -> None:
    services.drafts.save(actor=staff.nurse, form_key="note:x", content={"text": "a"})
    assert services.drafts.save(actor=staff.nurse, form_key="note:x",
                                content={"text": "  "}) is None
    assert services.drafts.load(actor=staff.nurse, form_key="note:x") is None


@pytest.mark.parametrize("content", [{"x": float("nan")}, {"x": object()}, ["a"],
                                     {"x": "y" * 300_000}])
def test_bad_drafts_are_refused(services, staff, content) -> None:
    with pytest.raises(ValidationError):
        services.drafts.save(actor=staff.nurse, form_key="note:x", content=content)


def test_a_deactivated_account_gets_nothing(services, staff) -> None:
    services.drafts.save(actor=staff.nurse, form_key="k", content={"a": 1})
    services.users.set_active(actor=staff.admin, user_id=staff.nurse.id, active=False,
                              reason="left")
    with pytest.raises(PermissionDenied):
        services.drafts.load(actor=staff.nurse, form_key="k")


def test_the_draft_is_inside_the_database_and_survives_a_reopen(services, staff, db,
                                                                db_path) -> None:
    services.drafts.save(actor=staff.nurse, form_key="instrument:p:phq9",
                         content={"1": 2, "2": 1, "note": "half done"})
    db.dispose()
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("select count(*) from drafts").fetchone()[0] == 1
    again = open_database(sqlite_url(db_path)).database
    try:
        assert Services.for_database(again).drafts.load(
            actor=staff.nurse, form_key="instrument:p:phq9") == {"1": 2, "2": 1,
                                                                "note": "half done"}
    finally:
        again.dispose()


@pytest.mark.gui
def test_draft_keeper_saves_while_typing_restores_and_discards(services, staff, qtbot) -> None:
    ctx = AppContext(services)
    ctx.set_user(staff.nurse)
    text, title, count = QTextEdit(), QLineEdit(), QSpinBox()
    for widget in (text, title, count):
        qtbot.addWidget(widget)
    keeper = DraftKeeper(ctx, "note:s1", fields={"text": text, "title": title, "n": count},
                         delay_ms=10)
    with qtbot.waitSignal(keeper.saved, timeout=5000):
        qtbot.keyClicks(text, "Patient drowsy")
    count.setValue(3)
    keeper.save_now()
    assert services.drafts.load(actor=staff.nurse, form_key="note:s1") == {
        "text": "Patient drowsy", "title": "", "n": 3}

    # the window crashed: a new form for the same note gets it back
    text2, title2, count2 = QTextEdit(), QLineEdit(), QSpinBox()
    for widget in (text2, title2, count2):
        qtbot.addWidget(widget)
    keeper2 = DraftKeeper(ctx, "note:s1", fields={"text": text2, "title": title2, "n": count2})
    assert keeper2.restore()
    assert text2.toPlainText() == "Patient drowsy" and count2.value() == 3
    assert not keeper2.timer.isActive()  # restoring is not typing
    # another nurse opening the same form gets nothing
    ctx.set_user(staff.nurse2)
    assert not DraftKeeper(ctx, "note:s1", fields={"text": QTextEdit()}).restore()
    ctx.set_user(staff.nurse)
    keeper2.discard()  # after the note itself was saved
    assert services.drafts.load(actor=staff.nurse, form_key="note:s1") is None
    qtbot.keyClicks(text2, "!")
    assert not keeper2.save_now()  # no draft kept once discarded


@pytest.mark.gui
def test_draft_keeper_with_a_getter_and_setter(services, staff) -> None:
    ctx = AppContext(services)
    ctx.set_user(staff.nurse)
    form = {"answers": {"1": 2}}
    keeper = DraftKeeper(ctx, "instrument:p:gad7", getter=lambda: form,
                         setter=form.update)
    keeper.changed()
    assert keeper.save_now()
    form.clear()
    assert keeper.restore() and form == {"answers": {"1": 2}}
