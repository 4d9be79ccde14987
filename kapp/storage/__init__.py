"""Persistence: SQLAlchemy models, the engine set-up and migrations. No Qt here."""
