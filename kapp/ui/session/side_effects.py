"""Side effects in one key each, their severity in a second key, and what was done about
them (interventions), for the live session screen.

Keyboard: each side effect has a letter shown on its button (N nausea, V vomiting, B BP
rise...). The letters work while focus is anywhere in the panel, or anywhere in a wider
widget after ``bind_shortcuts_to(screen)``; never while typing in a text field. After the
letter, 1 / 2 / 3 picks mild / moderate / severe and saves it; Esc cancels.

The intervention form keeps what is typed as its author's draft
(``intervention:<session id>:<side effect id or ->``), saved a second after the last key
and at once when the screen locks or the window closes; opened again for the same side
effect, it offers it back. Saving the intervention discards the draft; so does Cancel
(after asking, when something was typed); closing the dialog's window keeps it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTime, QTimer, Signal
from PySide6.QtGui import QFont, QFontMetrics, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kapp.domain import enums as e
from kapp.domain.entities import SideEffect, TreatmentSession
from kapp.domain.errors import KappError
from kapp.services.changes import Change
from kapp.services.reading import SessionEntries
from kapp.ui.context import AppContext
from kapp.ui.drafts import ClosingKnown, DraftHint, DraftKeeper, ask_keep_or_discard
from kapp.ui.qt_compat import run_modal
from kapp.ui.session_steps._forms import (
    ICONS,
    Banner,
    ChoiceRow,
    ErrorLabel,
    ErrorRouter,
    field_row,
    hhmm,
    make_default,
    read_numbers,
)
from kapp.ui.session_steps.correction import strike_entry
from kapp.ui.time_field import TimeField

K = e.SideEffectKind
#: Each side effect's key and its words on the button.
SIDE_EFFECT_KEYS: dict[e.SideEffectKind, tuple[str, str]] = {
    K.RAISED_BP: ("B", "BP rise"),
    K.RAISED_HR: ("R", "Heart rate rise"),
    K.NAUSEA: ("N", "Nausea"),
    K.VOMITING: ("V", "Vomiting"),
    K.DIZZINESS: ("D", "Dizziness"),
    K.HEADACHE: ("H", "Headache"),
    K.ANXIETY: ("A", "Anxiety"),
    K.DYSPHORIA: ("Y", "Dysphoria"),
    K.CONFUSION: ("C", "Confusion"),
    K.SEDATION: ("S", "Sedation"),
    K.DIPLOPIA: ("I", "Double vision"),
    K.NYSTAGMUS: ("T", "Nystagmus"),
    K.NUMBNESS: ("M", "Numbness"),
    K.HALLUCINATIONS: ("L", "Hallucinations"),
    K.EMERGENCE_REACTION: ("E", "Emergence reaction"),
    K.RESPIRATORY_DEPRESSION: ("P", "Breathing slowed"),
    K.URINARY_SYMPTOMS: ("U", "Urinary symptoms"),
    K.OTHER: ("O", "Other…"),
}
#: Shorter words on the keys where the keys stand in a narrow column (the whole name is
#: in the key's tooltip and in the list).
NARROW_WORDS = {K.EMERGENCE_REACTION: "Emergence", K.URINARY_SYMPTOMS: "Urinary"}
HOW_TO = "press its key, then 1 mild · 2 moderate · 3 severe"
SEVERITY_KEYS = {"1": e.Severity.MILD, "2": e.Severity.MODERATE, "3": e.Severity.SEVERE}
SEVERITY_MARK = {e.Severity.MILD: "▪ mild", e.Severity.MODERATE: "▲ moderate",
                 e.Severity.SEVERE: "⚠ SEVERE"}

DRAFT_DELAY_MS = 1000  # a second after the last key: a crash loses at most that much


def intervention_draft_key(session_id: uuid.UUID, side_effect_id: uuid.UUID | None) -> str:
    return f"intervention:{session_id}:{side_effect_id or '-'}"


INTERVENTION_WORDS = {
    e.InterventionKind.MEDICATION: "Medication",
    e.InterventionKind.INFUSION_CHANGE: "Infusion slowed/paused/stopped",
    e.InterventionKind.OXYGEN: "Oxygen",
    e.InterventionKind.COMFORT: "Comfort (reassurance, dim lights, eye mask, music)",
    e.InterventionKind.OTHER: "Other",
}
# Names a nurse picks from; typing any other name is fine. Doses are never suggested.
COMMON_DRUGS = ("ondansetron", "metoclopramide", "midazolam", "lorazepam", "labetalol",
                "clonidine", "paracetamol")
UNITS = ("mg", "microgram", "mL", "L/min", "units")
ROUTES = ("IV", "PO", "SL", "IM", "intranasal", "inhaled", "SC")


def wrap_words(chunks: list[str], width: int, metrics: QFontMetrics) -> list[str]:
    """``chunks`` (words, or "· ▲ moderate" kept whole) on as few lines as fit ``width``
    pixels, in order; a chunk that starts a line drops its leading "· ". A single chunk
    wider than the width is the only thing ever cut short (with "…")."""
    lines: list[str] = []
    for chunk in chunks:
        if lines:
            joined = f"{lines[-1]} {chunk}"
            if metrics.horizontalAdvance(joined) <= width:
                lines[-1] = joined
                continue
        lines.append(metrics.elidedText(chunk.removeprefix("· "),
                                        Qt.TextElideMode.ElideRight, max(width, 1)))
    return lines


def side_effect_words(effect: SideEffect) -> str:
    name = SIDE_EFFECT_KEYS[effect.kind][1].rstrip("…")
    if effect.description:
        name += f": {effect.description}"
    return name


class SideEffectsPanel(QWidget):
    asked = Signal(object)  # a side effect was picked; its severity is asked for next

    def __init__(self, ctx: AppContext, session_id: uuid.UUID | None,
                 parent: QWidget | None = None, *, columns: int = 3,
                 session: TreatmentSession | None = None,
                 keys_in: QWidget | None = None) -> None:
        """``columns`` of keys: 3 on a page of its own, 2 in a column of the session screen
        (the actions then sit under the list, which keeps the list's width).
        ``keys_in``: where the side effects' keys work (the whole session screen, say);
        this panel if not given (``bind_shortcuts_to``).
        ``session``: the session as the screen that holds this panel read it; the screen
        then shows each change here (``show_entries``) from its own one read. Without it
        the panel reads the session's entries itself and follows changes.
        ``session_id`` None: a panel built ahead for a screen, which gives it its session
        (``attach``) and shows it."""
        super().__init__(parent)
        self.ctx, self.session_id = ctx, session_id
        self.pending: e.SideEffectKind | None = None
        self.effects: list[SideEffect] = []
        self._shortcuts: list[QShortcut] = []
        self._while_pending: list[QShortcut] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(4)
        self.title = QLabel(f"<b>Side effects</b> — {HOW_TO}")
        self.title.setWordWrap(True)
        layout.addWidget(self.title)

        keys = QWidget()
        # The keys' look, once for all of them (one sheet per button is parsed and
        # polished on its own).
        keys.setStyleSheet("QPushButton { text-align: left; padding: %s; }"
                           % ("1px 3px" if columns < 3 else "2px 6px"))
        grid = QGridLayout(keys)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(2)
        if columns < 3:  # nine rows of keys over the list: a pixel between rows is enough
            grid.setVerticalSpacing(1)
        self.buttons: dict[e.SideEffectKind, QPushButton] = {}
        self.narrow = narrow = columns < 3
        # In a narrow column the keys run down the columns: the common ones (BP, heart
        # rate, nausea...) in the first, the long rare names beside them.
        rows = -(-len(SIDE_EFFECT_KEYS) // columns)
        for index, (kind, (key, text)) in enumerate(SIDE_EFFECT_KEYS.items()):
            button = QPushButton(f"{key}  {NARROW_WORDS.get(kind, text) if narrow else text}")
            button.setToolTip(f"{text}: key {key}")
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            button.clicked.connect(lambda _=False, k=kind: self.choose(k))
            if narrow:
                grid.addWidget(button, index % rows, index // rows)
            else:
                grid.addWidget(button, index // columns, index % columns)
            self.buttons[kind] = button
        layout.addWidget(keys)

        layout.addWidget(self._pending_strip())
        self.banner = Banner("danger")
        layout.addWidget(self.banner)
        self.errors = ErrorRouter(self.banner)
        self.errors.add("description", self.pending_error, self.description)
        self.errors.add("onset_at", self.pending_error, self.onset.edit)

        self.table = QTreeWidget()
        self.table.setRootIsDecorated(False)
        self.table.setHeaderLabels(["Time", "Side effect", "Severity", "Status"])
        self.table.header().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        if narrow:  # what was done is on lines of its own, the severity stands after the
            # name, and each line breaks where the column is too narrow for it: nothing a
            # nurse needs is cut short or left to a tooltip (see _fit_lines)
            header = self.table.header()
            header.setStretchLastSection(False)
            header.setSectionResizeMode(0, QHeaderView.ResizeMode.Fixed)
            header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
            header.setSectionResizeMode(3, QHeaderView.ResizeMode.Fixed)
            self.table.setColumnHidden(2, True)
            # No title row: each line reads on its own ("09:50  Headache · ▪ mild  ✔ resolved
            # 09:52"), and the line it took is one more side effect in view on the laptop.
            self.table.setHeaderHidden(True)
            self.table.setAccessibleName("Side effects: onset, side effect and severity, "
                                         "status")
            self.table.setIndentation(0)
            self.table.setUniformRowHeights(False)
            # Rows of two or three lines: scrolled by the pixel, the newest line sits at the
            # list's foot (by the row, the last page could end half empty).
            self.table.setVerticalScrollMode(QTreeWidget.ScrollMode.ScrollPerPixel)
            self.table.viewport().installEventFilter(self)
            self._fitted_width = -1
        self.table.setMinimumHeight(self.fontMetrics().lineSpacing() * (3 if narrow else 4))
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.itemDoubleClicked.connect(lambda *_: self.add_intervention())
        # The list with its actions beside it (a wide page) or under it (a narrow column,
        # where the list needs the width).
        listed = QVBoxLayout() if narrow else QHBoxLayout()
        listed.setSpacing(2)
        listed.addWidget(self.table, 1)
        layout.addLayout(listed, 1)
        actions = QHBoxLayout() if narrow else QVBoxLayout()
        actions.setSpacing(2)
        self.resolve_button = QPushButton("Resol&ved now")
        self.intervention_button = QPushButton("&Intervention…")
        self.strike_button = QPushButton("Stri&ke…")
        self.resolve_button.clicked.connect(self.resolve_selected)
        self.intervention_button.clicked.connect(self.add_intervention)
        self.strike_button.clicked.connect(self.strike_selected)
        self.resolve_button.setToolTip("The selected side effect resolved now")
        if narrow:
            self.resolve_button.setText("Resol&ved")
        for button in (self.resolve_button, self.intervention_button, self.strike_button):
            actions.addWidget(button)
        actions.addStretch(1)
        listed.addLayout(actions)

        self.bind_shortcuts_to(keys_in or self)
        # What shows this panel again after its own entry: the screen holding it puts
        # its own reload here, which shows every panel from one read.
        self.refresh: Callable[[], None] = self.reload
        if session_id is not None and session is None:  # on its own: it follows
            ctx.changes.changed.connect(self._on_changes)
            self.reload()

    def attach(self, session: TreatmentSession) -> None:
        """This panel is ``session``'s from now on (built ahead for a screen)."""
        self.session_id = session.id

    # -- the pending side effect: kind chosen, severity next ------------------------------
    def _pending_strip(self) -> QFrame:
        strip = QFrame()
        strip.setFrameShape(QFrame.Shape.StyledPanel)
        self.strip = strip
        box = QVBoxLayout(strip)
        box.setContentsMargins(6, 4, 6, 4)
        top = QHBoxLayout()
        self.pending_label = QLabel()
        bold = self.pending_label.font()
        bold.setBold(True)
        self.pending_label.setFont(bold)
        top.addWidget(self.pending_label)
        self.severity = ChoiceRow(((e.Severity.MILD, "1 Mild"), (e.Severity.MODERATE,
                                   "2 Moderate"), (e.Severity.SEVERE, "3 Severe")),
                                  focusable=False)
        self.severity.chosen.connect(self.save_pending)
        cancel = QPushButton("Esc Cancel")
        cancel.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        cancel.clicked.connect(self.cancel_pending)
        if self.narrow:  # a narrow column: the severities on a line of their own
            top.addStretch(1)
            top.addWidget(cancel)
            box.addLayout(top)
            box.addWidget(self.severity)
        else:
            top.addWidget(self.severity, 1)
            top.addWidget(cancel)
            box.addLayout(top)
        more = QHBoxLayout()
        self.serious = QCheckBox("Se&rious")
        self.serious.setToolTip("A serious adverse event (reported on the REMS form)")
        self.onset = TimeField(self.ctx)
        self.description = QLineEdit()
        self.description.setPlaceholderText("description (needed for Other)")
        self.description.returnPressed.connect(lambda: self.save_pending(e.Severity.MILD)
                                               if self.severity.value() is None
                                               else self.save_pending(self.severity.value()))
        more.addWidget(self.serious)
        onset = QHBoxLayout() if self.narrow else more
        onset.addWidget(QLabel("Onset"))
        onset.addWidget(self.onset)
        more.addWidget(self.description, 1)
        box.addLayout(more)
        if onset is not more:
            box.addLayout(onset)
        self.pending_error = ErrorLabel()
        box.addWidget(self.pending_error)
        strip.setVisible(False)
        return strip

    def choose(self, kind: e.SideEffectKind) -> None:
        """A side effect was picked (key or click): ask for its severity."""
        self.pending = kind
        self.pending_label.setText(f"{SIDE_EFFECT_KEYS[kind][1].rstrip('…')}:")
        self.severity.set_value(None)
        self.serious.setChecked(False)
        self.description.clear()
        self.onset.reset()
        self.pending_error.clear()
        self.strip.setVisible(True)
        self._pending_keys(True)
        self.asked.emit(kind)  # the screen shows this panel's page
        if kind is e.SideEffectKind.OTHER:
            self.description.setFocus()
        else:
            self.strip.setFocus()

    def cancel_pending(self) -> None:
        self.pending = None
        self.strip.setVisible(False)
        self._pending_keys(False)
        self.errors.clear()

    def save_pending(self, severity: e.Severity) -> None:
        if self.pending is None:
            return
        kind = self.pending
        ok, _ = self.errors.call(lambda: self.ctx.services.entries.record_side_effect(
            actor=self.ctx.actor(), session_id=self.session_id, kind=kind,
            severity=severity, onset_at=self.onset.value(), serious=self.serious.isChecked(),
            description=self.description.text()))
        if ok:
            self.cancel_pending()
            self.refresh()
            self.table.setCurrentItem(self.table.topLevelItem(self.table.topLevelItemCount()
                                                              - 1))
        else:
            self.severity.set_value(None)

    # -- keyboard -------------------------------------------------------------------------
    def bind_shortcuts_to(self, scope: QWidget) -> None:
        """Make the letters work anywhere inside ``scope`` (the session screen, say)."""
        for shortcut in self._shortcuts:
            shortcut.setEnabled(False)
            shortcut.deleteLater()
        self._shortcuts = []
        context = Qt.ShortcutContext.WidgetWithChildrenShortcut

        def add(keys: str, slot: object) -> None:
            shortcut = QShortcut(QKeySequence(keys), scope)
            shortcut.setContext(context)
            shortcut.activated.connect(slot)
            self._shortcuts.append(shortcut)

        for kind, (key, _) in SIDE_EFFECT_KEYS.items():
            add(key, lambda k=kind: self.choose(k))
        self._while_pending = []
        for key, severity in SEVERITY_KEYS.items():
            add(key, lambda s=severity: self._severity_key(s))
            self._while_pending.append(self._shortcuts[-1])
        add("Esc", self.cancel_pending)
        self._while_pending.append(self._shortcuts[-1])
        self._pending_keys(self.pending is not None)

    def _pending_keys(self, on: bool) -> None:
        """1/2/3 and Esc belong to the panel only while a severity is asked for."""
        for shortcut in self._while_pending:
            shortcut.setEnabled(on)

    def _severity_key(self, severity: e.Severity) -> None:
        if self.pending is not None:
            self.severity.set_value(severity)
            self.save_pending(severity)

    # -- the list -------------------------------------------------------------------------
    def _on_changes(self, changes: frozenset[Change]) -> None:
        if Change.ENTRIES in changes:
            self.reload()

    def reload(self) -> None:
        try:
            entries = self.ctx.services.records.session_entries(self.session_id)
        except KappError as exc:
            self.banner.show_message(str(exc), "danger")
            return
        self.show_entries(entries)

    def show_entries(self, entries: SessionEntries) -> None:
        selected = self.selected()
        self.effects = list(entries.side_effects)
        treated: dict[uuid.UUID, list[str]] = {}
        for done in entries.interventions:
            if done.side_effect_id is not None and not done.entry.is_struck:
                what = done.drug or INTERVENTION_WORDS[done.kind].split(" (")[0]
                if done.dose is not None:
                    what += f" {done.dose:g} {done.dose_unit or ''} {done.route or ''}".rstrip()
                treated.setdefault(done.side_effect_id, []).append(
                    f"{what} {hhmm(done.given_at)}")
        self.table.clear()
        self._lines: list[tuple[QTreeWidgetItem, SideEffect, list[str]]] = []
        for effect in self.effects:
            if effect.entry.is_struck:
                status = f"struck: {effect.entry.strike.reason}"  # type: ignore[union-attr]
            elif effect.resolved_at:
                status = f"{ICONS['ok']} resolved {hhmm(effect.resolved_at)}"
            else:
                status = "ongoing"
            shown = status
            if effect.id in treated:
                status += " · " + "; ".join(treated[effect.id])
                if not self.narrow:
                    shown = status
            name = side_effect_words(effect) + ("  ⚠ serious" if effect.serious else "")
            if self.narrow:
                name += f" · {SEVERITY_MARK[effect.severity]}"
                shown = "struck" if effect.entry.is_struck else shown
            item = QTreeWidgetItem([hhmm(effect.onset_at), name,
                                    SEVERITY_MARK[effect.severity], shown])
            item.setData(0, Qt.ItemDataRole.UserRole, str(effect.id))
            item.setToolTip(1, name)
            item.setToolTip(3, status)
            item.setData(1, Qt.ItemDataRole.AccessibleTextRole, name)
            item.setData(3, Qt.ItemDataRole.AccessibleTextRole, status)
            if self.narrow:  # what was done, each on a line of its own under the side effect
                for done in treated.get(effect.id, []):
                    line = QTreeWidgetItem([f"↳ {done}"])
                    line.setData(0, Qt.ItemDataRole.UserRole, str(effect.id))
                    line.setToolTip(0, done)
                    item.addChild(line)
            if effect.entry.is_struck:
                font = QFont(item.font(0))
                font.setStrikeOut(True)
                for column in range(3):
                    item.setFont(column, font)
            self.table.addTopLevelItem(item)
            item.setExpanded(True)
            for index in range(item.childCount()):  # spanned once it is in the tree
                item.child(index).setFirstColumnSpanned(True)
            self._lines.append((item, effect, treated.get(effect.id, [])))
            if selected is not None and effect.id == selected.id:
                self.table.setCurrentItem(item)
        if self.narrow:
            self._fitted_width = -1
            self._fit_lines()  # the newest in view too, when the list scrolls
        else:
            for column in (0, 2):
                self.table.resizeColumnToContents(column)

    # -- the narrow column: every word whole ----------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self.narrow and event.type() == QEvent.Type.Resize \
                and watched is self.table.viewport():
            self._fit_lines()
        return super().eventFilter(watched, event)

    def text_margin(self) -> int:
        """Pixels beside an item's words, both sides together (the style's margins and a
        little room, so a fitted line is never drawn with "…")."""
        return 2 * (self.table.style().pixelMetric(
            self.table.style().PixelMetric.PM_FocusFrameHMargin) + 1) + 4

    def _fit_lines(self) -> None:
        """In a narrow column, every side effect's name, severity and status whole, with
        nothing left to a tooltip: a line too long for its column goes on on a second line
        (the severity under the name, "✔ resolved" over its time, a long intervention
        under its start), whichever way makes the fewest lines. Run again at each width."""
        width = self.table.viewport().width()
        if width == self._fitted_width or width <= 0:
            return
        self._fitted_width = width
        metrics, margin = self.table.fontMetrics(), self.text_margin()
        time_width = metrics.horizontalAdvance("00:00") + margin
        self.table.setColumnWidth(0, time_width)

        def status_lines(effect: SideEffect, split: bool) -> list[str]:
            if effect.entry.is_struck:
                return ["struck"]
            if effect.resolved_at:
                words = [f"{ICONS['ok']} resolved", hhmm(effect.resolved_at)]
                return words if split else [" ".join(words)]
            return ["ongoing"]

        def name_chunks(effect: SideEffect) -> list[str]:
            chunks = side_effect_words(effect).split(" ")
            chunks.append(f"· {SEVERITY_MARK[effect.severity]}")  # one chunk: never split
            if effect.serious:
                chunks.append("· ⚠ serious")
            return chunks

        def widest(lines: list[str]) -> int:
            return max((metrics.horizontalAdvance(x) for x in lines), default=0)

        def layout(split: bool) -> tuple[int, int, list[tuple[list[str], list[str]]]]:
            """(lines in all, the status column's width, each side effect's lines)."""
            status_width = widest(["Status", *(x for eff in effects
                                               for x in status_lines(eff, split))]) + margin
            room = width - time_width - status_width - margin
            lines = [(wrap_words(name_chunks(eff), room, metrics), status_lines(eff, split))
                     for eff in effects]
            return sum(max(len(a), len(b)) for a, b in lines), status_width, lines

        effects = [effect for _item, effect, _done in self._lines]
        # The status on one line unless "resolved" over its time makes fewer lines in all.
        _count, status_width, lines = min(layout(False), layout(True), key=lambda x: x[0])
        self.table.setColumnWidth(3, status_width)
        for (item, _effect, done), (name, status) in zip(self._lines, lines, strict=True):
            item.setText(1, "\n".join(name))
            item.setText(3, "\n".join(status))
            for child, what in zip((item.child(i) for i in range(item.childCount())), done,
                                   strict=True):
                wrapped = wrap_words(f"↳ {what}".split(" "), width - margin, metrics)
                child.setText(0, "\n   ".join(wrapped))
        if self.table.currentItem() is None:  # the lines grew: the newest still in view
            QTimer.singleShot(0, self.table, self.table.scrollToBottom)

    def selected(self) -> SideEffect | None:
        item = self.table.currentItem()
        if item is None:
            return None
        key = uuid.UUID(item.data(0, Qt.ItemDataRole.UserRole))
        return next((x for x in self.effects if x.id == key), None)

    def resolve_selected(self) -> None:
        effect = self.selected()
        if effect is None:
            self.banner.show_message("Select the side effect that resolved.", "info")
            return
        self.errors.call(lambda: self.ctx.services.entries.resolve_side_effect(
            actor=self.ctx.actor(), side_effect_id=effect.id))
        self.refresh()

    def strike_selected(self) -> None:
        effect = self.selected()
        if effect is None:
            self.banner.show_message("Select the side effect to strike through.", "info")
            return
        if strike_entry(self.ctx, "side_effects", effect.id,
                        f"Side effect at {hhmm(effect.onset_at)}: {side_effect_words(effect)}, "
                        f"{effect.severity.value}", self):
            self.refresh()

    def add_intervention(self) -> bool:
        """Open the intervention form, linked to the selected side effect."""
        effect = self.selected()
        dialog = InterventionDialog(self.ctx, self.session_id,
                                    [x for x in self.effects if not x.entry.is_struck],
                                    effect.id if effect else None, self)
        saved = run_modal(dialog, lambda d: d.saved)
        self.refresh()
        return saved


class InterventionDialog(ClosingKnown, QDialog):
    """What was done about a side effect: drug, dose, unit, route or a non-drug action."""

    def __init__(self, ctx: AppContext, session_id: uuid.UUID, effects: list[SideEffect],
                 side_effect_id: uuid.UUID | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.session_id = ctx, session_id
        self.saved = False
        self.setWindowTitle("Intervention")
        self.resize(640, 420)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.banner = Banner("danger")
        self.errors = ErrorRouter(self.banner)
        self.effect = QComboBox()
        self.effect.addItem("— not linked to a side effect —", None)
        for effect in effects:
            self.effect.addItem(f"{hhmm(effect.onset_at)} {side_effect_words(effect)} "
                                f"({effect.severity.value})", str(effect.id))
        if side_effect_id is not None:
            self.effect.setCurrentIndex(max(0, self.effect.findData(str(side_effect_id))))
        self.effect.currentIndexChanged.connect(self._suggest_reason)
        form.addRow("For &side effect", self.effect)
        self.kind = ChoiceRow(((k, f"{i}  {INTERVENTION_WORDS[k].split(' (')[0]}")
                               for i, k in enumerate(e.InterventionKind, start=1)), wrap=True)
        self.kind.set_value(e.InterventionKind.MEDICATION)
        self.kind.chosen.connect(self._kind_changed)
        form.addRow("What was done\n(Alt+1…5)", field_row(self.kind, self.errors.add(
            "kind", ErrorLabel())))
        self.drug = QComboBox()
        self.drug.setEditable(True)
        self.drug.addItems(["", *COMMON_DRUGS])
        self.drug.setCurrentText("")
        self.dose = QLineEdit()
        self.dose.setMaximumWidth(90)
        self.unit = QComboBox()
        self.unit.setEditable(True)
        self.unit.addItems(UNITS)
        self.route = QComboBox()
        self.route.setEditable(True)
        self.route.addItems(ROUTES)
        medication = QWidget()
        row = QHBoxLayout(medication)
        row.setContentsMargins(0, 0, 0, 0)
        for label, widget in (("Drug", self.drug), ("Dose", self.dose), ("Unit", self.unit),
                              ("Route", self.route)):
            row.addWidget(QLabel(label))
            row.addWidget(widget, 2 if widget is self.drug else 0)
        med_error = ErrorLabel()
        for name, widget in (("drug", self.drug), ("dose", self.dose),
                             ("dose_unit", self.unit), ("route", self.route)):
            self.errors.add(name, med_error, widget)
        form.addRow("&Medication", field_row(medication, med_error))
        self.reason = QLineEdit()
        form.addRow("&Reason", field_row(self.reason, self.errors.add(
            "reason", ErrorLabel(), self.reason)))
        self.given = TimeField(ctx)
        form.addRow("Given at", field_row(self.given, self.errors.add(
            "given_at", ErrorLabel(), self.given.edit)))
        self.errors.add(("side_effect_id", "alert_id"), ErrorLabel())
        layout.addLayout(form)
        layout.addWidget(self.banner)
        layout.addStretch(1)
        buttons = QDialogButtonBox()
        save = buttons.addButton("Save intervention", QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        make_default(self, save)
        for index, kind in enumerate(e.InterventionKind, start=1):
            QShortcut(QKeySequence(f"Alt+{index}"), self,
                      activated=lambda k=kind: (self.kind.set_value(k), self._kind_changed(k)))
        self._suggest_reason()
        # What is typed here survives a crash or the screen lock, as the author's draft for
        # this side effect; the form as it opened (suggested reason, default unit) is not
        # a draft.
        self._untouched = self._form()
        self.keeper = DraftKeeper(ctx, intervention_draft_key(session_id, side_effect_id),
                                  getter=self._draft, setter=self._put_draft,
                                  clear=self._clear_form, delay_ms=DRAFT_DELAY_MS,
                                  parent=self)
        for signal in (self.effect.currentIndexChanged, self.kind.chosen,
                       self.drug.currentTextChanged, self.dose.textChanged,
                       self.unit.currentTextChanged, self.route.currentTextChanged,
                       self.reason.textChanged, self.given.changed):
            signal.connect(self.keeper.changed)
        self.draft_hint = DraftHint(self.keeper, "intervention")
        layout.insertWidget(layout.indexOf(self.banner), self.draft_hint)
        self.keeper.restore()
        self.draft_hint.refresh()
        self.drug.setFocus()

    # -- the draft --------------------------------------------------------------------------
    def _form(self) -> dict[str, Any]:
        kind = self.kind.value()
        return {"side_effect": self.effect.currentData(),
                "kind": kind.value if kind is not None else None,
                "drug": self.drug.currentText(), "dose": self.dose.text(),
                "unit": self.unit.currentText(), "route": self.route.currentText(),
                "reason": self.reason.text(),
                "given_at": None if self.given.is_now else self.given.edit.time().toString(
                    "HH:mm")}

    def _draft(self) -> dict[str, Any]:
        form = self._form()
        return {} if form == self._untouched else form  # nothing typed: nothing to keep

    def _put_draft(self, draft: dict[str, Any]) -> None:
        found = self.effect.findData(draft.get("side_effect"))
        if found >= 0:
            self.effect.setCurrentIndex(found)
        try:
            kind = e.InterventionKind(draft.get("kind"))
        except ValueError:
            kind = None
        if kind is not None:
            self.kind.set_value(kind)
        self.drug.setCurrentText(str(draft.get("drug") or ""))
        self.dose.setText(str(draft.get("dose") or ""))
        for combo, name in ((self.unit, "unit"), (self.route, "route")):
            if draft.get(name):
                combo.setCurrentText(str(draft[name]))
        self.reason.setText(str(draft.get("reason") or ""))
        given = QTime.fromString(str(draft.get("given_at") or ""), "HH:mm")
        if given.isValid():
            self.given.edit.setTime(given)

    def _clear_form(self) -> None:
        self._put_draft(self._untouched)
        self.given.reset()

    def _typed(self) -> bool:
        return self._form() != self._untouched

    @staticmethod
    def ask_cancel(parent: QWidget) -> str:
        """Cancel with something typed: throw it away, keep it for later, or go back.
        A modal box; tests replace this so that no dialog blocks them."""
        return ask_keep_or_discard(
            parent, "Intervention not saved", "The intervention is typed but not saved.",
            "Discard what you typed, or keep it to finish later (it comes back when you "
            "open the intervention for this side effect again)?")

    def reject(self) -> None:
        """Cancel or Esc: the nurse means it, so the draft goes (asked first when something
        was typed). Closing the window puts the form away with its draft kept."""
        if not self.keeper.put_away(self._typed(), lambda: self.ask_cancel(self),
                                    self.closing):
            self.drug.setFocus()
            return
        super().reject()

    def _kind_changed(self, kind: e.InterventionKind) -> None:
        self.drug.setFocus() if kind is e.InterventionKind.MEDICATION else self.reason.setFocus()

    def _suggest_reason(self) -> None:
        text = self.effect.currentText()
        if self.effect.currentData() and (not self.reason.text()
                                          or self.reason.text().startswith("for ")):
            self.reason.setText("for " + text.split(" ", 1)[1].rsplit(" (", 1)[0].lower())

    def accept(self) -> None:
        def call() -> object:
            dose = read_numbers({"dose": ("Dose", self.dose)})["dose"]
            medication = self.kind.value() is e.InterventionKind.MEDICATION
            data = self.effect.currentData()
            return self.ctx.services.entries.record_intervention(
                actor=self.ctx.actor(), session_id=self.session_id, kind=self.kind.value(),
                reason=self.reason.text(), given_at=self.given.value(),
                drug=self.drug.currentText() if medication or self.drug.currentText() else None,
                dose=dose, dose_unit=self.unit.currentText() if dose is not None else None,
                route=self.route.currentText() if medication else None,
                side_effect_id=uuid.UUID(data) if data else None)

        ok, _ = self.errors.call(call)
        if ok:
            self.keeper.discard()  # saved: the intervention is a record now, not a draft
            self.saved = True
            super().accept()

