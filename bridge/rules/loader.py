"""Load a rules directory into one validated, immutable ``RuleSet``, or report every problem as
``file:line: key: message``: all files are read and all problems collected before anything is refused.

This module reads files; the models and the evaluation functions beside it do no I/O.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from bridge.errors import ConfigError
from bridge.i18n import _
from bridge.i18n.validation import describe, unknown_key
from bridge.rules.campaigns import CampaignRules
from bridge.rules.customers import CustomerRules
from bridge.rules.order_flow import OrderFlowRules
from bridge.rules.pricing import PricingRules
from bridge.rules.products import ProductRules
from bridge.rules.returns import ReturnRules
from bridge.rules.stock import StockRules

# Each file is optional: a missing file means its documented defaults. A file that is present must be valid.
RULE_MODELS: dict[str, type[BaseModel]] = {
    "pricing.yaml": PricingRules,
    "stock.yaml": StockRules,
    "order_flow.yaml": OrderFlowRules,
    "campaigns.yaml": CampaignRules,
    "products.yaml": ProductRules,
    "customers.yaml": CustomerRules,
    "returns.yaml": ReturnRules,
}

# Rules files other packages validate, passed in as ``RuleFile``s by the composition root; without one the file is
# left alone (not reported as unknown).
EXTERNAL_FILES = ("shipping.yaml", "reports.yaml")  # validated by bridge.carriers, bridge.analytics


@dataclass(frozen=True, slots=True)
class RuleProblem:
    file: str
    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class RuleFile:
    """A rules file validated by another package (e.g. ``shipping.yaml`` by ``bridge.carriers``): the composition
    root passes these in, so the rules engine imports only the domain. ``load`` raises ``ConfigError`` whose lines
    read ``file:line: key: message``."""

    name: str
    load: Callable[[Path], object]
    required: bool = False


class RulesInvalid(ConfigError):
    def __init__(self, problems: Sequence[RuleProblem]) -> None:
        self.problems = list(problems)
        listing = "\n".join(f"  {problem}" for problem in self.problems)
        super().__init__(_("{count} problem(s) in the rules:").format(count=len(self.problems)) + f"\n{listing}")


@dataclass(frozen=True, slots=True)
class RuleSet:
    """All rules in force, validated together. ``digest`` identifies the file contents it was built from."""

    pricing: PricingRules
    stock: StockRules
    order_flow: OrderFlowRules
    campaigns: CampaignRules
    products: ProductRules
    customers: CustomerRules
    digest: str
    files: tuple[str, ...]  # the files that were present (the others are defaults)
    extras: Mapping[str, object] = field(default_factory=lambda: types.MappingProxyType({}))
    returns: ReturnRules = field(default_factory=ReturnRules)

    @property
    def shipping(self) -> Any:
        """``rules/shipping.yaml`` (``bridge.carriers.rules.ShippingRules``) when it was present, else None."""
        return self.extras.get("shipping.yaml")


def directory_digest(directory: Path) -> str:
    """A hash of every rules file's name and content (what the watcher compares)."""
    return _digest(_rules_files(directory))


def load_rules(directory: Path | str, extra_files: Iterable[RuleFile] = ()) -> RuleSet:
    """Read and validate ``directory``; raises ``RulesInvalid`` listing every problem of every file."""
    rules, problems = check_rules(directory, extra_files)
    if rules is None:
        raise RulesInvalid(problems)
    return rules


def check_rules(directory: Path | str, extra_files: Iterable[RuleFile] = ()) -> tuple[RuleSet | None, list[RuleProblem]]:
    directory = Path(directory)
    extras = {extra.name: extra for extra in extra_files}
    if not directory.is_dir():
        return None, [RuleProblem(str(directory), None, "", _(
            "rules directory not found; set rules_dir in the settings or pass the folder"))]
    files = _rules_files(directory)
    problems: list[RuleProblem] = []
    models: dict[str, BaseModel] = {}
    loaded_extras: dict[str, object] = {}
    for path in files:
        if path.name not in RULE_MODELS and path.name not in extras and path.name not in EXTERNAL_FILES:
            problems.append(_unknown_file(path, [*RULE_MODELS, *EXTERNAL_FILES]))
    for name, model in RULE_MODELS.items():
        path = directory / name
        if not path.exists():
            models[name] = model()
            continue
        parsed, file_problems = _load_one(path, model)
        problems.extend(file_problems)
        if parsed is not None:
            models[name] = parsed
    for name, extra in extras.items():
        path = directory / name
        if not path.exists():
            if extra.required:
                problems.append(RuleProblem(str(path), None, "", _("required rules file is missing")))
            continue
        try:
            loaded_extras[name] = extra.load(path)
        except ConfigError as exc:
            problems.extend(_split_problems(path, str(exc)))
    if problems:
        return None, problems
    rules = RuleSet(
        pricing=typing.cast(PricingRules, models["pricing.yaml"]),
        stock=typing.cast(StockRules, models["stock.yaml"]),
        order_flow=typing.cast(OrderFlowRules, models["order_flow.yaml"]),
        campaigns=typing.cast(CampaignRules, models["campaigns.yaml"]),
        products=typing.cast(ProductRules, models["products.yaml"]),
        customers=typing.cast(CustomerRules, models["customers.yaml"]),
        digest=_digest(files),
        files=tuple(path.name for path in files),
        extras=types.MappingProxyType(loaded_extras),
        returns=typing.cast(ReturnRules, models["returns.yaml"]),
    )
    return rules, []


# -- files --------------------------------------------------------------------------------------------------------


def _rules_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir()
                  if p.suffix in (".yaml", ".yml") and not p.name.startswith(".") and p.is_file())


def _digest(files: list[Path]) -> str:
    sha = hashlib.sha256()
    for path in files:
        sha.update(path.name.encode() + b"\0")
        try:
            sha.update(path.read_bytes())
        except OSError as exc:  # vanished or unreadable mid-scan: the next poll sees the settled state
            sha.update(f"unreadable: {exc}".encode())
        sha.update(b"\0")
    return sha.hexdigest()[:16]


def _unknown_file(path: Path, known: list[str]) -> RuleProblem:
    close = difflib.get_close_matches(path.name, known, n=1)
    if path.suffix == ".yml" and path.with_suffix(".yaml").name in known:
        hint = _("rename it to {name}").format(name=path.with_suffix(".yaml").name)
    elif close:
        hint = _("did you mean {name}?").format(name=close[0])
    else:
        hint = _("expected one of {names}; move other files out of the rules directory").format(
            names=", ".join(known))
    return RuleProblem(str(path), None, "", _("unknown rules file; {hint}").format(hint=hint))


def _load_one(path: Path, model: type[BaseModel]) -> tuple[BaseModel | None, list[RuleProblem]]:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    where = str(path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [RuleProblem(where, line, "", _("not UTF-8; save the file as UTF-8"))]
    try:
        root = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = mark.line + 1 if mark is not None else None
        return None, [RuleProblem(where, at, "", _(
            "not valid YAML: {problem}; check the indentation (spaces, not tabs) and the quotes on that line"
        ).format(problem=exc.problem or exc.context))]
    except YAMLError as exc:
        return None, [RuleProblem(where, None, "", _("not valid YAML: {problem}").format(problem=exc))]
    if root is None:
        return None, [RuleProblem(where, 1, "", _("the file is empty; delete it to use the defaults, or fill it in"))]
    if not isinstance(root, dict):
        return None, [RuleProblem(where, 1, "", _("the top level must be a mapping of keys (version: 1, …)"))]
    try:
        return model.model_validate(_plain(root)), []
    except ValidationError as exc:
        source = text.splitlines()
        return None, [_problem(where, root, model, error, source) for error in exc.errors()]


def _split_problems(path: Path, message: str) -> list[RuleProblem]:
    """Turn another package's ``ConfigError`` (one problem per indented line) into problems."""
    lines = [line.strip() for line in message.splitlines()]
    detail = lines[1:] if len(lines) > 1 else lines
    found = []
    for line in detail:
        match = re.match(r"^(?P<file>.+?):(?P<line>\d+): (?:(?P<key>[^\s:]+): )?(?P<msg>.*)$", line)
        if match:
            found.append(RuleProblem(match["file"], int(match["line"]), match["key"] or "", match["msg"]))
        else:
            found.append(RuleProblem(str(path), None, "", line.removeprefix(f"{path}: ")))
    return found


def _plain(node: Any) -> Any:
    """ruamel's round-trip types → plain Python (keys stay as typed, so ``1:`` is the int 1)."""
    if isinstance(node, dict):
        return {(_plain(k)): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(item) for item in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    if isinstance(node, datetime):
        return datetime.fromisoformat(node.isoformat())
    if isinstance(node, date):
        return date(node.year, node.month, node.day)
    return node


# -- error locations ------------------------------------------------------------------------------------------------


def _problem(where: str, root: Any, model: type[BaseModel], error: Any, source: list[str]) -> RuleProblem:
    loc = tuple(error["loc"])
    line, key = _locate(root, loc)
    if error["type"] == "extra_forbidden":
        message = unknown_key(model, loc)
    elif error["type"] == "missing":
        message = _("required key is missing")
    else:
        text = source[line - 1] if 0 < line <= len(source) else ""
        message = describe(error, text, None if "[key]" in loc else key)
    return RuleProblem(where, line, key or _("(top level)"), message)


def _locate(root: Any, loc: tuple[Any, ...]) -> tuple[int, str]:
    """1-based line of the deepest part of ``loc`` present in the YAML tree, and the key path to show."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    node, line, shown = root, 1, ""
    if isinstance(root, CommentedMap) and root:
        line = root.lc.key(next(iter(root)))[0] + 1
    for index, part in enumerate(loc):
        if part == "[key]":
            break
        last = index == len(loc) - 1
        if isinstance(node, CommentedMap):
            found = _find_key(node, part)
            if found is not _MISSING:
                line = node.lc.key(found)[0] + 1
                node = node[found]
                shown = f"{shown}.{part}" if shown else str(part)
                continue
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            line = node.lc.item(part)[0] + 1
            node = node[part]
            shown = f"{shown}[{part}]"
            continue
        if last:  # a missing key: name it, at the line of its parent
            shown = f"{shown}.{part}" if shown else str(part)
    return line, shown


_MISSING = object()


def _find_key(node: dict[Any, Any], part: Any) -> Any:
    for candidate in (part, str(part), int(part) if isinstance(part, str) and part.isdigit() else _MISSING):
        if candidate is not _MISSING and candidate in node:
            return candidate
    return _MISSING
