"""The simulated board as an ESP32-S3, against esptool itself: esptool must detect an S3 the
way it detects a real one (GET_SECURITY_INFO, then the S3's eFuse and SPI registers) and read
and write the flash file's bytes, through its stub and through the ROM."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .serial_board import (
    FLASH_DEFL_DATA,
    GET_SECURITY_INFO,
    MEM_END,
    READ_FLASH_SLOW,
    SimulatedBoard,
)
from .test_serial_board import esptool

pytest.importorskip("esptool")


def s3_board(sim_board: Callable[..., Any], content: bytes = b"", size: int = 0x100000,
             **kwargs: Any) -> SimulatedBoard:
    board: SimulatedBoard = sim_board(content, size, chip="esp32s3", **kwargs)
    return board


def test_esptool_detects_an_s3_by_its_chip_id(sim_board: Callable[..., Any]) -> None:
    board = s3_board(sim_board, mac=bytes.fromhex("a0b1c2d3e4f5"))
    result = esptool(board, "read-mac")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Detecting chip type... ESP32-S3" in result.stdout
    assert "ESP32-S3 (QFN56) (revision v0.2)" in result.stdout
    assert "a0:b1:c2:d3:e4:f5" in result.stdout
    # the chip id answered it: esptool had no need of the ESP32's magic word
    assert GET_SECURITY_INFO in board.commands


def test_the_wrong_chip_argument_is_named(sim_board: Callable[..., Any]) -> None:
    board = s3_board(sim_board)
    result = esptool(board, "--chip", "esp32", "read-mac")
    assert result.returncode != 0
    assert "This chip is ESP32-S3, not ESP32" in result.stdout + result.stderr


def test_security_info_is_the_s3_roms(sim_board: Callable[..., Any]) -> None:
    board = s3_board(sim_board)
    from esptool.cmds import detect_chip

    with detect_chip(board.port, connect_mode="no-reset") as esp:
        info = esp.get_security_info()
        assert info["chip_id"] == 9 and info["flags"] == 0
        assert info["flash_crypt_cnt"] == 0 and info["key_purposes"] == (0,) * 7
        assert not esp.get_flash_encryption_enabled() and not esp.get_secure_boot_enabled()
        # the JEDEC id through the S3's SPI registers: Winbond, 0x40, 1 MB
        assert esp.flash_id() == 0x1440EF


def test_the_esp32_rom_still_refuses_security_info(sim_board: Callable[..., Any]) -> None:
    board = sim_board()
    result = esptool(board, "read-mac")
    assert result.returncode == 0 and "Detecting chip type... ESP32\n" in result.stdout
    # asked and refused, so esptool read the magic word instead
    assert GET_SECURITY_INFO in board.commands


@pytest.mark.parametrize("stub", [False, True])
def test_read_flash_is_the_flash_file(sim_board: Callable[..., Any], tmp_path: Path,
                                      stub: bool) -> None:
    content = random.Random(4).randbytes(0x10000)
    board = s3_board(sim_board, content)
    out = tmp_path / "out.bin"
    result = esptool(board, "read-flash", "0", "0x10000", str(out), stub=stub)
    assert result.returncode == 0, result.stdout + result.stderr
    assert out.read_bytes() == content
    # without the stub, the S3 ROM's own 64-byte reads served it
    assert (READ_FLASH_SLOW in board.commands) == (not stub)


@pytest.mark.parametrize(("mode", "stub"), [("-u", False), ("-z", False), ("-z", True)])
def test_write_flash_round_trip(sim_board: Callable[..., Any], tmp_path: Path, mode: str,
                                stub: bool) -> None:
    before = random.Random(5).randbytes(0x40000)
    board = s3_board(sim_board, before, size=0x40000)
    new = (b"esp32-s3 " * 1000)[:9000]
    (tmp_path / "w.bin").write_bytes(new)
    result = esptool(board, "write-flash", mode, "0x11000", str(tmp_path / "w.bin"), stub=stub)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Hash of data verified" in result.stdout
    after = board.path.read_bytes()
    assert after[0x11000:0x11000 + len(new)] == new
    assert after[:0x11000] == before[:0x11000] and after[0x14000:] == before[0x14000:]
    assert (FLASH_DEFL_DATA in board.commands) == (mode == "-z")
    assert (MEM_END in board.commands) == stub
    back = tmp_path / "back.bin"
    result = esptool(board, "read-flash", "0x11000", str(len(new)), str(back), stub=stub)
    assert result.returncode == 0 and back.read_bytes() == new


def test_an_unknown_chip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"\xff" * 0x10000)
    with pytest.raises(ValueError, match="esp32, esp32s3"):
        SimulatedBoard(path, chip="esp32c3")
