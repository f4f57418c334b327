"""The shipped SMILE layouts are read with ruamel's C loader (fast, YAML 1.1); the config and the rules with the
pure one (YAML 1.2). The C loader must read the shipped file exactly as YAML 1.2 does — `no`, `on`, `0755`, `1_000`
mean different things in 1.1 — and be the one in use (the speed it is there for)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ruamel.yaml import YAML

from bridge.config import load_settings
from bridge.smile.settings import shipped_layouts


def test_the_c_loader_reads_the_shipped_layouts_as_yaml_1_2_does() -> None:
    text = resources.files("bridge.smile").joinpath("layouts/default.yaml").read_text(encoding="utf-8")
    fast = YAML(typ="safe", pure=False)
    assert fast.Parser.__name__ == "CParser", "ruamel.yaml.clib is installed and used"
    pure = YAML(typ="safe", pure=True).load(text)
    assert fast.load(text) == pure
    assert shipped_layouts() == {str(key): dict(value) for key, value in pure.items()}


def test_yaml_1_1_words_stay_text_in_the_config(tmp_path: Path) -> None:

    config = tmp_path / "config.yaml"
    config.write_text(f"data_dir: {tmp_path / 'data'}\nui: {{timezone: Asia/Tokyo}}\nlog: {{level: INFO}}\n"
                      "cscart: {email: no}\n", encoding="utf-8")
    assert load_settings(config).cscart.email == "no", "YAML 1.2: `no` is a word, not false"
