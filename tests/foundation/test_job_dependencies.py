"""Each job's constructor names what it uses; jobs are built in one place (bridge/sync/registry.py).

No module under bridge/sync/ other than the registry and the plumbing that defines them may touch a ``JobContext``
or the ``Services`` object (import it, or read ``.services`` off anything): a job that did would depend on the whole
bag again, and a reader of its constructor would no longer see everything it uses.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import textwrap
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


def _job_class(factory: object) -> type:
    """The class a registry factory builds: its return annotation names it, and the factory imports it in its body
    (the registry imports no job module at its top, so that one command loads one job's code)."""
    annotation = inspect.signature(factory).return_annotation  # type: ignore[arg-type]
    if inspect.isclass(annotation):
        return annotation
    assert isinstance(annotation, str), f"{factory}: no return annotation"
    body = ast.parse(textwrap.dedent(inspect.getsource(factory)))  # type: ignore[arg-type]
    for node in ast.walk(body):
        if isinstance(node, ast.ImportFrom) and node.module and any(a.name == annotation for a in node.names):
            found = getattr(importlib.import_module(node.module), annotation)
            assert inspect.isclass(found)
            return found
    raise AssertionError(f"{factory}: imports no {annotation!r} in its body")


@pytest.mark.parametrize("name", sorted(registered_jobs()))
def test_every_job_constructor_names_its_dependencies(name: str) -> None:
    """The registry's factory returns a job whose constructor takes keyword parameters, none of them a context."""
    cls = _job_class(registered_jobs()[name].factory)
    assert getattr(cls, "name", name) == name, f"{name}: the factory builds {cls.__name__}, named {cls.name!r}"
    parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
    assert parameters, f"{name}: {cls.__name__} takes nothing"
    for parameter in parameters:
        assert parameter.kind is inspect.Parameter.KEYWORD_ONLY, f"{cls.__name__}({parameter.name}) is positional"
        assert parameter.name not in ("ctx", "context", "services"), f"{cls.__name__} takes a {parameter.name}"


def test_the_registry_imports_no_job_module_at_its_top() -> None:
    """Each factory imports its job's module when it builds the job; the registry's own imports are the
    plumbing, so that listing the jobs loads no job and one job loads only its own code (test_cli_startup.py)."""
    registry = SYNC / "registry.py"
    tree = ast.parse(registry.read_text(encoding="utf-8"))
    top = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    modules = sorted({node.module or "" for node in top if isinstance(node, ast.ImportFrom)}
                     | {alias.name for node in top if isinstance(node, ast.Import) for alias in node.names})
    assert modules == ["__future__", "bridge.i18n", "bridge.sync.base", "pathlib", "typing"], modules


def test_the_registry_names_agree_with_the_jobs() -> None:
    """A few jobs name themselves in their module too (the orders job's push trigger): the registry's literal
    agrees."""
    from bridge.sync import registry
    from bridge.sync.orders.job import JOB

    assert registry.ORDERS == JOB
