"""Hostile Intel HEX and UF2 files: addresses far apart, overlapping data, huge block counts.
Every command answers with one line (or a report) in bounded memory and time; nothing is laid
out before the addresses are checked."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from esp_image.chips import chip_by_name
from esp_image.containers import encode

from .test_bounds import assert_bounded
from .test_contract import run


def _uf2_at(address: int, payload: bytes = b"\x01" * 16, number: int = 0,
            total: int = 1) -> bytes:
    block = encode("uf2", 0, payload, chip_by_name("esp32"))[:512]
    return block[:12] + struct.pack("<IIII", address, len(payload), number, total) + block[28:]


HOSTILE = {
    # two bytes 2 GB apart: laying them out would take 2 GB
    "hex 2GB apart": b":0100000001FE\n:020000048000FA\n:0100000001FE\n:00000001FF\n",
    # 20000 records writing the same 16 bytes
    "hex overlapping": b":10000000000102030405060708090A0B0C0D0E0F78\n" * 20000
                       + b":00000001FF\n",
    "uf2 2GB apart": _uf2_at(0) + _uf2_at(0x80000000, number=1, total=2),
    "uf2 total 0xFFFFFFFF": _uf2_at(0x10000, total=0xFFFFFFFF),
    "uf2 overlapping": b"".join(_uf2_at(0x10000, number=i, total=5000) for i in range(5000)),
}
COMMANDS = {
    "info": lambda f, out: ["info", f],
    "verify": lambda f, out: ["verify", "--json", f],
    "retable": lambda f, out: ["retable", "--table", "ota", f, "-o", out],
    "extract": lambda f, out: ["extract", f, "factory", "-o", out],
    "merge": lambda f, out: ["merge", "-o", out, f"0x0={f}"],
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_hostile_container_in_bounded_memory_and_time(tmp_path: Path, name: str,
                                                      command: str) -> None:
    path = tmp_path / ("in.uf2" if name.startswith("uf2") else "in.hex")
    path.write_bytes(HOSTILE[name])
    assert_bounded(run(*COMMANDS[command](str(path), str(tmp_path / "out.bin")), timeout=60,
                       memory_limit_mb=1024, cwd=tmp_path))
