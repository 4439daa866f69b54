"""The simulated board against esptool itself: what esptool reads and writes over the ROM
protocol must be the flash file's bytes (so the board tests can trust it as a stand-in)."""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .serial_board import FLASH_DEFL_DATA, MEM_END, SimulatedBoard, slip_decode, slip_encode

pytest.importorskip("esptool")


def esptool(board: SimulatedBoard, *args: str, stub: bool = False
            ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "esptool", "--port", board.port,
                           *(() if stub else ("--no-stub",)), *args], check=False,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "NO_COLOR": "1"})


def test_slip_round_trip() -> None:
    payload = bytes(range(256)) + b"\xc0\xdb\xc0"
    frame = slip_encode(payload)
    assert frame.count(b"\xc0") == 2
    assert slip_decode(frame[1:-1]) == payload


def test_esptool_detects_an_esp32_with_its_mac(sim_board: Callable[..., Any]) -> None:
    board = sim_board(mac=bytes.fromhex("a0b1c2d3e4f5"))
    result = esptool(board, "read-mac")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ESP32" in result.stdout
    assert "a0:b1:c2:d3:e4:f5" in result.stdout


@pytest.mark.parametrize("stub", [False, True])
def test_read_flash_is_the_flash_file(sim_board: Callable[..., Any], tmp_path: Path,
                                      stub: bool) -> None:
    content = random.Random(1).randbytes(0x10000)
    board = sim_board(content)
    out = tmp_path / "out.bin"
    result = esptool(board, "read-flash", "0", "0x10000", str(out), stub=stub)
    assert result.returncode == 0, result.stdout + result.stderr
    assert out.read_bytes() == content


@pytest.mark.parametrize(("mode", "stub"), [("-u", False), ("-z", False), ("-z", True)])
def test_write_flash_erases_whole_sectors_and_programs(
        sim_board: Callable[..., Any], tmp_path: Path, mode: str, stub: bool) -> None:
    before = random.Random(2).randbytes(0x40000)
    board = sim_board(before, size=0x40000)
    new = (b"esp-image " * 1000)[:9000]  # compressible, and not a whole sector
    (tmp_path / "w.bin").write_bytes(new)
    result = esptool(board, "write-flash", mode, "0x11000", str(tmp_path / "w.bin"), stub=stub)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Hash of data verified" in result.stdout
    after = board.path.read_bytes()
    assert after[0x11000:0x11000 + len(new)] == new
    # the ROM erases the sectors it writes, nothing outside them
    assert after[0x11000 + len(new):0x14000] == b"\xff" * (0x14000 - 0x11000 - len(new))
    assert after[:0x11000] == before[:0x11000] and after[0x14000:] == before[0x14000:]
    assert (FLASH_DEFL_DATA in board.commands) == (mode == "-z")
    assert (MEM_END in board.commands) == stub


def test_md5_is_the_rom_answer(sim_board: Callable[..., Any]) -> None:
    content = random.Random(3).randbytes(0x2000)
    board = sim_board(content)
    from esptool.cmds import detect_chip

    with detect_chip(board.port, connect_mode="no-reset") as esp:
        assert esp.flash_md5sum(0, 0x2000) == hashlib.md5(content).hexdigest()


def test_flash_data_without_begin_is_refused(sim_board: Callable[..., Any]) -> None:
    board = sim_board(b"\x0f" * 0x1000)
    from esptool.cmds import detect_chip

    with detect_chip(board.port, connect_mode="no-reset") as esp:
        esp.flash_spi_attach(0)
        # FLASH_DATA without FLASH_BEGIN's erase of this sector is refused outright
        with pytest.raises(Exception, match="Failed"):
            esp.flash_block(b"\xf0" * 0x400, 0)
    assert board.path.read_bytes()[:0x1000] == b"\x0f" * 0x1000
