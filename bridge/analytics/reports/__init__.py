"""The report catalogue: ``bridge report list`` prints it, ``bridge report KIND`` and the packs run from it."""

from __future__ import annotations

from bridge.analytics.reports.base import Params, Report, ReportSpec
from bridge.analytics.reports.campaigns import campaigns
from bridge.analytics.reports.customers import customers
from bridge.analytics.reports.delivery import delivery
from bridge.analytics.reports.forecasts import forecasts
from bridge.analytics.reports.sales import BY as SALES_BY
from bridge.analytics.reports.sales import sales
from bridge.analytics.reports.stock import stock

REPORTS: dict[str, ReportSpec] = {spec.kind: spec for spec in (
    ReportSpec("sales", "売上分析: 商品・分類・得意先・グループ・都道府県・地方・期間・支払・直送別、粗利、前期比",
               sales, SALES_BY, "product"),
    ReportSpec("stock", "在庫分析: 回転率、在庫日数、欠品率、滞留、発注点と推奨発注数、入荷予定", stock),
    ReportSpec("customers", "顧客分析: RFM、リピート率、平均注文額、購買間隔、離反リスク、新規/既存", customers),
    ReportSpec("delivery", "配送分析: リードタイム、期日内率、運送会社・都道府県別、直送比率", delivery),
    ReportSpec("campaigns", "キャンペーン効果: 売上・粗利・増分・特典コスト・ROI の比較", campaigns),
    ReportSpec("forecast", "需要・売上予測: SKU別週次需要と月次売上、バックテスト MASE", forecasts),
)}


class UnknownReport(ValueError):
    pass


def run(kind: str, con: object, params: Params) -> Report:
    spec = REPORTS.get(kind)
    if spec is None:
        raise UnknownReport(f"unknown report {kind!r}; known: {', '.join(REPORTS)} (bridge report list)")
    if params.by and spec.by and params.by not in spec.by:
        raise ValueError(f"report {kind}: --by {params.by!r} is not one of {', '.join(spec.by)}")
    if params.by and not spec.by:
        raise ValueError(f"report {kind} has no --by")
    return spec.function(con, params)


__all__ = ["REPORTS", "Params", "Report", "UnknownReport", "run"]
