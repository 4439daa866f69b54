"""``flash-params``, ``otadata`` and ``retable`` with ``--port`` against the simulated board:
only the sectors that change are written, each MD5-checked, after a backup; the flash file is
then checked with readers that are not esp-image's (esptool, gen_esp32part, zlib)."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ..conftest import FIXTURES
from .test_board_inspect import FLASH, esp_image, flash_of
from .test_json_doc import assert_matches

pytest.importorskip("esptool")
idf_partitions = pytest.importorskip("esp_idf_defs.partitions")

FIRMWARE = FIXTURES / "firmware-esp32-4MB.bin"  # factory app at 0x10000, fat at 0x200000


@pytest.fixture
def cwd(tmp_path: Path) -> Path:
    """Where the commands run (and write their backups): not where the flash files are."""
    (tmp_path / "cwd").mkdir()
    return tmp_path / "cwd"


def sectors_differing(a: bytes, b: bytes) -> list[int]:
    return [s for s in range(0, len(a), 0x1000) if a[s:s + 0x1000] != b[s:s + 0x1000]]


def board_written(board: Any, result: subprocess.CompletedProcess[str], before: bytes
                  ) -> tuple[dict[str, Any], bytes, list[int]]:
    """A board write's JSON document (checked against JSON.md), the simulator's flash after
    it, and the sectors that changed: exactly the ones the document names."""
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert_matches("Board write document", doc)
    after = board.path.read_bytes()
    changed = sectors_differing(before, after)
    assert changed == [int(s, 16) for s in doc["sectors"]]
    return doc, after, changed


def esptool_image_info(data: bytes, tmp_path: Path, chip: str = "esp32") -> str:
    path = tmp_path / "part.bin"
    path.write_bytes(data)
    result = subprocess.run([sys.executable, "-m", "esptool", "--chip", chip, "image-info",
                             str(path)], capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_flash_params_writes_only_the_headers_sectors(sim_board: Callable[..., Any],
                                                       tmp_path: Path, cwd: Path) -> None:
    before = flash_of(FIRMWARE)
    board = sim_board(before, size=FLASH)
    result = esp_image("flash-params", "--freq", "80m", "--port", board.port, "--no-stub",
                       "--json", cwd=cwd)
    doc, after, changed = board_written(board, result, before)
    assert_matches("Board", doc["board"])
    # the bootloader's header and its SHA-256, the app's header and its SHA-256
    assert changed == [0x1000, 0x6000, 0x10000, 0x34000]
    assert doc["board"]["bytes_written"] == 4 * 0x1000
    boot = esptool_image_info(after[0x1000:0x8000], tmp_path)
    assert "80m" in boot.replace("MHz", "m").lower() and "valid" in boot.lower()
    app = esptool_image_info(after[0x10000:0x200000], tmp_path)
    assert "Validation hash: " in app and "(valid)" in app
    # the backup holds what was overwritten, from the first changed sector to the last
    backup = Path(cwd / doc["backup"])
    assert doc["backup_address"] == 0x1000 and "240ac4123456" in backup.name
    assert backup.read_bytes() == before[0x1000:0x35000]
    assert doc["restore"].endswith(f"write-flash 0x1000 {doc['backup']}")


def test_dry_run_and_no_backup(sim_board: Callable[..., Any], tmp_path: Path, cwd: Path) -> None:
    before = flash_of(FIRMWARE)
    board = sim_board(before, size=FLASH)
    dry = esp_image("flash-params", "--mode", "dout", "--port", board.port,
                    "--dry-run", cwd=cwd)
    assert dry.returncode == 0, dry.stderr
    assert "would write 4 sectors" in dry.stdout
    assert board.path.read_bytes() == before and not list(cwd.iterdir())
    real = esp_image("flash-params", "--mode", "dout", "--port", board.port,
                     "--no-backup", cwd=cwd)
    assert real.returncode == 0, real.stderr
    assert "wrote 4 sectors" in real.stdout and not list(cwd.iterdir())
    again = esp_image("flash-params", "--mode", "dout", "--port", board.port,
                      "--backup", str(tmp_path / "b.bin"), cwd=cwd)
    assert again.returncode == 0 and "nothing to change" in again.stdout
    assert not (tmp_path / "b.bin").exists()


def ota_flash(tmp_path: Path, *extra: str) -> bytes:
    """The firmware retabled to an OTA layout (file mode), as a board would hold it."""
    out = tmp_path / "ota.bin"
    result = esp_image("retable", "--table", "ota", *extra, "-o", str(out), str(FIRMWARE))
    assert result.returncode == 0, result.stderr
    return flash_of(out)


def idf_boot_slot(raw: bytes, n: int = 2) -> int | None:
    """ESP-IDF's rule, from the two records alone: highest valid sequence, (seq - 1) mod n."""
    best = None
    for copy in range(2):
        rec = raw[copy * 0x1000:copy * 0x1000 + 32]
        seq, = struct.unpack_from("<I", rec, 0)
        crc, = struct.unpack_from("<I", rec, 28)
        if seq != 0xFFFFFFFF and crc == zlib.crc32(rec[:4], 0xFFFFFFFF) & 0xFFFFFFFF \
                and (best is None or seq > best):
            best = seq
    return None if best is None else (best - 1) % n


def test_otadata_on_the_board(sim_board: Callable[..., Any], tmp_path: Path) -> None:
    before = ota_flash(tmp_path)
    board = sim_board(before, size=FLASH)
    shown = esp_image("otadata", "--port", board.port, "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["boot"]["target"] == "ota_0"
    table = idf_partitions.PartitionTable.from_binary(before[0x8000:0x8c00])
    otadata = next(p for p in table if p.type == 1 and p.subtype == 0)
    result = esp_image("otadata", "--boot", "ota_1", "--force", "--port", board.port, "--no-backup")
    assert result.returncode == 0, result.stderr
    after = board.path.read_bytes()
    assert sectors_differing(before, after) == [otadata.offset + 0x1000]
    assert idf_boot_slot(after[otadata.offset:otadata.offset + 0x2000]) == 1


def test_retable_refuses_to_move_the_running_app(sim_board: Callable[..., Any],
                                                 tmp_path: Path, cwd: Path) -> None:
    before = flash_of(FIRMWARE)
    board = sim_board(before, size=FLASH)
    result = esp_image("retable", "--resize", "nvs=0x16000", "--port", board.port, cwd=cwd)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "runs the app at 0x10000" in result.stderr and "--force" in result.stderr
    assert board.path.read_bytes() == before and not list(cwd.iterdir())


def test_retable_writes_table_otadata_and_the_moved_app(sim_board: Callable[..., Any],
                                                        tmp_path: Path, cwd: Path) -> None:
    before = flash_of(FIRMWARE)
    board = sim_board(before, size=FLASH)
    result = esp_image("retable", "--table", "ota", "--resize", "nvs=0x16000", "--erase-fs",
                       "--force", "--port", board.port, "--json", cwd=cwd)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    after = board.path.read_bytes()
    assert sectors_differing(before, after) == [int(s, 16) for s in doc["sectors"]]
    table = idf_partitions.PartitionTable.from_binary(after[0x8000:0x8c00])
    table.verify()
    app = next(p for p in table if p.name == "ota_0")
    assert app.offset == 0x30000
    info = esptool_image_info(after[app.offset:app.offset + 0x40000], tmp_path)
    assert "(valid)" in info
    otadata = next(p for p in table if p.type == 1 and p.subtype == 0)
    assert idf_boot_slot(after[otadata.offset:otadata.offset + 0x2000]) == 0
    # and esp-image reads the board back as a valid flash booting that app
    check = esp_image("verify", "--port", board.port, "--json")
    assert check.returncode == 0, check.stdout
    assert json.loads(check.stdout)["boot"]["target"] == "ota_0"


def test_a_lost_connection_names_the_sectors_and_the_backup(sim_board: Callable[..., Any],
                                                            tmp_path: Path, cwd: Path) -> None:
    board = sim_board(flash_of(FIRMWARE), size=FLASH)
    board.drop_after_blocks = 2
    result = esp_image("flash-params", "--freq", "80m", "--port", board.port,
                       cwd=cwd)
    assert result.returncode == 2, result.stdout + result.stderr
    line = result.stderr
    assert line.count("\n") == 1 and "Traceback" not in line
    assert "being written when it failed" in line and "0x1000-0x2000" in line
    backup = next(cwd.glob("esp-image-backup-*.bin"))
    assert f"backup: {backup.name}" in line


def test_a_failed_md5_is_one_line(sim_board: Callable[..., Any], tmp_path: Path, cwd: Path) -> None:
    board = sim_board(flash_of(FIRMWARE), size=FLASH)
    board.corrupt_writes = True
    result = esp_image("flash-params", "--freq", "80m", "--port", board.port,
                       "--no-backup", cwd=cwd)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "MD5 of sector 0x1000 does not match" in result.stderr
    assert "no backup was made" in result.stderr and result.stderr.count("\n") == 1


@pytest.mark.parametrize("args", [["flash-params", "--freq", "80m"], ["otadata", "--erase"],
                                  ["retable", "--table", "ota"]])
def test_write_commands_need_file_or_port(args: list[str]) -> None:
    result = esp_image(*args)
    assert result.returncode == 2 and "missing FILE (or --port" in result.stderr
    both = esp_image(*args, "--port", "socket://127.0.0.1:9", "--backup", "x", "--no-backup")
    assert both.returncode == 2 and both.stderr.count("\n") == 1
