"""``retable`` carries NVS: kept when the partition moves or grows, repacked when it shrinks and
the keys fit, refused with the numbers otherwise (issue 15)."""

from __future__ import annotations

from pathlib import Path

import pytest

from esp_image.errors import LayoutError
from esp_image.image import Image
from esp_image.nvs import NvsPartition, find_nvs
from esp_image.transforms.retable import RetableOptions, retable

from ..conftest import FIXTURES
from ..models.nvs.test_nvs_oracles import assert_matches_dump, nvs_tool

FIRMWARE = FIXTURES / "firmware-esp32-nvs.bin"  # nvs 0x9000 24K, phy_init, factory 0x10000


def _values(image: Image) -> dict[tuple[str, str], object]:
    (found,) = find_nvs(image)
    return {(e.namespace, e.key): e.value for e in found.nvs.entries()}


def _retable(tmp_path: Path, csv: str) -> tuple[Image, list[str]]:
    table = tmp_path / "parts.csv"
    table.write_text(csv)
    result = retable(Image.open(FIRMWARE), RetableOptions.parse(table=str(table)))
    return Image.from_bytes(result.data), result.actions


def test_nvs_that_moves_and_grows_keeps_its_keys(tmp_path: Path) -> None:
    before = _values(Image.open(FIRMWARE))
    after, actions = _retable(tmp_path, "phy_init, data, phy, 0x9000, 4K\n"
                                        "nvs, data, nvs, 0xa000, 0x6000\n"
                                        "factory, app, factory, 0x10000, 1M\n")
    assert _values(after) == before
    line = next(a for a in actions if a.startswith("nvs:"))
    assert "moved from 0x9000 to 0xa000" in line and f"{len(before)} keys" in line
    assert after.valid
    grown, _ = _retable(tmp_path, "nvs, data, nvs, 0x9000, 0x7000\n"
                                  "factory, app, factory, 0x10000, 1M\n")
    assert _values(grown) == before


def test_nvs_that_shrinks_is_repacked(tmp_path: Path) -> None:
    after, actions = _retable(tmp_path, "nvs, data, nvs, 0x9000, 0x3000\n"
                                        "phy_init, data, phy, 0xc000, 4K\n"
                                        "factory, app, factory, 0x10000, 1M\n")
    assert _values(after) == _values(Image.open(FIRMWARE)) and after.valid
    assert any(a.startswith("nvs: NVS repacked from 0x6000 into 0x3000") for a in actions)


def test_nvs_that_cannot_shrink_is_refused_with_the_numbers(tmp_path: Path) -> None:
    full = NvsPartition.mkfs(0x6000)
    for n in range(300):
        full.set("app", f"k{n}", n, "u32")
    data = bytearray(FIRMWARE.read_bytes())
    (found,) = find_nvs(Image.from_bytes(bytes(data)))
    data[found.offset:found.offset + 0x6000] = full.to_bytes()
    table = tmp_path / "parts.csv"
    table.write_text("nvs, data, nvs, 0x9000, 0x3000\nfactory, app, factory, 0x10000, 1M\n")
    with pytest.raises(LayoutError, match=r"nvs: NVS cannot shrink to 0x3000 bytes: NVS "
                                          r"content needs 9632 bytes \(301 entries\)"):
        retable(Image.from_bytes(bytes(data)), RetableOptions.parse(table=str(table)))


def test_a_damaged_nvs_does_not_block_a_table_that_keeps_it(tmp_path: Path) -> None:
    data = bytearray(FIRMWARE.read_bytes())
    (found,) = find_nvs(Image.from_bytes(bytes(data)))
    data[found.offset + found.nvs.entries()[0].offset + 24] ^= 1
    image = Image.from_bytes(bytes(data))
    assert not image.valid
    result = retable(image, RetableOptions(flash_size=0x800000))
    assert result.data[found.offset:found.offset + 0x6000] == \
        bytes(data[found.offset:found.offset + 0x6000])


@pytest.mark.oracle
def test_esp_idf_reads_the_moved_and_repacked_nvs(tmp_path: Path) -> None:
    """ESP-IDF's own nvs_tool finds no error in the carried partitions and the same values."""
    for csv in ("nvs, data, nvs, 0xa000, 0x6000\nfactory, app, factory, 0x10000, 1M\n",
                "nvs, data, nvs, 0x9000, 0x3000\nfactory, app, factory, 0x10000, 1M\n"):
        after, _ = _retable(tmp_path, csv)
        (found,) = find_nvs(after)
        problems, dump = nvs_tool(found.nvs.to_bytes(), tmp_path)
        assert problems == []
        assert_matches_dump(NvsPartition.from_bytes(found.nvs.to_bytes()), dump)
