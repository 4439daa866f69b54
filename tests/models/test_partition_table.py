"""Partition table: golden vectors, corpus round trips, the gen_esp32part oracle, CSV, rules."""

from __future__ import annotations

import dataclasses
import hashlib
import random
import re

import pytest

from esp_image.errors import FormatError, LayoutError, TruncatedError
from esp_image.formats import partition_table as fmt
from esp_image.partition_table import Partition, PartitionTable

from ..conftest import corpus_path, corpus_rows, input_path

IdfTable = pytest.importorskip("esp_idf_defs.partitions").PartitionTable

# ---------------------------------------------------------------------------- helpers

DATA, APP = 0x01, 0x00


def part(name: str, type_: int, subtype: int, offset: int, size: int, flags: int = 0) -> Partition:
    return Partition(name, type_, subtype, offset, size, flags)


def table(*parts: Partition, md5: bool = True) -> PartitionTable:
    t = PartitionTable(tuple(parts), None)
    try:
        return dataclasses.replace(t, md5=t.computed_md5) if md5 else t
    except LayoutError:  # a name too long for the label: no digest can be computed
        return t


def codes(t: PartitionTable, **kwargs: int) -> set[str]:
    return {i.code for i in t.validate(**kwargs)}


def summary(t: PartitionTable) -> list[tuple[str, int, int, int, int, int]]:
    return [(p.name, p.type, p.subtype, p.offset, p.size, p.flags) for p in t.partitions]


def oracle_summary(o: object) -> list[tuple[str, int, int, int, int, int]]:
    return [
        (p.name, p.type, p.subtype, p.offset, p.size, (1 if p.encrypted else 0) | (2 if p.readonly
                                                                                     else 0))
        for p in o  # type: ignore[attr-defined]
    ]


# The 4 MB OTA table of spec §2.3 (gen_esp32part output, MD5 4564543e...).
OTA_4MB = (
    part("nvs", DATA, 0x02, 0x9000, 0x4000),
    part("otadata", DATA, 0x00, 0xD000, 0x2000),
    part("phy_init", DATA, 0x01, 0xF000, 0x1000),
    part("ota_0", APP, 0x10, 0x10000, 0x180000),
    part("ota_1", APP, 0x11, 0x190000, 0x180000),
    part("vfs", DATA, 0x81, 0x310000, 0xF0000),
)
OTA_4MB_MD5 = "4564543e21204d6364b78630ca0b9b3d"


# ---------------------------------------------------------------------------- golden vectors

# nvs, data/nvs at 0x9000, size 0x6000, no flags
RECORD_HEX = (
    "aa50"                               # magic ESP_PARTITION_MAGIC
    "01"                                 # type data
    "02"                                 # subtype nvs
    "00900000"                           # offset 0x9000
    "00600000"                           # size 0x6000
    "6e7673" + "00" * 13 +               # label "nvs", NUL padded to 16
    "03000000"                           # flags encrypted | readonly
)


def test_record_golden_vector() -> None:
    raw = bytes.fromhex(RECORD_HEX)
    c = fmt.PartitionInfo.parse(raw)
    assert (c.type, c.subtype, c.offset, c.size, c.flags) == (1, 2, 0x9000, 0x6000, 3)
    assert c.label == b"nvs" + b"\0" * 13
    assert fmt.PartitionInfo.build(c) == raw
    assert fmt.PartitionInfo.sizeof() == 32
    p = Partition("nvs", DATA, 2, 0x9000, 0x6000, 3)
    assert p.to_record() == raw
    assert p.flag_names == ["encrypted", "readonly"]


MD5_RECORD_HEX = "ebeb" + "ff" * 14 + OTA_4MB_MD5  # magic, 14 x 0xFF, digest


def test_md5_record_golden_vector() -> None:
    raw = bytes.fromhex(MD5_RECORD_HEX)
    c = fmt.Md5Record.parse(raw)
    assert c.padding == b"\xff" * 14
    assert c.digest.hex() == OTA_4MB_MD5
    assert fmt.Md5Record.build({"padding": c.padding, "digest": c.digest}) == raw
    assert fmt.Md5Record.sizeof() == 32


def test_constants() -> None:
    assert fmt.MAX_RECORDS == 96
    assert fmt.TABLE_MAX_LEN == 0xC00
    assert fmt.END_MARKER == b"\xff" * 32
    assert fmt.SUBTYPES[APP]["ota_15"] == 0x1F
    assert fmt.SUBTYPES[APP]["tee_1"] == 0x31
    assert fmt.SUBTYPES[DATA]["tee_ota"] == 0x90


def test_spec_golden_table() -> None:
    t = table(*OTA_4MB)
    assert t.computed_md5.hex() == OTA_4MB_MD5
    b = t.to_bytes()
    assert len(b) == 0xC00
    assert b[0xC0:0xC2] == b"\xeb\xeb"
    assert b[0xD0:0xE0].hex() == OTA_4MB_MD5
    assert b[0xE0:0x100] == fmt.END_MARKER
    assert b[0x100:] == b"\xff" * (0xC00 - 0x100)
    assert hashlib.md5(b[:0xC0]).hexdigest() == OTA_4MB_MD5
    parsed = PartitionTable.from_bytes(b)
    assert parsed.md5 is not None and parsed.md5.hex() == OTA_4MB_MD5
    assert summary(parsed) == summary(t)
    assert parsed.validate(flash_size=0x400000) == []


@pytest.mark.oracle
def test_spec_golden_table_matches_oracle() -> None:
    csv_text = "".join(
        f"{p.name}, {p.type}, {p.subtype}, {p.offset:#x}, {p.size:#x}\n" for p in OTA_4MB
    )
    assert table(*OTA_4MB).to_bytes() == IdfTable.from_csv(csv_text).to_binary()


# ---------------------------------------------------------------------------- corpus

def _is_table(row: dict[str, str]) -> bool:
    return row["kind"].startswith("partition table")


TABLE_ROWS = [r for r in corpus_rows() if _is_table(r)]
_FACT = re.compile(r"(\S+):(\w+)/(\w+)@(0x[0-9a-f]+)\+(0x[0-9a-f]+)")

# Tables embedded in merged images / dumps: (file, offset, [(name, type, subtype, off, size)]).
MPY_4MIB = [
    ("nvs", "data", "nvs", 0x9000, 0x6000),
    ("phy_init", "data", "phy", 0xF000, 0x1000),
    ("factory", "app", "factory", 0x10000, 0x1F0000),
    ("vfs", "data", "fat", 0x200000, 0x200000),
]
EMBEDDED = [
    ("esptool_ESP32_GENERIC-20240602-v1.23.0.bin", 0x7000, MPY_4MIB),
    ("tjc_mpy_esp32-20220618-v1.19.1.bin", 0x7000, MPY_4MIB),
    (
        "khiem_flash_dump_0x0_0x20000.bin",
        0x10000,
        [
            ("nvs", "data", "nvs", 0x11000, 0x6000),
            ("phy_init", "data", "phy", 0x17000, 0x1000),
            ("factory", "app", "factory", 0x20000, 0x100000),
        ],
    ),
]


def _corpus_tables() -> list[tuple[str, int, int]]:
    """(file, offset, length) of every table in the corpus."""
    cases = [(r["local_file"], 0, 0) for r in TABLE_ROWS]
    cases += [(name, off, 0xC00) for name, off, _ in EMBEDDED]
    # the project's tables, standalone and inside a merged file and a dump (always present)
    cases += [("partitions-4MiB.bin", 0, 0), ("partitions-4MiB-ota.bin", 0, 0),
              ("firmware-esp32-4MB.bin", 0x7000, 0xC00),
              ("dump-esp32-0x0-0x40000.bin", 0x8000, 0xC00)]
    return cases


CASES = _corpus_tables()
ABSENT = pytest.mark.skip(reason="corpus absent")
NO_CASES = [pytest.param("", 0, 0, marks=ABSENT)]
NO_ROWS = [pytest.param({}, marks=ABSENT)]


def _load(name: str, offset: int, length: int) -> bytes:
    data = input_path(name).read_bytes()
    return data[offset : offset + length] if length else data


def test_corpus_has_tables() -> None:
    if not corpus_rows():
        pytest.skip("corpus absent")
    assert len(TABLE_ROWS) >= 4


@pytest.mark.corpus
@pytest.mark.parametrize(("name", "offset", "length"), CASES or NO_CASES)
def test_corpus_round_trip(name: str, offset: int, length: int) -> None:
    data = _load(name, offset, length)
    t = PartitionTable.from_bytes(data)
    assert t.to_bytes() == data
    # standalone form is gen_esp32part's 0xC00 bytes; a 0xC00 input rebuilds identically
    assert t.to_bytes(size=0xC00) == data[:0xC00]
    assert all(c.valid for c in t.checks())
    assert t.validate(table_offset=offset if "khiem" in name else 0x8000) == []


@pytest.mark.corpus
@pytest.mark.parametrize("row", TABLE_ROWS or NO_ROWS,
                         ids=lambda r: r.get("local_file", "none"))
def test_corpus_manifest_facts(row: dict[str, str]) -> None:
    t = PartitionTable.from_bytes(corpus_path(row["local_file"]).read_bytes())
    facts = row["parsed_facts(independent parser)"]
    expected = [
        (n, ty, st, int(o, 16), int(s, 16)) for n, ty, st, o, s in _FACT.findall(facts)
    ]
    got = []
    for p in t.partitions:
        sub = p.subtype_name if p.subtype_name is not None else f"{p.subtype:#x}"
        got.append((p.name, p.type_name, sub, p.offset, p.size))
    assert got == expected
    assert f"[{len(t.partitions)} entries" in facts
    if "md5=absent" in facts:
        assert t.md5 is None and t.checks() == []
    else:
        assert "md5=ok" in facts
        assert t.md5 is not None and [c.valid for c in t.checks()] == [True]


@pytest.mark.corpus
@pytest.mark.parametrize(("name", "offset", "expected"), EMBEDDED)
def test_embedded_tables(name: str, offset: int, expected: list[tuple[str, str, str, int, int]]
                         ) -> None:
    sector = corpus_path(name).read_bytes()[offset : offset + 0x1000]
    t = PartitionTable.from_bytes(sector)
    assert [(p.name, p.type_name, p.subtype_name, p.offset, p.size) for p in t] == expected
    assert t.to_bytes() == sector  # whole sector, including the reserved last 0x400 bytes
    assert t.checks()[0].valid


@pytest.mark.corpus
def test_khiem_signature_area_survives_edit() -> None:
    # The SBv1 device keeps a signature block at 0xC00 of the table sector.
    sector = corpus_path("khiem_flash_dump_0x0_0x20000.bin").read_bytes()[0x10000:0x11000]
    assert sector[0xC00:0xC44] != b"\xff" * 0x44
    t = PartitionTable.from_bytes(sector)
    grown = dataclasses.replace(t, partitions=(*t.partitions, part("x", DATA, 0x81, 0x120000,
                                                                     0x1000)))
    out = grown.to_bytes()
    assert len(out) == 0x1000
    assert out[0xC00:] == sector[0xC00:]
    assert out[: 4 * 32 + 64] != sector[: 4 * 32 + 64]
    assert summary(PartitionTable.from_bytes(out)) == summary(grown)


@pytest.mark.corpus
@pytest.mark.oracle
@pytest.mark.parametrize(("name", "offset", "length"), CASES or NO_CASES)
def test_corpus_matches_oracle(name: str, offset: int, length: int) -> None:
    data = _load(name, offset, length)
    t = PartitionTable.from_bytes(data)
    oracle = IdfTable.from_binary(data[:0xC00], md5sum=t.md5 is not None)
    assert summary(t) == oracle_summary(oracle)
    assert t.to_csv() == oracle.to_csv()
    reparsed = IdfTable.from_csv(t.to_csv())
    assert oracle_summary(reparsed) == summary(t)
    assert summary(PartitionTable.from_csv(t.to_csv())) == summary(t)
    assert t.to_bytes(md5=t.md5 is not None, size=0xC00) == reparsed.to_binary(
        md5sum=t.md5 is not None)


# ---------------------------------------------------------------------------- CSV

CSV_CASES = {
    "blank-offsets": """
# Name,   Type, SubType, Offset,  Size, Flags
nvs,      data, nvs,     ,        0x6000,
phy_init, data, phy,     ,        0x1000,
factory,  app,  factory, ,        1M,
storage,  data, spiffs,  ,        512K,
""",
    "suffixes-and-bases": """
nvs,      data, nvs,      0x9000,  24k
phy_init, data, phy,      0xf000,  0x1K
factory,  app,  factory,  0x10000, 4096k
other,    0x40, 0x7,      0x410000, 0o10000
bin,      data, 0x99,     ,         0b1000000000000
""",
    "custom-subtypes-and-flags": """
nvs,      data, nvs,     0x9000,  0x5000, readonly
otadata,  data, ota,     0xe000,  0x2000
app0,     app,  ota_0,   0x10000, 0x140000, encrypted
app1,     app,  ota_1,   ,        0x140000, encrypted:readonly
eeprom,   data, 0x99,    0x290000, 0x1000
romfs,    data, 0x8F,    ,         0x20000
spiffs,   data, spiffs,  0x2c0000, 0x140000
""",
    "negative-size-case-and-defaults": """
   # indented comment
NVS,      DATA, NVS,     0x9000,  0x6000
phy_init, Data, Phy,     0xf000,  0x1000
factory,  APP,  Factory, 0x10000, -0x200000
undef,    data,
""".replace("undef,    data,", "undef,    data, , , 0x1000"),
    "numeric-types": """
a, 1, 2, 0x9000, 0x6000
b, 0, 0x10, 0x10000, 0x100000
c, 0, 17, , 0x100000
d, 0x80, 0x0, , 0x1000
e, 255, 255, , 4K
""",
}


@pytest.mark.oracle
@pytest.mark.parametrize("key", sorted(CSV_CASES))
def test_csv_matches_oracle(key: str) -> None:
    text = CSV_CASES[key]
    ours = PartitionTable.from_csv(text)
    oracle = IdfTable.from_csv(text)
    assert summary(ours) == oracle_summary(oracle)
    assert ours.to_bytes() == oracle.to_binary()
    assert ours.checks()[0].valid
    # to_csv is accepted by both generators and gives the same table back
    assert ours.to_csv() == oracle.to_csv()
    assert summary(PartitionTable.from_csv(ours.to_csv())) == summary(ours)
    assert oracle_summary(IdfTable.from_csv(ours.to_csv())) == summary(ours)


def test_csv_specifics() -> None:
    t = PartitionTable.from_csv(CSV_CASES["blank-offsets"])
    assert [(p.offset, p.size) for p in t] == [
        (0x9000, 0x6000), (0xF000, 0x1000), (0x10000, 0x100000), (0x110000, 0x80000)
    ]
    t = PartitionTable.from_csv(CSV_CASES["negative-size-case-and-defaults"])
    assert t.find("factory") == part("factory", APP, 0, 0x10000, 0x1F0000)
    assert t.find("undef") is not None and t.find("undef").subtype == 0x06  # type: ignore[union-attr]
    assert t.find("NVS") is not None
    t = PartitionTable.from_csv(CSV_CASES["custom-subtypes-and-flags"])
    assert t.find("romfs") == part("romfs", DATA, 0x8F, 0x291000, 0x20000)
    assert t.find("app1").flag_names == ["encrypted", "readonly"]  # type: ignore[union-attr]
    assert t.md5 == t.computed_md5


def test_csv_table_offset_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ESP_IMAGE_TEST_SIZE", "0x3000")
    text = (
        "# $UNSET_IN_COMMENTS is fine\n"
        "nvs, data, nvs, , $ESP_IMAGE_TEST_SIZE\n"
        "f, app, factory, , 64K\n"
    )
    t = PartitionTable.from_csv(text, table_offset=0x10000)
    assert [(p.offset, p.size) for p in t] == [(0x11000, 0x3000), (0x20000, 0x10000)]
    oracle = IdfTable.from_csv(text, 0x10000)
    assert t.to_bytes() == oracle.to_binary()


@pytest.mark.oracle
def test_csv_bootloader_and_table_entries() -> None:
    text = """
bootloader,      bootloader,      primary, N/A, N/A
partition_table, partition_table, primary, N/A, N/A
nvs,             data,            nvs,     ,    0x6000
factory,         app,             factory, ,    1M
"""
    with pytest.raises(FormatError, match="line 2"):
        PartitionTable.from_csv(text)
    t = PartitionTable.from_csv(text, primary_bootloader_offset=0x1000)
    assert [(p.name, p.offset, p.size) for p in t] == [
        ("bootloader", 0x1000, 0x7000),
        ("partition_table", 0x8000, 0x1000),
        ("nvs", 0x9000, 0x6000),
        ("factory", 0x10000, 0x100000),
    ]
    assert t.to_bytes() == IdfTable.from_csv(text, 0x8000, 0x1000).to_binary()
    assert t.validate(bootloader_offset=0x1000) == []


@pytest.mark.parametrize(
    ("text", "error", "match"),
    [
        ("a, app, , 0x10000, 1M", FormatError, "line 1: an app partition cannot"),
        ("\n\na, , nvs, 0x9000, 1M", FormatError, "line 3: the type field"),
        ("a, data, nvs, 0x9000,", FormatError, "size field"),
        ("a, data, nvs, 0x9000, 12Q", FormatError, "invalid number"),
        ("a, data, bogus, 0x9000, 0x1000", FormatError, "not a number or a known keyword"),
        ("a, flash, nvs, 0x9000, 0x1000", FormatError, "keyword"),
        ("a, data, nvs, 0x9000, 0x3000, secret", FormatError, "unknown flag"),
        ("a, data, nvs, 0x9000, 0x3000, Readonly", FormatError, "unknown flag"),
        ("a, data, nvs, $NO_SUCH_VAR_ESP_IMAGE, 0x3000", FormatError, "unknown variable"),
        ("a, data, nvs, 0x9000, 0x3000\nb, data, fat, 0xa000, 0x1000", LayoutError,
         "line 2: partitions overlap"),
        ("a, data, nvs, 0x8000, 0x3000", LayoutError, "line 1: partitions overlap"),
        ("a, data, nvs, 0x9000, -0x8000", LayoutError, "end address"),
        ("a_very_long_partition_name, data, nvs, 0x9000, 0x3000", LayoutError, "16"),
        ("a, 0x100, 0, 0x9000, 0x3000", FormatError, "0..0xff"),
    ],
)
def test_csv_errors(text: str, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        PartitionTable.from_csv(text)


def test_csv_sixteen_byte_name_and_bom() -> None:
    t = PartitionTable.from_csv("\ufeffsixteen_chars_xx, data, fat, 0x9000, 0x1000")
    rec = t.to_bytes()[:32]
    assert rec[12:28] == b"sixteen_chars_xx"  # no terminating NUL
    assert PartitionTable.from_bytes(t.to_bytes()).partitions[0].name == "sixteen_chars_xx"


# MicroPython tables of spec §9 as they appear in ports/esp32/.
MPY_CSV = {
    "partitions-4MiB.csv (v1.21-v1.25)": (
        """# Notes: the offset of the partition table itself is set in
# $IDF_PATH/components/partition_table/Kconfig.projbuild.
# Name,   Type, SubType, Offset,  Size, Flags
nvs,      data, nvs,     0x9000,  0x6000,
phy_init, data, phy,     0xf000,  0x1000,
factory,  app,  factory, 0x10000, 0x1F0000,
vfs,      data, fat,     0x200000, 0x200000,
""",
        [(0x9000, 0x6000), (0xF000, 0x1000), (0x10000, 0x1F0000), (0x200000, 0x200000)],
    ),
    "partitions-4MiB-ota.csv (v1.21-v1.25)": (
        """# Partition table for MicroPython with OTA support using 4MB flash
# Name,   Type, SubType, Offset,   Size,     Flags
nvs,      data, nvs,     0x9000,   0x4000,
otadata,  data, ota,     0xd000,   0x2000,
phy_init, data, phy,     0xf000,   0x1000,
ota_0,    app,  ota_0,   0x10000,  0x180000,
ota_1,    app,  ota_1,   0x190000, 0x180000,
vfs,      data, fat,     0x310000, 0x0f0000,
""",
        [(0x9000, 0x4000), (0xD000, 0x2000), (0xF000, 0x1000), (0x10000, 0x180000),
         (0x190000, 0x180000), (0x310000, 0xF0000)],
    ),
    "partitions-4MiB-romfs.csv (v1.26+)": (
        """# Name,   Type, SubType, Offset,  Size, Flags
nvs,      data, nvs,     0x9000,  0x6000,
phy_init, data, phy,     0xf000,  0x1000,
factory,  app,  factory, 0x10000, 0x1D0000,
romfs,    data, 0x8f,    0x1E0000, 0x20000,
""",
        [(0x9000, 0x6000), (0xF000, 0x1000), (0x10000, 0x1D0000), (0x1E0000, 0x20000)],
    ),
    "partitions-32MiB-ota.csv": (
        """nvs,      data, nvs,     0x9000,  0x4000,
otadata,  data, ota,     0xd000,  0x2000,
phy_init, data, phy,     0xf000,  0x1000,
ota_0,    app,  ota_0,   0x10000, 0x270000,
ota_1,    app,  ota_1,   0x280000, 0x270000,
vfs,      data, fat,     0x4f0000, 0x1B10000,
""",
        [(0x9000, 0x4000), (0xD000, 0x2000), (0xF000, 0x1000), (0x10000, 0x270000),
         (0x280000, 0x270000), (0x4F0000, 0x1B10000)],
    ),
}


@pytest.mark.parametrize("key", sorted(MPY_CSV))
def test_micropython_csv(key: str) -> None:
    text, layout = MPY_CSV[key]
    t = PartitionTable.from_csv(text)
    assert [(p.offset, p.size) for p in t] == layout
    assert t.to_bytes() == IdfTable.from_csv(text).to_binary()
    flash = 0x2000000 if "32MiB" in key else 0x400000
    assert t.validate(flash_size=flash) == []
    assert codes(t, flash_size=flash // 4) == {"past-flash-end"}
    if "ota" in key:
        assert t.to_bytes()[0xC0:0xE0].hex().endswith(OTA_4MB_MD5 if "4MiB" in key else "")


@pytest.mark.corpus
def test_micropython_csv_equals_shipped_binary() -> None:
    shipped = corpus_path("esptool_ESP32_GENERIC-20240602-v1.23.0.bin").read_bytes()[
        0x7000:0x7C00]
    assert PartitionTable.from_csv(MPY_CSV["partitions-4MiB.csv (v1.21-v1.25)"][0]).to_bytes() \
        == shipped


# ---------------------------------------------------------------------------- validation

def _ok(*extra: Partition) -> tuple[Partition, ...]:
    return (
        part("nvs", DATA, 2, 0x9000, 0x6000),
        part("phy_init", DATA, 1, 0xF000, 0x1000),
        part("factory", APP, 0, 0x10000, 0x100000),
        *extra,
    )


OTA = (part("otadata", DATA, 0, 0x200000, 0x2000),)

RULES: dict[str, tuple[tuple[Partition, ...], dict[str, int], str]] = {
    "past-flash-end": (_ok(part("big", DATA, 0x81, 0x110000, 0x300000)),
                       {"flash_size": 0x400000}, "error"),
    "overlap": (_ok(part("x", DATA, 0x81, 0x100000, 0x20000)), {}, "error"),
    "misaligned": (_ok(part("app2", APP, 0x20, 0x118000, 0x10000)), {}, "error"),
    "size-misaligned": (_ok(part("app2", APP, 0x20, 0x110000, 0x10800)), {}, "error"),
    "duplicate-name": (_ok(part("phy_init", DATA, 0x81, 0x110000, 0x1000)), {}, "error"),
    "otadata-size": ((part("otadata", DATA, 0, 0x200000, 0x1000), *_ok(
        part("ota_0", APP, 0x10, 0x110000, 0x10000), part("ota_1", APP, 0x11, 0x120000, 0x10000))),
        {}, "error"),
    "otadata-count": ((*OTA, *_ok(part("od2", DATA, 0, 0x110000, 0x2000),
                                  part("ota_0", APP, 0x10, 0x120000, 0x10000),
                                  part("ota_1", APP, 0x11, 0x130000, 0x10000))), {}, "error"),
    "ota-gap": ((*OTA, *_ok(part("ota_0", APP, 0x10, 0x110000, 0x10000),
                            part("ota_2", APP, 0x12, 0x120000, 0x10000))), {}, "error"),
    "ota-duplicate": ((*OTA, *_ok(part("a", APP, 0x10, 0x110000, 0x10000),
                                  part("b", APP, 0x10, 0x120000, 0x10000),
                                  part("c", APP, 0x11, 0x130000, 0x10000))), {}, "error"),
    "single-ota-slot": ((*OTA, *_ok(part("ota_0", APP, 0x10, 0x110000, 0x10000))), {},
                        "warning"),
    "otadata-without-slots": ((*OTA, *_ok()), {}, "warning"),
    "slots-without-otadata": (_ok(part("ota_0", APP, 0x10, 0x110000, 0x10000),
                                  part("ota_1", APP, 0x11, 0x120000, 0x10000)), {}, "warning"),
    "below-table": (_ok(part("low", DATA, 0x81, 0x5000, 0x1000)), {}, "error"),
    "table-overlaps-bootloader": (_ok(), {"bootloader_offset": 0x8000}, "error"),
    "table-misaligned": (
        (part("nvs", DATA, 2, 0xA000, 0x6000), part("f", APP, 0, 0x10000, 0x10000)),
        {"table_offset": 0x8800}, "error"),
    "nvs-too-small": ((part("nvs", DATA, 2, 0x9000, 0x2000), *_ok()[1:]), {}, "warning"),
    "readonly-not-allowed": ((part("otadata", DATA, 0, 0x200000, 0x2000, flags=2), *_ok(
        part("ota_0", APP, 0x10, 0x110000, 0x10000), part("ota_1", APP, 0x11, 0x120000, 0x10000))),
        {}, "error"),
    "unknown-flags": (_ok(part("x", DATA, 0x81, 0x110000, 0x1000, flags=0x10)), {}, "warning"),
    "label-too-long": (_ok(part("name_longer_than_16", DATA, 0x81, 0x110000, 0x1000)), {},
                       "error"),
    "subtype-out-of-range": (_ok(part("app2", APP, 0x21, 0x110000, 0x10000)), {}, "warning"),
    "unknown-type": (_ok(part("x", 0x05, 0, 0x110000, 0x1000)), {}, "warning"),
    "name-mismatch": (_ok(part("spiffs", DATA, 0x81, 0x110000, 0x1000)), {}, "warning"),
    "too-many-partitions": (tuple(part(f"p{i}", DATA, 0x81, 0x10000 + i * 0x1000, 0x1000)
                                  for i in range(95)), {}, "error"),
}


def test_baseline_is_clean() -> None:
    assert table(*_ok()).validate(flash_size=0x400000, bootloader_offset=0x1000) == []
    ota = table(*OTA, *_ok(part("ota_0", APP, 0x10, 0x110000, 0x10000),
                           part("ota_1", APP, 0x11, 0x120000, 0x10000)))
    assert ota.validate(flash_size=0x400000) == []


@pytest.mark.parametrize("code", sorted(RULES))
def test_rule_triggers(code: str) -> None:
    parts, kwargs, severity = RULES[code]
    issues = table(*parts).validate(**kwargs)
    hits = [i for i in issues if i.code == code]
    assert hits, issues
    assert {i.severity for i in hits} == {severity}
    assert all(i.message for i in hits)
    # the rule fires only where expected: nothing else but the intended code(s)
    assert {i.code for i in issues} <= {code, "ota-gap", "slots-without-otadata",
                                        "single-ota-slot", "below-table"}


def test_rule_messages_name_partition_and_hex() -> None:
    issues = table(*RULES["overlap"][0]).validate()
    assert "'x'" in issues[0].message and "0x100000" in issues[0].message
    issues = table(*RULES["past-flash-end"][0]).validate(flash_size=0x400000)
    assert "'big'" in issues[0].message and "0x410000" in issues[0].message


def test_overlap_with_contained_partition() -> None:
    # c overlaps a even though b (inside a) ends before c starts
    t = table(part("a", DATA, 0x81, 0x10000, 0x10000), part("b", DATA, 0x81, 0x11000, 0x1000),
              part("c", DATA, 0x82, 0x18000, 0x1000))
    assert [i.code for i in t.validate()].count("overlap") == 2


def test_validate_keeps_order() -> None:
    parts = (part("b", DATA, 0x81, 0x20000, 0x1000), part("a", DATA, 0x81, 0x10000, 0x1000))
    t = table(*parts)
    t.validate()
    assert t.partitions == parts
    assert PartitionTable.from_bytes(t.to_bytes()).partitions[0].name == "b"


def test_nvs_readonly_small_is_fine() -> None:
    t = table(part("nvs", DATA, 2, 0x9000, 0x1000, flags=2), part("f", APP, 0, 0x10000, 0x10000))
    assert t.validate() == []


def test_primary_entries_exempt_from_below_table() -> None:
    t = table(part("bootloader", 2, 0, 0x1000, 0x7000), part("partition_table", 3, 0, 0x8000,
                                                             0x1000), *_ok())
    assert t.validate() == []
    assert codes(table(part("bootloader", 2, 0, 0x1000, 0x8000), *_ok())) == {
        "table-overlaps-bootloader"}


# ---------------------------------------------------------------------------- unknown values

def test_unknown_type_subtype_flags_survive() -> None:
    t = table(*_ok(part("custom", 0x40, 0xEE, 0x110000, 0x1000, flags=0x8000_0005),
                   part("odd", DATA, 0x99, 0x111000, 0x1000)))
    b = t.to_bytes()
    parsed = PartitionTable.from_bytes(b)
    assert parsed.to_bytes() == b
    custom = parsed.find("custom")
    assert custom is not None
    assert (custom.type, custom.subtype, custom.flags) == (0x40, 0xEE, 0x8000_0005)
    assert custom.type_name is None and custom.subtype_name is None
    assert custom.flag_names == ["encrypted", 4, 0x8000_0000]
    assert custom.to_dict() == {"name": "custom", "type": 0x40, "subtype": 0xEE,
                                "offset": 0x110000, "size": 0x1000,
                                "flags": ["encrypted", 4, 0x8000_0000]}
    assert "unknown flag bits 0x80000004" in parsed.to_csv()
    assert codes(parsed) == {"unknown-flags"}


def test_to_dict_contract() -> None:
    assert _ok()[0].to_dict() == {"name": "nvs", "type": "data", "subtype": "nvs",
                                  "offset": 0x9000, "size": 0x6000, "flags": []}


def test_partition_properties_and_lookups() -> None:
    t = table(*OTA, *_ok(part("ota_1", APP, 0x11, 0x120000, 0x10000),
                         part("ota_0", APP, 0x10, 0x110000, 0x10000)))
    assert [p.name for p in t.ota_slots] == ["ota_0", "ota_1"]
    assert [p.ota_index for p in t.ota_slots] == [0, 1]
    assert t.factory is not None and t.factory.is_factory and t.factory.ota_index is None
    assert t.otadata is not None and t.otadata.is_otadata
    assert [p.name for p in t.app_partitions] == ["factory", "ota_1", "ota_0"]
    assert [p.name for p in t.data_partitions] == ["otadata", "nvs", "phy_init"]
    assert t.end == 0x202000
    assert t.find("nope") is None
    assert len(t) == 6


def test_non_utf8_label_round_trips() -> None:
    record = bytearray(part("abc", DATA, 0x81, 0x9000, 0x1000).to_record())
    record[12:28] = b"ab\xff\xfe" + b"\0" * 10 + b"zz"  # bad UTF-8, junk after the NUL
    data = bytes(record) + fmt.END_MARKER
    t = PartitionTable.from_bytes(data)
    assert t.partitions[0].name == "ab\ufffd\ufffd"
    assert t.to_bytes() == data
    renamed = dataclasses.replace(t.partitions[0], name="vfs")
    assert renamed.to_record()[12:28] == b"vfs" + b"\0" * 13


def test_to_bytes_options() -> None:
    t = table(*_ok())
    assert len(t.to_bytes(size=0x1000)) == 0x1000
    no_md5 = t.to_bytes(md5=False)
    assert no_md5[0x60:0x80] == fmt.END_MARKER
    assert PartitionTable.from_bytes(no_md5).md5 is None
    bogus = dataclasses.replace(t, md5=b"\0" * 16)
    assert bogus.to_bytes() == t.to_bytes()  # digest recomputed
    with pytest.raises(LayoutError):
        t.to_bytes(size=0x40)
    with pytest.raises(LayoutError):
        table(*RULES["too-many-partitions"][0]).to_bytes()
    with pytest.raises(LayoutError):
        PartitionTable((), None).to_bytes()
    with pytest.raises(LayoutError, match="16"):
        table(*RULES["label-too-long"][0], md5=False).to_bytes()


# ---------------------------------------------------------------------------- corruption

def _good() -> bytes:
    return table(*OTA_4MB).to_bytes()


@pytest.mark.parametrize("index", [2, 3, 5, 9, 14, 30, 32 * 3 + 4, 32 * 5 + 31])
def test_flipped_entry_byte_fails_md5(index: int) -> None:
    data = bytearray(_good())
    data[index] ^= 0x01
    t = PartitionTable.from_bytes(bytes(data))
    (check,) = t.checks(offset=0x8000)
    assert check.name == "md5" and not check.valid
    assert check.offset == 0x8000 + 0xC0
    assert "stored" in check.detail and "computed" in check.detail
    assert t.to_bytes()[:0xC0] == bytes(data[:0xC0])


@pytest.mark.parametrize("index", [0xD0, 0xDF])
def test_flipped_digest_byte_fails_md5(index: int) -> None:
    data = bytearray(_good())
    data[index] ^= 0x80
    t = PartitionTable.from_bytes(bytes(data))
    assert not t.checks()[0].valid
    assert t.to_bytes()[index] != data[index]  # rebuilding repairs it


@pytest.mark.parametrize("cut", [0, 1, 31, 32, 33, 0x60, 0xC0, 0xDF])
def test_truncation(cut: int) -> None:
    with pytest.raises(TruncatedError):
        PartitionTable.from_bytes(_good()[:cut])


def test_short_but_complete_table() -> None:
    data = _good()[:0xE0 + 32]
    assert PartitionTable.from_bytes(data).to_bytes() == data


@pytest.mark.parametrize("seed", range(40))
def test_random_bytes(seed: int) -> None:
    rng = random.Random(seed)
    data = bytes(rng.randrange(256) for _ in range(rng.choice([32, 100, 0xC00, 0x1000])))
    with pytest.raises(FormatError):
        PartitionTable.from_bytes(data)


@pytest.mark.parametrize("seed", range(40))
def test_random_record_corruption_never_crashes(seed: int) -> None:
    rng = random.Random(seed)
    data = bytearray(_good())
    for _ in range(rng.randrange(1, 6)):
        data[rng.randrange(0x100)] = rng.randrange(256)
    try:
        t = PartitionTable.from_bytes(bytes(data))
    except FormatError:
        return
    t.checks()
    t.validate(flash_size=0x400000)
    t.to_csv()


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"\x12\x34" + b"\0" * 30, "at offset 0x0: unknown record magic 1234"),
        (bytes.fromhex(MD5_RECORD_HEX) + fmt.END_MARKER, "empty table"),
        (fmt.END_MARKER * 2, "empty table"),
        (_good()[:0x20] + b"\xab\xcd" + b"\0" * 30, "offset 0x20: unknown record magic abcd"),
        (_good()[:0xE0] + bytes.fromhex(MD5_RECORD_HEX) + fmt.END_MARKER, "second MD5"),
        (_good()[:0xE0] + _good()[:0x20] + fmt.END_MARKER, "after the MD5 record"),
        (_good()[:0x20] * 96, "no end marker within the first 0xc00"),
        (_good()[:0x20] * 96 + fmt.END_MARKER, "no end marker"),
    ],
)
def test_structural_errors(data: bytes, match: str) -> None:
    with pytest.raises(FormatError, match=match) as info:
        PartitionTable.from_bytes(data)
    assert not isinstance(info.value, TruncatedError)


def test_only_first_sector_is_the_table() -> None:
    data = _good() + b"\xff" * 0x400 + b"junk"
    t = PartitionTable.from_bytes(data)
    assert t.to_bytes() == data[:0x1000]
    assert t.to_bytes(size=0xC00) == _good()


def test_non_ff_end_marker_and_padding_kept() -> None:
    data = bytearray(_good())
    data[0xE4:0xE8] = b"\x00\x01\x02\x03"  # bootloader only checks the first four bytes
    data[0x500] = 0x42
    t = PartitionTable.from_bytes(bytes(data))
    assert t.to_bytes() == bytes(data)
    assert t.md5_record_padding == b"\xff" * 14
