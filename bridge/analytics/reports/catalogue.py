"""The report catalogue: every report kind with its function. Importing it imports every report (the forecast's
too); ``bridge.analytics.reports`` loads it on first use, so that a module needing one report's helpers (the
low-stock check: ``reports.stock``) does not load them all."""

from __future__ import annotations

from bridge.analytics.reports.base import ReportSpec
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
