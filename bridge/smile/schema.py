"""What each SMILE file type means: its fields, their kinds and limits, its key, and the domain record it becomes.

A layout (configuration) says *where* a field is; the schema (code) says *what* it is. ``make`` turns parsed
values into a record and ``unbuild`` does the reverse, for the generator and round-trip tests.
"""

from __future__ import annotations

import collections
import inspect
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from bridge.domain.catalog import CustomerPrice, Product, StockLevel
from bridge.domain.customers import Address, Customer
from bridge.domain.limits import CSCART_MAX_AMOUNT
from bridge.domain.money import Rounding
from bridge.i18n import _
from bridge.smile.records import QuantityPrice, SalesSlipLine

Kind = Literal["code", "text", "plain", "kana", "decimal", "int", "date", "datetime", "flag", "choice", "jan",
               "postcode", "phone"]

ZERO = Decimal(0)
ONE = Decimal(1)

# What the parser hands a ``make`` function for an optional field of each kind (None when the cell is blank).
Text = str | None
Num = Decimal | None
Day = date | None

PREFECTURES = (
    "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県", "栃木県", "群馬県", "埼玉県", "千葉県",
    "東京都", "神奈川県", "新潟県", "富山県", "石川県", "福井県", "山梨県", "長野県", "岐阜県", "静岡県", "愛知県", "三重県",
    "滋賀県", "京都府", "大阪府", "兵庫県", "奈良県", "和歌山県", "鳥取県", "島根県", "岡山県", "広島県", "山口県", "徳島県",
    "香川県", "愛媛県", "高知県", "福岡県", "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県", "鹿児島県", "沖縄県",
)

# 単価処理区分 codes [A]: confirm against the client's SMILE screens (smile.md §7).
ROUNDING_CODES: dict[str, Rounding] = {
    "0": Rounding.DOWN, "切捨て": Rounding.DOWN, "切り捨て": Rounding.DOWN,
    "1": Rounding.HALF_UP, "四捨五入": Rounding.HALF_UP,
    "2": Rounding.UP, "切上げ": Rounding.UP, "切り上げ": Rounding.UP,
}
ROUNDING_WRITE = {Rounding.DOWN: "0", Rounding.HALF_UP: "1", Rounding.UP: "2"}


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    kind: Kind
    required: bool = False
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    choices: dict[str, Any] | None = None
    false_values: tuple[str, ...] = ()
    whole: bool = False  # a decimal that must be a whole number (stock pieces: CS-Cart's amount is an integer)


ColumnCheck = Callable[[dict[str, list[Any]]], Iterable[tuple[int, str, str, str]]]
# Builds the records of a chunk from its parsed columns (field name → values; an absent field is all None): the
# same records as ``make`` row by row, built column by column at C speed (see ``assemble``).
ColumnMake = Callable[[dict[str, list[Any]], int], list[Any]]


@dataclass(frozen=True, slots=True)
class RecordSchema:
    """``make`` takes one argument per field, in ``fields`` order (missing ones ``None``) and returns the record;
    the reader calls it positionally, which is the cheapest call Python has."""

    name: str
    fields: tuple[FieldSpec, ...]
    key: tuple[str, ...]
    make: Callable[..., Any]
    unbuild: Callable[[Any], dict[str, Any]]
    misc: Literal["product", "customer"] | None = None  # rows whose key is a 諸口 code are skipped, not applied
    checks: tuple[ColumnCheck, ...] = field(default=())
    make_columns: ColumnMake | None = None  # the hot files' fast path; equal to ``make`` (tested)
    ignored: frozenset[str] = frozenset()  # fields ``make`` takes but no record keeps (a reader may skip them)

    def __post_init__(self) -> None:
        parameters = tuple(inspect.signature(self.make).parameters)
        if parameters != self.names:
            raise TypeError(f"{self.name}: make() parameters {parameters} differ from the fields {self.names}")
        if not self.ignored <= set(self.names) - set(self.key):
            raise TypeError(f"{self.name}: ignored fields {sorted(self.ignored)} must be fields outside the key")

    def spec(self, name: str) -> FieldSpec:
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.fields)

    def build(self, values: dict[str, Any]) -> Any:
        return self.make(**values)


def _validity(columns: dict[str, list[Any]]) -> Iterable[tuple[int, str, str, str]]:
    """(position, field, message, fix) for every row whose validity ends before it starts."""
    starts, ends = columns.get("valid_from"), columns.get("valid_to")
    if not starts or not ends or not any(starts) or not any(ends):
        return
    for position, (start, end) in enumerate(zip(starts, ends, strict=True)):
        if start and end and end < start:
            yield (position, "valid_to", _("ends before it starts"),
                   _("correct 有効期間/適用 開始日 and 終了日 so the start comes first"))


def assemble(cls: type[Any], columns: dict[str, list[Any]], count: int) -> list[Any]:
    """``count`` instances of ``cls``, each field set from its column: equal to ``cls(**row)`` for every row.

    A named tuple (``Product``, ``StockLevel``) is built by one C-level ``map(tuple.__new__, …)`` over the zipped
    columns, no Python call per record; a slotted dataclass without ``__post_init__`` by one ``map`` per slot over
    the slot's descriptor (which is what a frozen dataclass's ``__init__`` does through ``object.__setattr__``).
    The 100k-row files spent most of their read time building records otherwise.
    """
    names: tuple[str, ...] | None = getattr(cls, "_fields", None)
    if names is not None and issubclass(cls, tuple):
        if set(columns) != set(names):
            raise TypeError(f"{cls.__name__}: columns {sorted(columns)} do not fill the fields {sorted(names)}")
        ordered = [columns[name] for name in names]
        for name, values in zip(names, ordered, strict=True):
            if len(values) != count:
                raise ValueError(f"{cls.__name__}.{name}: {len(values)} values for {count} records")
        return list(map(tuple.__new__, itertools.repeat(cls, count), zip(*ordered)))
    slots = cls.__slots__
    if set(columns) != set(slots) or hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__}: columns {sorted(columns)} do not fill the fields {sorted(slots)}")
    records = list(map(object.__new__, itertools.repeat(cls, count)))
    for name, values in columns.items():
        if len(values) != count:
            raise ValueError(f"{cls.__name__}.{name}: {len(values)} values for {count} records")
        collections.deque(map(getattr(cls, name).__set__, records, values), maxlen=0)
    return records


def _or(values: list[Any] | None, default: Any, count: int) -> list[Any]:
    """``value or default`` over a column (an absent column is all ``default``)."""
    if values is None:
        return [default] * count
    return [value or default for value in values]


def _is_not_false(values: list[Any] | None, count: int) -> list[bool]:
    if values is None:
        return [True] * count
    return [value is not False for value in values]


def _column(columns: dict[str, list[Any]], name: str, count: int) -> list[Any]:
    values = columns.get(name)
    return [None] * count if values is None else values


# ---- 商品マスター ------------------------------------------------------------------------------------------

_RANKS = tuple(f"rank{n}_price" for n in range(1, 6))
_NEW_RANKS = tuple(f"new_rank{n}_price" for n in range(1, 6))
_PRICE: dict[str, Any] = {"kind": "decimal", "minimum": ZERO}


def _product(code: str, name: str, name_kana: Text = None, unit: Text = None, case_quantity: Num = None,
             stock_managed: bool | None = None, standard_price: Num = None, rank1_price: Num = None,
             rank2_price: Num = None, rank3_price: Num = None, rank4_price: Num = None, rank5_price: Num = None,
             list_price: Num = None, new_price_date: Day = None, new_standard_price: Num = None,
             new_rank1_price: Num = None, new_rank2_price: Num = None, new_rank3_price: Num = None,
             new_rank4_price: Num = None, new_rank5_price: Num = None, new_list_price: Num = None, jan: Text = None,
             tax_class: Text = None, displayed: bool | None = None, valid_from: Day = None, valid_to: Day = None,
             category_code: Text = None, maker_name: Text = None, modified_on: Day = None,
             cost_price: Num = None) -> Product:
    return Product(
        code=code, name=name, name_kana=name_kana or "", unit=unit or "", case_quantity=case_quantity,
        stock_managed=stock_managed is not False, standard_price=standard_price,
        rank_prices=(rank1_price, rank2_price, rank3_price, rank4_price, rank5_price), list_price=list_price,
        new_price_date=new_price_date, new_standard_price=new_standard_price,
        new_rank_prices=(new_rank1_price, new_rank2_price, new_rank3_price, new_rank4_price, new_rank5_price),
        new_list_price=new_list_price, jan=jan or "", tax_class=tax_class or "", displayed=displayed is not False,
        valid_from=valid_from, valid_to=valid_to, category_code=category_code or "", maker_name=maker_name or "",
        modified_on=modified_on, cost_price=cost_price,
    )


def _product_columns(columns: dict[str, list[Any]], count: int) -> list[Product]:
    """``_product`` over a chunk, column by column."""
    get = columns.get

    def plain(name: str) -> list[Any]:
        return _column(columns, name, count)

    return assemble(Product, {
        "code": plain("code"), "name": plain("name"), "name_kana": _or(get("name_kana"), "", count),
        "unit": _or(get("unit"), "", count), "case_quantity": plain("case_quantity"),
        "stock_managed": _is_not_false(get("stock_managed"), count), "standard_price": plain("standard_price"),
        "rank_prices": list(zip(*(plain(name) for name in _RANKS))), "list_price": plain("list_price"),
        "new_price_date": plain("new_price_date"), "new_standard_price": plain("new_standard_price"),
        "new_rank_prices": list(zip(*(plain(name) for name in _NEW_RANKS))),
        "new_list_price": plain("new_list_price"), "jan": _or(get("jan"), "", count),
        "tax_class": _or(get("tax_class"), "", count), "displayed": _is_not_false(get("displayed"), count),
        "valid_from": plain("valid_from"), "valid_to": plain("valid_to"),
        "category_code": _or(get("category_code"), "", count), "maker_name": _or(get("maker_name"), "", count),
        "modified_on": plain("modified_on"), "cost_price": plain("cost_price"),
    }, count)


def _product_values(p: Product) -> dict[str, Any]:
    values: dict[str, Any] = {
        "code": p.code, "name": p.name, "name_kana": p.name_kana, "unit": p.unit, "case_quantity": p.case_quantity,
        "stock_managed": p.stock_managed, "standard_price": p.standard_price, "list_price": p.list_price,
        "new_price_date": p.new_price_date, "new_standard_price": p.new_standard_price,
        "new_list_price": p.new_list_price, "jan": p.jan, "tax_class": p.tax_class, "displayed": p.displayed,
        "valid_from": p.valid_from, "valid_to": p.valid_to, "category_code": p.category_code,
        "maker_name": p.maker_name, "modified_on": p.modified_on, "cost_price": p.cost_price,
    }
    values.update(zip(_RANKS, p.rank_prices, strict=True))
    values.update(zip(_NEW_RANKS, p.new_rank_prices, strict=True))
    return values


PRODUCTS = RecordSchema(
    name="products",
    fields=(
        FieldSpec("code", "code", required=True),
        FieldSpec("name", "text", required=True),
        FieldSpec("name_kana", "kana"),
        FieldSpec("unit", "text"),
        FieldSpec("case_quantity", "decimal", minimum=ZERO),
        FieldSpec("stock_managed", "flag", false_values=("1", "しない", "無", "なし", "管理しない")),
        FieldSpec("standard_price", **_PRICE),
        *(FieldSpec(n, **_PRICE) for n in _RANKS),
        FieldSpec("list_price", **_PRICE),
        FieldSpec("new_price_date", "date"),
        FieldSpec("new_standard_price", **_PRICE),
        *(FieldSpec(n, **_PRICE) for n in _NEW_RANKS),
        FieldSpec("new_list_price", **_PRICE),
        FieldSpec("jan", "jan"),
        FieldSpec("tax_class", "plain"),
        FieldSpec("displayed", "flag", false_values=("1", "表示しない", "しない")),
        FieldSpec("valid_from", "date"),
        FieldSpec("valid_to", "date"),
        FieldSpec("category_code", "code"),
        FieldSpec("maker_name", "text"),
        FieldSpec("modified_on", "date"),
        FieldSpec("cost_price", **_PRICE),
    ),
    key=("code",),
    make=_product,
    unbuild=_product_values,
    misc="product",
    checks=(_validity,),
    make_columns=_product_columns,
)


# ---- 得意先マスター ----------------------------------------------------------------------------------------

SUSPENDED_MARKER = "休止"  # site convention (smile.md §2.1): a name containing it marks an inactive customer


def split_prefecture(address: str) -> tuple[str, str]:
    for prefecture in PREFECTURES:
        if address.startswith(prefecture):
            return prefecture, address[len(prefecture):]
    return "", address


def _customer(code: str, name1: str, name2: Text = None, short_name: Text = None, name_kana: Text = None,
              postcode: Text = None, address1: Text = None, address2: Text = None, address3: Text = None,
              phone: Text = None, email: Text = None, price_rank: int | None = None, rate_percent: Num = None,
              price_rounding: Rounding | None = None, price_rounding_unit: Num = None, credit_limit: Num = None,
              valid_from: Day = None, valid_to: Day = None, modified_on: Day = None,
              receivable: Num = None) -> Customer:
    name = " ".join(part for part in (name1, name2) if part)
    prefecture, city = split_prefecture(address1 or "")
    address = Address(
        company=name, postcode=postcode or "", prefecture=prefecture, city=city, street=address2 or "",
        building=address3 or "", phone=phone or "",
    )
    suspended = SUSPENDED_MARKER in name or SUSPENDED_MARKER in (short_name or "")
    return Customer(
        code=code, name=name, name_kana=name_kana or "", email=email or "", address=address,
        price_rank=price_rank or None, rate_percent=rate_percent, price_rounding=price_rounding or Rounding.DOWN,
        price_rounding_unit=price_rounding_unit or ONE, credit_limit=credit_limit, suspended=suspended,
        valid_from=valid_from, valid_to=valid_to, modified_on=modified_on, receivable=receivable,
    )


def _customer_values(c: Customer) -> dict[str, Any]:
    a = c.address
    return {
        "code": c.code, "name1": c.name, "name2": "", "short_name": SUSPENDED_MARKER if c.suspended else "",
        "name_kana": c.name_kana, "email": c.email, "postcode": a.postcode, "address1": a.prefecture + a.city,
        "address2": a.street, "address3": a.building, "phone": a.phone, "price_rank": c.price_rank,
        "rate_percent": c.rate_percent, "price_rounding": c.price_rounding,
        "price_rounding_unit": c.price_rounding_unit, "credit_limit": c.credit_limit,
        "valid_from": c.valid_from, "valid_to": c.valid_to, "modified_on": c.modified_on,
        "receivable": c.receivable,
    }


CUSTOMERS = RecordSchema(
    name="customers",
    fields=(
        FieldSpec("code", "code", required=True),
        FieldSpec("name1", "text", required=True),
        FieldSpec("name2", "text"),
        FieldSpec("short_name", "text"),
        FieldSpec("name_kana", "kana"),
        FieldSpec("postcode", "postcode"),
        FieldSpec("address1", "text"),
        FieldSpec("address2", "text"),
        FieldSpec("address3", "text"),
        FieldSpec("phone", "phone"),
        FieldSpec("email", "plain"),
        FieldSpec("price_rank", "int", minimum=ZERO, maximum=Decimal(5)),
        FieldSpec("rate_percent", "decimal", minimum=ZERO, maximum=Decimal(999)),
        FieldSpec("price_rounding", "choice", choices=dict(ROUNDING_CODES)),
        FieldSpec("price_rounding_unit", "decimal", minimum=Decimal("0.0001")),
        FieldSpec("credit_limit", "decimal", minimum=ZERO),
        FieldSpec("valid_from", "date"),
        FieldSpec("valid_to", "date"),
        FieldSpec("modified_on", "date"),
        FieldSpec("receivable", "decimal"),
    ),
    key=("code",),
    make=_customer,
    unbuild=_customer_values,
    misc="customer",
    checks=(_validity,),
)


# ---- 在庫 [A] ----------------------------------------------------------------------------------------------


def _stock(warehouse_code: str, warehouse_name: Text, product_code: str, product_name: Text, on_hand: Decimal,
           allocated: Num = None, on_order: Num = None, expected_on: Day = None, available: Num = None,
           as_of: datetime | None = None) -> StockLevel:
    return StockLevel(
        product_code=product_code, warehouse_code=warehouse_code, on_hand=on_hand, allocated=allocated or ZERO,
        on_order=on_order or ZERO, expected_on=expected_on, available=available, as_of=as_of,
    )


def _stock_columns(columns: dict[str, list[Any]], count: int) -> list[StockLevel]:
    """``_stock`` over a chunk, column by column."""
    return assemble(StockLevel, {
        "product_code": _column(columns, "product_code", count),
        "warehouse_code": _column(columns, "warehouse_code", count),
        "on_hand": _column(columns, "on_hand", count), "allocated": _or(columns.get("allocated"), ZERO, count),
        "on_order": _or(columns.get("on_order"), ZERO, count), "expected_on": _column(columns, "expected_on", count),
        "available": _column(columns, "available", count), "as_of": _column(columns, "as_of", count),
    }, count)


def _stock_values(s: StockLevel) -> dict[str, Any]:
    return {
        "warehouse_code": s.warehouse_code, "product_code": s.product_code, "on_hand": s.on_hand,
        "allocated": s.allocated, "on_order": s.on_order, "expected_on": s.expected_on, "available": s.available,
        "as_of": s.as_of,
    }


STOCK = RecordSchema(
    name="stock",
    fields=(
        FieldSpec("warehouse_code", "code", required=True),
        FieldSpec("warehouse_name", "text"),
        FieldSpec("product_code", "code", required=True),
        FieldSpec("product_name", "text"),
        # CS-Cart's amount column holds at most 8,388,607 whole pieces (bridge.domain.limits)
        FieldSpec("on_hand", "decimal", required=True, maximum=Decimal(CSCART_MAX_AMOUNT), whole=True),
        FieldSpec("allocated", "decimal", minimum=ZERO, maximum=Decimal(CSCART_MAX_AMOUNT), whole=True),
        FieldSpec("on_order", "decimal", minimum=ZERO),
        FieldSpec("expected_on", "date"),
        FieldSpec("available", "decimal"),
        FieldSpec("as_of", "datetime"),
    ),
    key=("warehouse_code", "product_code"),
    make=_stock,
    unbuild=_stock_values,
    misc="product",
    make_columns=_stock_columns,
    ignored=frozenset({"warehouse_name", "product_name"}),
)


# ---- 得意先別単価 / 数量別単価 [A] ------------------------------------------------------------------------


def _customer_price(customer_code: str, product_code: str, min_quantity: Num, price: Decimal,
                    valid_from: Day = None, valid_to: Day = None) -> CustomerPrice:
    return CustomerPrice(
        customer_code=customer_code, product_code=product_code, price=price, min_quantity=min_quantity or ONE,
        valid_from=valid_from, valid_to=valid_to,
    )


def _customer_price_values(p: CustomerPrice) -> dict[str, Any]:
    return {
        "customer_code": p.customer_code, "product_code": p.product_code, "price": p.price,
        "min_quantity": p.min_quantity, "valid_from": p.valid_from, "valid_to": p.valid_to,
    }


_QTY = FieldSpec("min_quantity", "decimal", minimum=Decimal("0.0001"))

CUSTOMER_PRICES = RecordSchema(
    name="customer_prices",
    fields=(
        FieldSpec("customer_code", "code", required=True),
        FieldSpec("product_code", "code", required=True),
        _QTY,
        FieldSpec("price", "decimal", required=True, minimum=ZERO),
        FieldSpec("valid_from", "date"),
        FieldSpec("valid_to", "date"),
    ),
    key=("customer_code", "product_code", "min_quantity", "valid_from"),
    make=_customer_price,
    unbuild=_customer_price_values,
    checks=(_validity,),
)


def _quantity_price(product_code: str, min_quantity: Num, price: Decimal, valid_from: Day = None,
                    valid_to: Day = None) -> QuantityPrice:
    return QuantityPrice(
        product_code=product_code, price=price, min_quantity=min_quantity or ONE, valid_from=valid_from,
        valid_to=valid_to,
    )


def _quantity_price_values(p: QuantityPrice) -> dict[str, Any]:
    return {
        "product_code": p.product_code, "price": p.price, "min_quantity": p.min_quantity,
        "valid_from": p.valid_from, "valid_to": p.valid_to,
    }


QUANTITY_PRICES = RecordSchema(
    name="quantity_prices",
    fields=(
        FieldSpec("product_code", "code", required=True),
        _QTY,
        FieldSpec("price", "decimal", required=True, minimum=ZERO),
        FieldSpec("valid_from", "date"),
        FieldSpec("valid_to", "date"),
    ),
    key=("product_code", "min_quantity", "valid_from"),
    make=_quantity_price,
    unbuild=_quantity_price_values,
    checks=(_validity,),
)


# ---- 売上明細 / 受注明細 (read-back) -----------------------------------------------------------------------

_SLIP_FIELDS = ("slip_date", "slip_no", "serial", "line_no", "customer_code", "product_code", "product_name",
                "line_type", "quantity", "unit_price", "amount", "remarks", "order_no", "order_line", "order_ref",
                "modified_on")


def _slip_line(slip_date: date, slip_no: str, serial: str, line_type: Text, line_no: int, customer_code: str,
               product_code: Text = None, product_name: Text = None, quantity: Num = None, unit_price: Num = None,
               amount: Num = None, remarks: Text = None, order_no: Text = None, order_line: int | None = None,
               order_ref: Text = None, modified_on: Day = None) -> SalesSlipLine:
    return SalesSlipLine(
        slip_date=slip_date, slip_no=slip_no, serial=serial, line_no=line_no, customer_code=customer_code,
        product_code=product_code or "", product_name=product_name or "", line_type=line_type or "0",
        quantity=quantity, unit_price=unit_price, amount=amount, remarks=remarks or "", order_no=order_no or "",
        order_line=order_line, order_ref=order_ref or "", modified_on=modified_on,
    )


def _slip_line_values(line: SalesSlipLine) -> dict[str, Any]:
    return {name: getattr(line, name) for name in _SLIP_FIELDS}


SLIP_LINES = RecordSchema(
    name="slip_lines",
    fields=(
        FieldSpec("slip_date", "date", required=True),
        FieldSpec("slip_no", "code", required=True),
        FieldSpec("serial", "code", required=True),
        FieldSpec("line_type", "code"),
        FieldSpec("line_no", "int", required=True, minimum=ZERO),
        FieldSpec("customer_code", "code", required=True),
        FieldSpec("product_code", "code"),
        FieldSpec("product_name", "text"),
        FieldSpec("quantity", "decimal"),
        FieldSpec("unit_price", "decimal"),
        FieldSpec("amount", "decimal"),
        FieldSpec("remarks", "plain"),
        FieldSpec("order_no", "code"),
        FieldSpec("order_line", "int", minimum=ZERO),
        FieldSpec("order_ref", "code"),
        FieldSpec("modified_on", "date"),
    ),
    key=("serial", "line_no", "line_type"),
    make=_slip_line,
    unbuild=_slip_line_values,
)


SCHEMAS: dict[str, RecordSchema] = {
    "products": PRODUCTS,
    "customers": CUSTOMERS,
    "stock": STOCK,
    "customer_prices": CUSTOMER_PRICES,
    "quantity_prices": QUANTITY_PRICES,
    "sales_lines": SLIP_LINES,
    "order_lines": SLIP_LINES,
}


def schema_for(file_type: str) -> RecordSchema:
    try:
        return SCHEMAS[file_type]
    except KeyError:
        raise KeyError(_("no reader for file type {file_type!r}; readable types: {items}").format(
                           file_type=file_type, items=', '.join(SCHEMAS))) from None
