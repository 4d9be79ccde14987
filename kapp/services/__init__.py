"""Use cases: one function per action, one transaction each, with its audit entry.

Qt-free, so the GUI, the command line, the tests and later the HL7 listener all go
through the same code.
"""
