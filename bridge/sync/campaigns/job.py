"""Job ``campaigns``: ``rules/campaigns.yaml`` → CS-Cart promotions through the smile_bridge add-on.

One run (every ``jobs.campaigns.interval``, default 5 min; at once after a rules reload; and at the next start or
end minute of any campaign, JST):

1. read the promotions the add-on manages (campaign id → promotion id, status, usages, ``edited``) and the ids a
   campaign's codes compile to (product and customer bindings, usergroups and shippings from CS-Cart); record the
   members of the usergroups campaigns name (``customer_usergroups``: the report's eligible orders);
2. map every campaign (mapper.py); the payload carries ``status`` ``A`` only while the period contains now, so a
   start or an end is a change like any other;
3. campaigns no longer in the file get ``{"status": "D"}`` (never deleted: orders refer to them); a managed
   promotion edited by hand in CS-Cart's admin (or deleted there) is reported and written again;
4. diff against the ledger (target ``cscart_promotions``, entity ``promotion``, key = campaign id) and enqueue only
   what changed, in one store transaction with the campaigns' last known states;
5. announce starts, ends, disables, usage caps and repairs (notify.py).

A campaign that cannot be mapped (an unknown product, a missing category mapping, points without the reward points
add-on) is reported and left as CS-Cart has it; one that should be off is still switched off.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bridge import metrics
from bridge.config import MailSettings
from bridge.cscart.client import CSCartClient, NotFoundError
from bridge.cscart.promotions import OP, TARGET, PromotionListing, PromotionsClient
from bridge.domain.time import Clock
from bridge.events import EventPublisher
from bridge.i18n import Text, _
from bridge.rules.campaigns import CampaignRules, CampaignState, next_boundary, state_at
from bridge.store import Store, bindings, cursors, ledger, usergroups
from bridge.sync import plan
from bridge.sync.base import JobResult, RunOptions
from bridge.sync.campaigns import mapper
from bridge.sync.campaigns.notify import CampaignEvent, announce, log
from bridge.sync.jobkit import finish

JOB = "campaigns"
ENTITY = "promotion"
PRODUCT_BINDING = ("cscart", "product", "smile", "product")
CUSTOMER_BINDING = ("cscart", "user", "smile", "customer")
STATES_CURSOR = "campaigns.states"
CAPPED_CURSOR = "campaigns.capped"


@dataclass(slots=True)
class Desired:
    payloads: dict[str, mapper.Payload] = field(default_factory=dict)
    problems: list[tuple[str, Text]] = field(default_factory=list)  # (campaign id, message)
    skipped: list[tuple[str, Text]] = field(default_factory=list)  # enabled: false, cannot be mapped, never written
    repaired: list[str] = field(default_factory=list)


async def lookups(client: CSCartClient, store: Store, rules: CampaignRules,
                  listing: PromotionListing) -> mapper.Lookups:
    async with store.transaction() as tx:
        products = {code: int(cid) for cid, code in (await bindings.all_of(tx, *PRODUCT_BINDING)).items()}
        customers = {code: int(cid) for cid, code in (await bindings.all_of(tx, *CUSTOMER_BINDING)).items()}
    groups = {group.name: group.usergroup_id for group in (await client.usergroups()).values() if group.type == "C"}
    shippings_data = await client.request("GET", "shippings", params={"items_per_page": 100})
    rows = shippings_data.get("shippings", []) if isinstance(shippings_data, dict) else []
    shippings = sorted(int(row["shipping_id"]) for row in rows if str(row.get("status", "A")) == "A")
    known = None
    if any(c.target.categories for c in rules.campaigns):  # placeholder ids are refused, not written
        known = frozenset(await client.category_ids())
    return mapper.Lookups(categories=rules.categories, products=products, usergroups=groups, customers=customers,
                          shippings=shippings, region_codes=rules.region_codes, points=listing.reward_points,
                          known_categories=known)


async def read_members(client: CSCartClient, store: Store, clock: Clock, rules: CampaignRules,
                       groups: dict[str, int]) -> None:
    """The members of every usergroup a campaign names, into ``customer_usergroups`` (the report's eligible
    orders): ``GET /users?usergroup_id=`` lists active links only, as the usergroup promotion condition counts."""
    named = sorted({name for c in rules.campaigns for name in (*c.target.customer_groups,
                                                               *c.conditions.customer_groups)} & set(groups))
    if not named:
        return
    members: dict[str, list[int]] = {}
    for name in named:
        members[name] = [user.user_id async for user in client.iter_users(usergroup_id=groups[name])]
    now = clock.now()
    async with store.transaction() as tx:
        for name, user_ids in members.items():
            await usergroups.record_members(tx, name, user_ids, now)


def desired_payloads(rules: CampaignRules, found: mapper.Lookups, listing: PromotionListing, written: set[str],
                     now: datetime) -> Desired:
    """What every managed promotion should be now (pure): mapped campaigns, disabled leftovers, mapping problems."""
    desired = Desired()
    for campaign in rules.campaigns:
        try:
            desired.payloads[campaign.id] = mapper.promotion(campaign, found, now)
        except mapper.CampaignMappingError as exc:
            if not campaign.enabled and campaign.id not in listing.promotions and campaign.id not in written:
                desired.skipped.append((campaign.id, exc.text))  # switched off and never written: nothing to do
                continue
            desired.problems.append((campaign.id, exc.text))
            if state_at(campaign, now) is not CampaignState.RUNNING and (campaign.id in listing.promotions
                                                                        or campaign.id in written):
                desired.payloads[campaign.id] = mapper.disabled(campaign.id)
    for campaign_id in sorted((set(listing.promotions) | written) - {c.id for c in rules.campaigns}):
        desired.payloads[campaign_id] = mapper.disabled(campaign_id)  # gone from the file: off, never deleted
    return desired


def transitions(rules: CampaignRules, previous: dict[str, str], now: datetime) -> tuple[dict[str, str],
                                                                                          list[CampaignEvent]]:
    """The campaigns' states now and the events of those that changed since the last run."""
    states = {c.id: state_at(c, now).value for c in rules.campaigns}
    for campaign_id, last in previous.items():
        if campaign_id not in states and last != CampaignState.DISABLED.value:
            states[campaign_id] = CampaignState.DISABLED.value  # removed from the file
    events = []
    for campaign_id, state in states.items():
        before = previous.get(campaign_id)
        if before == state:
            continue
        if state == CampaignState.RUNNING.value:
            events.append(CampaignEvent(campaign_id, "started"))
        elif before == CampaignState.RUNNING.value and state == CampaignState.ENDED.value:
            events.append(CampaignEvent(campaign_id, "ended"))
        elif before is not None and state == CampaignState.DISABLED.value:
            events.append(CampaignEvent(campaign_id, "disabled",
                                        _("removed from campaigns.yaml") if campaign_id not in
                                        {c.id for c in rules.campaigns} else _("enabled: false")))
    return states, events


class CampaignsJob:
    name = JOB

    def __init__(self, *, cscart: CSCartClient, rules: Callable[[], CampaignRules], store: Store, clock: Clock,
                 events: EventPublisher, mail: MailSettings, wake_dispatcher: Callable[[], None], interval: float,
                 trigger: Callable[[], object] | None = None,
                 on_rules_change: Callable[[Callable[[Any], None]], object] | None = None) -> None:
        """``trigger`` runs this job at once (the daemon's scheduler; None in a one-off run); ``on_rules_change``
        subscribes to rules reloads (the daemon's hot-reloading provider); ``interval``: the regular runs'."""
        self.cscart, self.rules, self.events, self.mail = cscart, rules, events, mail
        self.store, self.clock, self.wake_dispatcher = store, clock, wake_dispatcher
        self.interval, self.trigger = interval, trigger
        self._timer: asyncio.TimerHandle | None = None
        if on_rules_change is not None:
            on_rules_change(lambda _rules: self._trigger())

    def _trigger(self) -> None:
        if self.trigger is not None:
            self.trigger()

    def _schedule_boundary(self, rules: CampaignRules, now: datetime) -> None:
        """Run again at the next start or end minute when that comes before the next regular run."""
        if self.trigger is None:
            return
        boundary = next_boundary(rules, now)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if boundary is None:
            return
        delay = (boundary - now).total_seconds() + 0.5
        if delay <= self.interval:
            self._timer = asyncio.get_running_loop().call_later(max(delay, 0.0), self._trigger)

    async def run(self, options: RunOptions) -> JobResult:
        started = time.perf_counter()
        result = JobResult()
        rules = self.rules()
        now = self.clock.now()
        client = self.cscart
        if not await client.addon_installed():
            result.notes.append(_("the smile_bridge add-on is not installed: CS-Cart's REST has no promotions, so "
                                  "campaigns.yaml cannot be written (docs/addon.md §1)"))
            return finish(JOB, result, options, started)
        promotions = PromotionsClient(client)
        try:
            listing = await promotions.listing()
        except NotFoundError:
            result.notes.append(_("the smile_bridge add-on on this store has no promotions entity (an older version): "
                                  "upgrade it (docs/addon.md §1) so campaigns.yaml can be written"))
            return finish(JOB, result, options, started)
        found = await lookups(client, self.store, rules, listing)
        if not options.dry_run:
            await read_members(client, self.store, self.clock, rules, dict(found.usergroups))
        events: list[CampaignEvent] = []
        async with self.store.transaction() as tx:
            written = set(await ledger.get_hashes(tx, TARGET, ENTITY))
            desired = desired_payloads(rules, found, listing, written, now)
            result.read = len(rules.campaigns)
            stale = []
            for campaign_id in desired.payloads:
                remote = listing.promotions.get(campaign_id)
                if campaign_id in written and (remote is None or remote.edited):
                    stale.append(campaign_id)
                    desired.repaired.append(campaign_id)
            if stale and not options.dry_run:
                await ledger.forget(tx, TARGET, ENTITY, stale)  # written again below
            computed = await plan.diff(tx, TARGET, ENTITY, OP, desired.payloads)
            if options.dry_run:
                computed.changes += [plan.Change(key, None, desired.payloads[key]) for key in stale
                                     if key not in {c.key for c in computed.changes}]
            result.changed = len(computed.changes)
            result.plan += computed.describe(limit=20)
            previous = json.loads(await cursors.get(tx, STATES_CURSOR) or "{}")
            states, events = transitions(rules, previous, now)
            capped_before = set(json.loads(await cursors.get(tx, CAPPED_CURSOR) or "[]"))
            capped = {c.id for c in rules.campaigns if c.conditions.max_uses is not None
                      and c.id in listing.promotions
                      and listing.promotions[c.id].number_of_usages >= c.conditions.max_uses}
            events += [CampaignEvent(cid, "usage_cap", _("{count} orders").format(
                count=listing.promotions[cid].number_of_usages))
                       for cid in sorted(capped - capped_before)]
            set_campaign_gauges(rules, listing, now)
            events += [CampaignEvent(cid, "repaired", _("edited by hand in CS-Cart") if cid in listing.promotions
                                     else _("deleted in CS-Cart")) for cid in desired.repaired]
            if not options.dry_run:
                result.enqueued = await plan.enqueue(tx, computed, self.clock.time())
                await cursors.set_(tx, STATES_CURSOR, json.dumps(states, sort_keys=True))
                await cursors.set_(tx, CAPPED_CURSOR, json.dumps(sorted(capped)))
        for campaign_id, message in desired.problems:
            result.failed += 1
            result.notes.append(message)
            log.warning("campaign.unmapped", campaign=campaign_id, problem=message)
        for campaign_id, message in desired.skipped:
            result.notes.append(_("campaign {campaign} (enabled: false) is not written: {problem}").format(
                campaign=campaign_id, problem=message))
        for campaign_id in desired.repaired:
            result.notes.append(_("campaign {campaign}: the promotion was changed in CS-Cart by hand; campaigns.yaml "
                                  "is "
                                  "the source, so it is written again").format(campaign=campaign_id))
        if not options.dry_run:
            await announce(self.events, events, self.mail)
            self._schedule_boundary(rules, now)
            if result.enqueued:
                self.wake_dispatcher()
        return finish(JOB, result, options, started)


def set_campaign_gauges(rules: CampaignRules, listing: PromotionListing, now: datetime) -> None:
    """The business dashboard's campaign figures: how many run now, each one's usages in CS-Cart."""
    metrics.CAMPAIGNS_RUNNING.set(sum(state_at(c, now) is CampaignState.RUNNING for c in rules.campaigns))
    for campaign in rules.campaigns:
        remote = listing.promotions.get(campaign.id)
        metrics.CAMPAIGN_USAGES.labels(campaign.id).set(remote.number_of_usages if remote else 0)


async def managed(client: CSCartClient) -> PromotionListing | None:
    """The add-on's listing, or None when the add-on does not answer (``bridge campaigns list``)."""
    if not await client.addon_installed():
        return None
    return await PromotionsClient(client).listing()
