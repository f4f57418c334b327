"""rules/shipping.yaml: the shipped example loads; every mistake is reported with file, line and key."""

from __future__ import annotations

from datetime import date

from pathlib import Path

import pytest

from bridge.carriers.rules import Service, load_shipping_rules, resolve_service
from bridge.errors import ConfigError
from tests.carriers.samples import SHIPPED_RULES, order, shipped_rules


def test_shipped_rules_load() -> None:
    rules = shipped_rules()
    assert rules.carriers.yamato is not None and rules.carriers.yamato.billing_customer_code == "031234567801"
    assert rules.notification.mode == "times" and rules.notification.times == ["12:00", "17:00"]
    assert rules.delay_watch.national_holidays and date(2026, 12, 31) in rules.delay_watch.holidays
    assert rules.text_table()["〜"] == "～"


def _broken(tmp_path: Path, old: str, new: str) -> tuple[Path, int]:
    text = SHIPPED_RULES.read_text(encoding="utf-8")
    assert old in text, old
    broken = text.replace(old, new, 1)
    path = tmp_path / "shipping.yaml"
    path.write_text(broken, encoding="utf-8")
    line = broken[: broken.index(new)].count("\n") + 1 + new[: len(new) - len(new.lstrip("\n"))].count("\n")
    return path, line


def _error(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_shipping_rules(path)
    return str(caught.value)


@pytest.mark.parametrize(("old", "new", "key", "words"), [
    ('    billing_customer_code: "031234567801"', '    billing_customer_code: "0312"',
     "carriers.yamato.billing_customer_code", "'0312' has the wrong form (allowed: ^\\d{10,12}$)"),
    ('    freight_number: "01" ', '    freight_number: "1" ', "carriers.yamato.freight_number", "has the wrong form"),
    ('      times: ["10:00", "15:00"]             # JST', '      times: ["25:00"]             # JST',
     "carriers.yamato.schedule.times", "'25:00' is not a time of day"),
    ("    honorific: 様                           # 敬称", "    honorifc: 様",
     "carriers.yamato.honorifc", "unknown key; did you mean honorific?"),
    ("    service: nekopos", "    service: nekopost", "methods.2.service", "'nekopost' is not allowed here; use one of: prepaid"),
    ("  business_days: 2", "  business_days: -1", "delay_watch.business_days", "must be 0 or more, got -1"),
    ("    time_slots: {none: \"\", am: \"51\"", "    time_slots: {none: \"\", noon: \"51\"",
     "carriers.japanpost.time_slots", "unknown time slot 'noon'"),
])
def test_field_errors_name_file_line_and_key(tmp_path: Path, old: str, new: str, key: str, words: str) -> None:
    """pydantic's own text ("should match pattern", "Input should be") is replaced by the plain sentences of
    bridge/i18n/validation.py, as for the other rules files."""
    path, line = _broken(tmp_path, old, new)
    message = _error(path)
    assert f"{path}:{line}: {key}: " in message and words in message


def test_method_for_an_unconfigured_carrier(tmp_path: Path) -> None:
    text = SHIPPED_RULES.read_text(encoding="utf-8")
    start, end = text.index("  # Sagawa e飛伝"), text.index("  # Japan Post ゆうパックプリントR")
    path = tmp_path / "shipping.yaml"
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    method_line = text.index("    shipping_ids: [4]")
    line = text[:method_line].count("\n")  # the "- names:" line of that method
    message = _error(path)
    assert f"{path}:{line}: (top level): methods[3]: carrier sagawa is not configured under carriers" in message


def test_sagawa_handling_needs_a_seal_code(tmp_path: Path) -> None:
    path, _ = _broken(tmp_path, "    carrier: sagawa\n    service: prepaid\n",
                      "    carrier: sagawa\n    service: prepaid\n    handling: [ワレ物注意]\n")
    assert "handling ['ワレ物注意'] has no 指定シール code in carriers.sagawa.seal_codes" in _error(path)


def test_service_the_carrier_does_not_offer(tmp_path: Path) -> None:
    path, _ = _broken(tmp_path, "    carrier: sagawa\n    service: prepaid\n",
                      "    carrier: sagawa\n    service: nekopos\n")
    assert "sagawa has no service 'nekopos'" in _error(path)


def test_yaml_syntax_error_has_a_line(tmp_path: Path) -> None:
    path = tmp_path / "shipping.yaml"
    path.write_text("version: 1\nshipper: [unclosed\n", encoding="utf-8")
    assert _error(path).startswith(f"{path}:")


def test_missing_file_and_wrong_top_level(tmp_path: Path) -> None:
    assert "shipping rules not found" in _error(tmp_path / "absent.yaml")
    path = tmp_path / "list.yaml"
    path.write_text("- a\n", encoding="utf-8")
    assert "top level must be a mapping" in _error(path)


def test_resolve_by_id_name_and_cod_payment() -> None:
    rules = shipped_rules()
    method, service = resolve_service(order(shipping_id=4), rules)  # type: ignore[misc]
    assert method.carrier == "sagawa" and service is Service.PREPAID
    by_name = order(shipping_id=99, shipping_method="ゆうパック")
    assert resolve_service(by_name, rules)[0].carrier == "japanpost"  # type: ignore[index]
    cod = order(shipping_id=1, payment_method="代金引換")
    assert resolve_service(cod, rules)[1] is Service.COD  # type: ignore[index]


def test_unknown_method_and_cod_without_variant_explain_the_fix() -> None:
    rules = shipped_rules()
    assert "add one under methods" in resolve_service(order(shipping_id=99), rules)  # type: ignore[operator]
    nekopos_cod = order(shipping_id=3, payment_method="代金引換")
    assert "has no COD variant" in resolve_service(nekopos_cod, rules)  # type: ignore[operator]


def test_shipper_postcode_and_phone_are_checked_when_loading(tmp_path: Path) -> None:
    path, line = _broken(tmp_path, "  phone: 03-1234-5678\n", "  phone: 03-1234\n")
    assert f"{path}:{line}: shipper.phone: phone '03-1234' must be a Japanese number" in _error(path)
    assert shipped_rules().shipper.postcode == "1000005"


def test_label_schedules_and_mail_times_share_one_time_of_day_check() -> None:
    """``TimesOfDay``: HH:MM (24 h), sorted, each once; the same for a carrier's schedule and the mail times."""
    from pydantic import ValidationError

    from bridge.carriers.rules import Notification, Schedule

    assert Schedule(times=["15:00", "09:30", "15:00"]).times == ["09:30", "15:00"]
    assert Notification(mode="times", times=["17:00", "12:00"]).times == ["12:00", "17:00"]
    for model in (Schedule, Notification):
        with pytest.raises(ValidationError, match="'9:30' is not a time of day HH:MM"):
            model(times=["9:30"])
        with pytest.raises(ValidationError, match="'24:00' is not a time of day HH:MM"):
            model(times=["12:00", "24:00"])
