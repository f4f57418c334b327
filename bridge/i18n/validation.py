"""pydantic's validation errors as plain sentences for people: what is allowed and how to fix it.

pydantic's own text ("Input should be a valid integer, unable to parse string as an integer") is for programmers.
``describe`` turns one error of ``ValidationError.errors()`` into a sentence in the current language; the callers
(settings, rules) add the file, line and key. ``line`` is the source line of the value, when the caller knows it:
it lets a code that YAML read as a number (``item_code: 0099999`` → 99999) be reported with a quoting hint.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from typing import Any

from pydantic import BaseModel

from bridge.i18n import N_, _

# pydantic error type → sentence; {placeholders} come from the error's ``ctx`` and ``input``.
_BY_TYPE: dict[str, str] = {
    "int_parsing": N_("expected a whole number (e.g. 600), got {input!r}"),
    "int_type": N_("expected a whole number (e.g. 600), got {input!r}"),
    "int_from_float": N_("expected a whole number without decimals, got {input!r}"),
    "float_parsing": N_("expected a number (e.g. 0.5), got {input!r}"),
    "float_type": N_("expected a number (e.g. 0.5), got {input!r}"),
    "decimal_parsing": N_("expected a number (e.g. 0.5), got {input!r}"),
    "decimal_type": N_("expected a number (e.g. 0.5), got {input!r}"),
    "decimal_max_places": N_("too many decimal places; at most {decimal_places} allowed"),
    "bool_parsing": N_("expected true or false, got {input!r}"),
    "bool_type": N_("expected true or false, got {input!r}"),
    "string_type": N_("expected text, got {input!r}"),
    "string_too_short": N_("must not be empty"),
    "string_too_long": N_("too long: at most {max_length} characters"),
    "string_pattern_mismatch": N_("{input!r} has the wrong form (allowed: {pattern})"),
    "greater_than": N_("must be greater than {gt}, got {input!r}"),
    "greater_than_equal": N_("must be {ge} or more, got {input!r}"),
    "less_than": N_("must be less than {lt}, got {input!r}"),
    "less_than_equal": N_("must be {le} or less, got {input!r}"),
    "multiple_of": N_("must be a multiple of {multiple_of}, got {input!r}"),
    "literal_error": N_("{input!r} is not allowed here; use one of: {expected}"),
    "enum": N_("{input!r} is not allowed here; use one of: {expected}"),
    "missing": N_("required key is missing"),
    "extra_forbidden": N_("unknown key; check the spelling"),
    "dict_type": N_("expected a mapping of keys (key: value), got {input!r}"),
    "model_type": N_("expected a mapping of keys (key: value), got {input!r}"),
    "model_attributes_type": N_("expected a mapping of keys (key: value), got {input!r}"),
    "list_type": N_("expected a list (lines starting with \"- \"), got {input!r}"),
    "tuple_type": N_("expected a list (lines starting with \"- \"), got {input!r}"),
    "set_type": N_("expected a list (lines starting with \"- \"), got {input!r}"),
    "frozen_set_type": N_("expected a list (lines starting with \"- \"), got {input!r}"),
    "too_short": N_("needs at least {min_length} item(s)"),
    "too_long": N_("allows at most {max_length} item(s)"),
    "date_parsing": N_("expected a date YYYY-MM-DD, got {input!r}"),
    "date_type": N_("expected a date YYYY-MM-DD, got {input!r}"),
    "date_from_datetime_parsing": N_("expected a date YYYY-MM-DD, got {input!r}"),
    "datetime_parsing": N_("expected a date and time YYYY-MM-DDTHH:MM:SS+09:00, got {input!r}"),
    "datetime_type": N_("expected a date and time YYYY-MM-DDTHH:MM:SS+09:00, got {input!r}"),
    "datetime_from_date_parsing": N_("expected a date and time YYYY-MM-DDTHH:MM:SS+09:00, got {input!r}"),
    "time_parsing": N_("expected a time of day HH:MM, got {input!r}"),
    "time_type": N_("expected a time of day HH:MM, got {input!r}"),
    "url_parsing": N_("expected a URL such as https://shop.example.jp, got {input!r}"),
    "url_scheme": N_("the URL must start with {expected_schemes}"),
    "url_type": N_("expected a URL such as https://shop.example.jp, got {input!r}"),
    "union_tag_invalid": N_("{tag!r} is not a known kind; use one of: {expected_tags}"),
    "union_tag_not_found": N_("the key {discriminator} is missing; it says which kind this entry is"),
}

def describe(error: Any, line: str | None = None, key: str | None = None) -> str:
    """One pydantic error as a sentence in the current language. ``line`` is the source line of the value, when
    known (to show a number as it was written); ``key`` the key path, whose last part is named in a fix."""
    kind = str(error.get("type", ""))
    value = error.get("input")
    ctx = dict(error.get("ctx") or {})
    leaf = key.rsplit(".", 1)[-1] if key else None
    if kind == "string_type" and isinstance(value, (int, float)) and not isinstance(value, bool):
        written = written_as(line, value)
        if leaf and not leaf.startswith("["):
            return _("YAML read {raw} as a number, but a code is text (leading zeros count); put it in quotes: "
                     "{key}: \"{raw}\"").format(raw=written, key=leaf)
        return _("YAML read {raw} as a number, but a code is text (leading zeros count); put it in quotes: "
                 "\"{raw}\"").format(raw=written)
    if kind in ("value_error", "assertion_error"):
        return str(error.get("msg", "")).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    template = _BY_TYPE.get(kind)
    if template is None:
        return str(error.get("msg", kind))
    if "expected" in ctx and isinstance(ctx["expected"], str):
        ctx["expected"] = ctx["expected"].replace("'", "").replace(" or ", ", ")
    try:
        return _(template).format(input=_short(value), **{k: v for k, v in ctx.items() if k != "input"})
    except (KeyError, IndexError, ValueError):
        return _(template).replace("{input!r}", repr(_short(value)))


def _short(value: Any) -> Any:
    if isinstance(value, (dict, list, tuple)):
        return type(value).__name__ if not value else f"{type(value).__name__} ({len(value)})"
    if isinstance(value, str) and len(value) > 60:
        return value[:57] + "…"
    return value


def unknown_key(model: type[BaseModel], loc: tuple[Any, ...], example: str | None = None) -> str:
    """The sentence for a key the model does not know: the closest allowed key, else the list of allowed keys."""
    allowed = allowed_keys(model, loc[:-1])
    close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
    if close:
        return _("unknown key; did you mean {suggestion}?").format(suggestion=close[0])
    if allowed:
        return _("unknown key; allowed here: {allowed}").format(allowed=", ".join(allowed))
    if example:
        return _("unknown key; check the spelling against {example}").format(example=example)
    return _("unknown key; check the spelling")


def allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys the model accepts at ``loc`` (for "did you mean"), or [] when it cannot be worked out."""
    current: Any = model
    for part in loc:
        current = _step(current, part)
        if current is None:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or name for name, f in current.model_fields.items()]
    return []


def _unwrap(current: Any) -> Any:
    origin = typing.get_origin(current)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(current)[0])
    if origin in (typing.Union, types.UnionType):
        models = [a for a in typing.get_args(current) if a is not type(None)]
        return _unwrap(models[0]) if len(models) == 1 else current
    return current


def _step(current: Any, part: Any) -> Any:
    origin = typing.get_origin(current)
    args = typing.get_args(current)
    if origin is typing.Annotated:
        return _step(args[0], part)
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            if isinstance(arg, type) and issubclass(arg, BaseModel) and _tag_of(arg) == part:
                return arg
        models = [a for a in args if a is not type(None)]
        return _step(models[0], part) if len(models) == 1 else None
    if origin in (list, tuple, frozenset, set) and isinstance(part, int):
        return args[0] if args else None
    if origin is dict:
        return args[1] if len(args) == 2 else None
    if isinstance(current, type) and issubclass(current, BaseModel):
        by_alias = {f.alias or name: f for name, f in current.model_fields.items()}
        found = by_alias.get(str(part))
        return found.annotation if found is not None else None
    return None


def _tag_of(model: type[BaseModel]) -> str | None:
    field_info = model.model_fields.get("type")
    if field_info is None:
        return None
    values = typing.get_args(field_info.annotation)
    return str(values[0]) if values else None


def written_as(line: str | None, value: float) -> str:
    """How ``value`` (a number YAML read) was written on ``line``: ``0099999`` for 99999; else ``str(value)``."""
    text = (line or "").split(" #", 1)[0]
    tokens: list[str] = re.findall(r"(?<![\w.])[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?(?![\w.])", text)
    for token in tokens:
        try:
            if float(token.replace("_", "")) == float(value):
                return token
        except ValueError:
            continue
    return str(value)
