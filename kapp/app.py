"""The composition root: open the database, build the services, show the window."""

from __future__ import annotations

import argparse
import logging
import sys

from sqlalchemy.exc import DatabaseError

from kapp.cli import unreadable_message, url_from_args
from kapp.cli_vault import open_for_window
from kapp.domain.errors import KappError
from kapp.services.facade import Services

log = logging.getLogger(__name__)


def run_app(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    url = url_from_args(args)
    label = url.database if url.get_backend_name() == "sqlite" else url.render_as_string()
    try:
        opened = open_for_window(args)
    except KappError as exc:
        return _cannot_open(str(exc))
    except DatabaseError as exc:
        return _cannot_open(unreadable_message(exc))
    services = Services.for_database(opened.database, opened.keyring)
    services.protocol.ensure_defaults()
    from kapp.ui.app import run_gui

    try:
        return run_gui(services, database_label=str(label))
    finally:
        opened.database.dispose()


def _cannot_open(message: str) -> int:
    """Say why the database cannot be opened, in a window when there is a screen."""
    print(f"kapp: {message}", file=sys.stderr)
    try:
        from kapp.ui.app import show_error

        show_error("kapp cannot open the database", message)
    except Exception:  # no display: the message above is enough
        log.debug("could not show the error window", exc_info=True)
    return 2
