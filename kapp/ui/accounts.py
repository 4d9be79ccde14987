"""Accounts: the administrator's list (create, reset a password, deactivate) and each
person's own "Change my password"."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from kapp.domain.accounts import MIN_PASSWORD_LENGTH
from kapp.domain.enums import Role
from kapp.domain.errors import KappError
from kapp.services.changes import Change
from kapp.services.users import Account
from kapp.ui.context import AppContext
from kapp.ui.forms import FormDialog, same_password
from kapp.ui.sign_in import Problem, heading, password_field

ROLE_WORDS = {Role.NURSE: "Nurse", Role.PRESCRIBER: "Prescriber", Role.ADMIN: "Administrator"}
COLUMNS = ("Name", "User name", "Role", "Status")
Index = QModelIndex | QPersistentModelIndex


def status_text(account: Account) -> str:
    if not account.user.active:
        return "Deactivated"
    if account.locked_until is not None:
        return f"Locked until {account.locked_until.astimezone():%H:%M} (failed sign-ins)"
    if not account.has_password:
        return "No password: reset it"
    return "Active"


class AccountsModel(QAbstractTableModel):
    def __init__(self, accounts: list[Account] | None = None, parent: Any = None) -> None:
        super().__init__(parent)
        self.accounts: list[Account] = list(accounts or [])

    def set_accounts(self, accounts: list[Account]) -> None:
        self.beginResetModel()
        self.accounts = list(accounts)
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.accounts)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.accounts):
            return None
        account = self.accounts[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return (account.user.full_name, account.user.username,
                    ROLE_WORDS[account.user.role], status_text(account))[index.column()]
        if role == Qt.ItemDataRole.UserRole:
            return account
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal \
                and 0 <= section < len(COLUMNS):
            return COLUMNS[section]
        return None


def _role_box() -> QComboBox:
    box = QComboBox()
    for role in (Role.NURSE, Role.PRESCRIBER, Role.ADMIN):
        box.addItem(ROLE_WORDS[role], role)
    return box


class AccountsDialog(QDialog):
    """Administration ▸ Accounts…: every account, and what an administrator can do."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Accounts")
        self.model = AccountsModel(parent=self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.
                                                           ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setAlternatingRowColors(True)
        self.new_button = QPushButton("&New account…")
        self.reset_button = QPushButton("&Reset password…")
        self.deactivate_button = QPushButton("&Deactivate…")
        self.close_button = QPushButton("Close")
        self.new_button.clicked.connect(self.new_account)
        self.reset_button.clicked.connect(self.reset_password)
        self.deactivate_button.clicked.connect(self.deactivate)
        self.close_button.clicked.connect(self.accept)
        self.problem = Problem()
        layout = QVBoxLayout(self)
        layout.addWidget(heading("Accounts", 1.2))
        intro = QLabel("Each person has their own account: what they record and sign "
                       "carries their name. Deactivate the account of someone who leaves; "
                       "their records stay.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.problem)
        buttons = QHBoxLayout()
        for button in (self.new_button, self.reset_button, self.deactivate_button):
            button.setAutoDefault(False)
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)
        self.table.selectionModel().selectionChanged.connect(self._enable)
        ctx.changes.changed.connect(self._on_changed)
        self.resize(760, 460)
        self.refresh()

    def refresh(self) -> None:
        chosen = self.selected()
        self.model.set_accounts(self.ctx.services.users.accounts())
        if chosen is not None:
            for row, account in enumerate(self.model.accounts):
                if account.user.id == chosen.user.id:
                    self.table.selectRow(row)
        self._enable()

    def _on_changed(self, changes: frozenset[Change]) -> None:
        if Change.USERS in changes:
            self.refresh()

    def selected(self) -> Account | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return self.model.accounts[rows[0].row()] if rows else None

    def _enable(self, *_: Any) -> None:
        chosen = self.selected()
        self.reset_button.setEnabled(chosen is not None and chosen.user.active)
        self.deactivate_button.setEnabled(chosen is not None and chosen.user.active)

    # -- actions (each returns the dialog it opened, for tests) -------------------------------
    def new_account_dialog(self) -> FormDialog:
        users = self.ctx.services.users

        def submit(v: dict[str, Any]) -> Any:
            same_password(v, "password", "password_again")
            return users.create_user(actor=self.ctx.actor(), username=v["username"],
                                     full_name=v["full_name"], role=v["role"],
                                     password=v["password"])

        username = QLineEdit()
        username.setMaxLength(64)
        username.setPlaceholderText("lower-case, for example: j.smith")
        return FormDialog(
            "New account",
            "Tell the person their initial password in private; they can change it with "
            "File ▸ Change my password.",
            [("full_name", "&Full name", QLineEdit()), ("username", "&User name", username),
             ("role", "&Role", _role_box()),
             ("password", "Initial &password",
              password_field(f"at least {MIN_PASSWORD_LENGTH} characters")),
             ("password_again", "Password &again", password_field())],
            submit, ok_text="Create account", parent=self)

    def reset_dialog(self, account: Account) -> FormDialog:
        def submit(v: dict[str, Any]) -> Any:
            same_password(v, "new_password", "password_again")
            reason = v["reason"].strip() or "password reset by an administrator"
            self.ctx.services.users.reset_password(
                actor=self.ctx.actor(), user_id=account.user.id,
                new_password=v["new_password"], reason=reason)

        return FormDialog(
            f"Reset the password of {account.user.full_name}",
            "For someone who forgot their password or whose account is locked after failed "
            "sign-ins. Tell them the new password in private.",
            [("new_password", "New &password",
              password_field(f"at least {MIN_PASSWORD_LENGTH} characters")),
             ("password_again", "Password &again", password_field()),
             ("reason", "Rea&son (optional)", QLineEdit())],
            submit, ok_text="Reset password", parent=self)

    def deactivate_dialog(self, account: Account) -> FormDialog:
        def submit(v: dict[str, Any]) -> Any:
            return self.ctx.services.users.deactivate(
                actor=self.ctx.actor(), user_id=account.user.id, reason=v["reason"])

        return FormDialog(
            f"Deactivate {account.user.full_name}",
            f"{account.user.full_name} will no longer be able to sign in. Everything they "
            "recorded and signed stays, with their name.",
            [("reason", "Rea&son", QLineEdit())], submit, ok_text="Deactivate", parent=self)

    def new_account(self) -> None:
        self.new_account_dialog().exec()

    def reset_password(self) -> None:
        chosen = self.selected()
        if chosen is not None:
            self.reset_dialog(chosen).exec()

    def deactivate(self) -> None:
        chosen = self.selected()
        if chosen is not None:
            self.deactivate_dialog(chosen).exec()


def change_password_dialog(ctx: AppContext, parent: QWidget | None = None) -> FormDialog:
    """File ▸ Change my password…"""

    def submit(v: dict[str, Any]) -> Any:
        same_password(v, "new_password", "password_again")
        ctx.services.users.change_password(actor=ctx.actor(), old_password=v["old_password"],
                                           new_password=v["new_password"])

    name = ctx.user.full_name if ctx.user else ""
    return FormDialog(
        "Change my password",
        f"Signed in as {name}. A long password of a few unrelated words is both safe and "
        "easy to remember.",
        [("old_password", "&Current password", password_field()),
         ("new_password", "&New password",
          password_field(f"at least {MIN_PASSWORD_LENGTH} characters")),
         ("password_again", "New password &again", password_field())],
        submit, ok_text="Change password", parent=parent)


def open_accounts(ctx: AppContext, parent: QWidget | None = None) -> None:
    try:
        dialog = AccountsDialog(ctx, parent)
    except KappError as exc:
        QMessageBox.warning(parent, "Accounts", str(exc))
        return
    dialog.exec()
