"""``fs --port`` against the simulated board (tests/sim): the reads take the table and the
one filesystem partition, the writes only its changed sectors (backed up, MD5-checked); the
flash file is then read with littlefs-python and pyfatfs, not only with esp-image."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ..conftest import FIXTURES
from .test_board_inspect import esp_image, flash_of
from .test_board_write import board_written
from .test_fs import _read_littlefs_directly
from .test_json_doc import assert_matches

pytest.importorskip("esptool")

FIRMWARE = FIXTURES / "firmware-esp32-lfs.bin"  # nvs 0x9000, factory 0x10000, vfs 0x40000
VFS = (0x40000, 0x60000)  # littlefs: /main.py and /lib/util.py


def outside(data: bytes) -> bytes:
    return data[:VFS[0]] + data[VFS[1]:]


@pytest.fixture
def cwd(tmp_path: Path) -> Path:
    (tmp_path / "cwd").mkdir()
    return tmp_path / "cwd"


def test_reads_take_only_the_filesystem_partition(sim_board: Callable[..., Any],
                                                  tmp_path: Path, cwd: Path) -> None:
    flash = flash_of(FIRMWARE)
    board = sim_board(flash, size=len(flash))
    dump = tmp_path / "flash.bin"
    dump.write_bytes(flash)
    on_board = esp_image("fs", "--port", board.port, "--no-stub", "ls", "/", "--json")
    assert on_board.returncode == 0, on_board.stderr
    on_file = esp_image("fs", str(dump), "ls", "/", "--json")
    assert json.loads(on_board.stdout) == json.loads(on_file.stdout)
    assert {e["name"] for e in json.loads(on_board.stdout)} == {"main.py", "lib"}
    cat = esp_image("fs", "--port", board.port, "cat", "/main.py")
    assert cat.returncode == 0 and cat.stdout == 'print("hello")\n'
    assert "read" in cat.stderr and board.port in cat.stderr  # the transfers, not on stdout
    df = esp_image("fs", "--port", board.port, "--json", "df")
    doc = json.loads(df.stdout)
    assert_matches("Filesystem usage", doc)
    assert_matches("Board", doc["board"])
    cat_doc = json.loads(esp_image("fs", "--port", board.port, "--json", "cat", "/main.py").stdout)
    assert_matches("Filesystem file", cat_doc)
    assert cat_doc["content"] == "cHJpbnQoImhlbGxvIikK" and "board" in cat_doc
    read = [tuple(r) for r in doc["board"]["read"]]
    assert VFS in read or any(a <= VFS[0] and b >= VFS[1] for a, b in read)
    # the NVS partition (0x9000-0xf000) and the flash after the filesystem were not read
    assert not any(a < 0xF000 and b > 0x9000 for a, b in read)
    assert not any(b > VFS[1] for a, b in read)
    assert doc["board"]["bytes_read"] < 0x60000 and doc["board"]["bytes_written"] == 0
    get = esp_image("fs", "--port", board.port, "get", "/main.py", str(tmp_path), cwd=cwd)
    assert get.returncode == 0, get.stderr
    assert (tmp_path / "main.py").read_bytes() == b'print("hello")\n'
    assert board.path.read_bytes() == flash


def test_put_writes_only_the_changed_sectors(sim_board: Callable[..., Any], tmp_path: Path,
                                             cwd: Path) -> None:
    before = flash_of(FIRMWARE)
    board = sim_board(before, size=len(before))
    src = tmp_path / "boot.py"
    src.write_bytes(b"import machine\n" * 500)
    dry = esp_image("fs", "--port", board.port, "--dry-run", "put", str(src), "/", cwd=cwd)
    assert dry.returncode == 0 and "would write" in dry.stdout, dry.stderr
    assert board.path.read_bytes() == before and not list(cwd.iterdir())
    result = esp_image("fs", "--port", board.port, "put", str(src), "/lib", "--json",
                       cwd=cwd)
    doc, after, changed = board_written(board, result, before)
    assert changed
    assert outside(after) == outside(before)
    assert doc["board"]["bytes_written"] == 0x1000 * len(changed)
    files = _read_littlefs_directly(after[VFS[0]:VFS[1]])
    assert files == {"main.py": b'print("hello")\n', "lib/util.py": b"X = 1\n",
                     "lib/boot.py": src.read_bytes()}
    backup = cwd / doc["backup"]
    assert backup.read_bytes() == before[changed[0]:changed[-1] + 0x1000]
    dump = tmp_path / "after.bin"
    dump.write_bytes(after)
    assert esp_image("verify", str(dump)).returncode == 0


def test_mkfs_fat_then_mkdir(sim_board: Callable[..., Any], tmp_path: Path, cwd: Path) -> None:
    """mkfs reads only the sectors it changes (the rest compared by MD5), so the 2 MB it
    replaces are not transferred; mkdir then reads the partition whole."""
    pytest.importorskip("pyfatfs")
    from pyfatfs.PyFatFS import PyFatBytesIOFS

    before = flash_of(FIXTURES / "firmware-esp32-4MB.bin")  # vfs: 2 MB at 0x200000, erased
    board = sim_board(before, size=len(before))
    made = esp_image("fs", "--port", board.port, "--no-backup", "--json", "mkfs", "--type",
                     "fat", cwd=cwd)
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["board"]["bytes_read"] < 0x100000
    result = esp_image("fs", "--port", board.port, "--no-backup", "mkdir", "/etc", cwd=cwd)
    assert result.returncode == 0, result.stderr
    after = board.path.read_bytes()
    assert after[:0x200000] == before[:0x200000] and not list(cwd.iterdir())
    fs = PyFatBytesIOFS(io.BytesIO(after[0x200000:]))
    try:
        assert fs.listdir("/") == ["etc"]
    finally:
        fs.close()


def test_rm_and_mkdir_in_littlefs(sim_board: Callable[..., Any], cwd: Path) -> None:
    before = flash_of(FIRMWARE)
    board = sim_board(before, size=len(before))
    for step in (["rm", "/lib/util.py"], ["rm", "/lib"], ["mkdir", "/data/logs"]):
        result = esp_image("fs", "--port", board.port, *step, cwd=cwd)
        assert result.returncode == 0, (step, result.stderr)
        assert "each checked with the board's MD5" in result.stdout
    after = board.path.read_bytes()
    assert outside(after) == outside(before)
    assert _read_littlefs_directly(after[VFS[0]:VFS[1]]) == {"main.py": b'print("hello")\n'}
    assert list(cwd.glob("esp-image-backup-*.bin"))  # one a second: names hold the time
    listing = esp_image("fs", "--port", board.port, "ls", "/data", "--json")
    assert [e["name"] for e in json.loads(listing.stdout)] == ["logs"]


def test_a_lost_connection_names_the_sectors_and_the_backup(sim_board: Callable[..., Any],
                                                            tmp_path: Path, cwd: Path) -> None:
    board = sim_board(flash_of(FIRMWARE), size=0x400000)
    board.drop_after_blocks = 1
    result = esp_image("fs", "--port", board.port, "mkfs", cwd=cwd)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "being written when it failed" in result.stderr
    backup = next(cwd.glob("esp-image-backup-*.bin"))
    assert f"backup: {backup.name}" in result.stderr


@pytest.mark.parametrize("args", [["fs", "ls"], ["fs", "x.bin", "--port", "socket://127.0.0.1:9",
                                                 "ls"],
                                  ["fs", "--port", "socket://127.0.0.1:9", "-o", "x.bin", "rm",
                                   "/a"],
                                  ["fs", "--port", "socket://127.0.0.1:9", "--in-place", "mkfs"],
                                  ["nvs", "ls"],
                                  ["nvs", "x.bin", "--port", "socket://127.0.0.1:9", "ls"],
                                  ["nvs", "--port", "socket://127.0.0.1:9", "-o", "y.bin", "rm",
                                   "wifi"],
                                  ["nvs", "--port", "socket://127.0.0.1:9", "--in-place",
                                   "mkfs"]])
def test_one_of_file_or_port(args: list[str], tmp_path: Path) -> None:
    """fs and nvs alike: FILE or --port, and no -o/--in-place with --port."""
    result = esp_image(*args, cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr and not list(tmp_path.iterdir())
    if len(args) == 2:
        assert "missing FILE (or --port PORT" in result.stderr
