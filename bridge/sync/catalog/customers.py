"""Job ``customers``: SMILE 得意先マスター → CS-Cart customers (fields SMILE owns, status, rank usergroup, add-on
columns), matched by binding or e-mail.

One run (daily):
1. the newest complete 得意先マスター (``SmileInput``; without a new file the last applied one is planned again);
2. matching: the binding 得意先コード ↔ user_id first, else the one CS-Cart customer whose add-on column
   ``smile_customer_code`` holds the code, else the one with exactly that e-mail (CS-Cart's ``email`` filter is a
   substring match, so one listing is read and compared exactly); matches are bound at once; unmatched customers
   are created only with ``catalog.create_customers`` (``user.create`` ops, bound by the sink);
3. per customer, ``customer_state`` (rules/customers.yaml): status D when 休止 or outside 有効期間, the rank group
   (pricing.yaml names; created when missing), and with ``cscart.addon`` the add-on's columns (得意先コード, 掛率
   profile, credit limit, exposure = SMILE receivable + orders sent to SMILE and not yet invoiced); only
   ``catalog.user_fields`` and those columns are sent — passwords and the addresses customers edit stay the shop's;
   ``company_id`` is added by the client on every user write; 与信限度額 is also recorded for the orders job's
   credit check (``customer_credit``);
4. the CS-Cart text guard runs here, at plan time: a 4-byte character (𠮷) is mapped (𠮷 → 吉) and reported in the
   result notes, the log and the audit log, so the payload already carries what CS-Cart will store — never ``?``;
   a character with no mapping fails that customer, named;
5. ledger diff: ``cscart/user`` (user.update) and ``cscart/usergroup_link`` (usergroup.link: A for the rank group,
   F for a rank group the bridge had linked before), one transaction, dispatcher woken.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import structlog

from bridge.analytics.hooks import AnalyticsFeed
from bridge.config import CatalogSettings
from bridge.cscart.client import CSCartClient
from bridge.cscart.settings import CSCartSettings
from bridge.cscart.textguard import TextGuard, TextGuardError
from bridge.domain.customers import Customer
from bridge.domain.time import Clock, business_date
from bridge.i18n import Text, _
from bridge.rules.customers import CustomerRules, CustomerState, customer_state
from bridge.rules.pricing import PricingRules
from bridge.store import Store, audit, ledger
from bridge.sync import plan
from bridge.sync.base import JobResult, RunOptions
from bridge.sync.catalog.created import bind_customer, bound_customers, user_update_payload
from bridge.sync.catalog.smile_input import SmileInput, Snapshot
from bridge.sync.jobkit import describe_creates, enqueue_creates, first, money, rank_groups
from bridge.sync.orders.credit import credit_exposure, record_credit_limits

log = structlog.get_logger("bridge.sync.customers")

JOB = "customers"
TARGET, USERS, LINKS = "cscart", "user", "usergroup_link"


@dataclass(slots=True)
class TextMapping:
    """One value the text guard changed, for the report."""

    code: str
    field: str
    original: str
    stored: str

    def __str__(self) -> str:
        return self.text()

    def text(self) -> Text:
        return _("customer {code} {field}: {original} → {stored} (4-byte characters mapped)").format(
            code=self.code, field=self.field, original=self.original, stored=self.stored)


@dataclass(slots=True)
class Desired:
    users: dict[str, Any] = field(default_factory=dict)
    creates: dict[str, Any] = field(default_factory=dict)
    links: dict[str, Any] = field(default_factory=dict)
    mapped: list[TextMapping] = field(default_factory=list)
    refused: list[Text] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)


def user_fields(customer: Customer, state: CustomerState, owned: tuple[str, ...], *, addon: bool,
                exposure: Decimal | None = None) -> dict[str, Any]:
    """The CS-Cart user fields SMILE owns, plus the add-on's columns when it is installed (``exposure``: open
    receivables and orders not yet invoiced, when known)."""
    values: dict[str, Any] = {"company": customer.name, "phone": customer.address.phone, "status": state.status,
                              "firstname": customer.address.name, "lastname": customer.name}
    fields = {name: values[name] for name in owned if name in values}
    if addon:
        fields["smile_customer_code"] = customer.code
        profile = state.rate_profile
        # no positive 掛率: the columns go back to their defaults, so the add-on applies none
        fields.update(profile if profile is not None else
                      {"smile_price_rate": None, "smile_price_rounding": "down", "smile_price_unit": "1",
                       "smile_price_rate_base": "price"})
        fields["smile_credit_limit"] = money(state.credit_limit) if state.credit_limit is not None else None
        if exposure is not None:
            fields["smile_credit_exposure"] = money(exposure)
    return fields


def guard_fields(guard: TextGuard, code: str, fields: dict[str, Any], mapped: list[TextMapping]) -> dict[str, Any]:
    """The text guard CS-Cart's writes use, applied now so the substitution is reported (raises TextGuardError)."""
    clean = {}
    for name, value in fields.items():
        if isinstance(value, str):
            stored = guard.clean_text(name, value)
            if stored != value:
                mapped.append(TextMapping(code, name, value, stored))
            value = stored
        clean[name] = value
    return clean


class CustomersJob:
    name = JOB

    def __init__(self, *, cscart: CSCartClient, customers: Callable[[], CustomerRules],
                 pricing: Callable[[], PricingRules], smile_input: SmileInput, catalog: CatalogSettings,
                 cscart_settings: CSCartSettings, store: Store, clock: Clock, wake_dispatcher: Callable[[], None],
                 analytics: AnalyticsFeed) -> None:
        self.cscart, self.customers, self.pricing = cscart, customers, pricing
        self.input, self.catalog, self.cscart_settings = smile_input, catalog, cscart_settings
        self.store, self.clock, self.wake_dispatcher, self.analytics = store, clock, wake_dispatcher, analytics

    async def run(self, options: RunOptions) -> JobResult:
        return await self.input.run(JOB, options, _("customers: reading 得意先マスター"), 3, self._apply)

    async def _apply(self, snapshot: Snapshot, options: RunOptions, result: JobResult) -> dict[str, Any]:
        customers = {c.code: c for c in snapshot.records}  # the reader skipped the 諸口 codes
        result.read = len(customers)
        pricing = self.pricing()
        rules = self.customers()
        client = self.cscart
        groups = await rank_groups(client, pricing, create=not options.dry_run, notes=result.notes)
        user_ids = await self._match(client, customers, bind=not options.dry_run, notes=result.notes)
        options.progress.advance()

        async with self.store.transaction() as tx:
            linked_before = await ledger.get_hashes(tx, TARGET, LINKS)
            if not options.dry_run:  # first: the exposure written below includes this file's 売掛残 (seen live)
                await record_credit_limits(tx, customers.values(), snapshot.file_time)
            exposure = await credit_exposure(tx) if self.cscart_settings.addon else None
            desired = self._desired(customers, user_ids, groups, pricing, rules, set(linked_before), exposure)
            users = await plan.diff(tx, TARGET, USERS, "user.update", desired.users)
            links = await plan.diff(tx, TARGET, LINKS, "usergroup.link", desired.links)
            # customers (records) that change, however many writes each needs: changed ≤ read
            touched = {c.key for c in users.changes} | {c.key.split("/", 1)[0] for c in links.changes}
            result.changed = len(touched | set(desired.creates))
            result.failed = len(desired.refused)
            result.plan = [*describe_creates("user.create", desired.creates, 10), *users.describe(limit=10),
                           *links.describe(limit=10)]
            if not options.dry_run:
                now_ts = self.clock.time()
                result.enqueued = await plan.enqueue(tx, users, now_ts) + await plan.enqueue(tx, links, now_ts)
                result.enqueued += await enqueue_creates(tx, TARGET, "user.create", USERS, desired.creates, now_ts)
                for item in desired.mapped:
                    await audit.write(tx, "bridge", "customers.text_mapped", item.code,
                                      {"field": item.field, "original": item.original, "stored": item.stored})
                await audit.write(tx, "bridge", "customers.planned", snapshot.file_name, {
                    "read": result.read, "users": len(users.changes), "links": len(links.changes),
                    "creates": len(desired.creates), "unmatched": len(desired.unmatched),
                    "text_mapped": len(desired.mapped), "failed": result.failed})
        result.notes.extend(item.text() for item in desired.mapped)
        result.notes.extend(desired.refused)
        for item in desired.mapped:
            log.warning("customers.text_mapped", code=item.code, field=item.field, original=item.original,
                        stored=item.stored)
        if desired.unmatched:
            result.notes.append(_("{count} customer(s) without a CS-Cart account (no binding, no e-mail match; "
                                  "catalog.create_customers is off): {codes}").format(
                                      count=len(desired.unmatched), codes=first(desired.unmatched)))
        options.progress.advance()
        if result.enqueued:
            self.wake_dispatcher()
        if not options.dry_run:
            await self.analytics.customers_read(list(customers.values()))
        return {"text_mapped": len(desired.mapped), "unmatched": len(desired.unmatched)}

    async def _match(self, client: Any, customers: dict[str, Customer], *, bind: bool,
                     notes: list[Text]) -> dict[str, int]:
        """得意先コード → user_id: bindings, then one pass over the customer listing comparing the add-on's
        得意先コード column, then the e-mail, exactly."""
        async with self.store.transaction() as tx:
            known = await bound_customers(tx)
        matched = {code: known[code] for code in customers if code in known}
        unbound = {code: c.email.strip().lower() for code, c in customers.items() if code not in known}
        if not unbound:
            return matched
        taken = set(known.values())
        by_code: dict[str, list[int]] = defaultdict(list)
        by_email: dict[str, list[int]] = defaultdict(list)
        async for user in client.iter_users():
            if user.user_id in taken:
                continue
            if user.smile_customer_code:
                by_code[user.smile_customer_code].append(user.user_id)
            if user.email:
                by_email[user.email.strip().lower()].append(user.user_id)
        found: dict[str, int] = {}
        for code, email in unbound.items():
            for key, ids in (("得意先コード", by_code.get(code, [])), ("e-mail", by_email.get(email, []) if email else [])):
                if len(ids) == 1 and ids[0] not in found.values():
                    found[code] = ids[0]
                    break
                if len(ids) > 1:
                    notes.append(_("customer {code}: {count} CS-Cart accounts share this {key}; none was bound").format(
                        code=code, count=len(ids), key=key))
                    break
        if found and bind:
            async with self.store.transaction() as tx:
                for code, user_id in found.items():
                    await bind_customer(tx, code, user_id)
            log.info("customers.bound", bound=len(found))
        matched.update(found)
        return matched

    def _desired(self, customers: dict[str, Customer], user_ids: dict[str, int], groups: dict[int, int],
                 pricing: PricingRules, rules: CustomerRules, linked_before: set[str],
                 exposure: dict[str, Decimal] | None = None) -> Desired:
        guard = TextGuard(self.cscart_settings.text_map, self.cscart_settings.text_fallback)
        today = business_date(self.clock.now())
        rank_of_group = {name: rank for rank, name in pricing.rank_usergroups.items()}
        desired = Desired()
        for code, customer in customers.items():
            state = customer_state(customer, rules, pricing, today)
            fields = user_fields(customer, state, self.catalog.user_fields, addon=self.cscart_settings.addon,
                                 exposure=None if exposure is None else exposure.get(code, Decimal(0)))
            try:
                fields = guard_fields(guard, code, fields, desired.mapped)
            except TextGuardError as exc:
                desired.refused.append(_("customer {code}: {error} — fix: {hint}").format(code=code, error=exc,
                                                                                      hint=exc.hint))
                continue
            user_id = user_ids.get(code)
            wanted = groups.get(rank_of_group[state.usergroup]) if state.usergroup in rank_of_group else None
            if user_id is None:
                if self.catalog.create_customers and customer.email.strip():
                    desired.creates[code] = {"customer_code": code, "fields": fields,
                                             "initial": {"email": customer.email.strip()}}
                    if wanted is not None:  # the rank group comes with the account, not one run later
                        desired.creates[code]["usergroup_id"] = wanted
                else:
                    desired.unmatched.append(code)
                continue
            desired.users[code] = user_update_payload(user_id, fields)
            for group_id in groups.values():
                key = f"{code}/{group_id}"
                if group_id == wanted:
                    desired.links[key] = {"user_id": user_id, "usergroup_id": group_id, "status": "A"}
                elif key in linked_before:  # linked by the bridge before: take the customer out
                    desired.links[key] = {"user_id": user_id, "usergroup_id": group_id, "status": "F"}
        return desired
