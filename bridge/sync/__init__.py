"""Sync jobs, one module per flow. Importing this package registers every job in ``REGISTRY``."""

from bridge.sync.base import REGISTRY, Job, JobContext, JobResult, JobSpec, RunOptions, register

__all__ = ["REGISTRY", "Job", "JobContext", "JobResult", "JobSpec", "RunOptions", "register", "registered_jobs"]


def registered_jobs() -> dict[str, JobSpec]:
    """Every job the bridge knows; job modules register themselves when imported here."""
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(__path__):
        if module.name not in {"base"}:
            importlib.import_module(f"{__name__}.{module.name}")
    return dict(sorted(REGISTRY.items()))
