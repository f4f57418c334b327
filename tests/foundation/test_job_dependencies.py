"""Each job's constructor names what it uses; jobs are built in one place (bridge/sync/registry.py).

No module under bridge/sync/ other than the registry and the plumbing that defines them may touch a ``JobContext``
or the ``Services`` object (import it, or read ``.services`` off anything): a job that did would depend on the whole
bag again, and a reader of its constructor would no longer see everything it uses.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from bridge.sync import registered_jobs

SYNC = Path(__file__).resolve().parents[2] / "bridge" / "sync"
# the registry builds the jobs; base defines JobContext; services defines Services; __init__ re-exports them
ALLOWED = {SYNC / "registry.py", SYNC / "base.py", SYNC / "services.py", SYNC / "__init__.py"}
FORBIDDEN_NAMES = {"JobContext", "Services"}


def _violations(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Attribute) and node.attr == "services":
            found.append(f"{node.lineno}: reads .services")
        elif isinstance(node, ast.ImportFrom) and node.module in ("bridge.sync.base", "bridge.sync.services",
                                                                   "bridge.sync"):
            found += [f"{node.lineno}: imports {alias.name}" for alias in node.names if alias.name in FORBIDDEN_NAMES]
        elif isinstance(node, ast.Import):
            found += [f"{node.lineno}: imports {alias.name}" for alias in node.names
                      if alias.name == "bridge.sync.services"]
        elif isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
            found.append(f"{node.lineno}: uses {node.id}")
    return found


def test_no_job_module_reaches_into_the_services() -> None:
    modules = sorted(path for path in SYNC.rglob("*.py") if path not in ALLOWED)
    assert len(modules) > 30  # every flow package is walked
    problems = {str(path.relative_to(SYNC.parent.parent)): found for path in modules if (found := _violations(path))}
    assert not problems, ("job modules must take their dependencies as constructor parameters (built in "
                          f"bridge/sync/registry.py), not from the JobContext/Services: {problems}")


def test_the_checker_sees_a_job_that_does(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from bridge.sync.base import JobContext\n\n"
                   "class Job:\n    def __init__(self, ctx: 'JobContext') -> None:\n"
                   "        self.client = ctx.services.require_cscart()\n", encoding="utf-8")
    assert [line.split(":")[0] for line in _violations(bad)] == ["1", "5"]


@pytest.mark.parametrize("name", sorted(registered_jobs()))
def test_every_job_constructor_names_its_dependencies(name: str) -> None:
    """The registry's factory returns a job whose constructor takes keyword parameters, none of them a context."""
    factory = registered_jobs()[name].factory
    job_class = inspect.signature(factory).return_annotation
    module = inspect.getmodule(factory)
    cls = getattr(module, job_class, None) if isinstance(job_class, str) else job_class
    assert inspect.isclass(cls), f"{name}: the factory's return annotation names no job class ({job_class!r})"
    parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
    assert parameters, f"{name}: {cls.__name__} takes nothing"
    for parameter in parameters:
        assert parameter.kind is inspect.Parameter.KEYWORD_ONLY, f"{cls.__name__}({parameter.name}) is positional"
        assert parameter.name not in ("ctx", "context", "services"), f"{cls.__name__} takes a {parameter.name}"
