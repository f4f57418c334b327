"""Results files: every run appends its Markdown section to ``bench/results/<name>.md``."""

from __future__ import annotations

from pathlib import Path


def append(path: Path, section: str) -> None:
    """Append ``section`` to ``path`` (created with its folder when missing), a blank line between sections."""
    path.parent.mkdir(parents=True, exist_ok=True)
    separator = "\n" if path.exists() and path.stat().st_size else ""
    with path.open("a", encoding="utf-8") as handle:
        handle.write(separator + section.rstrip("\n") + "\n")


def publish(lines: list[str], out: Path | None) -> None:
    """Print a run's section and, with ``--out``, append it to the results file."""
    section = "\n".join(lines) + "\n"
    print(section)
    if out:
        append(out, section)


def write(report: str, out: Path | None) -> None:
    """Print a whole report and, with ``--out``, write it to that file (replacing it): the storms' reports."""
    print(report)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(report, encoding="utf-8")
