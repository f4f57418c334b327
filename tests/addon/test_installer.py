"""``bridge addon install|uninstall`` decides from the store's state, never from CS-Cart's exit code: the checks that
turn a store report into the reasons an install or uninstall is incomplete."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bridge.cscart import addon_schema as schema
from bridge.cscart.addon_installer import StoreReport, console_errors, install_problems, uninstall_problems

CORE = {"O": {"en": "Open", "ja": "Open"}, "C": {"en": "Complete", "ja": "Complete"}}


def installed(**overrides: Any) -> dict[str, Any]:
    statuses = dict(CORE)
    params = {}
    for status in schema.STATUSES:
        statuses[status.preferred] = {"en": status.en, "ja": status.ja}
        params[f"status.{status.key}"] = status.preferred
    data: dict[str, Any] = {
        "addon": {"status": "A", "version": "1.0.0"}, "tables": dict.fromkeys(schema.TABLES, True),
        "columns": {table: list(columns) for table, columns in schema.COLUMNS.items()}, "params": params,
        "statuses": statuses, "orders_by_status": {"C": 3}, "languages": ["en", "ja"],
        "product_version": "4.20.1", "product_edition": "ULTIMATE"}
    data.update(overrides)
    return data


def removed(**overrides: Any) -> dict[str, Any]:
    return {**installed(addon=None, tables=dict.fromkeys(schema.TABLES, False), params={}, statuses=dict(CORE),
                        columns={"users": [], "products": [], "orders": []}), **overrides}


def test_a_complete_install_has_no_problems() -> None:
    assert install_problems(StoreReport.from_json(installed()), "1.0.0") == []


def test_the_failure_seen_on_4_20_1_is_named_piece_by_piece() -> None:
    # the autoloader bug: disabled, tables and columns there, no statuses
    report = StoreReport.from_json(installed(addon={"status": "D", "version": "1.0.0"}, params={},
                                             statuses=dict(CORE)))
    problems = install_problems(report, "1.0.0")
    assert problems[0].startswith("the add-on is installed but not active (status 'D'")
    assert [p for p in problems if "no letter recorded" in p] == [
        f"status {s.ja} ({s.key}): no letter recorded in smile_bridge_params" for s in schema.STATUSES]


def test_english_names_in_the_japanese_rows_and_a_second_shipping_instructed_are_problems() -> None:
    data = installed()
    data["statuses"]["J"] = {"en": "Shipping instructed (出荷指示)", "ja": "Shipping instructed (出荷指示)"}
    data["statuses"]["A"] = {"en": "Shipping instructed (出荷指示)", "ja": "出荷指示"}
    problems = install_problems(StoreReport.from_json(data), "1.0.0")
    assert "status J: its ja name is 'Shipping instructed (出荷指示)', expected '出荷指示'" in problems
    assert any(p.startswith("status 出荷指示 exists twice: J (the add-on's) and A") for p in problems)


def test_not_installed_wrong_version_missing_table_and_column() -> None:
    data = installed(addon={"status": "A", "version": "0.9.0"})
    data["tables"]["smile_bridge_params"] = False
    data["columns"]["orders"] = ["smile_direct_ship"]
    problems = install_problems(StoreReport.from_json(data), "1.0.0")
    assert "the store has version '0.9.0' of the add-on, expected '1.0.0'" in problems
    assert "table smile_bridge_params is missing" in problems
    assert ("orders: column(s) smile_direct_ship_recipient, smile_direct_ship_surcharge, smile_ship_to_code missing"
            in problems)
    assert install_problems(StoreReport.from_json(installed(addon=None)), "1.0.0")[0] == (
        "the add-on smile_bridge is not installed (no row in the add-ons table)")


@given(st.sets(st.sampled_from([s.key for s in schema.STATUSES])))
def test_uninstall_may_keep_exactly_the_statuses_orders_use(used: set[str]) -> None:
    before = StoreReport.from_json(installed())
    letters = {s.key: s.preferred for s in schema.STATUSES}
    statuses = dict(CORE) | {letters[key]: before.statuses[letters[key]] for key in used}
    orders = {letters[key]: 1 for key in used}
    assert uninstall_problems(StoreReport.from_json(removed(statuses=statuses, orders_by_status=orders)),
                              before) == []
    # a status no order uses must go
    leftover = dict(CORE) | {s.preferred: before.statuses[s.preferred] for s in schema.STATUSES}
    problems = uninstall_problems(StoreReport.from_json(removed(statuses=leftover, orders_by_status=orders)), before)
    assert len(problems) == len(schema.STATUSES) - len(used)


def test_uninstall_that_left_the_row_tables_and_columns_is_named() -> None:
    problems = uninstall_problems(StoreReport.from_json(installed()))
    assert problems[0] == "the add-on smile_bridge is still installed (status 'A')"
    assert "table smile_bridge_events is still there" in problems
    assert "products: column(s) smile_direct_ship_allowed still there" in problems


def test_console_errors_are_found_in_its_output() -> None:
    output = ("Backtrace\nFile:app/x.php\n\nError: Class \"SmileBridge\\StatusLetterPicker\" not found in /x:98\n"
              "[Notice] something")
    assert console_errors(output) == ['Error: Class "SmileBridge\\StatusLetterPicker" not found in /x:98']
