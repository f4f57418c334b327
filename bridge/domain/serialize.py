"""Domain records to and from JSON-safe dicts (Decimal and dates as strings), for the state store."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")


def to_data(value: Any) -> Any:
    kind = type(value)
    if kind in _PLAIN:
        return value
    convert = _TO_DATA.get(kind)
    if convert is None:
        convert = _TO_DATA[kind] = _to_data_for(kind)
    return convert(value)


_PLAIN = frozenset({str, int, float, bool, type(None)})  # exact types: a str Enum is not plain
# type → its converter, decided once per type (what to do depends on the type alone): the mirror serialises
# thousands of orders per burst
_TO_DATA: dict[type, Callable[[Any], Any]] = {}


def _to_data_for(kind: type) -> Callable[[Any], Any]:
    names = _field_names(kind)
    if names is not None:
        return _dataclass_to_data(kind, names)
    if issubclass(kind, Enum):
        return _enum_value
    if issubclass(kind, Decimal):
        return str
    if issubclass(kind, datetime | date):
        return _isoformat
    if issubclass(kind, tuple | list):
        return _list_to_data
    if issubclass(kind, dict):
        return _dict_to_data
    return _identity


def _dataclass_to_data(kind: type, names: tuple[str, ...]) -> Callable[[Any], Any]:
    """``{name: to_data(value.name), …}`` for one dataclass, as one generated function: a plain field value (str,
    int, None …) is taken without a call."""
    cells = ", ".join(f"{name!r}: (x if type(x := value.{name}) in plain else to_data(x))" for name in names)
    namespace: dict[str, Any] = {}
    exec(f"def convert(value, plain=plain, to_data=to_data):\n    return {{{cells}}}\n",  # noqa: S102 - field names
         {"plain": _PLAIN, "to_data": to_data}, namespace)
    convert: Callable[[Any], Any] = namespace["convert"]
    convert.__qualname__ = f"to_data[{kind.__qualname__}]"
    return convert


def _enum_value(value: Any) -> Any:
    return value.value


def _isoformat(value: Any) -> str:
    return str(value.isoformat())


def _list_to_data(value: Any) -> list[Any]:
    return [to_data(item) for item in value]


def _dict_to_data(value: Any) -> dict[str, Any]:
    return {str(k): to_data(v) for k, v in value.items()}


@cache
def _field_names(kind: type) -> tuple[str, ...] | None:
    """A dataclass's field names (None for any other type), looked up once per class."""
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
