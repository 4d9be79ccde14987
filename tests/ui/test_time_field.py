"""The one "time follows the clock until edited" field, in its two dresses: the step
dialogs' (state after the Now button) and the session bars' (a caption the owner places)."""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import QTime

from kapp.ui.time_field import TimeField


def hm(moment) -> QTime:
    local = moment.astimezone()
    return QTime(local.hour, local.minute)


def test_follows_the_clock_until_edited_then_stays_until_now(qtbot, ctx, clock):
    field = TimeField(ctx)
    qtbot.addWidget(field)
    assert field.is_now and field.value() is None
    assert field.edit.time() == hm(clock.now())
    assert field.state.text() == "(now)" and not field.now_button.isEnabled()

    clock.advance(minutes=3)
    field.tick()
    assert field.edit.time() == hm(clock.now())  # still following

    earlier = clock.now() - timedelta(minutes=10)
    field.edit.setTime(hm(earlier))  # the nurse writes it down late
    assert not field.is_now and field.state.text() == "(changed)"
    assert field.now_button.isEnabled()
    clock.advance(minutes=5)
    field.tick()
    assert field.edit.time() == hm(earlier)  # stays put
    assert field.value() == earlier.astimezone().replace(second=0, microsecond=0)

    field.now_button.click()  # back to following
    assert field.is_now and field.value() is None
    assert field.edit.time() == hm(clock.now())


def test_a_time_ahead_of_the_clock_means_yesterday(qtbot, ctx, clock):
    field = TimeField(ctx)
    qtbot.addWidget(field)
    field.edit.setTime(hm(clock.now() + timedelta(minutes=4)))  # clock drift: today
    assert field.value() > clock.now()
    field.edit.setTime(hm(clock.now() + timedelta(minutes=30)))  # just before midnight
    assert field.value() < clock.now()


def test_with_a_caption_the_owner_places_the_buddy_label(qtbot, ctx):
    field = TimeField(ctx, caption="Time")
    qtbot.addWidget(field)
    qtbot.addWidget(field.state)
    assert field.state.text() == "<b>Time</b> (now)"
    assert field.state.buddy() is field.edit
    assert field.state.parent() is None  # not inside the field: its owner lays it out
    field.edit.setTime(field.edit.time().addSecs(-120))
    assert field.state.text() == "<b>Time</b> (changed)"


def test_follows_the_clock_while_shown_and_catches_up_when_shown_again(qtbot, ctx, clock):
    field = TimeField(ctx)
    qtbot.addWidget(field)
    assert not field._timer.isActive()  # never shown: nothing to follow
    field.show()
    assert field._timer.isActive()
    field.hide()  # its chair's screen went behind another
    assert not field._timer.isActive()
    clock.advance(minutes=7)
    field.show()
    assert field._timer.isActive() and field.edit.time() == hm(clock.now())
