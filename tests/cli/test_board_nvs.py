"""``nvs --port`` against the simulated board (tests/sim): the reads take the table and the
one NVS partition, the writes only its changed sectors (backed up, MD5-checked); the flash
file is then read with ESP-IDF's own NVS parser (../shared/oracles) as well as esp-image's."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from esp_image.nvs import NvsPartition

from ..conftest import FIXTURES
from ..models.nvs.test_nvs_oracles import assert_matches_dump, nvs_tool
from .test_board_inspect import esp_image, flash_of
from .test_board_write import board_written
from .test_json_doc import assert_matches

pytest.importorskip("esptool")

FIRMWARE = FIXTURES / "firmware-esp32-nvs.bin"  # nvs 0x9000 (24K), factory 0x10000, vfs
NVS = (0x9000, 0xF000)


def outside(data: bytes) -> bytes:
    return data[:NVS[0]] + data[NVS[1]:]


def nvs_of(data: bytes) -> NvsPartition:
    return NvsPartition.from_bytes(data[NVS[0]:NVS[1]])


@pytest.fixture
def cwd(tmp_path: Path) -> Path:
    (tmp_path / "cwd").mkdir()
    return tmp_path / "cwd"


def test_reads_take_only_the_nvs_partition(sim_board: Callable[..., Any], tmp_path: Path,
                                           cwd: Path) -> None:
    flash = flash_of(FIRMWARE)
    board = sim_board(flash, size=len(flash))
    dump = tmp_path / "flash.bin"
    dump.write_bytes(flash)
    on_board = esp_image("nvs", "--port", board.port, "--no-stub", "ls", "--json")
    assert on_board.returncode == 0, on_board.stderr
    assert json.loads(on_board.stdout) == json.loads(
        esp_image("nvs", str(dump), "ls", "--json").stdout)
    text = esp_image("nvs", "--port", board.port, "ls", "wifi")
    assert text.stdout == esp_image("nvs", str(dump), "ls", "wifi").stdout
    assert board.port in text.stderr and "read " in text.stderr
    get = esp_image("nvs", "--port", board.port, "get", "wifi", "ssid", "--json")
    doc = json.loads(get.stdout)
    assert doc["value"] == "home-network"
    assert_matches("NVS entry", doc)
    assert_matches("Board", doc["board"])
    read = [tuple(r) for r in doc["board"]["read"]]
    assert any(a <= NVS[0] and b >= NVS[1] for a, b in read)
    # not phy_init (0xf000), not the filesystem (0x200000): only the table said where they are
    assert not any(a < 0x10000 and b > 0xF000 for a, b in read)
    assert not any(b > 0x200000 for a, b in read)
    csv = esp_image("nvs", "--port", board.port, "export", "-o", str(tmp_path / "b.csv"),
                    "--json", cwd=cwd)
    assert csv.returncode == 0, csv.stderr
    assert_matches("Write document", json.loads(csv.stdout))
    esp_image("nvs", str(dump), "export", "-o", str(tmp_path / "f.csv"))
    assert (tmp_path / "b.csv").read_text() == (tmp_path / "f.csv").read_text()
    assert board.path.read_bytes() == flash


def test_set_writes_only_the_changed_sectors(sim_board: Callable[..., Any], tmp_path: Path,
                                             cwd: Path) -> None:
    before = flash_of(FIRMWARE)
    board = sim_board(before, size=len(before))
    dry = esp_image("nvs", "--port", board.port, "--dry-run", "set", "wifi", "ssid", "x",
                    cwd=cwd)
    assert dry.returncode == 0 and "would write" in dry.stdout, dry.stderr
    assert board.path.read_bytes() == before and not list(cwd.iterdir())
    result = esp_image("nvs", "--port", board.port, "set", "wifi", "ssid", "office", "--json",
                       cwd=cwd)
    doc, after, changed = board_written(board, result, before)
    assert changed
    assert all(NVS[0] <= s < NVS[1] for s in changed) and outside(after) == outside(before)
    assert (cwd / doc["backup"]).read_bytes() == before[changed[0]:changed[-1] + 0x1000]
    part = nvs_of(after)
    assert part.valid and part.get("wifi", "ssid").value == "office"
    assert part.get("app", "boot_count").value == 42
    problems, dump = nvs_tool(after[NVS[0]:NVS[1]], tmp_path)
    assert not problems, problems
    assert_matches_dump(part, dump)
    assert {"namespace": "wifi", "key": "ssid", "data": "office"}.items() <= next(
        r for r in dump if r["key"] == "ssid" and r["state"] == "Written").items()


def test_rm_import_and_mkfs(sim_board: Callable[..., Any], tmp_path: Path, cwd: Path) -> None:
    before = flash_of(FIRMWARE)
    board = sim_board(before, size=len(before))
    csv = tmp_path / "settings.csv"
    csv.write_text("key,type,encoding,value\nnet,namespace,,\nport,data,u16,8266\n")
    for step in (["rm", "app"], ["import", str(csv)]):
        result = esp_image("nvs", "--port", board.port, "--no-backup", *step, cwd=cwd)
        assert result.returncode == 0, (step, result.stderr)
    after = board.path.read_bytes()
    assert outside(after) == outside(before) and not list(cwd.iterdir())
    part = nvs_of(after)
    assert {(e.namespace, e.key) for e in part.entries()} == {
        ("wifi", "ssid"), ("wifi", "password"), ("wifi", "channel"), ("wifi", "rssi_min"),
        ("net", "port")}
    problems, dump = nvs_tool(after[NVS[0]:NVS[1]], tmp_path)
    assert not problems, problems
    assert_matches_dump(part, dump)
    empty = esp_image("nvs", "--port", board.port, "--json", "mkfs", cwd=cwd)
    assert empty.returncode == 0, empty.stderr
    assert (cwd / json.loads(empty.stdout)["backup"]).is_file()
    final = board.path.read_bytes()
    assert outside(final) == outside(before) and nvs_of(final).entries() == []


def test_a_failed_md5_is_one_line(sim_board: Callable[..., Any], cwd: Path) -> None:
    board = sim_board(flash_of(FIRMWARE), size=0x400000)
    board.corrupt_writes = True
    result = esp_image("nvs", "--port", board.port, "set", "wifi", "channel", "11", cwd=cwd)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "does not match what was written" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    backup = next(cwd.glob("esp-image-backup-*.bin"))
    assert f"backup: {backup.name}" in result.stderr
