"""kapp: session records and progress charts for ketamine-therapy clinics."""

__version__ = "0.1.0"
