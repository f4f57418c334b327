"""`bridge run` with one test job, for the ops tests (run as a script: python tests/ops/testjob_daemon.py CONFIG).

The job is registered as "stock" in this process only, after the real job modules, so it replaces the real one
here and nowhere else. It is steered by files in $OPS_TEST_FLAGS: ``hang`` (the run waits while it exists),
``fail`` (the run raises); every run appends a line to ``runs``.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from bridge.sync import JobContext, JobResult, RunOptions, register, registered_jobs

FLAGS = Path(os.environ["OPS_TEST_FLAGS"])


class SteerableJob:
    name = "stock"

    async def run(self, options: RunOptions) -> JobResult:
        with (FLAGS / "runs").open("a") as runs:
            runs.write("run\n")
        while (FLAGS / "hang").exists():
            await asyncio.sleep(0.02)
        if (FLAGS / "fail").exists():
            raise RuntimeError("failing on purpose (fail flag)")
        return JobResult(read=1)


def main() -> None:
    registered_jobs()  # import the real job modules first, so the registration below wins in this process

    @register("stock", "ops test job steered by flag files")
    def _factory(context: JobContext) -> SteerableJob:
        return SteerableJob()

    from bridge.cli import main as bridge_main

    sys.argv = ["bridge", "run", "--config", sys.argv[1]]
    bridge_main()


if __name__ == "__main__":
    main()
