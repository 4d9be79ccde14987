"""The composition root: open the database, build the services, show the window."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kapp.cli_vault import local_path
from kapp.domain.errors import DatabaseDamaged, KappError

if TYPE_CHECKING:
    from kapp.services.startup import Gate

log = logging.getLogger(__name__)
# Nothing here imports SQLAlchemy or kapp.storage at module level: the sign-in window is
# shown first and the database layer loads while the person types (kapp/ui/opening.py).


def run_app(args: argparse.Namespace, *,
            on_shown: Callable[[Any], None] | None = None,
            on_first_window: Callable[[Any], None] | None = None) -> int:
    """Open the database the arguments name and run the window; ``on_shown(window)`` is
    called once the main window has been painted, ``on_first_window(dialog)`` once the
    sign-in (or first-run) window has (the cold-start benchmark)."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        gate = _gate(args)
        from kapp.ui.app import run_gui

        try:
            return run_gui(gate, on_shown=on_shown, on_first_window=on_first_window)
        finally:
            gate.close()
    except DatabaseDamaged as exc:  # reliability: offer the latest verified backup
        if not _restore_damaged(exc):
            return _cannot_open(str(exc), shown=True)
        return run_app(args, on_shown=on_shown, on_first_window=on_first_window)
    except KappError as exc:
        return _cannot_open(str(exc))
    except Exception as exc:
        database_error = getattr(sys.modules.get("sqlalchemy.exc"), "DatabaseError", None)
        if database_error is None or not isinstance(exc, database_error):
            raise
        from kapp.cli import unreadable_message

        return _cannot_open(unreadable_message(exc, args))


def _gate(args: argparse.Namespace) -> Gate:
    """A local file waits for a sign-in (its key is unwrapped by the password; a plain file
    is opened in the background meanwhile); a database server is opened at once and only
    the accounts are checked."""
    from kapp.services.startup import OpenGate, VaultGate

    path = local_path(args)
    if path is not None:
        return VaultGate(path, database_label=str(path),
                         plain_new=getattr(args, "no_encryption", False))
    from kapp.cli import url_from_args
    from kapp.services.facade import Services
    from kapp.storage.database import open_database

    url = url_from_args(args)
    services = Services.for_database(open_database(url).database)
    services.protocol.ensure_defaults()
    return OpenGate(services, database_label=url.render_as_string())


def _restore_damaged(exc: DatabaseDamaged) -> bool:
    """Offer to restore the latest verified backup; True when it was restored."""
    print(f"kapp: {exc}", file=sys.stderr)
    try:
        from kapp.ui.backups import offer_restore

        if not exc.path or not offer_restore(str(exc), exc.latest_backup):
            return False
        from kapp.services.backups import restore_damaged

        aside, _ = restore_damaged(Path(exc.path), Path(exc.latest_backup or ""))
    except KappError as failed:
        print(f"kapp: {failed}", file=sys.stderr)
        return False
    except Exception:  # no display: the message above is enough
        log.debug("could not offer the restore", exc_info=True)
        return False
    log.info("Restored %s; the damaged file is kept as %s", exc.latest_backup, aside)
    return True


def _cannot_open(message: str, *, shown: bool = False) -> int:
    """Say why the database cannot be opened, in a window when there is a screen."""
    if shown:
        return 2
    print(f"kapp: {message}", file=sys.stderr)
    try:
        from kapp.ui.app import show_error

        show_error("kapp cannot open the database", message)
    except Exception:  # no display: the message above is enough
        log.debug("could not show the error window", exc_info=True)
    return 2
