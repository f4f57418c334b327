"""The daemon freezes its start-up objects out of the cyclic collector's reach; a reload must hand the ones it
drops back to the collector, or every SIGHUP leaks the old settings and rules. Run in a child process: freezing
the test runner's own objects would change every later test's memory."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import gc, weakref
    from bridge import daemon

    class Settings:  # stands for the old settings and rules: objects in reference cycles, made at start-up
        def __init__(self):
            self.me = self

    old = Settings()
    gone = weakref.ref(old)
    daemon._freeze_start_up_objects()
    del old
    gc.collect()
    print("after freeze:", gone() is not None)
    daemon._refreeze_after_reload()
    print("after reload:", gone() is not None, gc.get_freeze_count() > 0)
""")


def test_a_reload_gives_dropped_start_up_objects_back_to_the_collector() -> None:
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True).stdout
    # frozen: a cycle dropped after start-up is not collected; after the reload's refreeze it is, and the
    # objects still alive are frozen again
    assert out.splitlines() == ["after freeze: True", "after reload: False True"]


def test_a_reload_without_a_freeze_freezes_nothing() -> None:
    script = "import gc; from bridge import daemon; daemon._refreeze_after_reload(); print(gc.get_freeze_count())"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "0"
