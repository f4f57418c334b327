"""``to_data`` decides per type once (a generated function per dataclass): what it gives is what the plain recursive
walk gives, for every kind of value a domain record holds."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bridge.domain.orders import Order, OrderLine, WorkflowState
from bridge.domain.serialize import from_data, to_data


def reference(value: Any) -> Any:
    """The walk as it was written before the per-type plans (bridge/domain/serialize.py, issue 16)."""
    if type(value) in {str, int, float, bool, type(None)}:
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: reference(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [reference(item) for item in value]
    if isinstance(value, dict):
        return {str(k): reference(v) for k, v in value.items()}
    return value


class Colour(str, Enum):
    RED = "red"


class Level(int, Enum):
    HIGH = 2


class Tag(str):
    """A str subclass that is no Enum: kept as it is."""


@dataclass(frozen=True, slots=True)
class Inner:
    amount: Decimal
    when: date | None = None


@dataclass
class Outer:
    name: str
    colour: Colour
    level: Level
    inner: Inner
    items: tuple[Inner, ...] = ()
    extra: dict[Any, Any] = field(default_factory=dict)
    at: datetime | None = None
    tag: Any = None
    ratio: float = 0.5
    flag: bool = False


scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5),
                    st.decimals(allow_nan=False, allow_infinity=False, places=2),
                    st.dates(), st.datetimes(timezones=st.just(UTC)), st.sampled_from([Colour.RED, Level.HIGH]),
                    st.builds(Tag, st.text(max_size=3)))
inners = st.builds(Inner, st.decimals(allow_nan=False, allow_infinity=False, places=3), st.none() | st.dates())
outers = st.builds(Outer, st.text(max_size=5), st.just(Colour.RED), st.just(Level.HIGH), inners,
                   st.lists(inners, max_size=3).map(tuple),
                   st.dictionaries(st.integers() | st.text(max_size=3), scalars | inners, max_size=3),
                   st.none() | st.datetimes(timezones=st.just(UTC)), scalars | st.lists(scalars, max_size=3),
                   st.floats(allow_nan=False), st.booleans())


@given(outers)
def test_to_data_is_the_plain_walk(value: Outer) -> None:
    assert to_data(value) == reference(value)
    assert list(to_data(value)) == [f.name for f in dataclasses.fields(Outer)]  # the fields' order


@given(scalars | st.lists(scalars, max_size=4) | st.dictionaries(st.text(max_size=3), scalars, max_size=3))
def test_bare_values_too(value: Any) -> None:
    assert to_data(value) == reference(value)


def test_an_order_round_trips() -> None:
    order = Order(order_id=7, status="O", placed_at=datetime(2026, 12, 4, 1, 2, 3, tzinfo=UTC), updated_at=None,
                  user_id=3, email="a@example.com", total=Decimal("1200.00"),
                  lines=(OrderLine(product_code="A-1", name="品", quantity=Decimal(2),
                                   unit_price=Decimal("600.00")),))
    data = to_data(order)
    assert data == reference(order) and from_data(Order, data) == order
    assert to_data(WorkflowState.HOLD) == WorkflowState.HOLD.value
