"""The memo files of the incremental catalog jobs (stock, prices): where they live beside the state file and how
they are written. What goes in them is each job's own (``stock_memo``, ``prices_memo``)."""

from __future__ import annotations

import hashlib
import marshal
import os
import struct
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

# Each value is its marshal bytes after their length: a reader takes one value's bytes and ``marshal.loads`` them
# (``marshal.load`` on a file reads object by object, a call per string: 7× slower for 100,000 codes).
_LENGTH = struct.Struct("<Q")


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
                data = marshal.dumps(value)
                handle.write(_LENGTH.pack(len(data)))
                handle.write(data)
        os.replace(partial, path)
    except OSError:
        partial.unlink(missing_ok=True)
        raise


def read_values(handle: IO[bytes], count: int) -> Iterator[Any]:
    """The next ``count`` values ``write_atomically`` wrote, one at a time. Raises EOFError when the file ends
    early, ValueError (or EOFError, TypeError) when it is not such a file."""
    end = os.fstat(handle.fileno()).st_size
    for _ in range(count):
        head = handle.read(_LENGTH.size)
        if len(head) != _LENGTH.size:
            raise EOFError  # (caught by the loaders: the memo is then not used)
        (size,) = _LENGTH.unpack(head)
        if size > end - handle.tell():  # damaged: not a length this file can hold (no huge allocation)
            raise ValueError("memo file damaged")
        data = handle.read(size)
        if len(data) != size:
            raise EOFError  # (caught by the loaders: the memo is then not used)
        yield marshal.loads(data)
