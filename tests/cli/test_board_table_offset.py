"""A board whose partition table is not at 0x8000 (CONFIG_PARTITION_TABLE_OFFSET, for a large
bootloader): found as in a file, by probing 4 KiB boundaries, and the board reads as the same
flash does from a file."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from esp_image import Image, PartitionTable
from esp_image.partition_csv import decode_csv

from .test_board_inspect import FIRMWARE, FLASH, esp_image

pytest.importorskip("esptool")

TABLE_AT = 0x10000
CSV = (b"nvs, data, nvs, 0x11000, 0x6000\n"
       b"phy_init, data, phy, 0x17000, 0x1000\n"
       b"factory, app, factory, 0x20000, 0x100000\n")


def relocated_flash() -> bytes:
    """The fixture's bootloader and app, with a table at 0x10000 and the app at 0x20000."""
    image = Image.open(FIRMWARE)
    boot, app = (next(r for r in image.regions if r.kind == "image" and r.name == name)
                 for name in ("bootloader", "factory"))
    table = PartitionTable.from_csv(decode_csv(CSV, "test.csv"), table_offset=TABLE_AT)
    flash = bytearray(b"\xff" * FLASH)
    for address, data in ((0x1000, image.data[boot.offset:boot.offset + boot.size]),
                          (TABLE_AT, table.to_bytes()),
                          (0x20000, image.data[app.offset:app.offset + app.size])):
        flash[address:address + len(data)] = data
    return bytes(flash)


def test_a_relocated_table_is_found_on_the_board(sim_board: Callable[..., Any],
                                                tmp_path: Path) -> None:
    flash = relocated_flash()
    (tmp_path / "flash.bin").write_bytes(flash)
    from_file = json.loads(esp_image("info", str(tmp_path / "flash.bin"), "--json").stdout)
    assert from_file["valid"], from_file["checks"]
    board = sim_board(flash, size=FLASH)
    result = esp_image("verify", "--port", board.port, "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    doc = json.loads(result.stdout)
    assert [(p["name"], p["offset"]) for p in doc["partitions"]] == \
        [(p["name"], p["offset"]) for p in from_file["partitions"]] == \
        [("nvs", 0x11000), ("phy_init", 0x17000), ("factory", 0x20000)]
    assert any(a <= TABLE_AT < b for a, b in doc["board"]["read"])
    # probes, the table sector, the bootloader and the app: never the whole first megabyte
    assert doc["board"]["bytes_read"] < 0x20000 + len(Image.open(FIRMWARE).data) // 2
