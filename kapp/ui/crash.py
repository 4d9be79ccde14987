"""An unexpected error in the GUI: logged and told without any patient data.

An exception's message can quote what was typed (a name, an MRN, a date of birth), and
its frames' variables hold records, so neither is written anywhere: the log gets the
exception's type and where it happened (file, line, function), the person at the
keyboard a plain message.
"""

from __future__ import annotations

import logging
import sys
import traceback
from types import TracebackType

from kapp.domain.errors import KappError

log = logging.getLogger("kapp.crash")


def safe_description(exc_type: type[BaseException], exc: BaseException | None,
                     tb: TracebackType | None) -> str:
    """Type and frames only, never the message or any variable."""
    lines = [f"{exc_type.__module__}.{exc_type.__qualname__}"]
    for frame in traceback.extract_tb(tb):
        lines.append(f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}')
    cause = exc.__cause__ or exc.__context__ if exc is not None else None
    if cause is not None:
        lines.append(f"  caused by {type(cause).__module__}.{type(cause).__qualname__}")
    return "\n".join(lines)


def user_message(exc: BaseException | None) -> str:
    if isinstance(exc, KappError):  # kapp's own messages are written for the user
        return str(exc)
    return ("kapp met an unexpected problem and could not finish what you asked. What was "
            "already saved is safe. If it happens again, tell your administrator the time "
            "it happened.")


def install_excepthook() -> None:
    def hook(exc_type: type[BaseException], exc: BaseException,
             tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        log.error("unexpected error:\n%s", safe_description(exc_type, exc, tb))
        try:
            from PySide6.QtWidgets import QApplication, QMessageBox

            if QApplication.instance() is not None:
                QMessageBox.warning(QApplication.activeWindow(), "kapp", user_message(exc))
        except Exception:  # never let the hook itself crash
            log.error("could not show the error message")

    sys.excepthook = hook
