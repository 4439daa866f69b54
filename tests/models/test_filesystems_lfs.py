"""littlefs volumes and filesystem detection (esp_image.filesystems, esp_image.filesystems.lfs).

The oracle is littlefs-python used directly, with the geometry MicroPython's VfsLfs2 uses on
the ESP32 ``vfs`` partition: 4096-byte blocks, partition size // 4096 blocks, read/prog/
lookahead 32, cache 128, block_cycles 100 (extmod/vfs_lfs.c, extmod/vfs_lfsx.c,
ports/esp32/esp32_partition.c).
"""

from __future__ import annotations

import contextlib
import os
import random
import struct
import tempfile
import zlib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from littlefs import LittleFS, UserContext

from esp_image.errors import EspImageError, FormatError, InputError, LayoutError
from esp_image.filesystems import (
    Entry,
    FileSystemInfo,
    copy_tree,
    detect,
    mkfs,
    normalize_path,
    open_volume,
)
from esp_image.filesystems.lfs import (
    DISK_VERSION_2_0,
    LittleFsVolume,
    inspect_littlefs,
    mkfs_littlefs,
    parse_superblock,
)

from ..conftest import corpus_path, run_python

MICROPYTHON_FIRMWARE = "esptool_ESP32_GENERIC-20240602-v1.23.0.bin"
FILE_AT = 0x1000  # the merged image is flashed at 0x1000 (bootloader first)
BLOCK = 4096


def micropython_lfs(buffer: bytearray, block_count: int, **extra: int) -> LittleFS:
    """littlefs-python configured as MicroPython's VfsLfs2 (not through esp_image)."""
    config: dict[str, Any] = {"read_size": 32, "prog_size": 32, "lookahead_size": 32,
                              "cache_size": 128, "block_cycles": 100,
                              "name_max": 255}  # LFS2_NAME_MAX in MicroPython's build
    config.update(extra)
    return LittleFS(context=UserContext(buffer=buffer), mount=False, block_size=BLOCK,
                    block_count=block_count, **config)


def read_tree(fs: LittleFS) -> dict[str, bytes | None]:
    """{path: bytes, or None for a directory} read with littlefs-python only."""
    out: dict[str, bytes | None] = {}
    for root, dirs, files in fs.walk("/"):
        base = root.rstrip("/")
        for d in dirs:
            out[f"{base}/{d}"] = None
        for f in files:
            with fs.open(f"{base}/{f}", "rb") as fh:
                out[f"{base}/{f}"] = fh.read()
    return out


def volume_tree(volume: object) -> dict[str, bytes | None]:
    out: dict[str, bytes | None] = {}
    for e in volume.walk():  # type: ignore[attr-defined]
        out[e.path] = None if e.is_dir else volume.read(e.path)  # type: ignore[attr-defined]
    return out


def vfs_partition(flash: bytes) -> tuple[int, int, int, int]:
    """(type, subtype, offset, size) of the "vfs" entry, parsed by hand at 0x8000."""
    for at in range(0x8000, 0x8000 + 0xC00, 32):
        magic, ptype, subtype, offset, size, label = struct.unpack_from(
            "<HBBII16s", flash, at)
        if magic != 0x50AA:
            break
        if label.rstrip(b"\0") == b"vfs":
            return ptype, subtype, offset, size
    raise AssertionError("no vfs partition in the MicroPython table")


# --- the real MicroPython firmware ----------------------------------------------------------


@pytest.fixture(scope="module")
def micropython_flash() -> tuple[bytes, int, int]:
    flash = b"\xff" * FILE_AT + corpus_path(MICROPYTHON_FIRMWARE).read_bytes()
    ptype, subtype, offset, size = vfs_partition(flash)
    assert (ptype, subtype, offset, size) == (1, 0x81, 0x200000, 0x200000)  # data/fat, 2MB
    assert len(flash) <= offset  # the file ends before the filesystem
    return flash, offset, size


def test_micropython_vfs_read_back_by_littlefs_python(micropython_flash: tuple[bytes, int, int]
                                                      ) -> None:
    firmware, offset, size = micropython_flash
    region = b"\xff" * size  # what an erased vfs partition holds before inisetup runs
    assert detect(region).type == "erased"
    with pytest.raises(FormatError, match="no filesystem"):
        open_volume(region)

    volume = mkfs(size)
    blob = os.urandom(100 * 1024)
    files = {
        "/main.py": b"import machine\nprint('hello from main')\n",
        "/boot.py": b"# This file is executed on every boot\n",
        "/lib/umqtt/simple.py": b"class MQTTClient:\n    pass\n" * 20,
        "/lib/umqtt/__init__.py": b"",
        "/data/blob.bin": blob,
        "/data/nested/deeper/leaf.txt": "ünïcödé ✓\n".encode(),
    }
    for path, data in files.items():
        volume.write(path, data)
    volume.mkdir("/empty")

    flash = bytearray(firmware + b"\xff" * (offset - len(firmware)))
    flash += volume.image()
    assert len(flash) == offset + size

    # littlefs-python directly, configured as MicroPython's VfsLfs2 on this partition
    part = bytearray(flash[offset:offset + size])
    fs = micropython_lfs(part, size // BLOCK)
    fs.mount()
    stat = fs.fs_stat()
    assert (stat.block_size, stat.block_count) == (4096, 512)
    assert (stat.name_max, stat.file_max, stat.attr_max) == (255, 2147483647, 1022)
    assert stat.disk_version == DISK_VERSION_2_0  # mountable by every MicroPython VfsLfs2
    tree = read_tree(fs)
    for path, data in files.items():
        assert tree[path] == data, path
    assert tree["/empty"] is None and tree["/lib"] is None and tree["/lib/umqtt"] is None
    assert set(tree) == set(files) | {"/empty", "/lib", "/lib/umqtt", "/data", "/data/nested",
                                      "/data/nested/deeper"}

    info = detect(flash[offset:offset + size])
    assert info.type == "littlefs" and info.valid
    assert (info.block_size, info.block_count, info.version) == (4096, 512, "littlefs 2.0")
    assert info.used is not None and info.free is not None
    assert info.used + info.free == size
    assert info.used >= len(blob)
    assert info.used // BLOCK == fs.used_block_count


def test_files_written_by_littlefs_python_read_by_us(micropython_flash: tuple[bytes, int, int]
                                                     ) -> None:
    """The other direction: a filesystem MicroPython (littlefs 2.8+, disk 2.1) formatted."""
    _, _, size = micropython_flash
    part = bytearray(b"\xff" * size)
    fs = micropython_lfs(part, size // BLOCK)
    fs.format()
    fs.mount()
    fs.mkdir("/lib")
    with fs.open("/lib/x.py", "wb") as fh:
        fh.write(b"x = 1\n")
    with fs.open("/boot.py", "wb") as fh:
        fh.write(b"# boot\n")
    fs.unmount()
    volume = open_volume(bytes(part))
    assert volume_tree(volume) == {"/lib": None, "/lib/x.py": b"x = 1\n", "/boot.py": b"# boot\n"}
    assert detect(bytes(part)).version == "littlefs 2.1"
    # writing keeps the on-disk version the device wrote
    volume.write("/main.py", b"pass\n")
    again = micropython_lfs(bytearray(volume.image()), size // BLOCK)
    again.mount()
    assert again.fs_stat().disk_version == 0x00020001
    assert read_tree(again)["/main.py"] == b"pass\n"


def test_version_2_0_stays_2_0_after_changes() -> None:
    volume = mkfs(64 * BLOCK)
    volume.write("/a.txt", b"a" * 5000)
    volume.remove("/a.txt")
    volume.write("/b.txt", b"b")
    sb = parse_superblock(volume.image())
    assert sb is not None and sb.version == DISK_VERSION_2_0
    fs = micropython_lfs(bytearray(volume.image()), 64)
    fs.mount()
    assert fs.fs_stat().disk_version == DISK_VERSION_2_0


# --- detection -------------------------------------------------------------------------------


def fat12_boot_sector(size: int = 512 * BLOCK) -> bytes:
    """A FAT12 volume header as MicroPython's oofatfs makes it on 4096-byte sectors."""
    sector = bytearray(BLOCK)
    sector[0:3] = b"\xeb\xfe\x90"
    sector[3:11] = b"MSDOS5.0"
    struct.pack_into("<HBHBHHBHHHII", sector, 11, BLOCK, 1, 1, 2, 512, size // BLOCK, 0xF8,
                     2, 63, 255, 0, 0)
    sector[36:38] = b"\x80\x00"
    sector[38] = 0x29
    sector[43:54] = b"MYLABEL    "
    sector[54:62] = b"FAT12   "
    sector[510:512] = b"\x55\xaa"
    return bytes(sector) + b"\x00" * (size - BLOCK)


def test_detect_erased_random_and_empty() -> None:
    assert detect(b"\xff" * (16 * BLOCK)).type == "erased"
    assert detect(memoryview(b"\xff" * BLOCK)).type == "erased"
    rng = random.Random(1)
    for _ in range(20):
        info = detect(rng.randbytes(32 * BLOCK))
        assert info.type == "unknown"
    assert detect(b"").type == "unknown"
    assert detect(b"\x00" * BLOCK).type == "unknown"


def test_detect_littlefs_reports_geometry_and_usage() -> None:
    volume = mkfs(128 * BLOCK)
    volume.write("/x.bin", bytes(range(256)) * 64)  # 16 KB: 4 blocks outside the metadata
    info = detect(volume.image())
    assert info.type == "littlefs" and info.valid, info
    assert info.block_count == 128 and info.block_size == BLOCK
    used, total = volume.df()
    assert info.used is not None and info.free is not None
    assert (info.used, info.used + info.free) == (used, total)
    assert used >= 6 * BLOCK  # two superblock/root blocks and the file's four
    assert "1 files" in info.detail
    assert info.to_dict()["type"] == "littlefs"
    assert set(info.to_dict()) == {"type", "block_size", "block_count", "used", "free",
                                   "version", "label", "detail", "valid"}


def test_detect_fat_boot_sector_by_hand() -> None:
    info = detect(fat12_boot_sector())
    assert info.type == "fat"


def test_detect_fat_made_by_pyfatfs() -> None:
    from pyfatfs.PyFat import PyFat

    size = 1024 * 1024
    with tempfile.TemporaryDirectory() as tmp:
        name = os.path.join(tmp, "fat.img")
        with open(name, "wb") as fh:
            fh.write(b"\x00" * size)
        pf = PyFat()
        pf.mkfs(name, PyFat.FAT_TYPE_FAT12, size=size, label="PYFAT")
        pf.close()
        with open(name, "rb") as fh:
            data = fh.read()
    info = detect(data)
    assert info.type == "fat"


def test_detect_wear_levelled_fat_config_sector() -> None:
    """ESP-IDF's layout: FAT after a dummy sector, two state copies, the config last."""
    size = 256 * BLOCK
    data = bytearray(b"\xff" * size)
    fat = fat12_boot_sector(size - 4 * BLOCK)
    data[BLOCK:BLOCK + len(fat) - BLOCK] = fat[:-BLOCK]
    state = struct.pack("<8I28x", 0, 252, 0, 0, 16, BLOCK, 2, 0x12345678)
    state += struct.pack("<I", zlib.crc32(state, 0xFFFFFFFF))
    for at in (size - 3 * BLOCK, size - 2 * BLOCK):
        data[at:at + 64] = state
    config = struct.pack("<8I", 0, size, BLOCK, BLOCK, 16, 16, 2, BLOCK)
    config += struct.pack("<I", zlib.crc32(config, 0xFFFFFFFF)) + b"\0" * 12
    data[size - BLOCK:size - BLOCK + 48] = config
    info = detect(bytes(data))
    assert info.type == "fat-wl"
    # a broken config CRC is not wear levelling (the FAT sits at sector 1, not 0)
    data[size - BLOCK] ^= 1
    assert detect(bytes(data)).type == "unknown"


def test_detect_spiffs_magic() -> None:
    """SPIFFS as ESP-IDF's spiffsgen.py writes it: 4096-byte blocks, 256-byte pages."""
    blocks = 64
    data = bytearray(b"\xff" * (blocks * BLOCK))
    for bix in range(blocks):
        magic = (0x20140529 ^ 256 ^ (blocks - bix)) & 0xFFFF
        struct.pack_into("<H", data, bix * BLOCK + 252, magic)
    struct.pack_into("<3H", data, 0, 0x8001, 0x0001, 0x0001)  # one index page, two data pages
    info = detect(bytes(data))
    assert info.type == "spiffs" and info.valid
    assert (info.block_size, info.block_count) == (4096, 64)
    assert info.used == 3 * (256 - 5)  # as SPIFFS_info counts: data bytes of the used pages
    # a SPIFFS magic in too few blocks is not SPIFFS
    for bix in range(2, blocks):
        struct.pack_into("<H", data, bix * BLOCK + 252, 0xFFFF)
    assert detect(bytes(data)).type == "unknown"


def superblock_offsets(image: bytes) -> list[int]:
    return [at for at in (0, BLOCK) if image[at + 8:at + 16] == b"littlefs"]


def test_damaged_superblocks_are_reported_never_crash() -> None:
    volume = mkfs(64 * BLOCK)
    for i in range(30):  # enough commits that both superblock blocks hold a copy
        volume.write(f"/f{i % 3}.txt", os.urandom(64))
    image = bytearray(volume.image())
    offsets = superblock_offsets(bytes(image))
    assert offsets  # at least one superblock

    # the first commit's CRC (right after the superblock entry): littlefs refuses to mount
    damaged = bytearray(image)
    for at in offsets:
        damaged[at + 44] ^= 0xFF
    info = detect(bytes(damaged))
    assert info.type == "littlefs" and not info.valid
    assert "does not mount" in info.detail and "CORRUPT" in info.detail
    with pytest.raises(FormatError, match="does not mount"):
        open_volume(bytes(damaged))
    with pytest.raises(FormatError):
        LittleFsVolume(bytes(damaged))

    # the recorded block count (superblock struct) no longer fits the partition
    damaged = bytearray(image)
    for at in offsets:
        damaged[at + 29] ^= 0x5A
    info = detect(bytes(damaged))
    assert info.type == "littlefs" and not info.valid
    with pytest.raises(FormatError, match="larger than the partition"):
        open_volume(bytes(damaged))

    # the magic itself gone: nothing is recognised, and opening says so cleanly
    wiped = bytearray(image)
    for at in offsets:
        wiped[at + 8:at + 16] = b"LITTLEFS"
    assert detect(bytes(wiped)).type == "unknown"
    with pytest.raises(FormatError, match="no filesystem"):
        open_volume(bytes(wiped))
    with pytest.raises(FormatError):
        open_volume(bytes(wiped), kind="littlefs")


def test_truncated_littlefs_is_invalid() -> None:
    image = mkfs(64 * BLOCK).image()
    for cut in (32 * BLOCK, 2 * BLOCK):  # both superblock blocks present, the rest cut off
        info = detect(image[:cut])
        assert info.type == "littlefs" and not info.valid, (cut, info)
        assert "larger than the partition" in info.detail
        with pytest.raises(FormatError):
            open_volume(image[:cut])
    for cut in (BLOCK + 100, 40, 10):  # cut inside the superblocks: never a crash
        info = detect(image[:cut])
        assert isinstance(info, FileSystemInfo)
        assert info.type in ("littlefs", "unknown") and (info.type == "unknown" or
                                                         not info.valid)


def test_littlefs_with_a_longer_name_limit_is_not_mountable_by_micropython() -> None:
    """littlefs-python's own default (name_max 0 -> its compiled 1022) is what MicroPython,
    compiled with LFS2_NAME_MAX 255, refuses to mount; detect says so, reading still works."""
    buffer = bytearray(b"\xff" * 32 * BLOCK)
    fs = micropython_lfs(buffer, 32, name_max=0)
    fs.format()
    fs.mount()
    with fs.open("/x.txt", "wb") as fh:
        fh.write(b"x")
    fs.unmount()
    info = detect(bytes(buffer))
    assert info.type == "littlefs" and not info.valid
    assert "name_max 1022 > 255" in info.detail
    assert open_volume(bytes(buffer)).read("/x.txt") == b"x"


def test_bigger_partition_than_filesystem_is_invalid() -> None:
    """MicroPython mounts with the partition's block count; a mismatch is not mountable."""
    image = mkfs(32 * BLOCK).image() + b"\xff" * (32 * BLOCK)
    info = detect(image)
    assert info.type == "littlefs" and not info.valid
    assert "will not mount" in info.detail


@given(st.binary(min_size=0, max_size=3 * BLOCK), st.integers(0, 2 * BLOCK))
@settings(max_examples=60, deadline=None)
def test_random_bytes_around_a_superblock_never_crash(noise: bytes, at: int) -> None:
    image = bytearray(mkfs(16 * BLOCK).image())
    image[at:at + len(noise)] = noise
    del image[16 * BLOCK:]
    try:
        info = detect(bytes(image))
    except EspImageError:
        return
    assert info.type in ("littlefs", "fat", "fat-wl", "spiffs", "erased", "unknown")
    with contextlib.suppress(EspImageError):
        open_volume(bytes(image))


def test_inspect_without_superblock() -> None:
    info = inspect_littlefs(b"\x00" * 8 + b"littlefs" + b"\x00" * 100)
    assert info.type == "littlefs" and not info.valid


# --- the Volume operations -------------------------------------------------------------------


def test_round_trip_open_write_image_reopen() -> None:
    volume = mkfs(256 * BLOCK)
    volume.write("/main.py", b"print('v1')\n")
    volume.write("/lib/pkg/mod.py", b"X = 1\n")
    reopened = open_volume(volume.image())
    reopened.write("/main.py", b"print('v2')\n")  # replace
    reopened.write("lib/pkg/other.py", b"Y = 2\n")  # relative path
    reopened.mkdir("/lib/pkg")  # existing: nothing happens
    reopened.mkdir("/a/b/c")
    reopened.remove("/lib/pkg/mod.py")
    third = open_volume(reopened.image(), kind="littlefs")
    assert volume_tree(third) == {
        "/a": None, "/a/b": None, "/a/b/c": None, "/lib": None, "/lib/pkg": None,
        "/lib/pkg/other.py": b"Y = 2\n", "/main.py": b"print('v2')\n",
    }
    assert [e.name for e in third.listdir("/")] == ["a", "lib", "main.py"]
    assert third.listdir("/lib/pkg") == [Entry("other.py", "/lib/pkg/other.py", False, 6)]
    assert len(third.image()) == 256 * BLOCK


def test_errors_are_esp_image_errors() -> None:
    volume = mkfs(32 * BLOCK)
    volume.write("/f.txt", b"data")
    volume.mkdir("/d/e")
    with pytest.raises(InputError, match="no such file"):
        volume.read("/missing.txt")
    with pytest.raises(InputError, match="no such file"):
        volume.listdir("/missing")
    with pytest.raises(InputError):
        volume.listdir("/f.txt")
    with pytest.raises(InputError, match="is a directory"):
        volume.read("/d")
    with pytest.raises(InputError, match="not empty"):
        volume.remove("/d")
    with pytest.raises(InputError):
        volume.remove("/")
    with pytest.raises(InputError, match="is a directory"):
        volume.write("/d", b"x")
    with pytest.raises(InputError):
        volume.write("/f.txt/inner", b"x")
    with pytest.raises(InputError):
        volume.mkdir("/f.txt/sub")
    with pytest.raises(InputError):
        volume.remove("/missing")
    with pytest.raises(InputError):
        volume.write("/" + "n" * 300, b"x")
    with pytest.raises(InputError):
        normalize_path("/a/../b")
    # nothing above changed the filesystem
    assert volume_tree(volume) == {"/d": None, "/d/e": None, "/f.txt": b"data"}


def test_no_space_is_layout_error_and_leaves_the_volume_unchanged() -> None:
    volume = mkfs(8 * BLOCK)
    volume.write("/keep.txt", b"keep")
    before = volume.image()
    with pytest.raises(LayoutError, match="no space"):
        volume.write("/big.bin", os.urandom(16 * BLOCK))
    assert volume.image() == before
    assert volume_tree(volume) == {"/keep.txt": b"keep"}
    volume.write("/after.txt", b"still writable")
    assert volume.read("/after.txt") == b"still writable"


def test_mkfs_limits() -> None:
    with pytest.raises(LayoutError):
        mkfs(BLOCK)
    with pytest.raises(InputError):
        mkfs(64 * BLOCK, kind="ntfs")
    with pytest.raises(InputError):
        mkfs_littlefs(64 * BLOCK, block_size=1000)
    odd = mkfs(10 * BLOCK + 100)  # a partial last block stays 0xFF
    assert len(odd.image()) == 10 * BLOCK + 100
    assert odd.image()[-100:] == b"\xff" * 100
    assert odd.df() == (2 * BLOCK, 10 * BLOCK)


def test_open_volume_refuses_spiffs_and_unknown_kinds() -> None:
    with pytest.raises(InputError):
        open_volume(mkfs(16 * BLOCK).image(), kind="ext4")
    with pytest.raises(FormatError):
        open_volume(b"\x00" * BLOCK * 4)


def sample_tree(volume: object) -> dict[str, bytes]:
    files = {"/main.py": b"main", "/lib/a.py": b"a" * 3000, "/lib/sub/b.bin": os.urandom(9000),
             "/readme.txt": b"r"}
    for path, data in files.items():
        volume.write(path, data)  # type: ignore[attr-defined]
    volume.mkdir("/empty/dir")  # type: ignore[attr-defined]
    return files


def test_copy_tree_into_bigger_and_smaller() -> None:
    src = mkfs(64 * BLOCK)
    sample_tree(src)
    expected = volume_tree(src)
    for blocks in (256, 16):
        dst = mkfs(blocks * BLOCK)
        copied = copy_tree(src, dst)
        assert sorted(copied) == sorted(expected)
        assert volume_tree(dst) == expected
        assert volume_tree(open_volume(dst.image())) == expected
    # too small: LayoutError, and what was copied before is intact
    tiny = mkfs(4 * BLOCK)
    with pytest.raises(LayoutError):
        copy_tree(src, tiny)
    for path, data in volume_tree(tiny).items():
        assert expected[path] == data


def test_walk_lists_directories_before_their_contents() -> None:
    volume = mkfs(32 * BLOCK)
    sample_tree(volume)
    paths = [e.path for e in volume.walk()]
    for i, path in enumerate(paths):
        parent = path.rsplit("/", 1)[0]
        if parent:
            assert parent in paths[:i]
    assert {e.path for e in volume.walk() if not e.is_dir} == {
        "/main.py", "/lib/a.py", "/lib/sub/b.bin", "/readme.txt"}


# --- property: random trees round-trip --------------------------------------------------------

NAME = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.é",
               min_size=1, max_size=20).filter(lambda n: n not in (".", ".."))
TREE = st.recursive(
    st.binary(max_size=6000),
    lambda children: st.dictionaries(NAME, children, max_size=4),
    max_leaves=12,
)


def flatten(tree: object, prefix: str = "") -> dict[str, bytes | None]:
    out: dict[str, bytes | None] = {}
    if isinstance(tree, dict):
        for name, child in tree.items():
            path = f"{prefix}/{name}"
            if isinstance(child, dict):
                out[path] = None
                out.update(flatten(child, path))
            else:
                out[path] = child
    return out


@given(st.dictionaries(NAME, TREE, max_size=5))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_random_trees_round_trip(tree: dict[str, object]) -> None:
    expected = flatten(tree)
    volume = mkfs(128 * BLOCK)
    for path, data in expected.items():
        if data is None:
            volume.mkdir(path)
        else:
            volume.write(path, data)
    image = volume.image()
    assert volume_tree(open_volume(image)) == expected
    fs = micropython_lfs(bytearray(image), 128)
    fs.mount()
    assert read_tree(fs) == expected
    copy = mkfs(256 * BLOCK)
    copy_tree(open_volume(image), copy)
    assert volume_tree(copy) == expected


def test_detection_of_non_filesystem_data_imports_neither_library() -> None:

    code = (
        "import os, sys\n"
        "from esp_image.filesystems import detect\n"
        "for data in (os.urandom(65536), b'\\xff' * 65536, b'\\x00' * 65536):\n"
        "    detect(data)\n"
        "assert 'littlefs' not in sys.modules, 'littlefs imported'\n"
        "assert 'pyfatfs' not in sys.modules, 'pyfatfs imported'\n"
        "from esp_image.filesystems import mkfs\n"
        "detect(mkfs(16 * 4096).image())\n"
        "assert 'littlefs' in sys.modules\n"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
