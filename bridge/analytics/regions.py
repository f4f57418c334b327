"""都道府県 → 地方 (the eight regions of Japan, as Japanese statistics use them)."""

from __future__ import annotations

REGIONS: dict[str, tuple[str, ...]] = {
    "北海道": ("北海道",),
    "東北": ("青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県"),
    "関東": ("茨城県", "栃木県", "群馬県", "埼玉県", "千葉県", "東京都", "神奈川県"),
    "中部": ("新潟県", "富山県", "石川県", "福井県", "山梨県", "長野県", "岐阜県", "静岡県", "愛知県"),
    "近畿": ("三重県", "滋賀県", "京都府", "大阪府", "兵庫県", "奈良県", "和歌山県"),
    "中国": ("鳥取県", "島根県", "岡山県", "広島県", "山口県"),
    "四国": ("徳島県", "香川県", "愛媛県", "高知県"),
    "九州・沖縄": ("福岡県", "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県", "鹿児島県", "沖縄県"),
}
REGION_OF: dict[str, str] = {pref: region for region, prefs in REGIONS.items() for pref in prefs}


def region_of(prefecture: str) -> str:
    return REGION_OF.get(prefecture, "不明")


def region_values_sql() -> str:
    """A VALUES list (prefecture, region) for joins."""
    return ", ".join(f"('{p}', '{r}')" for p, r in REGION_OF.items())
