"""A quick dissociation report and MOAA/S, compact enough to sit beside the vitals table.

Keyboard: Tab moves between intensity, descriptors, experience and the text fields; the
intensity takes a digit ("1" "0" for 10); Space on "Felt…" opens the descriptors (Tab and
Space there, Enter or Esc closes them); Ctrl+Enter adds the report. MOAA/S is saved the
moment a level is picked.
"""

from __future__ import annotations

import html
import uuid
from collections.abc import Callable, Mapping

from PySide6.QtCore import QEvent, QObject, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kapp.domain import enums as e
from kapp.domain.entities import DissociationReport, TreatmentSession
from kapp.domain.errors import FieldError, KappError, ValidationError
from kapp.services.changes import Change
from kapp.services.drafts import FormDrafts
from kapp.services.reading import SessionEntries
from kapp.ui.context import AppContext
from kapp.ui.drafts import DraftHint, DraftKeeper
from kapp.ui.qt_compat import emit
from kapp.ui.session.panel_session import begin
from kapp.ui.session_steps._forms import (
    Banner,
    Chip,
    ChoiceRow,
    ErrorLabel,
    ErrorRouter,
    FlowLayout,
    ScoreRow,
    choice_sheet,
    field_row,
    hhmm,
)
from kapp.ui.session_steps.instrument import open_instrument
from kapp.ui.time_field import TimeField

D = e.DissociationDescriptor
DESCRIPTOR_WORDS = {
    D.BODY_DETACHMENT: "detached from body",
    D.SURROUNDINGS_DETACHMENT: "detached from surroundings",
    D.ALTERED_TIME: "altered time",
    D.SPATIAL_DISTORTION: "space distorted",
    D.FLOATING: "floating",
    D.WATCHING_SELF: "watching self",
    D.THOUGHT_DISCONNECTION: "cut off from thoughts",
    D.EUPHORIA: "euphoria",
    D.CREATIVITY: "creative",
    D.HALLUCINATIONS: "hallucinations",
    D.CONFUSION: "confusion",
}
VALENCE_WORDS = {e.Valence.PLEASANT: "☺ Pleasant", e.Valence.NEUTRAL: "– Neutral",
                 e.Valence.DISTRESSING: "⚠ Distressing"}


def chip_sheet(widget: QWidget) -> str:
    """The chips' style here: compact, and a ticked chip's 2 px border takes a pixel of
    its padding, so it is no taller than the others: nothing moves when one is picked
    (and the report keeps to the ~240 px the laptop leaves it under three banners)."""
    return (choice_sheet(widget, padding="2px 6px")
            + "QPushButton:checked { padding: 1px 5px; }")


def report_words(report: DissociationReport) -> str:
    parts = [f"<b>{hhmm(report.reported_at)}</b>", f"{report.intensity}/10",
             report.valence.value]
    if report.descriptors:
        parts.append(", ".join(DESCRIPTOR_WORDS.get(D(d), d) for d in report.descriptors))
    text = " · ".join(parts)
    if report.patient_words:
        text += f" — “{html.escape(report.patient_words)}”"
    if report.entry.is_struck:
        text = f"<s>{text}</s> (struck)"
    return text


class _Recent(QTextBrowser):
    """The reports so far, newest first: asks for two lines and takes what the
    column has left (it scrolls on its own, so the panel around it need not)."""

    def sizeHint(self) -> QSize:
        return QSize(super().sizeHint().width(), self.minimumHeight())

    def minimumSizeHint(self) -> QSize:  # two lines, not a scroll area's 70 px
        return QSize(super().minimumSizeHint().width(), self.minimumHeight())


class ElidedLabel(QLabel):
    """One line of words cut short with "…" when the column is narrow; the whole text
    is its tooltip (and ``text()``)."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance("not yet") + 4)
        self.setText(text)

    def setText(self, text: str) -> None:
        self._full = text
        self.setToolTip(text)
        self._elide()

    def text(self) -> str:
        return self._full

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        super().setText(self.fontMetrics().elidedText(
            self._full, Qt.TextElideMode.ElideRight, max(self.width(), 1)))


class DescriptorPopup(QFrame):
    """What the patient felt, to pick from: the descriptor chips in a box that opens over
    the screen under "Felt…". In the panel's column (about 310 px on the 1366 laptop) the
    eleven chips took nine rows, ~240 px: more than the whole panel has under three alert
    banners. Here they flow over four. Tab and Space pick; Enter, Esc, Done or a click
    outside close it, and the keyboard goes back to "Felt…"."""

    WIDTH = 560  # four rows of chips (the laptop's window is 1366 wide)

    def __init__(self, chips: list[Chip], opener: QWidget) -> None:
        super().__init__(opener, Qt.WindowType.Popup)
        self.opener = opener
        # A plain line in the text colour: over the side-effect keys, the box must show
        # where it ends (Fusion's styled panel is barely drawn on a popup).
        self.setFrameShape(QFrame.Shape.Box)
        self.setFrameShadow(QFrame.Shadow.Plain)
        self.setAccessibleName("What the patient felt")
        column = QVBoxLayout(self)
        column.setContentsMargins(8, 8, 8, 8)
        column.setSpacing(6)
        box = QWidget()
        box.setStyleSheet(chip_sheet(box))  # once for all chips
        flow = FlowLayout(box, spacing=4)
        for chip in chips:
            flow.addWidget(chip)
        column.addWidget(box)
        row = QHBoxLayout()
        row.addWidget(QLabel("Space picks · Enter closes"), 1)
        self.done = QPushButton("Done")
        self.done.clicked.connect(self.close_to_opener)
        row.addWidget(self.done)
        column.addLayout(row)
        self._first = chips[0] if chips else self.done

    def open_under(self) -> None:
        """Under "Felt…", inside the window (left of it when the column is at the right
        edge; above it when there is no room below)."""
        width = min(self.WIDTH, self.opener.window().width())
        height = self.heightForWidth(width)
        window = self.opener.window()
        area = QRect(window.mapToGlobal(QPoint(0, 0)), window.size())
        corner = self.opener.mapToGlobal(QPoint(0, self.opener.height()))
        x = max(area.left(), min(corner.x(), area.right() + 1 - width))
        y = corner.y()
        if y + height > area.bottom() + 1:
            y = max(area.top(), corner.y() - self.opener.height() - height)
        self.setGeometry(x, y, width, height)
        self.show()
        self._first.setFocus(Qt.FocusReason.PopupFocusReason)

    def close_to_opener(self) -> None:
        self.close()
        self.opener.setFocus(Qt.FocusReason.PopupFocusReason)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Escape):
            self.close_to_opener()
            return
        super().keyPressEvent(event)


class DissociationPanel(QWidget):
    #: The report's form opened (True: an intensity picked, Alt+2, a draft put back) or
    #: closed (False: the report added); the screen gives the panel room while it is open.
    opened = Signal(bool)

    def __init__(self, ctx: AppContext, session_id: uuid.UUID | None,
                 parent: QWidget | None = None, *,
                 session: TreatmentSession | None = None) -> None:
        """``session``: the session as the screen that holds this panel read it; the
        screen then shows each change here (``show_entries``) from its own one read.
        Without it the panel reads the session itself and follows changes.
        ``session_id`` None: a panel built ahead for a screen, which gives it its session
        (``attach``) and shows it."""
        super().__init__(parent)
        self.ctx = ctx
        self.session_id: uuid.UUID | None = None
        self.patient_id: uuid.UUID | None = None
        self.cadss_point: e.TimePoint | None = None  # what the CADSS button records
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        # A column of the one-screen session view on a 1366x768 laptop, beside the side
        # effects and above the notes: the intensity on top, the rest of the report under
        # it, which opens once the nurse picks an intensity (or comes to the panel with
        # Alt+2), CADSS and MOAA/S, and the reports so far at the foot, newest first,
        # taking what is left. Controls first, as in the side-effects panel: where the
        # column is short (three alert banners on the laptop) the report is what shows,
        # and opening it moves nothing the nurse is pointing at.
        self.time = TimeField(ctx)
        self.banner = Banner("danger")
        self.errors = ErrorRouter(self.banner)

        self.recent = _Recent()
        line = self.fontMetrics().lineSpacing()
        self.recent.setMinimumHeight(line * 2 + 8)
        self.recent.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.recent.setAccessibleName("Reports so far")

        self.intensity = ScoreRow(range(11), {0: "0: none", 10: "10: the most imaginable"},
                                  button_width=25)
        self.intensity.setAccessibleName("Intensity 0 to 10")
        self.intensity.setToolTip("Intensity 0 to 10: type the digits (1 then 0 for 10)")
        self.intensity_words = QLabel()
        self.intensity.chosen.connect(self._intensity_words)
        self.intensity.chosen.connect(lambda _score: self.show_details())
        top = QHBoxLayout()
        top.setSpacing(4)
        top.addWidget(self.intensity)
        top.addStretch(1)
        layout.addLayout(top)
        layout.addWidget(self.errors.add("intensity", ErrorLabel()))

        self.details = QWidget()
        # One row a field, the labels as narrow as "Observed": under three alert banners
        # on the 1366x698 laptop the panel has ~240 px for all of it (see DescriptorPopup).
        form = QFormLayout(self.details)
        form.setContentsMargins(0, 0, 0, 0)
        form.setVerticalSpacing(2)
        form.setHorizontalSpacing(6)
        self.chips: dict[str, Chip] = {}
        for descriptor, text in DESCRIPTOR_WORDS.items():
            self.chips[descriptor.value] = Chip(text, styled=False)
        self.felt_button = QToolButton()
        self.felt_button.setText("Felt…")
        self.felt_button.setAccessibleName("Felt: what the patient felt")
        self.felt_button.setToolTip("What the patient felt: floating, detached from body… "
                                    "(Space opens the list)")
        self.felt_words = ElidedLabel()  # the descriptors picked, as the report will say
        self._show_felt()
        self.descriptors = DescriptorPopup(list(self.chips.values()), self.felt_button)
        self.felt_button.clicked.connect(self.descriptors.open_under)
        for chip in self.chips.values():
            chip.toggled.connect(lambda _on: self._show_felt())
        form.addRow(self.felt_button, self.felt_words)
        # The three words say what they are: the row spans the labels' column too, so
        # "Distressing" is not pushed onto a third line.
        self.valence = ChoiceRow(VALENCE_WORDS.items(), wrap=True, spacing=2)
        self.valence.setStyleSheet(chip_sheet(self.valence))
        self.valence.setAccessibleName("Experience: pleasant, neutral or distressing")
        form.addRow(field_row(self.valence, self.errors.add("valence", ErrorLabel())))
        self.words = QLineEdit()
        self.words.setPlaceholderText("in the patient's own words")
        self.words.setAccessibleName("Patient said")
        self.words.returnPressed.connect(self.add_report)
        form.addRow("Said", self.words)
        self.observation = QLineEdit()
        self.observation.setPlaceholderText("what you observe")
        self.observation.setAccessibleName("Observed")
        self.observation.returnPressed.connect(self.add_report)
        form.addRow("Observed", self.observation)
        form.addRow("At", self.time)
        # Add sits with the report it adds, the intensity it adds beside it.
        buttons = QHBoxLayout()
        buttons.setSpacing(4)
        self.add_button = QPushButton("Add (Ctrl+Enter)")
        self.add_button.setToolTip("Add the dissociation report")
        self.add_button.clicked.connect(self.add_report)
        buttons.addWidget(self.intensity_words)
        buttons.addWidget(self.add_button)
        buttons.addStretch(1)
        form.addRow("", buttons)
        self.details.setVisible(False)
        layout.addWidget(self.details)
        # Back in the open report by a click or Tab (after the notes had the column's
        # room, Alt+3): it asks for its room again (``opened``).
        for field in (self.felt_button, *self.valence.buttons.values(), self.words,
                      self.observation, self.time.edit, self.add_button):
            field.installEventFilter(self)
        # What the patient said is kept word for word even through a crash or the lock.
        self.keeper = DraftKeeper(ctx, None,
                                  fields={"words": self.words, "observation": self.observation},
                                  delay_ms=1000, parent=self)
        self.draft_hint = DraftHint(self.keeper, "words", plural=True)
        layout.addWidget(self.draft_hint)
        self.errors.add(("patient_words", "observation", "reported_at", "descriptors"),
                        ErrorLabel())
        layout.addWidget(self.banner)

        # The whole scale is always a key away (Alt+C, or Tab from the intensity), during
        # the infusion and in recovery, with no intensity picked first; the peak reminder
        # offers it too, when it is due. Beside it, its key and when it counts as taken.
        scale = QHBoxLayout()
        scale.setSpacing(6)
        self.cadss_button = QPushButton("CADSS…")
        self.cadss_button.clicked.connect(self.open_cadss)
        self.cadss_when = ElidedLabel()  # the column's width is the intensity row's
        scale.addWidget(self.cadss_button)
        scale.addWidget(self.cadss_when, 1)
        layout.addLayout(scale)

        moaas = QHBoxLayout()  # the sedation level, saved the moment a level is picked
        moaas.setSpacing(4)
        moaas.addWidget(QLabel("<b>MOAA/S</b>"))
        tips = {}
        definition = ctx.services.records.instruments.get("moaas")
        if definition is not None:
            tips = {o.score: o.label for o in definition.items[0].options}
        self.moaas = ScoreRow(range(6), tips, button_width=26)
        self.moaas.setAccessibleName("MOAA/S sedation 0 to 5")
        self.moaas.chosen.connect(self.set_moaas)
        moaas.addWidget(self.moaas)
        self.moaas_words = ElidedLabel()
        moaas.addWidget(self.moaas_words, 1)
        layout.addLayout(moaas)
        self._moaas_tips = tips
        layout.addWidget(self.recent, 1)

        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(self.add_report)
        # What shows this panel again after its own entry: the screen holding it puts
        # its own reload here, which shows every panel from one read.
        self.refresh: Callable[[], None] = self.reload
        begin(self, ctx, session_id, session, self._on_changes)

    @staticmethod
    def draft_key(session_id: uuid.UUID) -> str:
        return f"dissociation:{session_id}"

    def attach(self, session: TreatmentSession,
               drafts: Mapping[str, FormDrafts] | None = None) -> None:
        """This panel is ``session``'s from now on; its author's draft report put back
        (and the rest of the report open to show it). ``drafts``: as the screen read them
        (by ``draft_key``), else read here."""
        self.session_id, self.patient_id = session.id, session.patient_id
        key = self.draft_key(session.id)
        if self.keeper.keep_for(key, (drafts or {}).get(key)):
            self.show_details()
        self.draft_hint.refresh()

    def show_details(self) -> None:
        """The rest of the report: descriptors, experience, the patient's words."""
        self.details.setVisible(True)
        emit(self.opened, True)  # again when already open: an error line may need room

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FocusIn and self.details.isVisibleTo(self):
            emit(self.opened, True)
        return super().eventFilter(watched, event)

    def _show_felt(self) -> None:
        """The descriptors picked beside "Felt…"; none: a quiet hint, as the text
        fields' placeholders."""
        picked = [DESCRIPTOR_WORDS[D(key)] for key, chip in self.chips.items()
                  if chip.isChecked()]
        self.felt_words.setText(", ".join(picked) or "what the patient felt")
        self.felt_words.setEnabled(bool(picked))

    def _intensity_words(self, value: int | None) -> None:
        self.intensity_words.setText("" if value is None else f"{value}/10")

    # -- saving ---------------------------------------------------------------------------
    def add_report(self) -> bool:
        descriptors = [key for key, chip in self.chips.items() if chip.isChecked()]

        def call() -> object:
            if self.intensity.value() is None or self.valence.value() is None:
                problems = []
                if self.intensity.value() is None:
                    problems.append(FieldError("intensity", "Pick the intensity, 0 to 10"))
                if self.valence.value() is None:
                    problems.append(FieldError("valence", "Pleasant, neutral or distressing?"))
                raise ValidationError(problems)
            return self.ctx.services.entries.record_dissociation(
                actor=self.ctx.actor(), session_id=self.session_id,
                intensity=self.intensity.value(), valence=self.valence.value(),
                descriptors=descriptors, patient_words=self.words.text(),
                observation=self.observation.text(), reported_at=self.time.value())

        ok, _ = self.errors.call(call)
        if not ok:
            self.show_details()  # the message may be about a field in them
        if ok:
            self.keeper.discard()
            self.clear_form()
            self.details.setVisible(False)
            emit(self.opened, False)
            self.keeper.resume()
            self.refresh()
        return ok

    def clear_form(self) -> None:
        self.intensity.set_value(None)
        self._intensity_words(None)
        for chip in self.chips.values():
            chip.setChecked(False)
        self.valence.set_value(None)
        self.words.clear()
        self.observation.clear()
        self.time.reset()
        self.intensity.setFocus()

    def set_moaas(self, score: int | None) -> None:
        if score is None:
            return
        self.errors.call(lambda: self.ctx.services.sessions.set_moaas(
            actor=self.ctx.actor(), session_id=self.session_id, score=score))
        self.refresh()

    def open_cadss(self) -> bool:
        """The full CADSS, at the peak (or, in recovery once a peak scale is recorded,
        after the session)."""
        if self.cadss_point is None:
            return False
        saved = open_instrument(self.ctx, self.patient_id, "cadss", self.cadss_point,
                                self.session_id, self)
        self.refresh()
        return saved

    def _show_cadss(self, session: TreatmentSession, instruments) -> None:
        """Which time point the CADSS button records, in words beside it."""
        status = session.status
        peak_taken = any(r.time_point is e.TimePoint.PEAK and not r.entry.is_struck
                         for r in instruments)
        if status is e.SessionStatus.IN_PROGRESS or (
                status is e.SessionStatus.RECOVERY and not peak_taken):
            self.cadss_point = e.TimePoint.PEAK
            words = "at the peak"
        elif status is e.SessionStatus.RECOVERY and not session.is_signed:
            self.cadss_point = e.TimePoint.POST_SESSION
            words = "after the session"
        else:
            self.cadss_point = None
            words = ("after the infusion starts" if status is e.SessionStatus.PLANNED
                     else "")
        self.cadss_button.setEnabled(self.cadss_point is not None)
        self.cadss_when.setText(f"Alt+C · {words}" if self.cadss_point else words)
        self.cadss_button.setToolTip(
            f"CADSS, the full dissociation scale — {words} (Alt+C)" if words
            else "CADSS, the full dissociation scale")

    def bind_cadss_key(self, widget: QWidget) -> None:
        """Alt+C opens the CADSS anywhere in ``widget`` (the session screen)."""
        shortcut = QShortcut(QKeySequence("Alt+C"), widget)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(self.cadss_button.click)  # nothing while it is disabled

    # -- showing --------------------------------------------------------------------------
    def _on_changes(self, changes: frozenset[Change]) -> None:
        if changes & {Change.ENTRIES, Change.SESSIONS}:
            self.reload()

    def reload(self) -> None:
        try:
            session = self.ctx.services.sessions.get(self.session_id)
            entries = self.ctx.services.records.session_entries(self.session_id)
        except KappError as exc:
            self.banner.show_message(str(exc), "danger")
            return
        self.show_entries(session, entries)

    def show_entries(self, session: TreatmentSession, entries: SessionEntries) -> None:
        reports = list(entries.dissociation)
        cadss = [r for r in entries.instruments if r.instrument.startswith("cadss")
                 and not r.entry.is_struck]
        # Newest first, as the timeline: the latest report is in view however short the
        # column is.
        dated = [(r.reported_at, report_words(r)) for r in reports]
        dated += [(r.taken_at, f"<b>{hhmm(r.taken_at)}</b> · {r.instrument.upper()} total "
                               f"{r.total:g}") for r in cadss]
        dated.sort(key=lambda pair: pair[0], reverse=True)
        self.recent.setHtml("<br>".join(text for _at, text in dated) if dated
                            else "No reports yet.")
        self._show_cadss(session, entries.instruments)
        self.moaas.set_value(session.moaas)
        if session.moaas is None:
            self.moaas_words.setText("not yet")
            self.moaas_words.setToolTip("MOAA/S not recorded yet (5 = responds readily)")
        else:
            self.moaas_words.setText(self._moaas_tips.get(session.moaas,
                                                          f"MOAA/S {session.moaas}"))
