"""``rules/customers.yaml``: what a SMILE 得意先 becomes in CS-Cart: active or disabled, its rank usergroup, the
掛率 profile the add-on applies at checkout and the credit limit it checks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from bridge.domain.customers import Customer
from bridge.i18n import _
from bridge.rules.common import RulesModel
from bridge.rules.pricing import PricingRules


class CustomerRules(RulesModel):
    version: Literal[1] = 1
    disable_when_suspended: bool = True
    """休止 customers are disabled in CS-Cart (they cannot log in or order)."""
    disable_outside_validity: bool = True
    """Customers outside their 有効期間 are disabled."""
    rank_membership: bool = True
    """Put each customer in the usergroup of its 単価ランク (pricing.yaml rank_usergroups) and out of the others."""
    push_rate: bool = True
    """Send 単価掛率 with its rounding to the add-on, which applies it at checkout."""
    push_credit_limit: bool = True
    """Send 与信限度額 to the add-on's credit check."""


@dataclass(frozen=True, slots=True)
class CustomerState:
    status: Literal["A", "D"]
    reasons: tuple[str, ...]
    usergroup: str | None  # the rank group the customer belongs in
    other_rank_groups: tuple[str, ...]  # rank groups the customer must not be in
    rate_profile: dict[str, str] | None  # the add-on's smile_price_* user columns; None = clear them
    credit_limit: Decimal | None


def customer_state(customer: Customer, rules: CustomerRules, pricing: PricingRules, today: date) -> CustomerState:
    reasons: list[str] = []
    if rules.disable_when_suspended and customer.suspended:
        reasons.append("休止")
    if rules.disable_outside_validity and not _valid_on(customer, today):
        reasons.append(_("outside 有効期間 ({start} – {end})").format(start=customer.valid_from or "…",
                                                                    end=customer.valid_to or "…"))
    group = pricing.rank_usergroups.get(customer.price_rank or 0) if rules.rank_membership else None
    others = tuple(name for name in pricing.rank_usergroups.values() if name != group) if rules.rank_membership else ()
    return CustomerState(
        status="D" if reasons else "A",
        reasons=tuple(reasons),
        usergroup=group,
        other_rank_groups=others,
        rate_profile=rate_profile(customer, pricing) if rules.push_rate else None,
        credit_limit=customer.credit_limit if rules.push_credit_limit else None,
    )


def _valid_on(customer: Customer, day: date) -> bool:
    return not ((customer.valid_from and day < customer.valid_from) or (customer.valid_to and day > customer.valid_to))


def rate_profile(customer: Customer, pricing: PricingRules) -> dict[str, str] | None:
    """The add-on's user columns read by ``PriceSelector::rateProfile``; None when there is no positive 掛率."""
    if customer.rate_percent is None or customer.rate_percent <= 0:
        return None
    unit = customer.price_rounding_unit if customer.price_rounding_unit > 0 else Decimal(1)
    return {
        "smile_price_rate": str(customer.rate_percent),
        "smile_price_rounding": customer.price_rounding.value,
        "smile_price_unit": str(unit),
        "smile_price_rate_base": pricing.rate_base.addon_value,
    }
