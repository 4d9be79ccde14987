"""Developer tools: the crash harness (``python -m kapp.devtools.crash``)."""
