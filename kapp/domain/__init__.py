"""Pure clinical logic: no database, no Qt. Everything here is testable with plain values."""
