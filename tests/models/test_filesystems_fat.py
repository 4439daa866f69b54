"""FAT and wear-levelled FAT partitions (esp_image.filesystems.fat / .wl).

Facts checked here come from the firmware sources, not from our code:

* MicroPython ``VfsFat.mkfs`` = oofatfs R0.12 ``f_mkfs(FM_FAT | FM_SFD, au=0)`` (lib/oofatfs/ff.c):
  1 FAT, 512 root entries, 1 reserved sector, ``EB FE 90 MSDOS5.0``, media F8, automatic
  cluster size (1 sector below 4096 sectors, 2 below 16384 ...), FAT12 up to 4085 clusters.
* ESP-IDF ``vfs_fat_spiflash.c``: ``{FM_ANY | FM_SFD, 2 FATs, CONFIG_WL_SECTOR_SIZE / 32 root
  entries, au = sector size}``; ``diskio_wl.c`` reports no erase-block size.
* ESP-IDF ``WL_Flash.cpp`` / ``wl_fatfsgen.py``: dummy sector + data, then 2 state copies and
  the config sector at the end; state header 64 bytes with ``crc32_le(UINT32_MAX, 60 bytes)``,
  config 48 bytes with the crc over 32; position records of 16 bytes; byte-exact values from
  ESP-IDF's ``test_wl_fatfsgen.py`` (device_id 3750448905).
"""

from __future__ import annotations

import io
import random
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

pytest.importorskip("pyfatfs")

from esp_image.errors import EspImageError, FormatError, InputError, LayoutError
from esp_image.filesystems import wl
from esp_image.filesystems.fat import FatVolume, inspect_fat, mkfs_fat, open_fat

MB = 1024 * 1024
SS = 4096


def zcrc(data: bytes) -> int:
    """ESP ROM crc32_le(UINT32_MAX, ...) computed independently with zlib."""
    return zlib.crc32(data, 0xFFFFFFFF) & 0xFFFFFFFF


def pyfatfs_tree(image: bytes) -> dict[str, bytes | None]:
    """Read a plain FAT image with pyfatfs alone (not through esp_image)."""
    from pyfatfs.PyFatFS import PyFatBytesIOFS

    fs = PyFatBytesIOFS(io.BytesIO(bytes(image)))
    out: dict[str, bytes | None] = {}
    try:
        for path, info in fs.walk.info(namespaces=["basic"]):
            if info.is_dir:
                out[path] = None
            else:
                with fs.openbin(path, "r") as fh:
                    out[path] = fh.read()
    finally:
        fs.close()
    return out


def populate(volume: FatVolume) -> dict[str, bytes]:
    volume.mkdir("/lib")
    volume.mkdir("/lib/deep")
    volume.mkdir("/lib/deep/er")
    files = {
        "/BOOT.PY": b"import gc\ngc.collect()\n",
        "/main.py": b"print('hi')\n",
        "/lib/deep/big.bin": random.Random(1).randbytes(100_000),
        "/lib/deep/er/A rather long file name.json": b'{"a": 1}',
        "/lib/empty.txt": b"",
    }
    for path, data in files.items():
        volume.write(path, data)
    return files


# ----------------------------------------------------------------------------- geometry


def test_mkfs_plain_is_micropython_fatfs_geometry() -> None:
    image = mkfs_fat(MB).image()
    assert len(image) == MB
    ss, spc, rsv, nfats, nroot, tot16, media, fatsz = struct.unpack_from("<HBHBHHBH", image, 11)
    assert image[:11] == b"\xeb\xfe\x90MSDOS5.0"
    assert (ss, spc, rsv, nfats, nroot, tot16, media) == (4096, 1, 1, 1, 512, 256, 0xF8)
    # FAT12 with 256 clusters at most: (256*3+1)//2 + 3 bytes -> one 4096-byte sector
    assert fatsz == 1
    assert image[510:512] == b"\x55\xaa"
    assert image[54:62] == b"FAT     "
    assert image[SS : SS + 4] == b"\xf8\xff\xff\x00"  # FAT entries 0 and 1
    root = 2 * SS
    assert image[root : root + 4 * SS] == bytes(4 * SS)  # 512 entries = 4 zeroed sectors
    assert image[6 * SS :] == b"\xff" * (MB - 6 * SS)  # data area left as erased flash


def test_mkfs_plain_cluster_size_follows_fatfs_table() -> None:
    # 20 MB / 4096 = 5120 sectors: >= 4096 sectors -> 2 sectors per cluster (cst table)
    image = mkfs_fat(20 * MB).image()
    assert image[13] == 2
    # 12 MB = 3072 sectors (< 4096): 1 sector per cluster; 16 MB = 4096 sectors: 2
    assert mkfs_fat(12 * MB).image()[13] == 1
    assert mkfs_fat(16 * MB).image()[13] == 2
    # 512-byte sectors, 8 MB: FAT16 with 4 sectors would leave <= 4085 clusters, FatFs
    # doubles the cluster size and ends at FAT12 with 8 sectors per cluster
    image = mkfs_fat(8 * MB, sector_size=512).image()
    assert struct.unpack_from("<H", image, 11)[0] == 512 and image[13] == 8


def test_mkfs_wl_is_esp_idf_geometry_inside_wl() -> None:
    part = mkfs_fat(MB, wear_levelling=True).image()
    assert len(part) == MB
    assert part[:SS] == b"\xff" * SS  # dummy sector first
    vbr = part[SS : 2 * SS]
    ss, spc, rsv, nfats, nroot, tot16, media, _fatsz = struct.unpack_from("<HBHBHHBH", vbr, 11)
    # 1 MB: 256 sectors; state = 64 + 256*16 > 4096 -> 2 sectors per copy; 256-1-4-1 = 250
    assert (ss, spc, rsv, nfats, nroot, tot16, media) == (4096, 1, 1, 2, 128, 250, 0xF8)
    assert vbr[:3] == b"\xeb\xfe\x90" and vbr[510:512] == b"\x55\xaa"


def test_mkfs_refuses_volumes_fatfs_refuses() -> None:
    with pytest.raises(LayoutError):
        mkfs_fat(100 * SS, wear_levelling=True)  # < 128 logical sectors: R0.15 will not mount
    with pytest.raises(LayoutError):
        mkfs_fat(8 * SS)
    with pytest.raises(LayoutError):
        mkfs_fat(MB, sector_size=3000)


# ----------------------------------------------------------------------------- plain FAT


def test_plain_round_trip_read_back_with_pyfatfs_directly() -> None:
    volume = mkfs_fat(MB)
    files = populate(volume)
    image = volume.image()
    assert len(image) == MB
    tree = pyfatfs_tree(image)
    assert tree["/lib"] is None and tree["/lib/deep/er"] is None
    for path, data in files.items():
        assert tree[path] == data
    assert set(tree) == set(files) | {"/lib", "/lib/deep", "/lib/deep/er"}


def test_plain_round_trip_through_open_fat() -> None:
    volume = mkfs_fat(2 * MB)
    files = populate(volume)
    again = open_fat(volume.image())
    assert not again.wear_levelling
    for path, data in files.items():
        assert again.read(path) == data
    names = {e.path: (e.is_dir, e.size) for e in again.walk()}
    assert names["/lib/deep/big.bin"] == (False, 100_000)
    assert names["/lib/deep"] == (True, 0)
    assert [e.name for e in again.listdir("/lib/deep/er")] == ["A rather long file name.json"]


def test_names_are_case_insensitive_like_fatfs() -> None:
    volume = mkfs_fat(MB)
    volume.write("/Boot.py", b"one")
    volume.write("/BOOT.PY", b"two")
    assert [e.name for e in volume.listdir("/")] == ["Boot.py"]
    assert volume.read("/boot.PY") == b"two"


def test_short_names_only_volume() -> None:
    volume = mkfs_fat(MB, long_names=False)
    volume.write("/DATA.TXT", b"x")
    with pytest.raises(InputError):
        volume.write("/a rather long name.txt", b"x")
    assert pyfatfs_tree(volume.image())["/DATA.TXT"] == b"x"


def test_overwrite_remove_and_df() -> None:
    volume = mkfs_fat(MB)
    used0, total = volume.df()
    assert total == 250 * SS and used0 == 0
    volume.write("/f.bin", b"a" * (3 * SS))
    assert volume.df()[0] == 3 * SS
    volume.write("/f.bin", b"b" * 10)
    assert volume.df()[0] == SS and volume.read("/f.bin") == b"b" * 10
    volume.mkdir("/d")
    volume.write("/d/x", b"1")
    with pytest.raises(InputError):
        volume.remove("/d")  # not empty
    volume.remove("/d/x")
    volume.remove("/d")
    volume.remove("/f.bin")
    assert volume.df()[0] == 0 and volume.listdir("/") == []
    assert pyfatfs_tree(volume.image()) == {}


def test_missing_paths_are_input_errors() -> None:
    volume = mkfs_fat(MB)
    volume.write("/file", b"x")
    for call in (
        lambda: volume.read("/nope"),
        lambda: volume.listdir("/nope"),
        lambda: volume.write("/file/x", b""),
        lambda: volume.mkdir("/file/sub"),
        lambda: volume.remove("/nope"),
        lambda: volume.listdir("/file"),
        lambda: volume.write("/bad:name", b""),
        lambda: volume.read("/"),
    ):
        with pytest.raises(InputError):
            call()


def test_no_space_is_layout_error_and_leaves_volume_unchanged() -> None:
    volume = mkfs_fat(MB)
    volume.write("/keep.txt", b"keep")
    before = volume.image()
    with pytest.raises(LayoutError):
        volume.write("/huge.bin", b"\0" * (2 * MB))
    assert volume.image() == before
    assert [e.name for e in volume.listdir("/")] == ["keep.txt"]
    volume.write("/fits.bin", b"\1" * 100_000)  # still usable
    assert open_fat(volume.image()).read("/fits.bin") == b"\1" * 100_000


def test_root_directory_full_is_layout_error() -> None:
    volume = mkfs_fat(MB, wear_levelling=True)  # 128 root entries
    with pytest.raises(LayoutError):
        for i in range(200):
            volume.write(f"/F{i}", b"")


@pytest.mark.skipif(shutil.which("fsck.fat") is None, reason="dosfstools not installed")
@pytest.mark.parametrize(
    ("size", "wear", "ss"),
    [(MB, False, 4096), (2 * MB, True, 4096), (MB, True, 512), (8 * MB, False, 512)],
)
def test_fsck_fat_accepts_what_we_write(tmp_path: Path, size: int, wear: bool, ss: int) -> None:
    volume = mkfs_fat(size, wear_levelling=wear, sector_size=ss, label="ESPIMG")
    populate(volume)
    volume.remove("/main.py")
    path = tmp_path / "fat.img"
    path.write_bytes(volume.logical_image())
    result = subprocess.run(
        ["fsck.fat", "-n", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


# ----------------------------------------------------------------------------- wear levelling


def test_wl_layout_matches_esp_idf_wl_fatfsgen_bytes() -> None:
    """Byte values asserted by ESP-IDF's test_wl_fatfsgen.py for a 1 MB and a 2 MB image."""
    for size, state1, state2, state_crc, cfg_crc in (
        (MB, 0xFB000, 0xFD000, b"\xd4\xa1\x94i", b"\xe0b\xb5O"),
        (2 * MB, 0x1F9000, 0x1FC000, b"j5\xbdp", b")\x892j"),
    ):
        logical_size = wl.logical_size(size)
        part = wl.wrap(b"\0" * logical_size, size, device_id=3750448905)
        max_pos = (logical_size // SS + 1).to_bytes(2, "little")
        for start in (state1, state2):
            assert part[start : start + 0x10] == b"\0" * 4 + max_pos + b"\0" * 10
            assert part[start + 0x10 : start + 0x20] == (
                b"\x10\x00\x00\x00\x00\x10\x00\x00\x02\x00\x00\x00\tO\x8b\xdf"
            )
            assert part[start + 0x20 : start + 0x3C] == b"\0" * 28
            assert part[start + 0x3C : start + 0x40] == state_crc
            assert part[start + 0x40 : start + SS] == b"\xff" * (SS - 0x40)  # no records
        cfg = size - SS
        assert part[cfg : cfg + 0x20] == struct.pack("<8I", 0, size, SS, SS, 16, 16, 2, 32)
        assert part[cfg + 0x20 : cfg + 0x30] == cfg_crc + b"\0" * 12
        assert part[cfg + 0x30 : cfg + SS] == b"\xff" * (SS - 0x30)


def test_wl_crcs_recomputed_with_zlib() -> None:
    part = wl.wrap(b"abc", MB, device_id=0x12345678)
    state1 = MB - 2 * 2 * SS - SS
    header = part[state1 : state1 + 64]
    assert struct.unpack_from("<I", header, 60)[0] == zcrc(header[:60])
    assert struct.unpack_from("<I", header, 28)[0] == 0x12345678
    cfg = part[MB - SS : MB - SS + 48]
    assert struct.unpack_from("<I", cfg, 32)[0] == zcrc(cfg[:32])


def test_wl_small_partition_has_one_state_sector_per_copy() -> None:
    size = 128 * SS  # 64 + 128*16 <= 4096
    geo = wl.geometry(size)
    assert (geo.state_size, geo.state1_offset, geo.state2_offset) == (
        SS,
        size - 3 * SS,
        size - 2 * SS,
    )
    assert geo.flash_size == (128 - 1 - 2 - 1) * SS


def test_wl_wrap_unwrap_round_trip() -> None:
    logical = random.Random(2).randbytes(wl.logical_size(MB))
    part = wl.wrap(logical, MB)
    assert part[SS : SS + len(logical)] == logical  # page 0 is the dummy
    back, info = wl.unwrap(part)
    assert back == logical
    assert info.version == 2 and info.pos == 0 and info.move_count == 0
    assert info.state_copies_valid == (True, True) and info.config_valid
    assert (info.logical_sectors, info.max_pos, info.state_sectors) == (250, 251, 2)


def _device_moves(part: bytes, moves: int) -> bytes:
    """Move the dummy page ``moves`` times as WL_Flash::updateWL does on the device."""
    out = bytearray(part)
    size = len(out)
    state_size = SS if 64 + (size // SS) * 16 <= SS else -(-(64 + (size // SS) * 16) // SS) * SS
    copies = (size - 2 * state_size - SS, size - state_size - SS)
    fields = list(struct.unpack_from("<8I", out, copies[0]))
    pos, max_pos, move_count = fields[0], fields[1], fields[2]
    device_id = fields[7]
    for _ in range(moves):
        src = pos + 1 if pos + 1 < max_pos else 0
        out[pos * SS : (pos + 1) * SS] = out[src * SS : (src + 1) * SS]  # [pos+1] -> [pos]
        record = b"".join(
            struct.pack("<I", zcrc(struct.pack("<I", (device_id + pos * 4 + i) & 0xFFFFFFFF)))
            for i in range(4)
        )
        for base in copies:
            out[base + 64 + pos * 16 : base + 64 + pos * 16 + 16] = record
        pos += 1
        if pos >= max_pos:
            pos = 0
            move_count += 1
            if move_count >= max_pos - 1:
                move_count = 0
            fields[0], fields[2] = pos, move_count
            body = struct.pack("<8I", *fields) + b"\0" * 28
            header = body + struct.pack("<I", zcrc(body))
            for base in copies:
                out[base : base + state_size] = header + b"\xff" * (state_size - 64)
    return bytes(out)


@pytest.mark.parametrize("moves", [1, 7, 250, 251, 252, 600])
def test_wl_unwrap_follows_device_page_moves(moves: int) -> None:
    logical = random.Random(moves).randbytes(wl.logical_size(MB))
    moved = _device_moves(wl.wrap(logical, MB), moves)
    back, info = wl.unwrap(moved)
    assert back == logical
    assert info.move_count == moves // 251
    assert info.pos == moves % 251


def test_wl_fat_round_trip_and_rewrite_keeps_mapping() -> None:
    volume = mkfs_fat(MB, wear_levelling=True)
    files = populate(volume)
    part = volume.image()
    assert wl.unwrap(part)[0] == volume.logical_image()
    # the device moved pages since; edit through open_fat and reopen
    moved = _device_moves(part, 300)
    again = open_fat(moved)
    assert again.wear_levelling and again.wl_info is not None and again.wl_info.move_count == 1
    assert {e.path for e in again.walk()} == {e.path for e in volume.walk()}
    again.write("/lib/new.txt", b"new")
    rewritten = again.image()
    # WL state untouched, so the device keeps its mapping
    assert rewritten[MB - 5 * SS :] == moved[MB - 5 * SS :]
    third = open_fat(rewritten)
    assert third.read("/lib/new.txt") == b"new"
    for path, data in files.items():
        assert third.read(path) == data
    # and the logical image is a FAT pyfatfs itself reads
    assert pyfatfs_tree(wl.unwrap(rewritten)[0])["/lib/new.txt"] == b"new"


def test_open_fat_detects_wl_and_honours_explicit_choice() -> None:
    part = mkfs_fat(MB, wear_levelling=True).image()
    assert open_fat(part).wear_levelling
    with pytest.raises(FormatError):
        open_fat(part, wear_levelling=False)  # dummy sector, no boot sector at 0
    plain = mkfs_fat(MB).image()
    assert not open_fat(plain).wear_levelling
    with pytest.raises(FormatError):
        open_fat(plain, wear_levelling=True)


def test_inspect_reports_both_kinds() -> None:
    volume = mkfs_fat(MB, wear_levelling=True, label="FFAT")
    volume.write("/a.txt", b"x" * 5000)
    report = inspect_fat(volume.image())
    assert report["valid"] and report["reason"] is None
    assert (report["type"], report["fat_type"], report["sector_size"]) == ("fat-wl", "FAT12", SS)
    assert report["cluster_size"] == SS and report["volume_label"] == "FFAT"
    assert report["used_bytes"] == 2 * SS and report["files"] == 1
    assert report["wear_levelling"]["version"] == 2
    assert report["wear_levelling"]["state1_valid"] and report["wear_levelling"]["state2_valid"]
    plain = inspect_fat(mkfs_fat(MB).image())
    assert plain["valid"] and plain["type"] == "fat" and plain["wear_levelling"] is None
    assert plain["fat_count"] == 1 and plain["root_entries"] == 512


# ----------------------------------------------------------------------------- damage


def _flip(data: bytes, offset: int, mask: int = 0x5A) -> bytes:
    out = bytearray(data)
    out[offset] ^= mask
    return bytes(out)


def test_one_damaged_state_copy_is_recovered_like_the_device() -> None:
    part = mkfs_fat(MB, wear_levelling=True).image()
    geo = wl.geometry(MB)
    broken2 = _flip(part, geo.state2_offset + 8)
    logical, info = wl.unwrap(broken2)
    assert info.state_copies_valid == (True, False) and logical == wl.unwrap(part)[0]
    broken1 = _flip(part, geo.state1_offset + 8)
    _, info = wl.unwrap(broken1)
    assert info.state_copies_valid == (False, True)
    assert info.pos == info.max_pos - 1  # WL_Flash::init restores copy 1 and sets pos so


def test_both_state_copies_damaged_is_a_clean_error() -> None:
    part = mkfs_fat(MB, wear_levelling=True).image()
    geo = wl.geometry(MB)
    broken = _flip(_flip(part, geo.state1_offset + 4), geo.state2_offset + 60)
    with pytest.raises(FormatError, match="both wear-levelling state copies"):
        wl.unwrap(broken)
    with pytest.raises(FormatError):
        open_fat(broken)
    with pytest.raises(FormatError):
        open_fat(broken, wear_levelling=True)
    report = inspect_fat(broken)
    assert report["valid"] is False and "state" in report["reason"]
    assert report["type"] == "fat-wl"


def test_state_that_does_not_fit_the_partition_is_a_clean_error() -> None:
    part = bytearray(mkfs_fat(MB, wear_levelling=True).image())
    geo = wl.geometry(MB)
    for base in (geo.state1_offset, geo.state2_offset):
        struct.pack_into("<I", part, base + 4, 9999)  # max_pos
        struct.pack_into("<I", part, base + 60, zcrc(bytes(part[base : base + 60])))
    with pytest.raises(FormatError, match="max_pos"):
        wl.unwrap(bytes(part))
    assert inspect_fat(bytes(part))["valid"] is False


@pytest.mark.parametrize(
    ("offset", "value"),
    [(510, 0), (0, 0), (11, 0x03), (13, 3), (16, 0), (14, 0), (19, 0), (22, 0)],
)
def test_damaged_boot_sector_is_a_clean_error(offset: int, value: int) -> None:
    image = bytearray(mkfs_fat(MB).image())
    image[offset] = value
    if offset == 19:
        image[20] = 0
    with pytest.raises(FormatError):
        open_fat(bytes(image))
    report = inspect_fat(bytes(image))
    assert report["valid"] is False and report["reason"]


def test_erased_and_truncated_partitions() -> None:
    with pytest.raises(FormatError, match="erased"):
        open_fat(b"\xff" * MB)
    assert inspect_fat(b"\xff" * MB)["valid"] is False
    with pytest.raises(FormatError):
        open_fat(mkfs_fat(MB).image()[: 100 * SS])
    with pytest.raises(InputError):
        open_fat(b"")


def test_cyclic_cluster_chain_is_a_clean_error() -> None:
    volume = mkfs_fat(MB)
    volume.write("/loop.bin", b"z" * (3 * SS))
    image = bytearray(volume.image())
    # FAT12 at sector 1; the file holds clusters 2,3,4: point 3 (odd entry: high 12 bits of
    # bytes 4..5) back at 2
    off = SS + 3 * 3 // 2
    assert (image[off] >> 4 | image[off + 1] << 4) == 4
    image[off] = (image[off] & 0x0F) | 0x20
    image[off + 1] = 0x00
    damaged = open_fat(bytes(image))
    with pytest.raises(FormatError, match="loop"):
        damaged.read("/loop.bin")
    assert inspect_fat(bytes(image))["valid"] is False


def test_random_damage_never_escapes_as_another_exception() -> None:
    volume = mkfs_fat(MB)
    populate(volume)
    base = volume.image()
    rng = random.Random(8)
    # boot sector, FAT, root directory, first directory clusters: where damage matters
    ranges = [(0, 64), (SS, SS + 96), (2 * SS, 2 * SS + 512)]
    ranges += [(n * SS, n * SS + 256) for n in (6, 7, 8)]
    outcomes = {"ok": 0, "error": 0}
    for _ in range(250):
        image = bytearray(base)
        for _ in range(rng.randrange(1, 4)):
            start, end = rng.choice(ranges)
            image[rng.randrange(start, end)] = rng.randrange(256)
        try:
            report = inspect_fat(bytes(image))
            assert isinstance(report["valid"], bool)
            damaged = open_fat(bytes(image))
            for entry in damaged.walk():
                if not entry.is_dir:
                    damaged.read(entry.path)
            damaged.write("/new.txt", b"n" * 9000)
            damaged.mkdir("/q/r")
            damaged.remove("/q/r")
            open_fat(damaged.image()).walk()
            outcomes["ok"] += 1
        except EspImageError:
            outcomes["error"] += 1
    assert outcomes["ok"] and outcomes["error"]  # both paths were exercised


def test_volume_protocol_details_for_integration() -> None:
    """write/mkdir create missing parents; mkdir of an existing directory changes nothing;
    Entry is the shared esp_image.filesystems.Entry; ``kind`` selects wear levelling."""
    from esp_image.filesystems import Entry

    volume = mkfs_fat(MB, kind="fat-wl")
    assert volume.wear_levelling
    volume.write("/a/b/c.txt", b"c")
    volume.mkdir("/x/y/z")
    before = volume.image()
    volume.mkdir("/X/Y")  # exists (case-insensitively)
    assert volume.image() == before
    entries = volume.walk()
    assert all(isinstance(e, Entry) for e in entries)
    assert [e.path for e in entries] == ["/a", "/a/b", "/a/b/c.txt", "/x", "/x/y", "/x/y/z"]
    assert open_fat(before, kind="fat-wl").read("/a/b/c.txt") == b"c"
    with pytest.raises(FormatError):
        open_fat(before, kind="fat")
    with pytest.raises(InputError):
        open_fat(before, kind="spiffs")
    assert not mkfs_fat(MB, kind="fat").wear_levelling


def test_through_the_shared_filesystems_api() -> None:
    """open_volume / mkfs / detect of esp_image.filesystems reach this module."""
    from esp_image import filesystems

    volume = filesystems.mkfs(2 * MB, kind="fat-wl")
    volume.write("/lib/m.py", b"m")
    image = volume.image()
    assert filesystems.detect(image).type == "fat-wl"
    assert filesystems.open_volume(image).read("/lib/m.py") == b"m"
    plain = filesystems.mkfs(MB, kind="fat")
    plain.write("/x", b"y")
    assert filesystems.detect(plain.image()).type == "fat"
    assert filesystems.open_volume(plain.image()).read("/x") == b"y"
