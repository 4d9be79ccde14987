"""Dialogs for the steps around the infusion: checklists, scores, discharge, corrections."""
