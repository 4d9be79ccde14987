"""Printable reports (PDF) built with reportlab: no Qt, so the CLI runs headless."""
