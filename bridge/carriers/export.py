"""Orders in 出荷指示 → one label file per carrier (bytes, not yet written) plus the orders that cannot go.

Pure: the orders job calls ``build_label_files`` and writes the files to each carrier's output folder; every
``Rejection`` puts its order on 保留 with the rejection's message.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from types import ModuleType

from bridge.carriers import japanpost, sagawa, yamato
from bridge.carriers.labels import (
    ExportResult,
    LabelFile,
    LabelRequest,
    Rejection,
    Row,
    RowBuilder,
    file_name,
)
from bridge.carriers.rules import ShippingRules, resolve_service
from bridge.domain.orders import Order
from bridge.domain.time import JST, business_date
from bridge.i18n import _

WRITERS: dict[str, ModuleType] = {"yamato": yamato, "sagawa": sagawa, "japanpost": japanpost}


def build_label_files(orders: Sequence[Order], rules: ShippingRules, now: datetime,
                      carrier: str | None = None) -> ExportResult:
    """Label files for ``orders`` (only ``carrier``'s when given), in order-id order within each file."""
    ship_date = business_date(now)
    stamp = now.astimezone(JST).strftime("%Y%m%d_%H%M%S")
    rejections: list[Rejection] = []
    grouped: dict[str, list[LabelRequest]] = {}
    for order in sorted(orders, key=lambda o: o.order_id):
        resolved = resolve_service(order, rules)
        if isinstance(resolved, str):
            if carrier is None:
                rejections.append(Rejection(order.order_id, "?", (resolved,)))
            continue
        method, service = resolved
        if carrier is not None and method.carrier != carrier:
            continue
        carrier_rules = rules.carrier_rules(method.carrier)
        if not carrier_rules.enabled:
            disabled = _("carrier {carrier} is disabled (enabled: false in rules/shipping.yaml); enable it or change "
                         "the order's shipping method").format(carrier=method.carrier)
            rejections.append(Rejection(order.order_id, method.carrier, (disabled,)))
            continue
        grouped.setdefault(method.carrier, []).append(LabelRequest(order, method, service))
    files: list[LabelFile] = []
    for name, requests in grouped.items():
        label_file, refused = build_file(name, requests, rules, ship_date, stamp)
        rejections.extend(refused)
        if label_file is not None:
            files.append(label_file)
    return ExportResult(tuple(files), tuple(sorted(rejections, key=lambda r: r.order_id)))


def build_file(carrier: str, requests: Sequence[LabelRequest], rules: ShippingRules, ship_date: date,
               stamp: str) -> tuple[LabelFile | None, list[Rejection]]:
    writer = WRITERS[carrier]
    carrier_rules = rules.carrier_rules(carrier)
    build: Callable[[RowBuilder], list[str]] = writer.build_row
    rows: list[Row] = []
    rejections: list[Rejection] = []
    for request in requests:
        builder = RowBuilder(carrier, rules, carrier_rules, request, ship_date)
        values = build(builder)
        if builder.report.problems:
            rejections.append(Rejection(request.order.order_id, carrier,
                                        tuple(p.text() for p in builder.report.problems)))
        else:
            rows.append(Row(request.order.order_id, values, builder.report))
    if not rows:
        return None, rejections
    content = writer.write([row.values for row in rows])
    return LabelFile(
        carrier=carrier,
        file_name=file_name(carrier_rules, stamp),
        content=content,
        order_ids=tuple(row.order_id for row in rows),
        substitutions=tuple(f"order {row.order_id}: {s}" for row in rows for s in row.report.substitutions),  # logged
        warnings=tuple(_("order {order}: {warning}").format(order=row.order_id, warning=w)
                       for row in rows for w in row.report.warnings),
    ), rejections
