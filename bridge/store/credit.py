"""Customer credit as SMILE reports it: 与信限度額 and the receivable balance per 得意先コード."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from bridge.domain.time import iso
from bridge.store.db import Connection


async def upsert(tx: Connection, customer_code: str, credit_limit: Decimal | None, receivable: Decimal) -> None:
    await tx.execute(
        "INSERT INTO customer_credit (customer_code, credit_limit, receivable, updated_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (customer_code) DO UPDATE SET credit_limit = excluded.credit_limit, "
        "receivable = excluded.receivable, updated_at = excluded.updated_at",
        (customer_code, None if credit_limit is None else str(credit_limit), str(receivable),
         iso(datetime.now().astimezone())),
    )


async def all_limits(tx: Connection) -> dict[str, tuple[Decimal | None, Decimal]]:
    """Per 得意先コード: (与信限度額 or None when SMILE gives none, receivable)."""
    cursor = await tx.execute("SELECT customer_code, credit_limit, receivable FROM customer_credit")
    return {row[0]: (Decimal(row[1]) if row[1] is not None else None, Decimal(row[2]))
            for row in await cursor.fetchall()}
