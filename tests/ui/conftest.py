"""Fixtures shared by the GUI tests."""

from __future__ import annotations

import pytest

from kapp.ui.context import AppContext


@pytest.fixture
def ctx(services, staff) -> AppContext:
    """The screens' context with a nurse signed in."""
    context = AppContext(services)
    context.set_user(staff.nurse)
    return context
