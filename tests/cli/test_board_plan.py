"""``plan FILE --port PORT`` against the simulated board: each piece compared with the board's
flash MD5, only the sectors that differ backed up, written and checked; the flash file is then
read with esptool's image-info and ESP-IDF's gen_esp32part, and the backup written back with
plain esptool."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ..conftest import FIXTURES
from ..sim.test_serial_board import esptool
from .test_board_inspect import esp_image
from .test_board_write import esptool_image_info, sectors_differing
from .test_json_doc import assert_matches

pytest.importorskip("esptool")
idf_partitions = pytest.importorskip("esp_idf_defs.partitions")

SMALL = 0x100000  # 1 MB boards: the plans below end at 0x60000
LFS = FIXTURES / "firmware-esp32-lfs.bin"  # nvs, phy_init, factory, littlefs vfs at 0x40000
OLD = FIXTURES / "firmware-esp32-nvs.bin"  # the same layout, an NVS in use, no filesystem
BASE = 0x1000


def flashed(firmware: Path) -> bytes:
    return (b"\xff" * BASE + firmware.read_bytes()).ljust(SMALL, b"\xff")


def plan(board: Any, cwd: Path, *args: str, firmware: Path = LFS) -> Any:
    result = esp_image("plan", str(firmware), "--port", board.port, "--json", *args, cwd=cwd)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert_matches("Plan board document", doc)
    assert_matches("Board", doc["board"])
    for piece in doc["pieces"]:
        assert_matches("Plan board piece", piece)
    return doc


def check_independently(flash: bytes, tmp_path: Path) -> None:
    table = idf_partitions.PartitionTable.from_binary(flash[0x8000:0x8c00])
    factory = next(p for p in table if p.name == "factory")
    info = esptool_image_info(flash[factory.offset:factory.offset + factory.size], tmp_path)
    assert "Validation hash: " in info and "(valid)" in info
    boot = esptool_image_info(flash[0x1000:0x8000], tmp_path)
    assert "(valid)" in boot


def test_a_blank_board_gets_the_firmware_then_nothing(sim_board: Callable[..., Any],
                                                      tmp_path: Path) -> None:
    board = sim_board(size=SMALL)
    doc = plan(board, tmp_path)
    assert board.path.read_bytes() == flashed(LFS)  # blank around: nothing else was touched
    check_independently(board.path.read_bytes(), tmp_path)
    # an erase of erased flash is already there: only the writes' non-erased sectors go out
    assert all(not p["sectors"] for p in doc["pieces"] if p["action"] == "erase")
    assert doc["written"] and doc["board"]["bytes_written"] == len(doc["sectors"]) * 0x1000
    assert doc["board"]["bytes_read"] == 0  # the backup of erased sectors needs no read
    again = plan(board, tmp_path)
    assert not again["written"] and again["sectors"] == [] and again["backup"] is None
    assert again["board"]["bytes_read"] == again["board"]["bytes_written"] == 0
    assert all(p["sectors"] == [] for p in again["pieces"])


def test_an_older_firmware_is_replaced_and_kept_parts_stay(sim_board: Callable[..., Any],
                                                           tmp_path: Path) -> None:
    before = flashed(OLD)
    board = sim_board(before, size=SMALL)
    doc = plan(board, tmp_path, "--keep", "nvs")
    after = board.path.read_bytes()
    new = flashed(LFS)
    assert after[0x9000:0xf000] == before[0x9000:0xf000]  # nvs kept, with its settings
    written = [int(s, 16) for s in doc["sectors"]]
    assert sectors_differing(before, after) == written
    assert all(after[s:s + 0x1000] == new[s:s + 0x1000] for s in written)
    rest = [(0x1000, 0x9000), (0xf000, BASE + len(LFS.read_bytes()))]
    for start, end in rest:  # everything the plan covers outside nvs is the new firmware's
        left = [(x["address"], x["address"] + x["size"]) for x in doc["left"]]
        for s in range(start, end, 0x1000):
            if not any(a <= s < b for a, b in left):
                assert after[s:s + 0x1000] == new[s:s + 0x1000], hex(s)
    check_independently(after, tmp_path)
    # the backup holds exactly what was overwritten; plain esptool writes it back
    backup = tmp_path / doc["backup"]
    assert backup.suffix == ".hex" and "240ac4123456" in backup.name
    assert doc["restore"].endswith(f"write-flash 0x0 {doc['backup']}")
    restored = esptool(board, "write-flash", "0x0", str(backup))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert board.path.read_bytes() == before


def test_dry_run_compares_and_writes_nothing(sim_board: Callable[..., Any],
                                             tmp_path: Path) -> None:
    before = flashed(OLD)
    board = sim_board(before, size=SMALL)
    doc = plan(board, tmp_path, "--dry-run")
    assert board.path.read_bytes() == before and not doc["written"] and doc["changed"]
    assert doc["sectors"] and doc["backup"] is None and doc["board"]["bytes_written"] == 0
    nvs = next(p for p in doc["pieces"] if p["partition"] == "nvs")
    assert nvs["action"] == "erase" and nvs["sectors"]  # the old NVS pages would go
    text = esp_image("plan", str(LFS), "--port", board.port, "--dry-run", cwd=tmp_path)
    assert "nvs: would erase 2 sectors" in text.stdout and "already there" in text.stdout
    assert text.stdout.rstrip().splitlines()[-1] == f"{board.port}: read 0B, wrote 0B"


def test_backup_path_and_no_backup(sim_board: Callable[..., Any], tmp_path: Path) -> None:
    board = sim_board(flashed(OLD), size=SMALL)
    doc = plan(board, tmp_path, "--backup", str(tmp_path / "mine.hex"))
    assert doc["backup"] == str(tmp_path / "mine.hex") and (tmp_path / "mine.hex").exists()
    other = sim_board(flashed(OLD), size=SMALL)
    doc = plan(other, tmp_path, "--no-backup")
    assert doc["backup"] is None and doc["restore"] is None and doc["written"]
    assert list(tmp_path.glob("esp-image-backup-*")) == []


def test_firmware_for_another_chip_is_refused(sim_board: Callable[..., Any],
                                              tmp_path: Path) -> None:
    board = sim_board(flashed(OLD), size=SMALL)
    result = esp_image("plan", str(FIXTURES / "firmware-esp32s3.bin"), "--port", board.port,
                       cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "esp32s3" in result.stderr and result.stderr.count("\n") == 1
    assert board.path.read_bytes() == flashed(OLD)


def test_a_failed_md5_names_the_backup(sim_board: Callable[..., Any], tmp_path: Path) -> None:
    board = sim_board(flashed(OLD), size=SMALL)
    board.corrupt_writes = True
    result = esp_image("plan", str(LFS), "--port", board.port, cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    backup = next(tmp_path.glob("esp-image-backup-*.hex"))
    assert "does not match" in result.stderr and f"backup: {backup.name}" in result.stderr


@pytest.mark.parametrize("args,says", [(["-o", "dir"], "-o DIR"),
                                       (["--backup", "x", "--no-backup"], "contradict")])
def test_option_mistakes_are_one_line(sim_board: Callable[..., Any], tmp_path: Path,
                                      args: list[str], says: str) -> None:
    board = sim_board(flashed(OLD), size=SMALL)
    result = esp_image("plan", str(LFS), "--port", board.port, *args, cwd=tmp_path)
    assert result.returncode == 2 and says in result.stderr
    assert result.stderr.count("\n") == 1 and board.path.read_bytes() == flashed(OLD)


def test_assume_erased_leaves_the_old_bytes(sim_board: Callable[..., Any],
                                            tmp_path: Path) -> None:
    before = flashed(OLD)
    board = sim_board(before, size=SMALL)
    doc = plan(board, tmp_path, "--assume-erased")
    assert doc["assume_erased"] and all(p["action"] == "write" for p in doc["pieces"])
    after = board.path.read_bytes()
    # this firmware's NVS is erased: on a board taken as blank the old pages stay
    assert after[0x9000:0xf000] == before[0x9000:0xf000] != flashed(LFS)[0x9000:0xf000]
    assert after[0x10000:0x35000] == flashed(LFS)[0x10000:0x35000]
