"""A lighter answer to PySide6's question "does this module use PySide6?".

Once PySide6 is imported it replaces ``__import__`` and, for its opt-in ``__feature__``
syntax (snake_case, true_property), asks that question of every module imported after
it, by ``inspect.getsource``: each module's source read through ``linecache`` and kept
there, and ``inspect.getmodule`` walking every loaded module each time. kapp loads
SQLAlchemy and its database layer after the sign-in window is up, and that question cost
about 0.3 s of the start (measured with py-spy; napari issue #8584 reports the same).

``install()`` gives PySide6 the same answer ("PySide6" appears in the module's source)
read straight from the file. It changes nothing else, and does nothing on a PySide6
whose internals differ (a future version may drop the hook or fix it).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import ModuleType


def _reading_the_file(original: Callable[[ModuleType], bool]) -> Callable[[ModuleType], bool]:
    def uses_pyside(module: ModuleType) -> bool:
        path = getattr(module, "__file__", None)
        if isinstance(path, str) and path.endswith(".py"):
            try:
                with open(path, "rb") as source:
                    return b"PySide6" in source.read()
            except OSError:
                return False
        return original(module)  # a package without a file, a zip: PySide6's own way

    uses_pyside.kapp_lighter = True  # type: ignore[attr-defined]
    return uses_pyside


def install() -> bool:
    """Make the check light, once; True if PySide6 has the check and it now is."""
    import PySide6.QtCore  # noqa: F401 - installs the import hook and its module

    feature = sys.modules.get("PySide6.support.feature")
    original = getattr(feature, "_mod_uses_pyside", None)
    if not callable(original):
        return False
    if not getattr(original, "kapp_lighter", False):
        feature._mod_uses_pyside = _reading_the_file(original)  # type: ignore[union-attr]
    return True
