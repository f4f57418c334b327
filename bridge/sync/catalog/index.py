"""SMILE 商品コード → CS-Cart product_id, shared by every catalog job.

Bindings come first (``cscart/product/<product_id>`` ↔ ``smile/product/<商品コード>``). Codes without a binding are
looked up in ONE lean product listing per run, matched on ``product_code`` exactly — CS-Cart's ``pcode`` filter is a
substring match, so it is never used — and every match is bound at once, so later runs need no listing at all.

The products job binds the products it creates with ``bind_created`` the moment CS-Cart returns the new id.
"""

from __future__ import annotations

import json
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog

from bridge.i18n import Text, _
from bridge.store import Store, bindings, cursors
from bridge.store.db import Connection

log = structlog.get_logger("bridge.sync.catalog_index")

CSCART, SMILE_SYSTEM, PRODUCT = "cscart", "smile", "product"
MISSING_CURSOR = "catalog_index.missing"
RECHECK_MISSING_AFTER = 3600.0  # seconds a listing's "not in CS-Cart" answer is trusted


@dataclass(slots=True)
class CatalogIndex:
    """What one resolve found: code → product_id for every known code, and the codes CS-Cart does not have."""

    product_ids: dict[str, int] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)  # in SMILE, not in CS-Cart (the products job creates them)
    ambiguous: dict[str, list[int]] = field(default_factory=dict)  # one code on several CS-Cart products
    listed: bool = False  # whether this resolve read CS-Cart's product listing
    newly_bound: int = 0

    def notes(self, *, missing: bool = True) -> list[Text]:
        """The codes CS-Cart does not have (unless ``missing`` is False) and the codes on several products."""
        lines: list[Text] = []
        if self.missing and missing:
            sample = ", ".join(self.missing[:5]) + (" …" if len(self.missing) > 5 else "")
            lines.append(_("{count} SMILE product code(s) not in CS-Cart yet ({codes}); the products job creates them")
                         .format(count=len(self.missing), codes=sample))
        for code, ids in list(self.ambiguous.items())[:5]:
            lines.append(_("product code {code} is on several CS-Cart products {ids}; none was bound — give each "
                           "product its own code in CS-Cart").format(code=code, ids=ids))
        return lines


async def bound_ids(tx: Connection) -> dict[str, int]:
    """Every bound 商品コード → product_id."""
    pairs = await bindings.all_of(tx, CSCART, PRODUCT, SMILE_SYSTEM, PRODUCT)
    return {code: int(product_id) for product_id, code in pairs.items()}


async def bound_ids_for(tx: Connection, codes: Collection[str]) -> dict[str, int]:
    """The bound ones of ``codes`` → product_id (a few codes: no need to read every binding)."""
    found: dict[str, int] = {}
    wanted = list(codes)
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        cursor = await tx.execute(
            f"SELECT id_b, id_a FROM bindings WHERE system_a = ? AND entity_a = ? AND system_b = ? AND entity_b = ? "
            f"AND id_b IN ({','.join('?' * len(chunk))})", (CSCART, PRODUCT, SMILE_SYSTEM, PRODUCT, *chunk))
        found.update((code, int(product_id)) for code, product_id in await cursor.fetchall())
    return found


async def product_bindings(tx: Connection) -> int:
    """How many product bindings there are (they are only ever added)."""
    cursor = await tx.execute(
        "SELECT COUNT(*) FROM bindings WHERE system_a = ? AND entity_a = ? AND system_b = ? AND entity_b = ?",
        (CSCART, PRODUCT, SMILE_SYSTEM, PRODUCT))
    row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def bind_created(tx: Connection, code: str, product_id: int) -> None:
    """Bind a product the bridge just created in CS-Cart; call it in the transaction that records the create."""
    await bindings.bind(tx, CSCART, PRODUCT, str(int(product_id)), SMILE_SYSTEM, PRODUCT, code)


@dataclass(slots=True)
class BoundCodes:
    """Every bound 商品コード → product_id, kept by one long-lived job instance between runs.

    Product bindings are only ever added (a conflicting re-bind raises; nothing unbinds a product), so the map is
    still right while the number of product bindings is the same; when it differs, the map is read again."""

    ids: dict[str, int] = field(default_factory=dict)
    count: int = -1
    # The last resolve's answer for a set of codes, reused while the codes and the bindings are the same.
    codes: frozenset[str] | None = None
    product_ids: dict[str, int] = field(default_factory=dict)
    unbound: list[str] = field(default_factory=list)
    answered_at_count: int = -1

    async def load(self, tx: Connection) -> dict[str, int]:
        count = await product_bindings(tx)
        if count != self.count:
            self.ids = await bound_ids(tx)
            self.count = count
        return self.ids


@dataclass(slots=True)
class MissingCodes:
    """In-memory variant of the remembered "not in CS-Cart" answer, for one long-lived job instance."""

    recheck_after: float = RECHECK_MISSING_AFTER
    codes: frozenset[str] = frozenset()
    listed_at: float = float("-inf")

    def covers(self, unbound: Collection[str], now: float) -> bool:
        return now - self.listed_at < self.recheck_after and all(code in self.codes for code in unbound)

    def remember(self, codes: Collection[str], now: float) -> None:
        self.codes = frozenset(codes)
        self.listed_at = now


async def resolve(store: Store, client: Any, codes: Collection[str], *, listing: bool = True,
                  missing: MissingCodes | None = None,
                  recheck_missing_after: float | None = None, bound: BoundCodes | None = None,
                  subset: bool = False) -> CatalogIndex:
    """Map ``codes`` to product_ids: bindings first, then one exact-match listing for the rest (bound at once).

    ``client`` is a ``CSCartClient`` (only ``iter_products`` is used). With ``listing=False`` (``--dry-run``)
    unbound codes are still looked up in the listing but nothing is bound. So that a frequent job does not read the
    whole catalog every run because of a few products CS-Cart does not have yet, the codes a listing did not find
    can be remembered: in ``missing`` (one job instance) or, with ``recheck_missing_after`` seconds, in the store
    (cursor ``catalog_index.missing``, survives restarts and ``bridge sync``). A job that creates products should
    list before creating (a product made by hand meanwhile must be bound, not duplicated). ``bound`` keeps the
    bindings between runs of one job instance instead of reading all of them every run. ``subset``: ``codes`` are a
    few (a run that knows the rest are bound): only their bindings are read (all of them only for a listing).
    """
    async with store.transaction() as tx:
        if subset:
            known = await bound_ids_for(tx, codes)
        else:
            known = await bound.load(tx) if bound is not None else await bound_ids(tx)
        remembered = await cursors.get(tx, MISSING_CURSOR) if recheck_missing_after is not None else None
    index = CatalogIndex()
    wanted = frozenset(codes) if bound is not None else None
    if bound is not None and bound.answered_at_count == bound.count and wanted == bound.codes:
        # the same codes and bindings as last time: the same map (shared: callers only read it)
        unbound, index.product_ids = bound.unbound, bound.product_ids
    else:
        unbound = [code for code in codes if code not in known]
        index.product_ids = {code: known[code] for code in codes if code in known}
        if bound is not None:
            bound.codes, bound.product_ids, bound.unbound = wanted, index.product_ids, unbound
            bound.answered_at_count = bound.count
    if not unbound:
        return index
    now = time.time()
    if (client is None or (missing is not None and missing.covers(unbound, now))
            or _still_missing(remembered, unbound, now, recheck_missing_after)):
        index.missing = sorted(unbound)
        return index
    if subset:  # a product bound to another code is not this code's, even if its product_code says so
        async with store.transaction() as tx:
            known = await bound_ids(tx)
    found = await _exact_matches(client, set(unbound), known_ids=set(known.values()))
    index.listed = True
    matches: dict[str, int] = {}
    for code in unbound:
        ids = found.get(code)
        if not ids:
            index.missing.append(code)
        elif len(ids) > 1:
            index.ambiguous[code] = sorted(ids)
        else:
            matches[code] = ids[0]
    index.missing.sort()
    if listing:
        async with store.transaction() as tx:
            for code, product_id in matches.items():
                await bind_created(tx, code, product_id)
            if recheck_missing_after is not None:
                await cursors.set_(tx, MISSING_CURSOR, json.dumps({"at": now, "codes": index.missing}))
        if missing is not None:
            missing.remember(index.missing, now)
        index.newly_bound = len(matches)
        log.info("catalog_index.bound", bound=len(matches), missing=len(index.missing))
    if matches:
        index.product_ids = {**index.product_ids, **matches}  # a new map: the remembered one is shared
    return index


async def _exact_matches(client: Any, wanted: set[str], *, known_ids: set[int]) -> dict[str, list[int]]:
    """One pass over the lean listing: product_code (exact, trimmed) → product_ids, for the wanted codes only."""
    found: dict[str, list[int]] = {}
    async for product in client.iter_products():
        code = product.product_code.strip()
        if code in wanted and product.product_id not in known_ids:
            found.setdefault(code, []).append(product.product_id)
    return found


def _still_missing(remembered: str | None, unbound: Collection[str], now: float,
                   recheck_after: float | None) -> bool:
    if not remembered or recheck_after is None:
        return False
    data = json.loads(remembered)
    if now - float(data.get("at", 0)) >= recheck_after:
        return False
    known_missing = set(data.get("codes", ()))
    return all(code in known_missing for code in unbound)


def invert(product_ids: Mapping[str, int]) -> dict[int, str]:
    """product_id → code, for reading CS-Cart listings back (drift check)."""
    return {product_id: code for code, product_id in product_ids.items()}
