"""Fixtures for the SMILE edge: settings, a small generated export set, and helpers to write odd files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bridge.smile.generator import GeneratedSet, generate
from bridge.smile.layout import FileLayout
from bridge.smile.settings import SmileSettings


@pytest.fixture(scope="session")
def smile_settings() -> SmileSettings:
    return SmileSettings()


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory, smile_settings: SmileSettings) -> GeneratedSet:
    """A small, fixed export set; tests copy files out of it before changing them."""
    return generate(tmp_path_factory.mktemp("smile-set"), products=120, customers=40, warehouses=2, seed=7,
                    settings=smile_settings)


@pytest.fixture
def layout_of(smile_settings: SmileSettings) -> Callable[..., FileLayout]:
    def make(file_type: str, **changes: object) -> FileLayout:
        return smile_settings.layout(file_type).changed(**changes)

    return make


@pytest.fixture
def write_text(tmp_path: Path) -> Callable[..., Path]:
    """Write ``text`` as bytes in ``encoding`` (BOM and line endings exactly as given)."""

    def make(name: str, text: str, encoding: str = "cp932", bom: bytes = b"") -> Path:
        path = tmp_path / name
        path.write_bytes(bom + text.encode(encoding))
        return path

    return make


@pytest.fixture
def edit_cell() -> Callable[..., tuple[Path, int]]:
    """Copy ``source`` into ``folder`` with one cell (by line number and header name) replaced.

    Returns the copy and the 1-based column number of the cell.
    """

    def edit(source: Path, folder: Path, layout: FileLayout, line: int, header: str, value: str) -> tuple[Path, int]:
        with source.open(encoding=layout.encoding, newline="") as stream:
            lines = stream.read().split("\r\n")
        index = lines[0].lstrip("\ufeff").split(layout.delimiter).index(header)
        cells = lines[line - 1].split(layout.delimiter)
        cells[index] = value
        lines[line - 1] = layout.delimiter.join(cells)
        target = folder / source.name
        with target.open("w", encoding=layout.encoding, newline="") as stream:
            stream.write("\r\n".join(lines))
        return target, index + 1

    return edit
