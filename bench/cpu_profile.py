"""Run a module under cProfile with a CPU-time timer (``time.process_time``), not the wall clock: on a busy machine
a wall-clock profile charges every preemption to whatever function was running. Used by bench/orders_burst.py
(``BENCH_DAEMON_PROFILE_CPU=1`` beside ``BENCH_DAEMON_PROFILE=FILE``).

    python bench/cpu_profile.py OUT_FILE MODULE [ARGS...]
"""

from __future__ import annotations

import cProfile
import runpy
import sys
import time


def main() -> None:
    out, module, *args = sys.argv[1:]
    sys.argv = [module, *args]
    profile = cProfile.Profile(time.process_time)
    try:
        profile.runcall(runpy.run_module, module, run_name="__main__", alter_sys=True)
    except SystemExit:
        pass
    finally:
        profile.dump_stats(out)


if __name__ == "__main__":
    main()
