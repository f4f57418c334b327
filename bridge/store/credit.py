"""Customer credit as SMILE reports it: 与信限度額 and the receivable balance (売掛残) per 得意先コード, with the date
of the SMILE file the balance came from."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from bridge.domain.time import iso
from bridge.store.db import Connection


async def upsert(tx: Connection, customer_code: str, credit_limit: Decimal | None, receivable: Decimal,
                 as_of: str | None = None) -> None:
    await tx.execute(
        "INSERT INTO customer_credit (customer_code, credit_limit, receivable, receivable_as_of, updated_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (customer_code) DO UPDATE SET credit_limit = excluded.credit_limit, "
        "receivable = excluded.receivable, receivable_as_of = excluded.receivable_as_of, "
        "updated_at = excluded.updated_at",
        (customer_code, None if credit_limit is None else str(credit_limit), str(receivable), as_of,
         iso(datetime.now().astimezone())),
    )


async def all_credit(tx: Connection) -> dict[str, tuple[Decimal | None, Decimal, str | None]]:
    """Per 得意先コード: (与信限度額 or None when SMILE gives none, receivable, ISO date of the receivable or None)."""
    cursor = await tx.execute("SELECT customer_code, credit_limit, receivable, receivable_as_of FROM customer_credit")
    return {row[0]: (Decimal(row[1]) if row[1] is not None else None, Decimal(row[2]), row[3])
            for row in await cursor.fetchall()}


async def all_limits(tx: Connection) -> dict[str, tuple[Decimal | None, Decimal]]:
    """Per 得意先コード: (与信限度額 or None when SMILE gives none, receivable)."""
    return {code: (limit, receivable) for code, (limit, receivable, _) in (await all_credit(tx)).items()}
