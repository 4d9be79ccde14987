"""The PySide6 user interface: the only package that imports Qt."""

from kapp.ui import import_tax

import_tax.install()  # before anything else is imported after PySide6 (see the module)
