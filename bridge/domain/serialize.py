"""Domain records to and from JSON-safe dicts (Decimal and dates as strings), for the state store."""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")


def to_data(value: Any) -> Any:
    kind = type(value)
    if kind in _PLAIN:
        return value
    names = _field_names(kind)  # type: ignore[arg-type]  # every class is hashable
    if names is not None:
        return {name: to_data(getattr(value, name)) for name in names}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [to_data(item) for item in value]
    if isinstance(value, dict):
        return {str(k): to_data(v) for k, v in value.items()}
    return value


_PLAIN = frozenset({str, int, float, bool, type(None)})  # exact types: a str Enum is not plain


@cache
def _field_names(kind: type) -> tuple[str, ...] | None:
    """A dataclass's field names (None for any other type), looked up once per class: the mirror serialises
    thousands of orders per burst."""
    if not dataclasses.is_dataclass(kind):
        return None
    return tuple(field.name for field in dataclasses.fields(kind))


def from_data(cls: type[T], data: Any) -> T:
    """Rebuild a frozen domain dataclass from ``to_data`` output; unknown keys are ignored (older mirrors)."""
    kwargs = {}
    for name, convert in _plan(cls):
        if name in data:
            kwargs[name] = convert(data[name])
    return cls(**kwargs)


@cache
def _plan(cls: type) -> tuple[tuple[str, Callable[[Any], Any]], ...]:
    """(field name, converter) per field of ``cls``: the type hints are read and turned into converters once."""
    hints = typing.get_type_hints(cls)
    return tuple((field.name, _converter(hints[field.name])) for field in dataclasses.fields(cls))


def _identity(value: Any) -> Any:
    return value


@cache
def _converter(hint: Any) -> Callable[[Any], Any]:
    """The function ``_convert(hint, value)`` is for a fixed ``hint``."""
    def none_or(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
        return lambda value: None if value is None else convert(value)

    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        non_none = [a for a in args if a is not type(None)]
        return none_or(_converter(non_none[0]) if len(non_none) == 1 else _identity)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            item = _converter(args[0])
            return none_or(lambda value: tuple(map(item, value)))
        items = tuple(map(_converter, args))
        return none_or(lambda value: tuple(c(v) for c, v in zip(items, value, strict=True)))
    if origin is dict:
        return none_or(dict)
    if isinstance(hint, type):
        if dataclasses.is_dataclass(hint):
            return none_or(lambda value: from_data(hint, value))
        if issubclass(hint, Enum):
            return none_or(hint)
        if hint is Decimal:
            return none_or(Decimal)
        if hint is datetime:
            return none_or(datetime.fromisoformat)
        if hint is date:
            return none_or(date.fromisoformat)
    return _identity


def _convert(hint: Any, value: Any) -> Any:
    return _converter(hint)(value)
