"""LineMemo: reading a file by parsing only its new lines gives exactly what a full read gives."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.smile.delta import LineMemo
from bridge.smile.reader import ReadResult, read_file

HEADER = "倉庫コード,倉庫名,商品コード,商品名,現在庫数量,引当数量,発注残数量,入荷予定日,有効在庫数量,操作日付"


def row(code: str, on_hand: str, warehouse: str = "01") -> str:
    return f"{warehouse},,{code},商品,{on_hand},0,0,,{on_hand},20261124150000"


def write(path: Path, lines: list[str], *, final_newline: bool = True) -> Path:
    text = "\r\n".join([HEADER, *lines]) + ("\r\n" if final_newline else "")
    path.write_bytes(text.encode("cp932"))
    return path


def same(a: ReadResult, b: ReadResult) -> None:
    assert a.ok == b.ok
    assert a.records == b.records
    assert a.skipped == b.skipped
    assert a.rows == b.rows
    assert a.problem_count == b.problem_count
    assert [str(p) for p in a.problems] == [str(p) for p in b.problems]
    assert a.notes == b.notes


BASE = [row(f"{10000000 + n}", str(n * 7 % 900)) for n in range(40)]

edits = st.lists(st.one_of(
    st.tuples(st.just("change"), st.integers(0, 39), st.integers(0, 2000).map(str)),
    st.tuples(st.just("drop"), st.integers(0, 39), st.just("")),
    st.tuples(st.just("add"), st.integers(0, 39), st.integers(0, 99).map(lambda n: row(f"2000{n:04d}", "5"))),
    st.tuples(st.just("repeat"), st.integers(0, 39), st.just("")),  # the same line twice: a duplicate key
    st.tuples(st.just("dupkey"), st.integers(0, 39), st.just("")),  # another line, an existing key
    st.tuples(st.just("bad"), st.integers(0, 39), st.sampled_from(["abc", "-", "1.2.3"])),
    st.tuples(st.just("blank"), st.integers(0, 39), st.just("")),
    st.tuples(st.just("misc"), st.integers(0, 39), st.just(row("99999999", "3"))),
    st.tuples(st.just("quoted"), st.integers(0, 39), st.just('01,"倉庫\r\nA",10000001,,1,0,0,,1,20261124150000')),
), max_size=6)


def apply(lines: list[str], changes: list[tuple[str, int, str]]) -> list[str]:
    lines = list(lines)
    for kind, at, value in changes:
        at = at % max(1, len(lines)) if lines else 0
        if kind in ("change", "dupkey", "bad") and len(lines[at].split(",")) < 3 if lines else False:
            continue  # a blank or quoted line has no code to edit
        if kind == "change" and lines:
            code = lines[at].split(",")[2]
            lines[at] = row(code, value)
        elif kind == "drop" and lines:
            del lines[at]
        elif kind == "add":
            lines.insert(at, value)
        elif kind == "repeat" and lines:
            lines.insert(at, lines[at])
        elif kind == "dupkey" and lines:
            code = lines[at].split(",")[2]
            lines.append(row(code, "123456"))
        elif kind == "bad" and lines:
            code = lines[at].split(",")[2]
            lines[at] = row(code, value)
        elif kind == "blank":
            lines.insert(at, "")
        elif kind in ("misc", "quoted"):
            lines.insert(at, value)
    return lines


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=edits, second=edits, third=edits)
def test_incremental_read_equals_full_read(first, second, third) -> None:  # type: ignore[no-untyped-def]
    memo = LineMemo("stock")
    with tempfile.TemporaryDirectory() as folder:
        lines = BASE
        for number, changes in enumerate((first, second, third)):
            lines = apply(lines, changes)
            path = write(Path(folder) / f"stock_{number}.csv", lines)
            same(memo.read(path, "stock"), read_file(path, "stock"))


def test_a_small_change_parses_only_the_changed_lines(tmp_path: Path) -> None:
    memo = LineMemo("stock")
    first = write(tmp_path / "a.csv", BASE)
    memo.read(first, "stock")
    assert memo.last is not None and not memo.last.incremental and memo.last.parsed_rows == len(BASE)
    lines = list(BASE)
    lines[3] = row("10000003", "777")
    del lines[10]
    second = write(tmp_path / "b.csv", lines)
    result = memo.read(second, "stock")
    same(result, read_file(second, "stock"))
    assert memo.last.incremental and memo.last.parsed_rows == 1
    assert [r.product_code for r in memo.last.changed] == ["10000003"]
    assert sorted(r.product_code for r in memo.last.removed) == ["10000003", "10000010"]
    again = memo.read(second, "stock")
    same(again, result)
    assert memo.last.incremental and memo.last.parsed_rows == 0 and not memo.last.changed


def test_a_truncated_file_is_read_in_full_and_reported(tmp_path: Path) -> None:
    memo = LineMemo("stock")
    memo.read(write(tmp_path / "a.csv", BASE), "stock")
    cut = write(tmp_path / "b.csv", BASE[:-1] + [BASE[-1][:12]], final_newline=False)
    result = memo.read(cut, "stock")
    same(result, read_file(cut, "stock"))
    assert not result.ok and memo.last is not None and not memo.last.incremental
