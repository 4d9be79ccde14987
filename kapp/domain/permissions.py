"""Who may do what. Enforced by the services, whatever the screens show or hide."""

from __future__ import annotations

from enum import StrEnum

from kapp.domain.enums import Role
from kapp.domain.errors import PermissionDenied


class Permission(StrEnum):
    RECORD = "record"  # patients, sessions, vitals, side effects, scores, notes
    SIGN = "sign"  # sign sessions and addenda
    APPROVE_DOSE = "approve_dose"  # verify a dose outside the protocol
    EDIT_PROTOCOL = "edit_protocol"  # clinical thresholds
    MANAGE_ACCOUNTS = "manage_accounts"
    MANAGE_BACKUPS = "manage_backups"
    VIEW_AUDIT = "view_audit"
    MANAGE_SETTINGS = "manage_settings"  # clinic name, lockout, idle lock


_GRANTS: dict[Role, frozenset[Permission]] = {
    Role.NURSE: frozenset({Permission.RECORD}),
    Role.PRESCRIBER: frozenset(
        {Permission.RECORD, Permission.SIGN, Permission.APPROVE_DOSE, Permission.EDIT_PROTOCOL}
    ),
    Role.ADMIN: frozenset(
        {Permission.MANAGE_ACCOUNTS, Permission.MANAGE_BACKUPS, Permission.VIEW_AUDIT,
         Permission.MANAGE_SETTINGS}
    ),
}

_WORDS = {
    Permission.RECORD: "record clinical entries",
    Permission.SIGN: "sign sessions",
    Permission.APPROVE_DOSE: "approve a dose outside the protocol",
    Permission.EDIT_PROTOCOL: "change the clinic protocol",
    Permission.MANAGE_ACCOUNTS: "manage user accounts",
    Permission.MANAGE_BACKUPS: "manage backups",
    Permission.VIEW_AUDIT: "view the audit trail",
    Permission.MANAGE_SETTINGS: "change the clinic settings",
}


def allowed(role: Role, permission: Permission) -> bool:
    return permission in _GRANTS[role]


def require(role: Role, permission: Permission, *, who: str = "This user") -> None:
    if not allowed(role, permission):
        raise PermissionDenied(f"{who} ({role.value}) may not {_WORDS[permission]}.")
