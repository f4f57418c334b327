"""The memo files of the incremental catalog jobs (stock, prices): where they live beside the state file and how
they are written. What goes in them is each job's own (``stock_memo``, ``prices_memo``)."""

from __future__ import annotations

import hashlib
import marshal
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def path_for(state_path: Path, kind: str) -> Path:
    """``state.sqlite3`` → ``state.sqlite3.{kind}-memo``."""
    return state_path.with_name(f"{state_path.name}.{kind}-memo")


def checksum(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_atomically(path: Path, values: Iterable[Any]) -> None:
    """``marshal`` each value, in order, into a file beside ``path`` and rename it over ``path``: a crash leaves the
    old memo or the new one, never half of one. Values are taken one at a time, so a generator keeps only one
    value's bytes in memory. Raises OSError, with the partial file removed."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with partial.open("wb") as handle:
            for value in values:
                handle.write(marshal.dumps(value))
        os.replace(partial, path)
    except OSError:
        partial.unlink(missing_ok=True)
        raise
