"""The command line the ops-file renderers share (``python -m bridge.alerting``, ``python -m bridge.dashboards``):
read the shipped file, render it in the operator's language, write it to a file or standard output."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from bridge import i18n


def render_main(argv: list[str] | None, *, prog: str, description: str, default_input: Path,
                render: Callable[[str, argparse.Namespace], str], errors: tuple[type[Exception], ...] = (),
                add_arguments: Callable[[argparse.ArgumentParser], None] | None = None) -> int:
    """``render(text of --input, the parsed arguments)`` → the rendered text; exit 2 with the message when the
    input cannot be read or ``render`` raises one of ``errors``."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    if add_arguments is not None:
        add_arguments(parser)
    parser.add_argument("--language", choices=i18n.LANGUAGES, default="ja")
    parser.add_argument("--input", type=Path, default=default_input)
    parser.add_argument("--output", type=Path, help="default: standard output")
    args = parser.parse_args(argv)
    try:
        text = render(args.input.read_text(encoding="utf-8"), args)
    except (OSError, *errors) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0
