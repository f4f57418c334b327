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
from bridge.i18n import Text, _, N_
from bridge.mail import send_staff

log = structlog.get_logger("bridge.campaigns")

Kind = Literal["started", "ended", "disabled", "usage_cap", "repaired"]

MESSAGES: dict[str, str] = {  # translated where shown (the staff mail is in the daemon's ui.language)
    "started": N_("campaign started"),
    "ended": N_("campaign ended"),
    "disabled": N_("campaign disabled"),
    "usage_cap": N_("usage cap reached"),
    "repaired": N_("hand edit in CS-Cart put back"),
}


@dataclass(frozen=True, slots=True)
class CampaignEvent:
    campaign_id: str
    kind: Kind
    detail: str = ""

    def text(self) -> Text:
        if self.detail:
            return _("{event}: {campaign} ({detail})").format(event=_(MESSAGES[self.kind]), campaign=self.campaign_id,
                                                              detail=self.detail)
        return _("{event}: {campaign}").format(event=_(MESSAGES[self.kind]), campaign=self.campaign_id)


async def announce(publisher: EventPublisher, events: list[CampaignEvent], mail: MailSettings | None = None) -> None:
    for event in events:
        metrics.CAMPAIGN_EVENTS.labels(event=event.kind).inc()
        log.info("campaign." + event.kind, campaign=event.campaign_id, detail=event.detail, message=event.text())
        await publisher.publish("campaign_changed",
                                {"campaign_id": event.campaign_id, "event": event.kind, "detail": event.detail})
    if events and mail is not None:
        subject = _("[cscart-smile-bridge] campaigns: {ids}").format(ids=", ".join(e.campaign_id for e in events))
        await send_staff(mail, subject, "\n".join(event.text() for event in events) + "\n")
