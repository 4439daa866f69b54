"""Named table sources: mp-image-tool-esp32 parity, MicroPython's tables, gen_esp32part oracle."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from esp_image.errors import FormatError, InputError, LayoutError, UsageError
from esp_image.layouts import (
    SOURCES,
    default_layout,
    micropython_layout,
    original_layout,
    ota_layout,
    table_from_source,
)
from esp_image.partition_table import Partition, PartitionTable
from esp_image.transforms.partitions import check_table

from ..conftest import corpus_path

IdfTable = pytest.importorskip("esp_idf_defs.partitions").PartitionTable

MB = 0x100000
FIRMWARE = "esptool_ESP32_GENERIC-20240602-v1.23.0.bin"
APP_LEN = 0x198660  # the app image in FIRMWARE (at flash 0x10000, file offset 0xF000)
DATA, APP = 0x01, 0x00
NVS, PHY, OTADATA, FAT = 0x02, 0x01, 0x00, 0x81
FACTORY, OTA0, OTA1 = 0x00, 0x10, 0x11

Row = tuple[str, int, int, int, int, int]


def rows(t: PartitionTable) -> list[Row]:
    return [(p.name, p.type, p.subtype, p.offset, p.size, p.flags) for p in t.partitions]


def idf_rows(o: object) -> list[Row]:
    return [
        (p.name, p.type, p.subtype, p.offset, p.size,
         (1 if p.encrypted else 0) | (2 if p.readonly else 0))
        for p in o  # type: ignore[attr-defined]
    ]


def assert_device_safe(t: PartitionTable, flash_size: int) -> None:
    """Our validation, gen_esp32part's verify() and its flash-size check, and the MD5 record."""
    errors = [i for i in check_table(t, flash_size=flash_size) if i.is_error]
    assert errors == []
    assert t.md5 is not None and t.md5 == t.computed_md5
    data = t.to_bytes()
    assert len(data) == 0xC00
    assert data[len(t) * 32 : len(t) * 32 + 2] == b"\xeb\xeb"
    idf = IdfTable.from_binary(data)  # checks the MD5 too
    idf.verify(partition_table_offset=0x8000)
    idf.verify_size_fits(flash_size)
    assert idf_rows(idf) == rows(t)
    assert idf.to_binary() == data
    # CSV form compiles back to the same bytes with gen_esp32part.
    assert IdfTable.from_csv(t.to_csv()).to_binary() == data


# ---------------------------------------------------------------------------- golden tables
# Recorded from mp-image-tool-esp32 0.1.1 on FIRMWARE ("-f SIZE --table NAME [-a SIZE]",
# table read at file offset 0x7000). The corpus tests below re-run the tool and compare.


def _mp_ota(slot: int, flash: int) -> list[Row]:
    ota1 = 0x10000 + slot
    return [
        ("nvs", DATA, NVS, 0x9000, 0x5000, 0),
        ("otadata", DATA, OTADATA, 0xE000, 0x2000, 0),
        ("ota_0", APP, OTA0, 0x10000, slot, 0),
        ("ota_1", APP, OTA1, ota1, slot, 0),
        ("vfs", DATA, FAT, ota1 + slot, flash - ota1 - slot, 0),
    ]


def _mp_default(factory: int, vfs: int, flash: int) -> list[Row]:
    return [
        ("nvs", DATA, NVS, 0x9000, 0x7000, 0),
        ("factory", APP, FACTORY, 0x10000, factory, 0),
        ("vfs", DATA, FAT, vfs, flash - vfs, 0),
    ]


def _mp_original(factory: int, vfs: int, flash: int) -> list[Row]:
    return [
        ("nvs", DATA, NVS, 0x9000, 0x6000, 0),
        ("phy_init", DATA, PHY, 0xF000, 0x1000, 0),
        ("factory", APP, FACTORY, 0x10000, factory, 0),
        ("vfs", DATA, FAT, vfs, flash - vfs, 0),
    ]


# (flash MB, table, -a or None) -> rows mp-image-tool writes
GOLDEN: dict[tuple[int, str, int | None], list[Row]] = {
    (8, "ota", None): _mp_ota(0x200000, 8 * MB),
    (16, "ota", None): _mp_ota(0x270000, 16 * MB),
    (32, "ota", None): _mp_ota(0x270000, 32 * MB),
    **{(n, "default", None): _mp_default(0x1F0000, 0x200000, n * MB) for n in (4, 8, 16, 32)},
    **{(n, "original", None): _mp_original(0x1F0000, 0x200000, n * MB) for n in (4, 8, 16, 32)},
    (4, "ota", 0x1A0000): _mp_ota(0x1A0000, 4 * MB),
    (8, "ota", 0x1A0000): _mp_ota(0x1A0000, 8 * MB),
    (8, "ota", 0x300000): _mp_ota(0x300000, 8 * MB),
    (8, "ota", 0x200000): _mp_ota(0x200000, 8 * MB),
    (4, "default", 0x1A0000): _mp_default(0x1A0000, 0x200000, 4 * MB),  # gap kept
    (4, "default", 0x300000): _mp_default(0x300000, 0x310000, 4 * MB),
    (8, "default", 0x200000): _mp_default(0x200000, 0x210000, 8 * MB),
    (4, "original", 0x1A0000): _mp_original(0x1A0000, 0x200000, 4 * MB),
    (4, "original", 0x200000): _mp_original(0x200000, 0x210000, 4 * MB),
    (8, "original", 0x300000): _mp_original(0x300000, 0x310000, 8 * MB),
}

LAYOUTS = {"ota": ota_layout, "default": default_layout, "original": original_layout}


@pytest.mark.parametrize(("mb", "name", "app_size"), list(GOLDEN))
def test_layout_equals_recorded_mp_image_tool_output(mb: int, name: str,
                                                     app_size: int | None) -> None:
    table, notes = LAYOUTS[name](mb * MB, app_size=app_size, min_app=APP_LEN)
    assert rows(table) == GOLDEN[mb, name, app_size]
    assert notes == []
    assert_device_safe(table, mb * MB)


def test_ota_4mb_grows_slots_for_the_real_app() -> None:
    # mp-image-tool stops here ("App size (1672800) exceeds 'ota_0' partition size (1572864)").
    table, notes = ota_layout(4 * MB, min_app=APP_LEN)
    assert rows(table) == GOLDEN[4, "ota", 0x1A0000]  # = mp-image-tool "-a 0x1a0000"
    assert notes == ["ota_0/ota_1 grown from 0x180000 to 0x1a0000 to fit the 0x198660-byte app"]
    assert_device_safe(table, 4 * MB)


def test_ota_without_app_uses_standard_slots() -> None:
    table, notes = ota_layout(4 * MB)
    assert rows(table) == _mp_ota(0x180000, 4 * MB)
    assert notes == []
    assert ota_layout(4 * MB, min_app=0x180000) == (table, [])  # exactly fits: no growth


@pytest.mark.parametrize(("flash", "slot"), [
    (2 * MB, 0x180000), (4 * MB, 0x180000), (4 * MB + 0x1000, 0x200000), (8 * MB, 0x200000),
    (8 * MB + 0x1000, 0x270000), (16 * MB, 0x270000), (128 * MB, 0x270000),
])
def test_ota_slot_thresholds(flash: int, slot: int) -> None:
    if flash < 2 * slot + 0x10000:
        with pytest.raises(LayoutError, match="does not fit"):
            ota_layout(flash)
        return
    table, _ = ota_layout(flash)
    assert [p.size for p in table.ota_slots] == [slot, slot]


def test_factory_layouts_grow_factory_for_a_big_app() -> None:
    table, notes = default_layout(4 * MB, min_app=0x1F8000)
    assert rows(table) == _mp_default(0x200000, 0x210000, 4 * MB)
    assert notes == ["factory grown from 0x1f0000 to 0x200000 to fit the 0x1f8000-byte app"]
    table, notes = original_layout(8 * MB, min_app=0x250001)
    assert rows(table) == _mp_original(0x260000, 0x270000, 8 * MB)
    assert "factory grown from 0x1f0000 to 0x260000" in notes[0]


def test_non_64k_app_size_keeps_ota_1_aligned() -> None:
    # mp-image-tool puts ota_1 at 0x1b8000 and then fails its own alignment check.
    table, _ = ota_layout(8 * MB, app_size=0x1A8000)
    assert [(p.name, p.offset) for p in table.ota_slots] == [("ota_0", 0x10000),
                                                              ("ota_1", 0x1C0000)]
    assert_device_safe(table, 8 * MB)


@pytest.mark.parametrize(("call", "message"), [
    (lambda: ota_layout(4 * MB, min_app=0x1F0001), r"does not fit the 0x400000-byte flash"),
    (lambda: ota_layout(4 * MB, app_size=0x200000), r"'ota_1' at 0x210000 .* end at 0x410000"),
    (lambda: ota_layout(8 * MB, app_size=0x100000, min_app=APP_LEN),
     r"0x198660-byte app does not fit the requested 0x100000.*at least 0x1a0000"),
    (lambda: ota_layout(8 * MB, app_size=0x1A0800), r"multiple of 0x1000"),
    (lambda: ota_layout(8 * MB, app_size=0), r"positive multiple"),
    (lambda: ota_layout(0), r"flash size must be positive"),
    # mp-image-tool accepts this one and writes a factory too small for the app (its check runs
    # before -a is applied).
    (lambda: default_layout(4 * MB, app_size=0x100000, min_app=APP_LEN),
     r"does not fit the requested 0x100000"),
    (lambda: default_layout(4 * MB, app_size=0x400000), r"'factory' at 0x10000.*past the end"),
    (lambda: default_layout(2 * MB), r"'vfs' would start at 0x200000"),
    (lambda: original_layout(1 * MB), r"'factory' at 0x10000 with size 0x1f0000"),
])
def test_layout_errors(call: object, message: str) -> None:
    with pytest.raises(LayoutError, match=message):
        call()  # type: ignore[operator]


def test_layouts_are_pure() -> None:
    first = ota_layout(8 * MB, min_app=APP_LEN)
    assert ota_layout(8 * MB, min_app=APP_LEN) == first
    assert default_layout(4 * MB) == default_layout(4 * MB)


# ---------------------------------------------------------------------------- mp-image-tool


def run_mp_image_tool(tmp_path: Path, *args: str) -> tuple[int, str, bytes | None]:
    """Run mp-image-tool-esp32 on FIRMWARE; (rc, output, 0x1000-byte table sector or None)."""
    pytest.importorskip("mp_image_tool_esp32")
    firmware = corpus_path(FIRMWARE)
    out = tmp_path / "out.bin"
    proc = subprocess.run(
        [sys.executable, "-c",
         "import sys; from mp_image_tool_esp32.main import main; sys.exit(main())",
         str(firmware), *args, "-o", out.name],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )
    sector = out.read_bytes()[0x7000:0x8000] if proc.returncode == 0 else None
    return proc.returncode, proc.stdout + proc.stderr, sector


def test_firmware_app_length() -> None:
    # mp-image-tool's app size is file length - app offset (D2); for this file it is the image.
    firmware = corpus_path(FIRMWARE)
    assert firmware.stat().st_size + 0x1000 - 0x10000 == APP_LEN


MP_CASES = [
    *[(mb, name, None) for mb in (4, 8, 16, 32) for name in ("ota", "default", "original")],
    *[k for k in GOLDEN if k[2] is not None],
    (16, "ota", 0x300000),
    (32, "original", 0x280000),
]


@pytest.mark.oracle
@pytest.mark.corpus
@pytest.mark.parametrize(("mb", "name", "app_size"), MP_CASES)
def test_layout_bytes_equal_mp_image_tool(tmp_path: Path, mb: int, name: str,
                                          app_size: int | None) -> None:
    args = ["-f", f"{mb}M", "--table", name]
    if app_size is not None:
        args += ["-a", hex(app_size)]
    rc, output, sector = run_mp_image_tool(tmp_path, *args)
    table, notes = LAYOUTS[name](mb * MB, app_size=app_size, min_app=APP_LEN)
    if mb == 4 and name == "ota" and app_size is None:
        # mp-image-tool refuses; ours grows the slots to what "-a 0x1a0000" gives it.
        assert rc != 0 and "exceeds 'ota_0' partition size" in output
        rc, output, sector = run_mp_image_tool(tmp_path, *args, "-a", "0x1a0000")
        assert notes and "grown" in notes[0]
    else:
        assert notes == []
    assert rc == 0, output
    assert sector is not None
    theirs = PartitionTable.from_bytes(sector)
    assert rows(table) == rows(theirs)
    assert table.to_bytes() == sector[:0xC00]  # records, MD5 record, end marker, 0xFF padding
    assert sector[0xC00:] == b"\xff" * 0x400  # mp-image-tool writes the whole 0x1000 sector
    assert_device_safe(table, mb * MB)


@pytest.mark.oracle
@pytest.mark.corpus
@pytest.mark.parametrize(("mb", "app_size"), [(4, 0x200000), (4, 0x100000), (8, 0x100000)])
def test_both_tools_refuse_ota_that_cannot_work(tmp_path: Path, mb: int, app_size: int) -> None:
    rc, output, _ = run_mp_image_tool(tmp_path, "-f", f"{mb}M", "--table", "ota", "-a",
                                      hex(app_size))
    assert rc != 0, output
    with pytest.raises(LayoutError):
        ota_layout(mb * MB, app_size=app_size, min_app=APP_LEN)


@pytest.mark.oracle
@pytest.mark.corpus
def test_unknown_table_name_is_a_clear_error(tmp_path: Path) -> None:
    rc, output, _ = run_mp_image_tool(tmp_path, "--table", "bogus")
    assert rc != 0 and "KeyError: 'bogus'" in output  # mp-image-tool: a bare KeyError (D11)
    with pytest.raises(UsageError) as exc:
        table_from_source("bogus", 4 * MB)
    text = str(exc.value)
    assert "'bogus'" in text and "\n" not in text
    for name in SOURCES:
        assert name in text


# ---------------------------------------------------------------------------- MicroPython


def _mpy_ota(slot: int, vfs: int | None, flash: int) -> list[Row]:
    out = [
        ("nvs", DATA, NVS, 0x9000, 0x4000, 0),
        ("otadata", DATA, OTADATA, 0xD000, 0x2000, 0),
        ("phy_init", DATA, PHY, 0xF000, 0x1000, 0),
        ("ota_0", APP, OTA0, 0x10000, slot, 0),
        ("ota_1", APP, OTA1, 0x10000 + slot, slot, 0),
    ]
    if vfs is not None:
        out.append(("vfs", DATA, FAT, vfs, flash - vfs, 0))
    return out


def _mpy_factory(factory: int, vfs: int | None, vfs_size: int | None) -> list[Row]:
    out = [
        ("nvs", DATA, NVS, 0x9000, 0x6000, 0),
        ("phy_init", DATA, PHY, 0xF000, 0x1000, 0),
        ("factory", APP, FACTORY, 0x10000, factory, 0),
    ]
    if vfs is not None and vfs_size is not None:
        out.append(("vfs", DATA, FAT, vfs, vfs_size, 0))
    return out


# partition-table.md §9.1/§9.2, file by file.
MICROPYTHON: dict[tuple[int, bool, bool], list[Row]] = {
    # partitions-4MiB-ota.csv (v1.21-v1.25): vfs 0x310000 / 0xF0000
    (4, True, True): _mpy_ota(0x180000, 0x310000, 4 * MB),
    # no official 8 MiB OTA table before v1.26: 8MiBplus-ota slots + vfs filling the flash
    (8, True, True): _mpy_ota(0x270000, 0x4F0000, 8 * MB),
    # partitions-16MiB-ota.csv: vfs 0x4F0000 / 0xB10000; partitions-32MiB-ota.csv: / 0x1B10000
    (16, True, True): _mpy_ota(0x270000, 0x4F0000, 16 * MB),
    (32, True, True): _mpy_ota(0x270000, 0x4F0000, 32 * MB),
    # v1.26+: partitions-4MiB-ota.csv and partitions-8MiBplus-ota.csv, no vfs
    (4, True, False): _mpy_ota(0x180000, None, 4 * MB),
    (8, True, False): _mpy_ota(0x270000, None, 8 * MB),
    (16, True, False): _mpy_ota(0x270000, None, 16 * MB),
    # partitions-2MiB.csv (v1.21-v1.25): vfs 0x170000 / 0x50000 (as shipped)
    (2, False, True): _mpy_factory(0x160000, 0x170000, 0x50000),
    # partitions-4MiB.csv, -8MiB, -16MiB, -32MiB: vfs 0x200000 to the end
    (4, False, True): _mpy_factory(0x1F0000, 0x200000, 0x200000),
    (8, False, True): _mpy_factory(0x1F0000, 0x200000, 0x600000),
    (16, False, True): _mpy_factory(0x1F0000, 0x200000, 0xE00000),
    (32, False, True): _mpy_factory(0x1F0000, 0x200000, 0x1E00000),
    # v1.26+: partitions-2MiB.csv, partitions-4MiBplus.csv
    (2, False, False): _mpy_factory(0x160000, None, None),
    (4, False, False): _mpy_factory(0x1F0000, None, None),
}


@pytest.mark.parametrize(("mb", "ota", "vfs"), list(MICROPYTHON))
def test_micropython_tables(mb: int, ota: bool, vfs: bool) -> None:
    table, notes = micropython_layout(mb * MB, ota=ota, vfs=vfs)
    assert rows(table) == MICROPYTHON[mb, ota, vfs]
    assert notes == []
    assert_device_safe(table, mb * MB)


def test_micropython_spec_golden_vector() -> None:
    # partition-table.md §2.3: the 4 MB OTA table generated by gen_esp32part.
    table, _ = micropython_layout(4 * MB)
    assert table.md5 is not None
    assert table.md5.hex() == "4564543e21204d6364b78630ca0b9b3d"


def test_micropython_growth_and_app_size() -> None:
    table, notes = micropython_layout(4 * MB, min_app=APP_LEN)
    assert [(p.offset, p.size) for p in table.ota_slots] == [(0x10000, 0x1A0000),
                                                              (0x1B0000, 0x1A0000)]
    assert table.partitions[-1].offset == 0x350000
    assert notes == ["ota_0/ota_1 grown from 0x180000 to 0x1a0000 to fit the 0x198660-byte app"]
    assert_device_safe(table, 4 * MB)
    table, notes = micropython_layout(8 * MB, ota=False, app_size=0x300000)
    assert rows(table)[2:] == [("factory", APP, FACTORY, 0x10000, 0x300000, 0),
                               ("vfs", DATA, FAT, 0x310000, 0x4F0000, 0)]
    assert notes == []
    # A grown 2 MB factory: vfs fills the rest instead of keeping the official gap.
    table, notes = micropython_layout(2 * MB, ota=False, min_app=0x170000)
    assert rows(table)[2:] == [("factory", APP, FACTORY, 0x10000, 0x170000, 0),
                               ("vfs", DATA, FAT, 0x180000, 0x80000, 0)]
    assert notes


@pytest.mark.parametrize(("flash", "ota", "message"), [
    (2 * MB, True, "no OTA partition table"),
    (1 * MB, False, "no partition table"),
    (4 * MB, True, None),
])
def test_micropython_errors(flash: int, ota: bool, message: str | None) -> None:
    if message is None:
        with pytest.raises(LayoutError, match="does not fit"):
            micropython_layout(flash, ota=ota, min_app=0x1F0001)
        return
    with pytest.raises(LayoutError, match=message):
        micropython_layout(flash, ota=ota)


# ---------------------------------------------------------------------------- table_from_source


@pytest.mark.parametrize("name", ["ota", "default", "original", "micropython", " OTA ",
                                  "Default"])
def test_source_dispatch(name: str) -> None:
    expected = {"ota": ota_layout, "default": default_layout, "original": original_layout,
                "micropython": micropython_layout}[name.strip().lower()]
    got = table_from_source(name, 8 * MB, min_app=APP_LEN)
    assert got == expected(8 * MB, min_app=APP_LEN)
    got = table_from_source(name, 8 * MB, app_size=0x200000)
    assert got == expected(8 * MB, app_size=0x200000)


@pytest.mark.parametrize("bad", ["bogus", "", "ota.bin", "csv"])
def test_unknown_source(bad: str) -> None:
    with pytest.raises(UsageError, match="unknown table source") as exc:
        table_from_source(bad, 4 * MB)
    assert "ota, default, original, micropython" in str(exc.value)


IDF_CSV = """\
# ESP-IDF style: blank offsets, suffixes, keywords in any case, numbers, flags
nvs,      data, nvs,      ,        24K,
otadata,  data, ota,      ,        8K,
phy_init, data, phy,      ,        4k,
ota_0,    app,  ota_0,    ,        1536K,  encrypted
ota_1,    APP,  OTA_1,    ,        0x180000,
nvs_key,  data, nvs_keys, ,        4K,     encrypted
coredump, data, coredump, ,        64K,
efuse_em, data, efuse,    ,        8K,
romfs,    data, 0x8f,     ,        128K,   readonly
spiffs,   data, spiffs,   ,        256K,
lfs,      data, littlefs, ,        256K,
custom,   0x40, 0x01,     ,        4K,
undef,    data, ,         ,        4K,
last,     data, fat,      0x3e0000, -0x400000,
"""


def test_csv_source_matches_gen_esp32part(tmp_path: Path) -> None:
    path = tmp_path / "parts.csv"
    path.write_text(IDF_CSV)
    table, notes = table_from_source(str(path), 4 * MB)
    assert notes == []
    oracle = IdfTable.from_csv(IDF_CSV)
    assert idf_rows(oracle) == rows(table)
    assert oracle.to_binary() == table.to_bytes()
    assert table.find("last") == Partition("last", DATA, FAT, 0x3E0000, 0x20000)
    assert table.find("undef") is not None and table.find("undef").subtype == 0x06  # type: ignore[union-attr]
    assert_device_safe(table, 4 * MB)


def test_csv_source_with_app_size(tmp_path: Path) -> None:
    path = tmp_path / "ota.CSV"
    path.write_text("nvs,data,nvs,0x9000,0x5000\notadata,data,ota,0xe000,0x2000\n"
                    "ota_0,app,ota_0,0x10000,1M\nota_1,app,ota_1,0x110000,1M\n"
                    "vfs,data,fat,0x210000,0x1f0000\n")
    table, _ = table_from_source(str(path), 4 * MB, app_size=0x1A0000)
    assert [(p.name, p.offset, p.size) for p in table.partitions][2:] == [
        ("ota_0", 0x10000, 0x1A0000), ("ota_1", 0x1B0000, 0x1A0000), ("vfs", 0x350000, 0xB0000)]
    with pytest.raises(LayoutError, match="does not fit the requested"):
        table_from_source(str(path), 4 * MB, app_size=0x100000, min_app=APP_LEN)


def test_csv_source_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"missing\.csv: No such file") as exc:
        table_from_source(str(tmp_path / "missing.csv"), 4 * MB)
    assert "\n" not in str(exc.value)
    folder = tmp_path / "dir.csv"
    folder.mkdir()
    with pytest.raises(InputError, match=r"dir\.csv: is a directory, not a partition CSV"):
        table_from_source(str(folder), 4 * MB)
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"\xff\xfe\xfa\x00")
    with pytest.raises(InputError, match="cannot read partition CSV"):
        table_from_source(str(binary), 4 * MB)
    bad = tmp_path / "bad.csv"
    bad.write_text("nvs,data,nvs,0x9000,0x6000\nfactory,app,nosuch,,1M\n")
    with pytest.raises(FormatError, match="line 2"):
        table_from_source(str(bad), 4 * MB)


def test_source_notes_changes_against_current() -> None:
    current, _ = original_layout(4 * MB)
    table, notes = table_from_source("ota", 8 * MB, current=current)
    assert table == ota_layout(8 * MB)[0]
    assert any(n.startswith("removed 'factory'") for n in notes)
    assert any(n.startswith("removed 'phy_init'") for n in notes)
    assert any(n.startswith("added 'ota_1'") for n in notes)
    vfs = [n for n in notes if n.startswith("'vfs'")]
    assert vfs == ["'vfs': 0x200000 size 0x200000 -> 0x410000 size 0x3f0000 (moved, grew); "
                   "its old contents are not valid there and should be erased"]
    same, notes = table_from_source("original", 4 * MB, current=current)
    assert same == current and notes == []


def test_every_layout_has_an_md5_record() -> None:
    for fn in (ota_layout, default_layout, original_layout, micropython_layout):
        table, _ = fn(16 * MB)
        assert table.md5 == table.computed_md5
        stripped = dataclasses.replace(table, md5=None)
        assert stripped.to_bytes() != table.to_bytes()
