"""``kapp recover``: every password lost. The clinic's recovery key (shown once at first run)
opens the encrypted database, and an administrator account gets a new password; that
administrator then resets the other staff's passwords in Accounts."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from pathlib import Path

from kapp.domain.errors import KappError

RECOVERY_ENV = "KAPP_RECOVERY_KEY"


def add_parsers(commands: argparse._SubParsersAction,
                add_database_options: Callable[..., None]) -> None:
    recover = commands.add_parser(
        "recover", help="every password lost: set an administrator's password with the "
                        "recovery key",
        description="Open an encrypted clinic with its recovery key (from "
                    f"{RECOVERY_ENV} or asked for) and give an administrator account a new "
                    "password (from KAPP_PASSWORD or asked for twice). The recovery key stays "
                    "valid; the administrator then resets the other staff's passwords.")
    add_database_options(recover)


def _secret(env: str, prompt: str, *, twice: bool = False) -> str:
    value = os.environ.get(env)
    if value:
        return value
    if not sys.stdin.isatty():
        raise KappError(f"set {env}, or run kapp in a terminal to be asked")
    first = getpass.getpass(prompt)
    if twice and getpass.getpass("Same again: ") != first:
        raise KappError("the two passwords differ; nothing was changed")
    return first


def run(args: argparse.Namespace) -> int | None:
    if args.command != "recover":
        return None
    from kapp.cli_vault import PASSWORD_ENV, local_path, username
    from kapp.domain.errors import ValidationError
    from kapp.services.startup import VaultGate

    path = local_path(args)
    if path is None:
        raise KappError("a database server has no recovery key: its administrator resets "
                        "passwords")
    gate = VaultGate(Path(path), database_label=str(path))
    if not path.exists() or not gate.can_recover():
        raise KappError(f"{path} is not an encrypted kapp clinic; only those have a recovery "
                        "key")
    name = username(args)
    key = _secret(RECOVERY_ENV, "Recovery key: ")
    password = _secret(PASSWORD_ENV, f"New password for {name}: ", twice=True)
    try:
        signed = gate.recover(key, name, password)
    except ValidationError as exc:
        raise KappError("; ".join(e.message for e in exc.errors)) from None
    finally:
        key = password = ""
    gate.close()
    print(f"{signed.user.full_name} ({signed.user.username}) has a new password. Sign in with "
          "it and reset the other staff's passwords in Accounts.")
    return 0
