"""kapp.ui makes PySide6's per-import check read the module's file instead of going
through inspect and linecache (kapp/ui/import_tax.py): same answers, less time and memory."""

from __future__ import annotations

import sys

import pytest

import kapp.domain.vitals
import kapp.ui.sign_in
from kapp.ui import import_tax

feature = sys.modules.get("PySide6.support.feature")
pytestmark = pytest.mark.skipif(
    feature is None or not hasattr(feature, "_mod_uses_pyside"),
    reason="this PySide6 has no per-import check to lighten")


def test_the_check_is_the_lighter_one_once_kapp_ui_is_imported() -> None:
    assert import_tax.install()
    assert getattr(feature._mod_uses_pyside, "kapp_lighter", False)
    before = feature._mod_uses_pyside
    assert import_tax.install()  # a second call does not wrap it again
    assert feature._mod_uses_pyside is before


def test_it_answers_as_pyside6_would(tmp_path, monkeypatch) -> None:
    lighter = feature._mod_uses_pyside
    assert lighter(kapp.ui.sign_in) is True
    assert lighter(kapp.domain.vitals) is False
    # A module whose file is gone: no source, not a PySide6 user (as inspect would say).
    gone = type(sys)("kapp_gone_module")
    gone.__file__ = str(tmp_path / "gone.py")
    assert lighter(gone) is False
    # No file of its own (a built-in): PySide6's own way answers.
    asked = []
    monkeypatch.setattr(feature, "_mod_uses_pyside", import_tax._reading_the_file(
        lambda module: asked.append(module.__name__) or False))
    assert feature._mod_uses_pyside(sys) is False and asked == ["sys"]
