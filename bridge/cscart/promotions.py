"""The smile_bridge add-on's promotions entity (docs/addon.md §10): the REST client and the sink of target
``cscart_promotions``.

``GET /api/smile_bridge_promotions`` lists the promotions the bridge manages (campaign id → promotion id, status,
usages, whether the stored promotion still matches what the bridge last wrote) and the store's capabilities;
``PUT /api/smile_bridge_promotions/<campaign id>`` creates or updates one through ``fn_update_promotion`` (a body
of ``{"status": "D"}`` alone only switches it off); ``"dry_run": true`` answers the promotion it would store and
writes nothing. Core REST has no promotions entity (cscart.md §11.3), so without the add-on nothing can be written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from bridge.cscart import messages as msg
from bridge.cscart.client import CSCartClient, NotFoundError
from bridge.errors import PermanentError
from bridge.i18n import said
from bridge.store.outbox import OutboxOp

ENTITY = "smile_bridge_promotions"
TARGET = "cscart_promotions"
OP = "promotion.put"


@dataclass(frozen=True, slots=True)
class ManagedPromotion:
    """One promotion as the add-on reports it."""

    campaign_id: str
    promotion_id: int
    status: str
    number_of_usages: int
    edited: bool  # changed in CS-Cart since the bridge wrote it (admin edit)
    data: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class PromotionListing:
    promotions: dict[str, ManagedPromotion]
    reward_points: bool


def _managed(row: Mapping[str, Any]) -> ManagedPromotion:
    return ManagedPromotion(
        campaign_id=str(row.get("campaign_id", "")), promotion_id=int(row.get("promotion_id") or 0),
        status=str(row.get("status", "")), number_of_usages=int(row.get("number_of_usages") or 0),
        edited=bool(row.get("edited")), data=row,
    )


class PromotionsClient:
    def __init__(self, client: CSCartClient) -> None:
        self.client = client

    async def listing(self) -> PromotionListing:
        data = await self.client.request("GET", ENTITY)
        rows = (data.get("promotions") or []) if isinstance(data, Mapping) else []
        capabilities = (data.get("capabilities") or {}) if isinstance(data, Mapping) else {}
        managed = [_managed(row) for row in rows if isinstance(row, Mapping)]
        return PromotionListing({m.campaign_id: m for m in managed}, bool(capabilities.get("reward_points")))

    async def put(self, campaign_id: str, payload: Mapping[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        body = {k: v for k, v in payload.items() if k != "campaign_id"}
        if dry_run:
            body["dry_run"] = True
        result = await self.client.request("PUT", f"{ENTITY}/{quote(campaign_id, safe='')}", body=body)
        return dict(result) if isinstance(result, Mapping) else {}


class PromotionSink:
    """Delivers ``promotion.put`` ops (key = campaign id, payload from bridge/sync/campaigns/mapper.py)."""

    target = TARGET

    def __init__(self, client: CSCartClient) -> None:
        self.promotions = PromotionsClient(client)

    async def deliver(self, op: OutboxOp) -> None:
        if op.op != OP or not isinstance(op.payload, Mapping):
            raise PermanentError(said(msg.PROMOTION_OP, id=op.id, target=TARGET, expected=OP, op=op.op))
        try:
            await self.promotions.put(op.key, op.payload)
        except NotFoundError as exc:
            raise PermanentError(said(msg.PROMOTIONS_MISSING, id=op.id, op=op.op, key=op.key, error=exc),
                                 hint=said(msg.HINT_PROMOTIONS_MISSING)) from exc
