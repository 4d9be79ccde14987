"""Work-arounds for bugs in the Qt binding, in one place.

PySide6 6.12.0: ``SignalInstance.emit`` returns True without taking a reference to it.
Each Python-side ``signal.emit(...)`` therefore lowers True's reference count by one, and
after a few hundred to a few thousand emits the interpreter aborts with "Fatal Python
error: bool_dealloc" (a nurse's session would crash mid-afternoon). ``emit`` takes the
missing reference; on a fixed PySide it merely keeps True alive, which it is anyway.

Also seen with 6.12.0: an exception escaping a Python override of a Qt virtual method
(``keyPressEvent``, ``paintEvent``...) crashes the process instead of printing the
traceback, so such overrides must not raise.
"""

from __future__ import annotations

import ctypes
from typing import Any

import shiboken6


def emit(signal: Any, *args: Any) -> None:
    """``signal.emit(*args)`` without the reference-count leak."""
    result = signal.emit(*args)
    if isinstance(result, bool):
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(result))


def run_modal(dialog: Any, result: Any) -> Any:
    """``dialog.exec()``, then ``result(dialog)``, then the dialog is deleted at once.

    A finished dialog left to Python's garbage collector (signal connections to its own
    methods keep it in reference cycles) is destroyed at exit by PySide's clean-up, which
    crashes 6.12.0 ("Segmentation fault" after all tests passed)."""
    try:
        dialog.exec()
        return result(dialog)
    finally:
        shiboken6.delete(dialog)
