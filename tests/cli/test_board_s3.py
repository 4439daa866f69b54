"""``--port`` on an ESP32-S3 (the simulated board as an S3): its bootloader at 0x0, found by the
chip esptool detects; what esp-image reads from the board says what it says of the same flash
as a file, and a write changes only the sectors it must (checked with esptool and esp-image on
the flash file)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ..conftest import FIXTURES
from .test_board_inspect import FLASH, esp_image, flash_of
from .test_board_write import esptool_image_info, sectors_differing

pytest.importorskip("esptool")

FIRMWARE = FIXTURES / "firmware-esp32s3.bin"  # bootloader at 0x0, factory app at 0x10000


def s3_flash(firmware: Path = FIRMWARE) -> bytes:
    return flash_of(firmware, base=0)


def start(sim_board: Callable[..., Any], content: bytes) -> Any:
    return sim_board(content, size=FLASH, chip="esp32s3")


def partitions(doc: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(p["name"], p["type"], p["subtype"], p["offset"], p["size"], p["flags"])
            for p in doc["partitions"]]


def as_file(tmp_path: Path, content: bytes) -> Path:
    path = tmp_path / "same.flash"
    path.write_bytes(content)
    return path


@pytest.mark.parametrize("stub", [False, True])
def test_info_on_the_board_is_info_on_the_file(sim_board: Callable[..., Any], tmp_path: Path,
                                               stub: bool) -> None:
    flash = s3_flash()
    board = start(sim_board, flash)
    on_board = esp_image("info", "--port", board.port, "--json",
                         *(() if stub else ("--no-stub",)))
    assert on_board.returncode == 0, on_board.stderr
    doc = json.loads(on_board.stdout)
    file_doc = json.loads(esp_image("info", "--json", str(as_file(tmp_path, flash))).stdout)
    assert doc["board"]["chip"] == doc["chip"] == file_doc["chip"] == "esp32s3"
    assert doc["valid"] and file_doc["valid"]
    assert partitions(doc) == partitions(file_doc) and len(partitions(doc)) == 4
    assert doc["boot"]["target"] == file_doc["boot"]["target"] == "factory"
    assert doc["board"]["bytes_written"] == 0 and doc["board"]["bytes_read"] < 0x30000


def test_verify_on_the_board_is_verify_on_the_file(sim_board: Callable[..., Any],
                                                   tmp_path: Path) -> None:
    flash = bytearray(s3_flash())
    clean = start(sim_board, bytes(flash))
    assert esp_image("verify", "-q", "--port", clean.port).returncode == 0
    flash[0x10000 + 0x100] ^= 0xFF  # inside the factory app's first segment
    damaged = start(sim_board, bytes(flash))
    on_board = esp_image("verify", "--port", damaged.port, "--json")
    on_file = esp_image("verify", "--json", str(as_file(tmp_path, bytes(flash))))
    assert on_board.returncode == on_file.returncode == 1, on_board.stdout + on_board.stderr
    failed = [{c["name"] for c in json.loads(r.stdout)["checks"] if not c["valid"]}
              for r in (on_board, on_file)]
    assert failed[0] == failed[1] and failed[0]


def test_the_wrong_chip_is_one_line(sim_board: Callable[..., Any]) -> None:
    board = start(sim_board, s3_flash())
    result = esp_image("info", "--port", board.port, "--chip", "esp32")
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1 and "ESP32-S3" in result.stderr


def test_flash_params_writes_only_the_headers_sectors(sim_board: Callable[..., Any],
                                                       tmp_path: Path) -> None:
    before = s3_flash()
    board = start(sim_board, before)
    (tmp_path / "cwd").mkdir()
    result = esp_image("flash-params", "--freq", "80m", "--port", board.port, "--no-stub",
                       "--json", cwd=tmp_path / "cwd")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    after = board.path.read_bytes()
    # the bootloader's header (at 0x0 on an S3) and its SHA-256 at 0x3180, the app's header
    # and its SHA-256 at the end of its 0x18050 bytes
    assert sectors_differing(before, after) == [int(s, 16) for s in doc["sectors"]]
    assert sectors_differing(before, after) == [0x0, 0x3000, 0x10000, 0x28000]
    assert doc["backup_address"] == 0x0
    boot = esptool_image_info(after[:0x8000], tmp_path, "esp32s3")
    assert "80m" in boot.replace("MHz", "m").lower() and "(valid)" in boot
    app = esptool_image_info(after[0x10000:0x200000], tmp_path, "esp32s3")
    assert "Validation hash: " in app and "(valid)" in app
    check = esp_image("verify", "--json", str(as_file(tmp_path, after)))
    assert check.returncode == 0, check.stdout
    expected = tmp_path / "expected.bin"
    on_file = esp_image("flash-params", "--freq", "80m", "-o", str(expected),
                        str(as_file(tmp_path, before)))
    assert on_file.returncode == 0, on_file.stderr
    assert expected.read_bytes() == after


def test_otadata_on_the_board(sim_board: Callable[..., Any], tmp_path: Path) -> None:
    ota = tmp_path / "ota.bin"
    made = esp_image("retable", "--table", "ota", "-o", str(ota), str(FIRMWARE))
    assert made.returncode == 0, made.stderr
    before = s3_flash(ota)
    board = start(sim_board, before)
    result = esp_image("otadata", "--boot", "ota_1", "--force", "--port", board.port,
                       "--no-backup", "--json")
    assert result.returncode == 0, result.stderr
    after = board.path.read_bytes()
    table = json.loads(esp_image("info", "--json", str(as_file(tmp_path, after))).stdout)
    otadata = next(p for p in table["partitions"] if p["subtype"] == "ota")
    assert sectors_differing(before, after) == [otadata["offset"] + 0x1000]
    shown = esp_image("otadata", "--json", str(tmp_path / "same.flash"))
    assert json.loads(shown.stdout)["boot"]["selected"] == "ota_1"
    # the same command on the flash as a file gives the same bytes
    expected = tmp_path / "expected.bin"
    on_file = esp_image("otadata", "--boot", "ota_1", "--force", "-o", str(expected),
                        str(as_file(tmp_path, before)))
    assert on_file.returncode == 0, on_file.stderr
    assert expected.read_bytes() == after
