"""Before the infusion: the pre-session checklist, the controlled-substance record and the
baseline scores. Every tick and every record is committed the moment it is made."""

from __future__ import annotations

import uuid

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kapp.domain import enums as e
from kapp.domain.entities import InstrumentResult, TreatmentSession
from kapp.domain.errors import KappError
from kapp.ui.context import AppContext
from kapp.ui.qt_compat import run_modal
from kapp.ui.session_steps._forms import (
    ICONS,
    Banner,
    ChecklistBox,
    ErrorLabel,
    ErrorRouter,
    field_row,
    make_default,
    not_opened,
    read_numbers,
    words,
)
from kapp.ui.session_steps.instrument import open_instrument

PRE_CHECK_WORDS = {
    e.PreSessionCheck.CONSENT_ON_FILE: "&Consent on file",
    e.PreSessionCheck.FASTING: "&Fasting as instructed",
    e.PreSessionCheck.ESCORT_CONFIRMED: "&Escort home confirmed",
    e.PreSessionCheck.MEDICATION_CHANGES_REVIEWED: "&Medication changes reviewed",
}

DEPRESSION = {e.Indication.TRD, e.Indication.DEPRESSION_SI}
# Scores usually taken before an infusion; the ones for the patient's indication follow.
ALWAYS = ("phq9", "gad7", "pain_nrs")
FOR_DEPRESSION = ("madrs", "qids_sr16")


def baseline_instruments(indication: e.Indication, available: set[str]) -> list[str]:
    """The scores to take before a session for a patient with this indication."""
    codes = list(ALWAYS) + (list(FOR_DEPRESSION) if indication in DEPRESSION else [])
    return [code for code in codes if code in available]


def session_heading(title: str, patient, session: TreatmentSession) -> QLabel:
    """The line at the top of a step dialog: which step, whose session, what dose."""
    head = QLabel(f"<span style='font-size:14pt'><b>{title}</b></span> &nbsp; "
                  f"{patient.display_name} ({patient.mrn}) · session "
                  f"{session.number_in_course} · {dose_words(session)}")
    head.setWordWrap(True)
    return head


def dose_words(session: TreatmentSession) -> str:
    route = session.route.value
    parts = [f"{words(session.drug.value)} "
             f"{route.upper() if session.route in (e.Route.IV, e.Route.IM) else route}"]
    if session.dose_mg is not None:
        parts.append(f"{session.dose_mg:g} mg")
    if session.dose_mg_per_kg is not None and session.weight_kg is not None:
        parts.append(f"({session.dose_mg_per_kg:g} mg/kg × {session.weight_kg:g} kg)")
    if session.duration_min:
        parts.append(f"over {session.duration_min:g} min")
    return " ".join(parts)


class PreSessionDialog(QDialog):
    def __init__(self, ctx: AppContext, session_id: uuid.UUID,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.session_id = ctx, session_id
        self.saved_something = False
        self.setWindowTitle("Before the infusion")
        self.resize(980, 640)
        session = ctx.services.sessions.get(session_id)
        self.patient = ctx.services.patients.get(session.patient_id)
        layout = QVBoxLayout(self)
        layout.addWidget(session_heading("Before the infusion", self.patient, session))
        self.banner = Banner("danger")
        layout.addWidget(self.banner)

        columns = QHBoxLayout()
        left = QVBoxLayout()
        self.checklist = ChecklistBox(ctx, session_id, "pre", PRE_CHECK_WORDS,
                                      "Checklist (each tick is saved at once)", self.banner)
        self.checklist.saved.connect(self._mark_saved)
        left.addWidget(self.checklist)
        left.addWidget(self._controlled_box())
        left.addStretch(1)
        columns.addLayout(left, 1)
        columns.addWidget(self._scores_box(), 1)
        layout.addLayout(columns, 1)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        make_default(self, None)
        self.reload()
        self.checklist.boxes[e.PreSessionCheck.CONSENT_ON_FILE.value].setFocus()

    # -- controlled substance -------------------------------------------------------------
    def _controlled_box(self) -> QGroupBox:
        box = QGroupBox("Controlled substance")
        form = QFormLayout(box)
        self.cs_banner = Banner("danger")
        self.cs_errors = ErrorRouter(self.cs_banner)
        self.lot = QLineEdit()
        self.lot.setPlaceholderText("as printed on the vial or device")
        self.drawn = QLineEdit()
        self.drawn.setPlaceholderText("mg")
        self.wasted = QLineEdit()
        self.wasted.setPlaceholderText("mg (0 if none)")
        self.witness = QComboBox()
        self.witness.addItem("— no witness —", None)
        me = self.ctx.user.id if self.ctx.user else None
        for user in self.ctx.services.users.list_users():
            if user.id != me:
                # str: a QVariant holding a Python UUID cannot be found again by findData
                self.witness.addItem(f"{user.full_name} ({user.role.value})", str(user.id))
        rows = (("lot_number", "&Lot number", self.lot),
                ("amount_drawn_mg", "Amount &drawn (mg)", self.drawn),
                ("amount_wasted_mg", "Amount &wasted (mg)", self.wasted),
                ("witness_id", "Wi&tness to waste", self.witness))
        for name, label, widget in rows:
            error = self.cs_errors.add(name, ErrorLabel(), widget)
            form.addRow(label, field_row(widget, error))
        self.cs_save = QPushButton("&Record controlled substance")
        self.cs_save.clicked.connect(self._save_controlled)
        for edit in (self.lot, self.drawn, self.wasted):
            edit.returnPressed.connect(self._save_controlled)
        self.cs_state = QLabel()
        self.cs_state.setWordWrap(True)
        form.addRow(self.cs_banner)
        form.addRow(self.cs_save)
        form.addRow(self.cs_state)
        return box

    def witness_id(self) -> uuid.UUID | None:
        data = self.witness.currentData()
        return uuid.UUID(data) if data else None

    def _save_controlled(self) -> None:
        def call() -> TreatmentSession:
            amounts = read_numbers({"amount_drawn_mg": ("Amount drawn", self.drawn),
                                    "amount_wasted_mg": ("Amount wasted", self.wasted)})
            return self.ctx.services.sessions.set_controlled_substance(
                actor=self.ctx.actor(), session_id=self.session_id,
                lot_number=self.lot.text(), amount_drawn_mg=amounts["amount_drawn_mg"],
                amount_wasted_mg=amounts["amount_wasted_mg"],
                witness_id=self.witness_id())

        ok, _ = self.cs_errors.call(call)
        if ok:
            self._mark_saved()
            self.reload()

    # -- scores ---------------------------------------------------------------------------
    def _scores_box(self) -> QGroupBox:
        box = QGroupBox("Scores before the infusion")
        grid = QGridLayout(box)
        available = set(self.ctx.services.records.instruments)
        self.score_codes = baseline_instruments(self.patient.indication, available)
        self.score_buttons: dict[str, QPushButton] = {}
        self.score_states: dict[str, QLabel] = {}
        note = QLabel("Each opens the score form; Alt+number opens it from the keyboard.")
        note.setWordWrap(True)
        grid.addWidget(note, 0, 0, 1, 2)
        instruments = self.ctx.services.records.instruments
        for row, code in enumerate(self.score_codes, start=1):
            button = QPushButton(f"&{row}  {instruments[code].name}…")
            button.setMinimumWidth(150)
            button.clicked.connect(lambda _=False, c=code: self._take(c))
            state = QLabel()
            state.setWordWrap(True)
            grid.addWidget(button, row, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(state, row, 1)
            self.score_buttons[code] = button
            self.score_states[code] = state
        self.point_note = QLabel()
        self.point_note.setWordWrap(True)
        grid.addWidget(self.point_note, len(self.score_codes) + 1, 0, 1, 2)
        grid.setRowStretch(len(self.score_codes) + 2, 1)
        grid.setColumnStretch(1, 1)
        return box

    def time_point_for(self, code: str) -> e.TimePoint:
        """The course's first score of a kind is its baseline (response is measured from
        it); later sessions take the same score as "before this session"."""
        course = self.ctx.services.courses.get(self.session.course_id)
        return (e.TimePoint.PRE_SESSION if code in (course.baseline_scores or {})
                and not self._is_baseline_here(code) else e.TimePoint.BASELINE)

    def _is_baseline_here(self, code: str) -> bool:
        return any(r.time_point is e.TimePoint.BASELINE for r in self._done.get(code, []))

    def _take(self, code: str) -> None:
        if open_instrument(self.ctx, self.patient.id, code, self.time_point_for(code),
                           self.session_id, self):
            self._mark_saved()
        self.reload()

    # -- state ----------------------------------------------------------------------------
    def _mark_saved(self) -> None:
        self.saved_something = True

    def reload(self) -> None:
        try:
            self.session = self.ctx.services.sessions.get(self.session_id)
            results = self.ctx.services.records.scores_for_patient(
                self.patient.id, session_id=self.session_id)
        except KappError as exc:
            self.banner.show_message(str(exc), "danger")
            return
        s = self.session
        self.checklist.load(s.pre_checklist)
        self._done: dict[str, list[InstrumentResult]] = {}
        for r in results:
            if r.time_point in (e.TimePoint.BASELINE, e.TimePoint.PRE_SESSION):
                self._done.setdefault(r.instrument, []).append(r)
        for code, label in self.score_states.items():
            done = self._done.get(code)
            if done:
                last = done[-1]
                band = f" ({last.band})" if last.band else ""
                flags = f"  {ICONS['warn']} flagged" if last.flags else ""
                label.setText(f"{ICONS['ok']} done: {last.total:g}{band}{flags}")
            else:
                point = self.time_point_for(code)
                label.setText("not yet — will be the course's baseline"
                              if point is e.TimePoint.BASELINE else "not yet")
        if s.lot_number:
            names = {u.id: u.full_name for u in self.ctx.services.users.list_users(
                include_inactive=True)}
            witness = names.get(s.waste_witness_id, "none") if s.waste_witness_id else "none"
            self.cs_state.setText(
                f"{ICONS['ok']} Recorded: lot {s.lot_number}, {s.amount_drawn_mg:g} mg drawn, "
                f"{s.amount_wasted_mg:g} mg wasted, witness {witness}.")
            if not self.lot.text():
                self.lot.setText(s.lot_number)
                self.drawn.setText(f"{s.amount_drawn_mg:g}")
                self.wasted.setText(f"{s.amount_wasted_mg:g}")
                index = self.witness.findData(str(s.waste_witness_id))
                self.witness.setCurrentIndex(max(index, 0))
        else:
            self.cs_state.setText(f"{ICONS['warn']} Not recorded yet.")


def open_pre_session(
        ctx: AppContext,
        session_id: uuid.UUID,
        parent: QWidget | None = None,
) -> bool:
    """Show the dialog modally; True when something was saved."""
    try:
        dialog = PreSessionDialog(ctx, session_id, parent)
    except KappError as exc:
        return not_opened(parent, "The pre-session checklist", exc)
    return run_modal(dialog, lambda d: d.saved_something)
