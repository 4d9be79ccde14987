"""The paint hold lets a screen be painted once, whole (kapp/ui/paint_hold.py)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from kapp.ui.paint_hold import PaintHold


def test_a_held_screen_is_laid_out_before_its_first_paint(qtbot):
    """What was filled in while held is in place when the hold ends, not one event-loop
    pass later: otherwise the first paint shows the old layout and a second paint follows
    (the patient page's charts were painted in the last patient's rows, then moved)."""
    screen = QWidget()
    qtbot.addWidget(screen)
    layout = QVBoxLayout(screen)
    top = QLabel("Name")
    layout.addWidget(top)
    layout.addStretch(1)
    screen.resize(400, 300)
    screen.show()
    qtbot.waitExposed(screen)
    hold = PaintHold()
    hold.hold(screen)
    assert not screen.updatesEnabled()

    top.setText("A much longer name\nover two lines")  # asks for a new layout, later
    row_before = top.height()
    hold.release()

    assert screen.updatesEnabled()
    assert top.height() > row_before  # laid out already: no event loop ran in between
    assert top.width() == screen.width() - layout.contentsMargins().left() - \
        layout.contentsMargins().right()
