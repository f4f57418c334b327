"""One campaign → the promotion the smile_bridge add-on stores with ``fn_update_promotion`` (pure, no I/O).

The payload (``PUT /api/smile_bridge_promotions/<campaign id>``, docs/addon.md §10)::

    {"campaign_id": "spring-bulk-2027", "name": "春のまとめ買い", "status": "A", "from_date": "2027-03-01",
     "to_date": "2027-03-31", "priority": 9990, "stop_other_rules": "N", "zone": "cart",
     "conditions": {"set": "all", "set_value": 1, "conditions": [{"condition": "subtotal", "operator": "gte",
                    "value": "30000"}, …]},
     "bonuses": [{"bonus": "discount_on_categories", "value": "12,13", "discount_bonus": "by_percentage",
                  "discount_value": "5"}, {"bonus": "free_shipping", "value": "1"}, …]}

CS-Cart applies promotions with ``stop_other_rules`` first, then by ``priority`` ascending (fn_get_promotions' sort
``stop_other_rules_and_priority`` / ``descasc``, seen on a real 4.20.1 store), so the YAML's "higher first"
priority is written as ``PRIORITY_CEILING - priority`` (priority 10 → 9990).

CS-Cart's promotion dates are whole days, so ``from_date``/``to_date`` carry the JST days of the period and
``status`` is what makes the promotion live to the minute: ``A`` only while the period contains ``now`` (the job
runs again at each start and end minute).

Compilation (every listed condition must hold; a list inside one condition means "any of these"):

========================= ================================================================================
rules                     CS-Cart
========================= ================================================================================
target.categories         ``categories in <ids>`` (商品分類コード → ids from ``categories:`` in the rules)
target.products           any of ``products in [{product_id, amount: 1}]`` (商品コード → the bound product)
target/conditions groups  any of ``usergroup eq <id>`` (usergroup by name)
target.customers          ``users in <ids>`` (得意先コード → the bound user)
target.regions            ``state in <codes>`` (``region_codes:`` in the rules, default the name)
min_order_amount          ``subtotal gte``
min_quantity              ``products_number gte`` (units in the cart)
products_all              one ``products in [{product_id, amount: 1}]`` per product
weekdays                  ``smile_bridge_weekdays in mon,…`` (the add-on's condition: core has none)
coupon codes              any of ``coupon_code eq <code>`` (conditions.coupon_codes and a coupon benefit)
max_uses                  ``number_of_usages lt <n>`` (CS-Cart counts orders in a positive status)
discount (order)          ``order_discount`` by_percentage / by_fixed
discount (products)       ``discount_on_products`` / ``discount_on_categories`` on the target; the whole
                          order (``order_discount``) when the target names no products or categories
bonus_item                ``free_products [{product_id, amount}]``
free_shipping             one ``free_shipping <shipping_id>`` per shipping method of the store
points                    ``give_points`` (reward points add-on; refused when the store lacks it)
coupon                    the coupon_code condition + ``order_discount``
========================= ================================================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from bridge.domain.time import JST
from bridge.i18n import Text, _
from bridge.rules.campaigns import (
    BonusItem,
    Campaign,
    CampaignState,
    Coupon,
    Discount,
    FreeShipping,
    Points,
    state_at,
)

Payload = dict[str, Any]
PRIORITY_CEILING = 10_000  # rules priority 0 … 9999 → CS-Cart priority 10000 … 1 (lower applies first there)


class CampaignMappingError(ValueError):
    """A campaign names something CS-Cart does not have; the message names the campaign, the field and the fix."""

    def __init__(self, text: Text) -> None:
        super().__init__(text)
        self.text = text


@dataclass(frozen=True, slots=True)
class Lookups:
    """The ids a campaign's codes and names compile to."""

    categories: Mapping[str, Sequence[int]] = field(default_factory=dict)  # 商品分類コード → category ids
    products: Mapping[str, int] = field(default_factory=dict)  # 商品コード → product_id (bindings)
    usergroups: Mapping[str, int] = field(default_factory=dict)  # usergroup name → id
    customers: Mapping[str, int] = field(default_factory=dict)  # 得意先コード → user_id (bindings)
    shippings: Sequence[int] = ()  # shipping methods a free_shipping benefit covers
    region_codes: Mapping[str, str] = field(default_factory=dict)  # 都道府県 → CS-Cart state code
    points: bool = False  # the store has the reward points add-on
    known_categories: frozenset[int] | None = None  # the store's category ids (None: not read, not checked)


def _money(value: Decimal) -> str:
    return format(value.normalize(), "f") if value != value.to_integral_value() else str(int(value))


def _ids(values: Sequence[int]) -> str:
    return ",".join(str(v) for v in values)


def _days(campaign: Campaign) -> tuple[str, str]:
    start = campaign.period.start.astimezone(JST).date()
    last = (campaign.period.end - timedelta(minutes=1)).astimezone(JST).date()
    return start.isoformat(), last.isoformat()


class _Compiler:
    def __init__(self, campaign: Campaign, lookups: Lookups) -> None:
        self.campaign = campaign
        self.lookups = lookups

    def fail(self, field_name: str, message: Text) -> CampaignMappingError:
        return CampaignMappingError(_("rules/campaigns.yaml: campaign {campaign!r}, {field}: {problem}").format(
            campaign=self.campaign.id, field=field_name, problem=message))

    def _synced(self, ids: Mapping[str, int], code: str, field_name: str, job: str) -> int:
        """A SMILE code → the CS-Cart id its sync job (products or customers) bound it to; none yet: run that job or
        fix the code."""
        found = ids.get(code)
        if found is None:
            missing = (_("商品コード {code} has no CS-Cart product yet; run the products job (bridge sync products) or "
                         "fix the code") if job == "products" else
                       _("得意先コード {code} has no CS-Cart user yet; run the customers job (bridge sync customers) or "
                         "fix the code"))
            raise self.fail(field_name, missing.format(code=code))
        return found

    def product(self, code: str, field_name: str) -> int:
        return self._synced(self.lookups.products, code, field_name, "products")

    def categories(self, codes: Sequence[str], field_name: str) -> list[int]:
        ids: list[int] = []
        for code in codes:
            mapped = self.lookups.categories.get(code)
            if not mapped:
                raise self.fail(field_name, _("商品分類コード {code} has no CS-Cart category: add it under "
                                              "categories: in rules/campaigns.yaml ({code}: [category ids])").format(
                                                  code=code))
            missing = [i for i in mapped if self.lookups.known_categories is not None
                       and i not in self.lookups.known_categories]
            if missing:
                raise self.fail(field_name, _(
                    "CS-Cart has no category {ids} (商品分類コード {code} under categories:). The shipped "
                    "campaigns.yaml holds example ids: set categories: to your store's category ids (admin: "
                    "Products → Categories, the id in the edit page's address)").format(
                        ids=", ".join(str(i) for i in missing), code=code))
            ids += [i for i in mapped if i not in ids]
        return ids

    def usergroup(self, name: str, field_name: str) -> int:
        group_id = self.lookups.usergroups.get(name)
        if group_id is None:
            known = ", ".join(sorted(self.lookups.usergroups)) or _("none")
            raise self.fail(field_name, _("usergroup {name!r} does not exist in CS-Cart (known: {known})").format(
                name=name, known=known))
        return group_id

    def customer(self, code: str, field_name: str) -> int:
        return self._synced(self.lookups.customers, code, field_name, "customers")

    def conditions(self) -> Payload:
        c, target, cond = self.campaign, self.campaign.target, self.campaign.conditions
        items: list[Payload] = []

        def any_of(rows: list[Payload]) -> None:
            if len(rows) == 1:
                items.append(rows[0])
            elif rows:
                items.append({"set": "any", "set_value": 1, "conditions": rows})

        if target.categories:
            items.append({"condition": "categories", "operator": "in",
                          "value": _ids(self.categories(target.categories, "target.categories"))})
        if target.products:
            any_of([{"condition": "products", "operator": "in",
                     "value": [{"product_id": self.product(code, "target.products"), "amount": 1}]}
                    for code in target.products])
        for where, names in (("target.customer_groups", target.customer_groups),
                             ("conditions.customer_groups", cond.customer_groups)):
            any_of([{"condition": "usergroup", "operator": "eq", "value": str(self.usergroup(name, where))}
                    for name in names])
        if target.customers:
            items.append({"condition": "users", "operator": "in",
                          "value": _ids([self.customer(code, "target.customers") for code in target.customers])})
        if target.regions:
            items.append({"condition": "state", "operator": "in",
                          "value": ",".join(self.lookups.region_codes.get(name, name) for name in target.regions)})
        if cond.min_order_amount is not None:
            items.append({"condition": "subtotal", "operator": "gte", "value": _money(cond.min_order_amount)})
        if cond.min_quantity is not None:
            items.append({"condition": "products_number", "operator": "gte", "value": str(cond.min_quantity)})
        for code in cond.products_all:
            items.append({"condition": "products", "operator": "in",
                          "value": [{"product_id": self.product(code, "conditions.products_all"), "amount": 1}]})
        if cond.weekdays:
            items.append({"condition": "smile_bridge_weekdays", "operator": "in", "value": ",".join(cond.weekdays)})
        codes = list(cond.coupon_codes) + [b.code for b in c.benefits if isinstance(b, Coupon)
                                           and b.code not in cond.coupon_codes]
        any_of([{"condition": "coupon_code", "operator": "eq", "value": code} for code in codes])
        if cond.max_uses is not None:
            items.append({"condition": "number_of_usages", "operator": "lt", "value": str(cond.max_uses)})
        return {"set": "all", "set_value": 1, "conditions": items}

    def bonuses(self) -> list[Payload]:
        target = self.campaign.target
        out: list[Payload] = []
        for index, benefit in enumerate(self.campaign.benefits):
            where = f"benefits[{index}]"
            if isinstance(benefit, Discount | Coupon):
                how = ({"discount_bonus": "by_percentage", "discount_value": _money(benefit.percent)}
                       if benefit.percent is not None else
                       {"discount_bonus": "by_fixed", "discount_value": _money(benefit.amount or Decimal(0))})
                on_products = isinstance(benefit, Discount) and benefit.applies_to == "products"
                if on_products and (target.products or target.categories):
                    if target.products:
                        ids = [self.product(code, "target.products") for code in target.products]
                        out.append({"bonus": "discount_on_products", "value": _ids(ids), **how})
                    if target.categories:
                        ids = self.categories(target.categories, "target.categories")
                        out.append({"bonus": "discount_on_categories", "value": _ids(ids), **how})
                else:
                    out.append({"bonus": "order_discount", **how})
            elif isinstance(benefit, BonusItem):
                out.append({"bonus": "free_products", "value": [
                    {"product_id": self.product(benefit.product_code, f"{where}.product_code"),
                     "amount": benefit.quantity}]})
            elif isinstance(benefit, FreeShipping):
                if not self.lookups.shippings:
                    raise self.fail(where, _("the store has no shipping method to make free"))
                out += [{"bonus": "free_shipping", "value": str(sid)} for sid in self.lookups.shippings]
            elif isinstance(benefit, Points):
                if not self.lookups.points:
                    raise self.fail(where, _("points need CS-Cart's Reward points add-on, which this store does not "
                                             "have: install it (Add-ons → Reward points) or remove the points "
                                             "benefit"))
                out.append({"bonus": "give_points", "value": str(benefit.points)})
        return out


def promotion(campaign: Campaign, lookups: Lookups, now: datetime) -> Payload:
    """The promotion payload for ``campaign`` at ``now``; raises ``CampaignMappingError`` naming the field."""
    compiler = _Compiler(campaign, lookups)
    from_date, to_date = _days(campaign)
    live = state_at(campaign, now) is CampaignState.RUNNING
    return {
        "campaign_id": campaign.id, "name": campaign.name, "status": "A" if live else "D",
        "from_date": from_date, "to_date": to_date, "priority": PRIORITY_CEILING - campaign.priority,
        "stop_other_rules": "Y" if campaign.stop_other else "N", "zone": "cart",
        "conditions": compiler.conditions(), "bonuses": compiler.bonuses(),
    }


def disabled(campaign_id: str) -> Payload:
    """What a promotion whose campaign left the file gets: status D, everything else as CS-Cart has it (orders
    refer to the promotion, so it is never deleted)."""
    return {"campaign_id": campaign_id, "status": "D"}


def walk_conditions(tree: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Every leaf condition of a condition tree (tests and the simulator)."""
    leaves: list[Mapping[str, Any]] = []
    for item in tree.get("conditions", []):
        if "conditions" in item:
            leaves += walk_conditions(item)
        else:
            leaves.append(item)
    return leaves
