"""`bridge run` with one test job, for the ops tests (run as a script: python tests/ops/testjob_daemon.py CONFIG).

The job is registered as "stock" in this process only, after the real job modules, so it replaces the real one
here and nowhere else. It is steered by files in $OPS_TEST_FLAGS: ``hang`` (the run waits while it exists),
``fail`` (the run raises; ``fail-NAME`` for job NAME only); every run appends a line to ``runs``. With ``OPS_TEST_EVERY_JOB=1`` it replaces every job
the settings know (``JobsSettings``), so the daemon exports the metrics of each job without CS-Cart or SMILE.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from bridge.config import JobsSettings
from bridge.sync import JobResult, RunOptions, register, registered_jobs

FLAGS = Path(os.environ["OPS_TEST_FLAGS"])


class SteerableJob:
    def __init__(self, name: str) -> None:
        self.name = name

    async def run(self, options: RunOptions) -> JobResult:
        with (FLAGS / "runs").open("a") as runs:
            runs.write("run\n")
        while (FLAGS / "hang").exists():
            await asyncio.sleep(0.02)
        if (FLAGS / "fail").exists() or (FLAGS / f"fail-{self.name}").exists():
            raise RuntimeError("failing on purpose (fail flag)")
        return JobResult(read=1)


def main() -> None:
    registered_jobs()  # import the real job modules first, so the registration below wins in this process
    names = list(JobsSettings.model_fields) if os.environ.get("OPS_TEST_EVERY_JOB") else ["stock"]
    for name in names:
        register(name, "ops test job steered by flag files", needs=())(lambda context, name=name: SteerableJob(name))

    from bridge.cli import main as bridge_main

    sys.argv = ["bridge", "run", "--config", sys.argv[1]]
    bridge_main()


if __name__ == "__main__":
    main()
