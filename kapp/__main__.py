"""``kapp`` and ``python -m kapp``: a command if one is given, else the window."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    from kapp.cli import build_parser, run

    args = build_parser().parse_args(argv)
    if args.command is None:
        from kapp.app import run_app  # imports Qt only when a window is wanted

        return run_app(args)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
