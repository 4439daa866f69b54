"""Issue 8 end to end: files in the real MicroPython firmware, kept through retable."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from esp_image import Image

from ..conftest import input_path

littlefs = pytest.importorskip("littlefs")

MPY = "esptool_ESP32_GENERIC-20240602-v1.23.0.bin"


@pytest.fixture(params=[MPY, "firmware-esp32-4MB.bin"])
def source(request: pytest.FixtureRequest) -> Path:
    """The real MicroPython firmware, and the fixture built with the same 4MB table (vfs at
    0x200000, erased, past the end of the file)."""
    return input_path(request.param)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "esp_image", *args], capture_output=True,
                          text=True, check=False, timeout=120)


def _tree(tmp: Path) -> dict[str, bytes]:
    """Host files to put: a main.py, a nested package and a 100 KB binary."""
    files = {"main.py": b"print('hello from esp-image')\n",
             "lib/pkg/__init__.py": b"VERSION = 1\n",
             "lib/pkg/data.bin": hashlib.sha256(b"x").digest() * 3200}
    for rel, data in files.items():
        (tmp / "src" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp / "src" / rel).write_bytes(data)
    return files


def _read_littlefs_directly(region: bytes) -> dict[str, bytes]:
    """Read every file with littlefs-python itself, with MicroPython's geometry."""
    fs = littlefs.LittleFS(block_size=4096, block_count=len(region) // 4096, mount=False)
    fs.context.buffer = bytearray(region)
    fs.mount()
    out: dict[str, bytes] = {}
    for root, _dirs, files in fs.walk("/"):
        for name in files:
            path = f"{root.rstrip('/')}/{name}"
            with fs.open(path, "rb") as fh:
                out[path.lstrip("/")] = fh.read()
    return out


@pytest.fixture
def firmware_with_files(tmp_path: Path, source: Path) -> tuple[Path, dict[str, bytes]]:
    fw = tmp_path / "firmware.bin"
    shutil.copy(source, fw)
    files = _tree(tmp_path)
    result = run("fs", str(fw), "--in-place", "put", str(tmp_path / "src" / "main.py"),
                 str(tmp_path / "src" / "lib"), "/")
    assert result.returncode == 0, result.stderr
    assert "extended with 0xFF" in result.stdout
    return fw, files


def test_put_into_real_micropython_firmware(firmware_with_files: tuple[Path, dict[str, bytes]]
                                           ) -> None:
    fw, files = firmware_with_files
    image = Image.open(fw)
    assert image.valid and image.table is not None
    vfs = image.table.find("vfs")
    assert vfs is not None and image.size == vfs.end - 0x1000  # extended to the vfs end
    region = bytes(image.data[vfs.offset - 0x1000:vfs.end - 0x1000])
    assert _read_littlefs_directly(region) == files
    content = next(c for c in image.partitions if c.partition.name == "vfs")
    assert content.filesystem is not None and content.filesystem.type == "littlefs"
    doc = json.loads(run("info", "--json", str(fw)).stdout)
    vfs_doc = next(p for p in doc["partitions"] if p["name"] == "vfs")
    assert vfs_doc["filesystem"]["type"] == "littlefs"


def test_ls_cat_get_df(firmware_with_files: tuple[Path, dict[str, bytes]], tmp_path: Path
                       ) -> None:
    fw, files = firmware_with_files
    listing = run("fs", str(fw), "ls", "/")
    assert listing.returncode == 0 and "main.py" in listing.stdout and "lib/" in listing.stdout
    cat = subprocess.run([sys.executable, "-m", "esp_image", "fs", str(fw), "cat", "/main.py"],
                         capture_output=True, check=False)
    assert cat.stdout == files["main.py"]
    out = tmp_path / "data.bin"
    assert run("fs", str(fw), "get", "/lib/pkg/data.bin", str(out)).returncode == 0
    assert out.read_bytes() == files["lib/pkg/data.bin"]
    df = json.loads(run("fs", str(fw), "--json", "df").stdout)
    assert df["total"] == 0x200000 and 0 < df["used"] < df["total"]


def test_retable_keeps_the_files(firmware_with_files: tuple[Path, dict[str, bytes]]) -> None:
    fw, files = firmware_with_files
    before = hashlib.sha256(fw.read_bytes()).hexdigest()
    result = run("retable", "-f", "8MB", "--table", "ota", str(fw))
    assert result.returncode == 0, result.stderr
    assert "copied into a new" in result.stdout
    assert hashlib.sha256(fw.read_bytes()).hexdigest() == before
    out = Image.open(fw.with_name("firmware-8MB-OTA.bin"))
    assert out.valid and out.table is not None
    vfs = out.table.find("vfs")
    assert vfs is not None and vfs.offset == 0x410000
    region = bytes(out.data[vfs.offset - 0x1000:vfs.end - 0x1000])
    assert _read_littlefs_directly(region) == files


def test_retable_erase_fs(firmware_with_files: tuple[Path, dict[str, bytes]]) -> None:
    fw, _ = firmware_with_files
    result = run("retable", "-f", "8MB", "--table", "ota", "--erase-fs", str(fw))
    assert result.returncode == 0, result.stderr
    out = Image.open(fw.with_name("firmware-8MB-OTA.bin"))
    vfs = next(c for c in out.partitions if c.partition.name == "vfs")
    assert vfs.filesystem is None


def test_mkfs_fat_and_bare_partition_image(tmp_path: Path, source: Path) -> None:
    pytest.importorskip("pyfatfs")
    fw = tmp_path / "firmware.bin"
    shutil.copy(source, fw)
    assert run("fs", str(fw), "--in-place", "mkfs", "--type", "fat").returncode == 0
    assert run("fs", str(fw), "--in-place", "put", str(fw.parent / "firmware.bin"),
               "/").returncode in (0, 1)  # a 1.9MB file may not fit in 2MB of FAT
    small = tmp_path / "hello.txt"
    small.write_bytes(b"hello\n")
    assert run("fs", str(fw), "--in-place", "put", str(small), "/").returncode == 0
    cat = subprocess.run([sys.executable, "-m", "esp_image", "fs", str(fw), "cat",
                          "/hello.txt"], capture_output=True, check=False)
    assert cat.stdout == b"hello\n"
    # The vfs partition on its own is a bare partition image of kind "filesystem".
    extracted = tmp_path / "vfs.bin"
    assert run("extract", str(fw), "vfs", "--raw", "-o", str(extracted)).returncode == 0
    doc = json.loads(run("info", "--json", str(extracted)).stdout)
    assert doc["kind"] == "filesystem" and doc["filesystem"]["type"] == "fat"


def test_fs_errors(tmp_path: Path, source: Path) -> None:
    fw = tmp_path / "firmware.bin"
    shutil.copy(source, fw)
    nofs = run("fs", str(fw), "ls")
    assert nofs.returncode == 2 and "mkfs" in nofs.stderr  # vfs is erased: no filesystem yet
    assert run("fs", str(fw), "-p", "nosuch", "ls").returncode == 2
    assert run("fs", str(fw), "-p", "factory", "ls").returncode == 2


def test_fat_in_real_firmware_read_by_pyfatfs_directly(tmp_path: Path, source: Path) -> None:
    """The FAT variant of issue 8's test 1: MicroPython-style FAT in the real firmware's vfs,
    files put through the CLI, read back with pyfatfs alone."""
    pytest.importorskip("pyfatfs")
    import io

    from pyfatfs.PyFatFS import PyFatBytesIOFS

    fw = tmp_path / "firmware.bin"
    shutil.copy(source, fw)
    files = _tree(tmp_path)
    assert run("fs", str(fw), "--in-place", "mkfs", "--type", "fat").returncode == 0
    result = run("fs", str(fw), "--in-place", "put", str(tmp_path / "src" / "main.py"),
                 str(tmp_path / "src" / "lib"), "/")
    assert result.returncode == 0, result.stderr
    image = Image.open(fw)
    vfs = next(c for c in image.partitions if c.partition.name == "vfs")
    assert vfs.filesystem is not None and vfs.filesystem.type == "fat"
    region = bytes(image.data[0x200000 - 0x1000:0x400000 - 0x1000])
    fs = PyFatBytesIOFS(io.BytesIO(region))
    try:
        found = {}
        for path, info in fs.walk.info(namespaces=["basic"]):
            if not info.is_dir:
                with fs.openbin(path, "r") as fh:
                    found[path.lstrip("/")] = fh.read()
    finally:
        fs.close()
    assert found == files
