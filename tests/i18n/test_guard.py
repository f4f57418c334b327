"""Guards: no English-only sentence reaches the operator through the surfaces below the CLI.

Three checks, each catching what the others cannot:

1. the fields that carry operator text deeper than the CLI are typed ``Text`` (the catalogue's ``str``), so
   ``mypy --strict`` (tests/foundation/test_typing.py) refuses a plain f-string there — this test keeps the types
   from being loosened;
2. a source scan: no string literal or f-string is appended to ``notes``/``problems``/``warnings``/``reasons``/
   ``refused`` or passed as a carrier row problem without going through ``_()``/``ngettext()``;
3. real job runs in Japanese (the catalogue jobs against the simulator, with the notes they are known to give):
   every note is a ``Text`` and reads Japanese.
"""

from __future__ import annotations

import ast
import re
import typing
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge import i18n
from bridge.i18n import Text
from tests.catalog.conftest import CatalogWorld, world  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parents[2]
SINKS = {"notes", "problems", "warnings", "reasons", "refused"}
TRANSLATED = {"_", "ngettext", "N_", "verbatim", "joined", "said"}
# Programmer-facing checks that never reach an operator (a wrong call of the analytics feed API raises ValueError).
NOT_OPERATOR_TEXT = {"bridge/analytics/feed.py"}
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def test_operator_text_fields_are_typed_text() -> None:
    from bridge.carriers.labels import LabelFile, Rejection
    from bridge.carriers.text import FieldProblem, TextReport
    from bridge.cscart import addon_tools, compatibility
    from bridge.cscart.addon_installer import Outcome, install_problems, uninstall_problems
    from bridge.rules.stock import GuardVerdict
    from bridge.sync.base import JobResult
    from bridge.sync.orders.moves import Changes
    from bridge.sync.shipping.labels import ExportOutcome
    from bridge.sync.shipping.notify import NotifyOutcome
    from bridge.sync.shipping.results import ImportOutcome

    for holder in (JobResult, Changes, ExportOutcome, NotifyOutcome, ImportOutcome, Outcome):
        assert typing.get_type_hints(holder)["notes"] == list[Text], holder
    assert typing.get_type_hints(TextReport)["warnings"] == list[Text]
    assert typing.get_type_hints(FieldProblem)["message"] == Text
    assert typing.get_type_hints(Rejection)["problems"] == tuple[Text, ...]
    assert typing.get_type_hints(LabelFile)["warnings"] == tuple[Text, ...]
    assert typing.get_type_hints(GuardVerdict)["reasons"] == tuple[Text, ...]
    for function in (addon_tools.check, install_problems, uninstall_problems):
        assert typing.get_type_hints(function)["return"] == list[Text], function
    assert typing.get_type_hints(compatibility.warning)["return"] == Text | None


def _untranslated(node: ast.AST) -> list[ast.AST]:
    """String literals with words in them (a single word is a key, e.g. ``get("status")``) under ``node`` that no
    ``_()``/``ngettext()`` wraps."""
    found: list[ast.AST] = []

    def visit(current: ast.AST, wrapped: bool) -> None:
        if isinstance(current, ast.Call):
            func = current.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            wrapped = wrapped or name in TRANSLATED
        if not wrapped and isinstance(current, ast.JoinedStr | ast.Constant):
            text = (current.value if isinstance(current, ast.Constant) else
                    "".join(v.value for v in current.values if isinstance(v, ast.Constant)))
            if isinstance(text, str) and re.search(r"[A-Za-z]{2,}", text) and " " in text.strip():  # words, not a key
                found.append(current)
            return
        for child in ast.iter_child_nodes(current):
            visit(child, wrapped)

    visit(node, False)
    return found


def _operator_code_nodes() -> Iterator[tuple[str, ast.AST]]:
    """(path relative to the project, node) for every node of the bridge's operator-facing modules."""
    for path in sorted((ROOT / "bridge").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if {"i18n", "sim"} & set(path.parts) or relative in NOT_OPERATOR_TEXT:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            yield relative, node


def test_no_english_only_sentence_is_added_to_operator_text() -> None:
    offenders = []
    for relative, node in _operator_code_nodes():
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        target = node.func.value
        owner = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if node.func.attr in ("append", "extend") and owner in SINKS:
            arguments = node.args
        elif node.func.attr == "problem":  # TextReport.problem(field, message, fix): the field is a key
            arguments = node.args[1:]
        else:
            continue
        for argument in arguments:
            offenders += [f"{relative}:{lit.lineno}: {ast.unparse(lit)[:80]}" for lit in _untranslated(argument)]
    assert not offenders, "operator text not through the catalogue (wrap it in _(), docs/i18n.md):\n" + "\n".join(
        offenders)


# Exceptions a caller's bug raises (never an operator's input or an outside system's answer) keep their English.
PROGRAMMER_ERRORS = {"ValueError", "TypeError", "LookupError", "KeyError", "RuntimeError", "AssertionError",
                     "NotImplementedError", "AttributeError", "IntegrityError"}


def test_errors_and_command_help_go_through_the_catalogue() -> None:
    """The bridge's own errors (``…Error(…)`` with its ``hint``) and every typer ``help=`` carry catalogue text:
    they reach ``bridge dlq``, ``bridge status``, the CLI's ``error:`` line and the log's human text."""
    offenders = []
    for relative, node in _operator_code_nodes():
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if re.search(r"(Error|Failed|Missing)$", name) and not name.startswith("_") \
                and name not in PROGRAMMER_ERRORS:
            arguments = [*node.args, *(k.value for k in node.keywords if k.arg in ("hint", "message"))]
        elif name in ("Option", "Argument", "Typer", "command"):
            arguments = [k.value for k in node.keywords if k.arg == "help"]
        else:
            continue
        for argument in arguments:
            offenders += [f"{relative}:{lit.lineno}: {name}: {ast.unparse(lit)[:80]}"
                          for lit in _untranslated(argument)]
    assert not offenders, "English-only error or help text (wrap it in _() or said(), docs/i18n.md):\n" + "\n".join(
        offenders)


def _binds_underscore(target: ast.AST) -> bool:
    return any(isinstance(name, ast.Name) and name.id == "_" for name in ast.walk(target))


def _calls_underscore(scope: ast.AST) -> bool:
    return any(isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_"
               for node in ast.walk(scope))


def _own_nodes(scope: ast.AST) -> list[ast.AST]:
    """The nodes of a function body, not those of the functions and comprehensions inside it (own scopes)."""
    found: list[ast.AST] = []
    stack = list(ast.iter_child_nodes(scope))
    while stack:
        node = stack.pop()
        found.append(node)
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ListComp | ast.SetComp
                          | ast.DictComp | ast.GeneratorExp):
            stack.extend(ast.iter_child_nodes(node))
    return found


def test_no_scope_that_translates_binds_underscore() -> None:
    """``for _, x in …`` (or a comprehension doing so) in a scope that also calls ``_("…")`` turns that call into a
    call of the loop's value, or an UnboundLocalError: name such throwaways ``_row``, ``_cells``."""
    offenders = []
    for path in sorted((ROOT / "bridge").rglob("*.py")):
        for scope in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(scope, ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp):
                binds = any(_binds_underscore(generator.target) for generator in scope.generators)
            elif isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef):
                binds = False
                for node in _own_nodes(scope):
                    if isinstance(node, ast.For | ast.AsyncFor):
                        binds |= _binds_underscore(node.target)
                    elif isinstance(node, ast.Assign):
                        binds |= any(_binds_underscore(target) for target in node.targets)
                    elif isinstance(node, ast.With | ast.AsyncWith):
                        binds |= any(item.optional_vars is not None and _binds_underscore(item.optional_vars)
                                     for item in node.items)
            else:
                continue
            if binds and _calls_underscore(scope):
                offenders.append(f"{path.relative_to(ROOT).as_posix()}:{scope.lineno}")
    assert not offenders, "binds _ where _() translates:\n" + "\n".join(offenders)


@pytest.fixture
def japanese(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANG", "ja_JP.UTF-8")
    i18n.set_language("ja")


async def test_every_note_of_real_job_runs_is_japanese(world: CatalogWorld, japanese: None) -> None:
    from bridge.smile.reader import read_file

    notes: list[tuple[str, str]] = []

    async def run(job: str, **options: bool) -> None:
        result = await world.run(job, **options)
        assert all(isinstance(note, Text) for note in result.notes), (job, result.notes)
        notes.extend((job, note) for note in result.notes)

    await run("stock")  # no stock file yet
    await run("customer_prices")  # no add-on on the simulator
    await run("campaigns")  # no add-on: no promotions
    await run("products")  # one SMILE code is not in CS-Cart yet
    await run("prices")
    await run("customers")  # rank usergroups created
    world.deliver_stock()
    await run("stock")
    levels = read_file(world.master_stock, "stock").records
    world.deliver_stock({level.product_code: 0 for level in levels})  # the mass-change guard holds it
    await run("stock")
    world.sim.state.products[next(iter(world.sim.state.products))].amount += 7  # a hand edit in CS-Cart
    await run("drift", dry_run=True)
    kinds = {job for job, _ in notes}
    assert {"stock", "customer_prices", "campaigns", "customers", "drift"} <= kinds, notes
    english = [f"{job}: {note}" for job, note in notes if not JAPANESE.search(note)]
    assert not english, "notes without Japanese in a Japanese run:\n" + "\n".join(english)
