"""Sync jobs, one package per flow, and the plumbing they share.

- ``base``: what a job is (``Job``, ``JobContext``, ``JobResult``, ``RunOptions``) and the job registry.
- ``plan``: the desired state diffed against the ledger, enqueued as outbox ops.
- ``jobkit``: small pieces the jobs share (end-of-run report, money in payloads, create ops).
- ``catalog/``: SMILE masters → CS-Cart (stock, prices, products, customers, customer prices, drift).
- ``orders/``: CS-Cart orders → gates → SMILE 受注 file, read-back, the order workflow.
- ``shipping/``: carrier label files out, result files in, the customer's shipping mail.

- ``registry``: the one place jobs are built from the typed services (each job's constructor names what it uses).
"""

from bridge.sync.base import REGISTRY, Job, JobContext, JobResult, JobSpec, RunOptions, register

__all__ = ["REGISTRY", "Job", "JobContext", "JobResult", "JobSpec", "RunOptions", "register", "registered_jobs"]


def registered_jobs() -> dict[str, JobSpec]:
    """Every job the bridge knows (bridge/sync/registry.py builds them)."""
    import bridge.sync.registry  # noqa: F401 - registers the shipped jobs

    return dict(sorted(REGISTRY.items()))
