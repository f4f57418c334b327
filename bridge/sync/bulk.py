"""The cyclic garbage collector paused around a job's bulk work.

A 100,000-SKU cycle builds hundreds of thousands of small acyclic objects (records, payloads, dict entries); each
gen-2 pass rescans all of them, which cost about a sixth of a cycle. Nothing a job builds in bulk is cyclic, so the
collector is paused for that stretch and resumed after (nested or concurrent pauses resume when the last ends).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_depth = 0
_was_enabled = True


@contextmanager
def paused_gc() -> Iterator[None]:
    global _depth, _was_enabled
    if _depth == 0:
        _was_enabled = gc.isenabled()
        gc.disable()
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0 and _was_enabled:
            gc.enable()
