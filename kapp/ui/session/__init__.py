"""The session screen: one treatment session from planning to signature."""
