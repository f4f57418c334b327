"""The one place jobs are built. Each factory below reads the typed ``Services`` and the settings of a
``JobContext`` and hands its job exactly what the job uses, as named constructor parameters: the CS-Cart
client, an accessor per rules file it reads (called at the start of each run, so a rules reload takes effect
on the next run), the event publisher, the store, the clock, the settings sections. No job module sees a
``JobContext`` or ``Services`` (tests/foundation/test_job_dependencies.py checks it).

Importing this module registers every job (name, description, factory) and imports none of the job modules: each
factory imports its job's module when it builds the job, so ``bridge sync stock`` loads the stock job's code and no
other job's, and ``bridge sync`` (the list) loads none (tests/foundation/test_cli_startup.py). Keep the imports at
the top of this module to the plumbing; a job's module belongs inside its factory (and, for the annotations, under
``TYPE_CHECKING``).

``registered_jobs()`` (bridge/sync/__init__.py) imports this module; the CLI's start-up does not.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from bridge.i18n import N_
from bridge.sync.base import JobContext, register

if TYPE_CHECKING:
    from bridge.analytics.hooks import AnalyticsFeed
    from bridge.analytics.rules import ReportRules
    from bridge.sync.campaigns.job import CampaignsJob
    from bridge.sync.catalog.customer_prices import CustomerPricesJob
    from bridge.sync.catalog.customers import CustomersJob
    from bridge.sync.catalog.drift import DriftJob
    from bridge.sync.catalog.prices import PricesJob
    from bridge.sync.catalog.products import ProductsJob
    from bridge.sync.catalog.smile_input import SmileInput
    from bridge.sync.catalog.stock import StockJob
    from bridge.sync.orders.job import OrdersJob
    from bridge.sync.orders.rules import OrderRules
    from bridge.sync.orders.settings import OrdersSettings
    from bridge.sync.orders.source import OrderSource
    from bridge.sync.reports.job import ReportsJob
    from bridge.sync.shipping.flow import ShippingContext
    from bridge.sync.shipping.job import ShippingJob

ORDERS = "orders"  # bridge.sync.orders.job.JOB (tests/foundation/test_job_dependencies.py checks they agree)


def _smile_input(ctx: JobContext, file_type: str) -> SmileInput:
    from bridge.sync.catalog.smile_input import SmileInput

    return SmileInput(file_type, smile=ctx.settings.smile, data_dir=ctx.settings.data_dir, store=ctx.store,
                      clock=ctx.clock, events=ctx.services.events)


def _analytics(ctx: JobContext) -> AnalyticsFeed:
    from bridge.analytics.hooks import AnalyticsFeed

    return AnalyticsFeed(ctx.settings, ctx.store, ctx.clock, ctx.services)


def _order_rules(ctx: JobContext) -> OrderRules:
    from bridge.sync.orders.rules import order_rules

    return order_rules(ctx.services.rules.current)


# -- catalog -------------------------------------------------------------------------------------------------


@register("stock", N_("SMILE 在庫 → CS-Cart amounts (only changed SKUs), with the mass-change guard"))
def stock_job(ctx: JobContext) -> StockJob:
    from bridge.sync.catalog.stock import StockJob

    services = ctx.services
    return StockJob(cscart=services.require_cscart(), rules=lambda: services.stock, smile=ctx.settings.smile,
                    data_dir=ctx.settings.data_dir, store=ctx.store, clock=ctx.clock, events=services.events,
                    wake_dispatcher=ctx.wake_dispatcher, analytics=_analytics(ctx))


@register("prices", N_("rules/pricing.yaml → full CS-Cart tier sets (rank groups, quantity tiers, 新単価 "
                        "at 00:00 JST)"))
def prices_job(ctx: JobContext) -> PricesJob:
    from bridge.sync.catalog.prices import PricesJob

    services = ctx.services
    return PricesJob(cscart=services.require_cscart(), pricing=lambda: services.pricing,
                     products_input=_smile_input(ctx, "products"),
                     quantity_input=_smile_input(ctx, "quantity_prices"),
                     store=ctx.store, clock=ctx.clock, wake_dispatcher=ctx.wake_dispatcher)


@register("products",
          N_("SMILE 商品マスター → CS-Cart products (create missing, update SMILE-owned fields only)"))
def products_job(ctx: JobContext) -> ProductsJob:
    from bridge.sync.catalog.products import ProductsJob

    services = ctx.services
    return ProductsJob(cscart=services.require_cscart(), products=lambda: services.products,
                       pricing=lambda: services.pricing, smile_input=_smile_input(ctx, "products"),
                       catalog=ctx.settings.catalog, store=ctx.store, clock=ctx.clock,
                       wake_dispatcher=ctx.wake_dispatcher, analytics=_analytics(ctx))


@register("customers",
          N_("SMILE 得意先 → CS-Cart customers (status, rank usergroup, add-on 掛率/credit limit)"))
def customers_job(ctx: JobContext) -> CustomersJob:
    from bridge.sync.catalog.customers import CustomersJob

    services = ctx.services
    return CustomersJob(cscart=services.require_cscart(), customers=lambda: services.customers,
                        pricing=lambda: services.pricing, smile_input=_smile_input(ctx, "customers"),
                        catalog=ctx.settings.catalog, cscart_settings=ctx.settings.cscart, store=ctx.store,
                        clock=ctx.clock, wake_dispatcher=ctx.wake_dispatcher, analytics=_analytics(ctx))


@register("customer_prices", N_("SMILE 得意先別単価, credit exposure and the 直送 surcharge → the "
                                 "smile_bridge add-on (batch API)"))
def customer_prices_job(ctx: JobContext) -> CustomerPricesJob:
    from bridge.sync.catalog.customer_prices import CustomerPricesJob

    services = ctx.services
    return CustomerPricesJob(cscart=services.require_cscart(), pricing=lambda: services.pricing,
                             shipping=lambda: services.shipping, order_flow=lambda: services.order_flow,
                             delivery_fields=ctx.settings.orders.delivery_fields,
                             smile_input=_smile_input(ctx, "customer_prices"), store=ctx.store,
                             clock=ctx.clock, wake_dispatcher=ctx.wake_dispatcher)


@register("drift", N_("Daily check: CS-Cart amounts changed by hand are reported and written again"))
def drift_job(ctx: JobContext) -> DriftJob:
    from bridge.sync.catalog.drift import DriftJob

    return DriftJob(cscart=ctx.services.require_cscart(), store=ctx.store, clock=ctx.clock,
                    wake_dispatcher=ctx.wake_dispatcher)


# -- orders and shipping -------------------------------------------------------------------------------------


@register(ORDERS, N_("CS-Cart orders → gates → SMILE 受注 file → CS-Cart 出荷指示, with SMILE read-back"))
def orders_job(ctx: JobContext, *, settings: OrdersSettings | None = None,
               source: OrderSource | None = None) -> OrdersJob:
    """``settings``/``source`` replace the configured ones (tests); the add-on's push wakes the job in the
    daemon."""
    from bridge.sync.orders.job import OrdersJob

    services = ctx.services
    hook, scheduler = services.orders_wakeup, services.scheduler
    if hook is not None and scheduler is not None:
        hook.bind(lambda: scheduler.trigger(ORDERS))
    return OrdersJob(cscart=services.require_cscart(), rules=lambda: _order_rules(ctx),
                     settings=settings or ctx.settings.orders, smile=ctx.settings.smile,
                     data_dir=ctx.settings.data_dir, store=ctx.store, clock=ctx.clock, events=services.events,
                     wake_dispatcher=ctx.wake_dispatcher, analytics=_analytics(ctx), source=source,
                     returns=lambda: services.returns)


async def resend_order(ctx: JobContext, order_id: int) -> str:
    """``bridge orders resend``: one order to SMILE again (works offline: without CS-Cart, the yaml's
    letters)."""
    from bridge.sync.orders.batches import Batches
    from bridge.sync.orders.rules import current_order_rules

    smile = ctx.settings.smile
    outbox = smile.dirs(ctx.settings.data_dir).outbox
    batches = Batches(ctx.store, ctx.clock, smile, outbox, ctx.wake_dispatcher)
    rules = await current_order_rules(_order_rules(ctx), ctx.services.cscart)
    return await batches.resend(order_id, rules)


@register("shipping", N_("orders in 出荷指示 → carrier label files; result files → CS-Cart shipments → "
                          "出荷済 → mail → 完了"))
def shipping_job(ctx: JobContext) -> ShippingJob:
    from bridge.sync.shipping.job import ShippingJob

    services = ctx.services
    return ShippingJob(shipping=lambda: services.shipping, orders=lambda: _order_rules(ctx),
                       cscart=services.cscart, rules_dir=Path(ctx.settings.rules_dir),
                       smile=ctx.settings.smile, data_dir=Path(ctx.settings.data_dir), store=ctx.store,
                       clock=ctx.clock, events=services.events, wake_dispatcher=ctx.wake_dispatcher,
                       analytics=_analytics(ctx))


def shipping_context(ctx: JobContext) -> ShippingContext:
    """What ``bridge carriers export|import`` (and the carriers benchmark) run the shipping steps with: the
    rules in force, the yaml's status letters."""
    from bridge.sync.shipping.flow import ShippingContext, shipping_rules

    services = ctx.services
    rules = shipping_rules(services.shipping, Path(ctx.settings.rules_dir))
    return ShippingContext(rules, _order_rules(ctx).flow, ctx.store, ctx.clock, services.events,
                           ctx.wake_dispatcher, ctx.settings.smile, Path(ctx.settings.data_dir))


# -- campaigns and reports -----------------------------------------------------------------------------------


@register("campaigns", N_("rules/campaigns.yaml → CS-Cart promotions (add-on), switched on and off at "
                           "their minute (JST)"))
def campaigns_job(ctx: JobContext) -> CampaignsJob:
    from bridge.sync.campaigns.job import CampaignsJob

    services = ctx.services
    scheduler = services.scheduler
    subscribe = getattr(services.rules, "subscribe", None)  # the daemon's hot-reloading provider has one
    return CampaignsJob(cscart=services.require_cscart(), rules=lambda: services.campaigns, store=ctx.store,
                        clock=ctx.clock, events=services.events, mail=ctx.settings.mail,
                        wake_dispatcher=ctx.wake_dispatcher, interval=ctx.settings.jobs.campaigns.interval,
                        trigger=None if scheduler is None else lambda: scheduler.trigger("campaigns"),
                        on_rules_change=subscribe if callable(subscribe) else None)


@register("reports",
          N_("report packs due (rules/reports.yaml) → reports folder, mailed with a one-line summary"))
def reports_job(ctx: JobContext) -> ReportsJob:
    from bridge.analytics.rules import campaigns_in_force, rules_in_force
    from bridge.sync.reports.job import ReportsJob

    services, rules_dir = ctx.services, ctx.settings.rules_dir

    def reports() -> ReportRules:
        return rules_in_force(services, rules_dir)

    return ReportsJob(reports=reports, campaigns=lambda: campaigns_in_force(services, rules_dir),
                      settings=ctx.settings, store=ctx.store, clock=ctx.clock)
