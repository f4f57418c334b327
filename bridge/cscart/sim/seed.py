"""Deterministic seed data at scale: Japanese catalog, customers, usergroups, statuses (custom ones included),
payments, shippings and historical orders. The same seed always gives the same store."""

from __future__ import annotations

import random

from bridge.cscart.sim.state import (
    SimItem,
    SimOrder,
    SimProduct,
    SimState,
    SimStatus,
    SimUser,
    SimUsergroup,
    item_id_for,
)

EPOCH = 1_790_000_000  # a fixed "now" for seeded history (2026-09), so data never depends on the wall clock

CORE_STATUSES = (
    ("O", "Open", "D"), ("P", "Paid", "D"), ("C", "Complete", "D"), ("F", "Failed", "I"),
    ("D", "Declined", "I"), ("B", "Backordered", "I"), ("I", "Canceled", "I"), ("Y", "Awaiting call", "D"),
)
# What the smile_bridge add-on creates on a real store: letters picked from the free ones.
CUSTOM_STATUSES = (("A", "保留", "D"), ("E", "出荷指示", "D"), ("G", "出荷済", "D"), ("H", "出荷通知済", "D"))
USERGROUPS = (
    (3, "卸ランク1", "A"), (4, "卸ランク2", "A"), (5, "卸ランク3", "A"), (6, "卸ランク4", "A"), (7, "卸ランク5", "A"),
    (8, "直送可", "A"), (9, "旧取引先", "D"),
)
PAYMENTS = {1: "掛売", 2: "銀行振込（先入金）", 3: "クレジットカード", 4: "代金引換"}
# rules/order_flow.yaml for a seeded simulator: its core and add-on status letters, its payment methods (tests, the
# demo and benchmarks add their gating rules below it).
ORDER_FLOW_YAML = """\
version: 1
states:
  received: {letters: [O, P]}
  hold: {letters: [A], description: 保留}
  shipping_instructed: {letters: [E], description: 出荷指示}
  shipped: {letters: [G], description: 出荷済}
  notified: {letters: [H], description: 出荷通知済}
  complete: {letters: [C]}
  cancelled: {letters: [I]}
payment_methods:
  - {kind: on_account, payment_ids: [1]}
  - {kind: prepaid, payment_ids: [2]}
  - {kind: card, payment_ids: [3]}
  - {kind: cod, payment_ids: [4]}
"""
SHIPPINGS = {1: "ヤマト運輸", 2: "佐川急便", 3: "ゆうパック"}

_MAKERS = ("山田製作所", "東洋化学", "髙橋工業", "北星産業", "大和紙器", "富士精工", "関西包材", "みどり商事")
_ITEMS = ("業務用紙コップ", "クラフト袋", "ポリ手袋", "ストレッチフィルム", "段ボール箱", "割り箸", "ペーパータオル",
          "ゴミ袋", "ラップ", "アルミホイル", "食品トレー", "緩衝材", "ガムテープ", "結束バンド", "マスク")
_SIZES = ("S", "M", "L", "LL", "205ml", "275ml", "45L", "90L", "30cm", "45cm", "A4", "B5")
_PACKS = (10, 20, 50, 100, 500, 1000)
_FAMILY = ("佐藤", "鈴木", "髙橋", "田中", "渡辺", "伊藤", "山本", "中村", "小林", "加藤", "吉田", "山田")
_GIVEN = ("太郎", "花子", "一郎", "美咲", "健", "由美", "翔", "陽子", "誠", "愛")
_COMPANY = ("株式会社", "有限会社", "合同会社")
_PREFS = ("東京都", "大阪府", "愛知県", "福岡県", "北海道", "神奈川県", "京都府", "広島県")
_CITIES = ("中央区", "北区", "港区", "西区", "南区", "東区")


def seed_state(state: SimState, *, products: int = 1000, users: int = 100, orders: int = 200,
               seed: int = 1) -> SimState:
    rng = random.Random(seed)
    _seed_reference(state)
    _seed_products(state, products, rng)
    _seed_users(state, users, rng)
    _seed_orders(state, orders, rng)
    return state


def _seed_reference(state: SimState) -> None:
    for index, (letter, name, inventory) in enumerate(CORE_STATUSES + CUSTOM_STATUSES, start=1):
        state.statuses[letter] = SimStatus(status_id=index, status=letter, description=name, inventory=inventory,
                                           is_default="Y" if index <= len(CORE_STATUSES) else "N",
                                           params={"notify": "Y", "color": "#336699",
                                                   "payment_received": "Y" if letter in "PC" else "N"})
    for group_id, name, status in USERGROUPS:
        state.usergroups[group_id] = SimUsergroup(usergroup_id=group_id, usergroup=name, status=status)
    state.payments.update(PAYMENTS)
    state.shippings.update(SHIPPINGS)


def _seed_products(state: SimState, count: int, rng: random.Random) -> None:
    start = EPOCH - 400 * 86400
    rand = rng.random
    for pid in range(1, count + 1):
        maker = _MAKERS[pid % len(_MAKERS)]
        item = _ITEMS[(pid // 7) % len(_ITEMS)]
        size = _SIZES[(pid // 3) % len(_SIZES)]
        pack = _PACKS[pid % len(_PACKS)]
        price = 100 + int(rand() * 9900)
        created = start + pid * 60
        state.products[pid] = SimProduct(
            product_id=pid, product_code=f"{10000000 + pid}", product=f"{maker} {item} {size} {pack}入",
            price=f"{price}.00", list_price=f"{price * 13 // 10}.00", amount=int(rand() * 500),
            timestamp=created, updated_timestamp=created + int(rand() * 86400 * 30),
            status="A" if pid % 50 else "D", company_id=state.settings.company_id,
            tiers=[(10, 0, f"{price * 95 // 100}.00", "0"), (1, 3, f"{price * 90 // 100}.00", "0")]
            if pid % 10 == 0 else None,
        )
    state.next_ids["product"] = count + 1
    state.catalog_changed()


def _seed_users(state: SimState, count: int, rng: random.Random) -> None:
    groups = [g for g, _, status in USERGROUPS if status == "A"]
    for uid in range(1, count + 1):
        family, given = _FAMILY[uid % len(_FAMILY)], _GIVEN[(uid // 3) % len(_GIVEN)]
        company = f"{_COMPANY[uid % 3]}{_FAMILY[(uid // 5) % len(_FAMILY)]}商店"
        pref, city = _PREFS[uid % len(_PREFS)], _CITIES[uid % len(_CITIES)]
        profile = {"b_firstname": given, "b_lastname": family, "b_address": f"{uid % 9 + 1}-{uid % 20 + 1}-{uid % 30}",
                   "b_city": city, "b_state": pref, "b_country": "JP", "b_zipcode": f"{100 + uid % 900}-{uid % 10000:04d}",
                   "b_phone": f"03-{uid % 10000:04d}-{(uid * 7) % 10000:04d}"}
        profile.update({"s_" + key[2:]: value for key, value in profile.items()})
        state.users[uid] = SimUser(
            user_id=uid, email=f"customer{uid:05d}@example.jp", user_type="C", company_id=state.settings.company_id,
            firstname=given, lastname=family, company=company, phone=profile["b_phone"],
            status="A" if uid % 40 else "D", timestamp=EPOCH - 300 * 86400 + uid * 600, profile=profile,
            usergroups={rng.choice(groups): "A"},
        )
    state.next_ids["user"] = count + 1


def _seed_orders(state: SimState, count: int, rng: random.Random) -> None:
    if not state.products or not state.users:
        return
    product_ids = list(state.products)
    user_ids = list(state.users)
    weights = (("C", 50), ("P", 15), ("O", 15), ("E", 8), ("I", 7), ("A", 5))
    letters = [letter for letter, weight in weights for _ in range(weight)]
    for oid in range(1, count + 1):
        user = state.users[rng.choice(user_ids)]
        placed = EPOCH - 30 * 86400 + int(oid * (30 * 86400 / max(count, 1)))
        items: dict[str, SimItem] = {}
        for index in range(rng.randint(1, 3)):
            product = state.products[rng.choice(product_ids)]
            item_id = item_id_for(oid, product.product_id, index)
            items[item_id] = SimItem(item_id=item_id, product_id=product.product_id,
                                     product_code=product.product_code, product=product.product,
                                     price=product.price, amount=rng.randint(1, 12))
        state.orders[oid] = SimOrder(
            order_id=oid, user_id=user.user_id, status=rng.choice(letters), timestamp=placed,
            updated_at=placed + rng.randint(0, 3 * 86400), items=items, email=user.email,
            firstname=user.firstname, lastname=user.lastname, phone=user.phone, company=user.company,
            payment_id=rng.choice(list(PAYMENTS)), shipping_id=rng.choice(list(SHIPPINGS)),
            shipping_cost="800.00", company_id=state.settings.company_id, address=dict(user.profile),
        )
    state.next_ids["order"] = count + 1
