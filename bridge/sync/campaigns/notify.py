"""A campaign started, ended, was disabled, reached its usage cap, or was put back after a hand edit: one log line,
the ``bridge_campaign_events_total`` metric, the MQTT event ``campaign_changed`` (``bridge/events/...``) and, when
``mail.smtp_host`` and ``mail.staff`` are set, one staff mail per run listing them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import structlog

from bridge import metrics
from bridge.config import MailSettings
from bridge.events import EventPublisher
from bridge.mail import send_staff

log = structlog.get_logger("bridge.campaigns")

Kind = Literal["started", "ended", "disabled", "usage_cap", "repaired"]

MESSAGES: dict[str, str] = {
    "started": "キャンペーン開始 / campaign started",
    "ended": "キャンペーン終了 / campaign ended",
    "disabled": "キャンペーン無効化 / campaign disabled",
    "usage_cap": "利用上限に到達 / usage cap reached",
    "repaired": "CS-Cart上の手動変更を元に戻しました / hand edit in CS-Cart put back",
}


@dataclass(frozen=True, slots=True)
class CampaignEvent:
    campaign_id: str
    kind: Kind
    detail: str = ""

    def text(self) -> str:
        return f"{MESSAGES[self.kind]}: {self.campaign_id}" + (f" ({self.detail})" if self.detail else "")


async def announce(publisher: EventPublisher, events: list[CampaignEvent], mail: MailSettings | None = None) -> None:
    for event in events:
        metrics.CAMPAIGN_EVENTS.labels(event=event.kind).inc()
        log.info("campaign." + event.kind, campaign=event.campaign_id, detail=event.detail, message=event.text())
        await publisher.publish("campaign_changed",
                                {"campaign_id": event.campaign_id, "event": event.kind, "detail": event.detail})
    if events and mail is not None:
        subject = f"[cscart-smile-bridge] キャンペーン / campaigns: {', '.join(e.campaign_id for e in events)}"
        await send_staff(mail, subject, "\n".join(event.text() for event in events) + "\n")
