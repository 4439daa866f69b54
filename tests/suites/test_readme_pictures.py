"""README's flash map is the project's own output for a fixture, and a stale one is caught."""

from __future__ import annotations

from pathlib import Path

from ..conftest import ROOT
from .test_readme import tool


def test_the_readme_embeds_the_generated_map() -> None:
    module = tool()
    (picture,) = module.PICTURES
    assert picture.is_file()
    assert f"]({picture.relative_to(ROOT)})" in (ROOT / "README.md").read_text()
    assert module.stale_pictures(False) == [], "python fixtures/_tools/readme_blocks.py --write"


def test_a_stale_picture_is_found_and_rewritten(tmp_path: Path) -> None:
    module = tool()
    picture = tmp_path / "map.svg"
    picture.write_text("old")
    module.PICTURES = {picture: "esp-image info fixtures/firmware-esp32-4MB.bin -q --svg OUT"}
    assert module.stale_pictures(False) == [picture] and picture.read_text() == "old"
    assert module.stale_pictures(True) == [picture]
    assert picture.read_text().startswith("<?xml") and module.stale_pictures(False) == []
