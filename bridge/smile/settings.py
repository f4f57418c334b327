"""Settings of the SMILE edge (``smile:`` in the config file): folders, completeness, limits and file layouts."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bridge.i18n import _
from bridge.smile.layout import FileLayout

# Characters a SMILE import cannot hold, and what is written instead; every substitution is reported.
DEFAULT_SUBSTITUTIONS: dict[str, str] = {
    "—": "―", "–": "－", "−": "－", "〜": "～", "¦": "｜",
    "𠮷": "吉", "髙": "高", "﨑": "崎", "\ufa10": "塚", "德": "徳", "濵": "濱", "栁": "柳", "琇": "秀",
    "①": "(1)", "②": "(2)", "③": "(3)", "④": "(4)", "⑤": "(5)", "⑥": "(6)", "⑦": "(7)", "⑧": "(8)",
    "⑨": "(9)", "⑩": "(10)", "Ⅰ": "I", "Ⅱ": "II", "Ⅲ": "III", "Ⅳ": "IV", "Ⅴ": "V",
    "㈱": "(株)", "㈲": "(有)", "㈹": "(代)", "㍿": "株式会社", "№": "No.", "℡": "TEL", "㎏": "kg", "㎝": "cm",
    "㎜": "mm", "㎡": "m2", "♡": "", "❤": "", "\u00a0": " ", "\u200b": "",
}


@cache
def shipped_layouts() -> dict[str, dict[str, Any]]:
    from ruamel.yaml import YAML

    text = resources.files("bridge.smile").joinpath("layouts/default.yaml").read_text(encoding="utf-8")
    # our own file, read by every process that loads the settings: the C loader (≈ 6× faster). It follows YAML 1.1,
    # so tests/smile/test_layouts_yaml.py proves it reads this file exactly as the YAML 1.2 loader does
    data = YAML(typ="safe", pure=False).load(text)
    return {str(key): dict(value) for key, value in data.items()}


def shipped_fields(file_type: str) -> frozenset[str]:
    """The row fields a written file type knows: the columns of its shipped layout, width-folded. A site's layout
    may write fewer of them (the rest are dropped) or rename some (``source``); any other field is a caller's
    mistake."""
    from bridge.smile.text import normalize_header

    columns = shipped_layouts().get(file_type, {}).get("columns") or {}
    return frozenset(normalize_header(str(name)) for name in columns)


def _merged(overrides: dict[str, Any] | None) -> dict[str, Any]:
    """A site's ``files:`` entries override the shipped layout key by key (columns too); new types are added."""
    merged: dict[str, Any] = {name: dict(layout) for name, layout in shipped_layouts().items()}
    for name, override in (overrides or {}).items():
        if isinstance(override, FileLayout):
            merged[name] = override.model_dump(exclude_unset=True)
            merged[name].setdefault("columns", override.columns)
            continue
        base = merged.setdefault(name, {})
        for key, value in dict(override or {}).items():
            mergeable = isinstance(value, dict) and isinstance(base.get("columns"), dict)
            if key == "columns" and mergeable and base.get("direction", "in") == "in":
                # Read columns merge, so a site renames one header without repeating the map; a written
                # file's columns are an ordered list and are replaced whole.
                base["columns"] = {**base["columns"], **value}
            else:
                base[key] = value
    for name, layout in merged.items():
        layout["type"] = name
    return merged


@dataclass(frozen=True, slots=True)
class SmileDirs:
    inbox: Path
    outbox: Path
    archive: Path
    error: Path

    def create(self) -> None:
        for path in (self.inbox, self.outbox, self.archive, self.error):
            path.mkdir(parents=True, exist_ok=True)


class SmileSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    inbox_dir: Path = Field(Path("smile/inbox"), description="Where SMILE exports arrive; relative to data_dir")
    outbox_dir: Path = Field(Path("smile/outbox"), description="Where import files for SMILE are written")
    archive_dir: Path = Field(Path("smile/archive"), description="Processed inbox files, in YYYYMMDD folders")
    error_dir: Path = Field(Path("smile/error"), description="Refused inbox files with NAME.error.txt beside them")
    completion: Literal["stable", "sentinel", "either"] = Field(
        "either", description="A file is complete when its size and mtime are stable, or a sentinel exists"
    )
    stable_seconds: float = Field(10.0, ge=0, description="Seconds a file must stay unchanged before it is taken")
    sentinel_suffix: str = Field(".done", description="NAME.done beside NAME marks NAME complete")
    watch_inbox: bool = Field(True, description="bridge run: run a file's job as soon as the file is complete "
                                                "(inotify); the job interval stays the fallback")
    max_file_bytes: int = Field(256 * 1024 * 1024, ge=1, description="Larger inbox files are refused, not loaded")
    misc_customer_codes: tuple[str, ...] = Field(("999999", "99999991"), description="得意先 諸口 codes")
    misc_product_codes: tuple[str, ...] = Field(("99999999",), description="商品 諸口 codes")
    substitutions: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_SUBSTITUTIONS),
        description="Text guard: characters the target cannot hold → what to write; replaces the shipped table",
    )
    files: dict[str, FileLayout] = Field(default_factory=dict, description="Layouts by file type")

    @model_validator(mode="before")
    @classmethod
    def _layouts_over_defaults(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {**data, "files": _merged(data.get("files"))}
        return data

    @model_validator(mode="after")
    def _layouts_match_schemas(self) -> SmileSettings:
        problems = check_layouts(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def layout(self, file_type: str) -> FileLayout:
        try:
            return self.files[file_type]
        except KeyError:
            known = ", ".join(sorted(self.files))
            raise KeyError(_("unknown SMILE file type {file_type!r}; configured types: {known}").format(
                               file_type=file_type, known=known)) from None

    def dirs(self, data_dir: Path) -> SmileDirs:
        def resolve(path: Path) -> Path:
            return path if path.is_absolute() else data_dir / path

        return SmileDirs(
            inbox=resolve(self.inbox_dir), outbox=resolve(self.outbox_dir), archive=resolve(self.archive_dir),
            error=resolve(self.error_dir),
        )


def check_layouts(settings: SmileSettings) -> list[str]:
    """Problems of readable layouts against their schema: unknown field names, required fields not mapped."""
    from bridge.smile.schema import SCHEMAS

    problems: list[str] = []
    for name, layout in settings.files.items():
        if layout.direction != "in":
            continue
        schema = SCHEMAS.get(name)
        if schema is None:
            problems.append(_("smile.files.{name}: no reader for this type; readable types: {items}").format(
                                name=name, items=', '.join(SCHEMAS)))
            continue
        for field_name in layout.columns:
            if field_name not in schema.names:
                problems.append(
                    _("smile.files.{name}.columns.{field_name}: unknown field; known: {items}").format(
                        name=name, field_name=field_name, items=', '.join(schema.names))
                )
        for spec in schema.fields:
            if spec.required and spec.name not in layout.columns:
                problems.append(_("smile.files.{name}.columns: required field {field!r} is not mapped").format(
                                    name=name, field=spec.name))
    return problems
