"""ESP8266: golden vectors, flash maps, CRC32 trailer, corpus facts file by file, esptool oracle."""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

import pytest

from esp_image.cli.render import Table
from esp_image.cli.render import describe as describe_esp8266
from esp_image.errors import FormatError, TruncatedError
from esp_image.esp8266 import (
    FLASH_MAPS,
    Esp8266Image,
    esp8266_crc32,
    flash_map_for,
    parse_esp8266_flash_size,
)
from esp_image.esp8266_parts import BootHdr, InitData, SystemParams, looks_like_init_data
from esp_image.formats import esp8266 as fmt
from esp_image.recognise.esp8266 import identify_esp8266

from ..conftest import CORPUS, corpus_path, corpus_rows, input_path

# --------------------------------------------------------------------- golden vectors
# nonos_boot_v1.7.bin, header and first segment header (esp8266.md §1.1-1.2).
BOOT_V17_HEAD = bytes.fromhex(
    "e9"        # magic
    "03"        # segment_count
    "00"        # flash_mode: QIO
    "00"        # size code 0 (512KB) high nibble, freq 0 (40m) low nibble
    "7c051040"  # entry 0x4010057c
    "00001040"  # segment 0 load_addr 0x40100000
    "200a0000"  # segment 0 length 0xa20
)
# nonos306_at_user1.1024.new.2.bin, v2 outer header (esp8266.md §3.1).
GEN_APPBIN_V2_HEAD = bytes.fromhex(
    "ea"        # magic
    "04"        # "segment count" constant
    "00"        # gen_appbin: 0
    "01"        # gen_appbin: user-bin number 1
    "c02d1040"  # entry 0x40102dc0
    "00000000"  # irom load address field 0
    "e0650500"  # irom length 0x565e0
)


def test_golden_v1_header() -> None:
    c = fmt.ImageHeader.parse(BOOT_V17_HEAD[:8])
    assert (c.segment_count, c.flash_mode, c.flash.flash_size, c.flash.flash_freq) == (3, 0, 0, 0)
    assert c.entry == 0x4010057C
    assert fmt.ImageHeader.build(c) == BOOT_V17_HEAD[:8]
    assert fmt.ImageHeader.sizeof() == 8 and fmt.SegmentHeader.sizeof() == 8
    s = fmt.SegmentHeader.parse(BOOT_V17_HEAD[8:])
    assert (s.load_addr, s.length) == (0x40100000, 0xA20)


def test_golden_v2_header() -> None:
    c = fmt.V2Header.parse(GEN_APPBIN_V2_HEAD)
    assert (c.segment_count, c.byte2, c.byte3, c.entry) == (4, 0, 1, 0x40102DC0)
    assert (c.irom_addr, c.irom_len) == (0, 0x565E0)
    assert fmt.V2Header.build(c) == GEN_APPBIN_V2_HEAD
    assert fmt.V2Header.sizeof() == 16


def test_byte3_nibble_order() -> None:
    """``4MB-c1`` + 80 MHz = 0x6F: size code in the HIGH nibble (esp8266.md §2.2)."""
    head = bytearray(BOOT_V17_HEAD[:8])
    head[3] = 0x6F
    c = fmt.ImageHeader.parse(bytes(head))
    assert (c.flash.flash_size, c.flash.flash_freq) == (6, 0xF)
    assert fmt.ImageHeader.build(c)[3] == 0x6F
    assert FLASH_MAPS[c.flash.flash_size].name == "4MB-c1"
    assert fmt.FLASH_FREQS[c.flash.flash_freq] == "80m"


def test_boot_hdr_bitfields() -> None:
    """Byte 0 = 0x05: usr_bin 1, boot_status 1; byte 1 = 0x87: version 7, enhance 1 (§7)."""
    raw = bytes([0x05, 0x87]) + (0x123456).to_bytes(3, "little") + (0x81000).to_bytes(3, "little")
    h = BootHdr.from_bytes(raw)
    assert (h.usr_bin, h.boot_status, h.to_qio, h.reserved) == (1, 1, False, 0)
    assert (h.version, h.enhance_boot_flag, h.test_pass_flag, h.test_start_flag) == (7, True,
                                                                                      False, False)
    assert (h.test_bin_addr, h.user_bin_addr) == (0x123456, 0x81000)
    assert h.to_bytes() == raw
    assert h.running_user == 2
    erased = BootHdr.from_bytes(b"\xff" * 8)
    assert (erased.usr_bin, erased.version, erased.erased) == (3, 0x1F, True)
    assert erased.running_user == 1
    # to_qio is bit 3, reserved bits 4-7
    h2 = BootHdr.from_bytes(bytes([0x08 | 0x30, 0x24]) + bytes(6))
    assert (h2.to_qio, h2.reserved, h2.usr_bin, h2.boot_status) == (True, 3, 0, 0)
    assert (h2.version, h2.test_pass_flag) == (4, True)
    assert h2.to_bytes()[:2] == bytes([0x38, 0x24])


@pytest.mark.parametrize(("usr_bin", "status", "version", "running"), [
    (1, 1, 7, 2), (1, 0, 7, 1), (0, 1, 7, 1), (0, 0, 4, 1), (0, 0, 7, 2), (3, 1, 31, 1),
])
def test_running_slot_table(usr_bin: int, status: int, version: int, running: int) -> None:
    raw = bytes([usr_bin | status << 2, version]) + bytes(6)
    assert BootHdr.from_bytes(raw).running_user == running


# --------------------------------------------------------------------- flash maps
# esp8266.md §6: map -> (user2, rf_cal, init_data, save0, flag)
SPEC_MAPS = {
    0: (0x41000, 0x7B000, 0x7C000, 0x7D000, 0x7F000),
    1: (None, 0x3B000, 0x3C000, 0x3D000, 0x3F000),
    2: (0x81000, 0xFB000, 0xFC000, 0xFD000, 0xFF000),
    3: (0x81000, 0x1FB000, 0x1FC000, 0x1FD000, 0x1FF000),
    4: (0x81000, 0x3FB000, 0x3FC000, 0x3FD000, 0x3FF000),
    5: (0x101000, 0x1FB000, 0x1FC000, 0x1FD000, 0x1FF000),
    6: (0x101000, 0x3FB000, 0x3FC000, 0x3FD000, 0x3FF000),
    8: (0x101000, 0x7FB000, 0x7FC000, 0x7FD000, 0x7FF000),
    9: (0x101000, 0xFFB000, 0xFFC000, 0xFFD000, 0xFFF000),
}


@pytest.mark.parametrize("code", sorted(SPEC_MAPS))
def test_flash_map_addresses(code: int) -> None:
    m = flash_map_for(code)
    assert (m.user2, m.rf_cal, m.init_data, m.save0, m.flag) == SPEC_MAPS[code]
    assert m.save1 == m.size - 0x2000
    if m.user2 is not None:
        assert (m.boot, m.user1) == (0, 0x1000)
    assert m.to_dict()["user2"] == m.user2


@pytest.mark.parametrize(("text", "code"), [
    ("512KB", 0), ("256KB", 1), ("1MB", 2), ("2MB", 3), ("4MB", 4), ("2MB-c1", 5),
    ("4MB-c1", 6), ("4MB-c2", 7), ("8MB", 8), ("16MB", 9),
    ("4m", 0), ("2m", 1), ("8m", 2), ("16m", 3), ("32m", 4), ("16m-c1", 5), ("32m-c1", 6),
    ("32m-c2", 7), ("4mb-c1", 6), ("4M", 4), ("4MiB", 4), ("0x400000", 4), ("1M", 2),
    ("512K", 0), ("4M-c1", 6), ("1mb", 2),
])
def test_parse_flash_size(text: str, code: int) -> None:
    assert parse_esp8266_flash_size(text).code == code
    assert flash_map_for(text).code == code


@pytest.mark.parametrize("text", ["3MB", "banana", "64m", "1MB-c1", ""])
def test_parse_flash_size_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="ESP8266 flash size"):
        parse_esp8266_flash_size(text)


def test_flash_map_for_bad_code() -> None:
    with pytest.raises(ValueError):
        flash_map_for(0xA)
    assert flash_map_for(7).supported is False
    assert flash_map_for(6).legacy_name == "32m-c1"


# --------------------------------------------------------------------- CRC32 trailer
def _naive(data: bytes) -> int:
    return (zlib.crc32(data) + 1) & 0xFFFFFFFF


@pytest.mark.parametrize("n", range(12))
def test_crc32_formula_both_halves(n: int) -> None:
    import crcmod.predefined
    from esptool.bin_image import esp8266_crc32 as esptool_crc

    data = b"x" * n + bytes(range(n))
    u = zlib.crc32(data)
    assert esp8266_crc32(data) == esptool_crc(data)
    jam = crcmod.predefined.mkPredefinedCrcFun("jamcrc")(data)
    signed = jam - (1 << 32) if jam & 0x80000000 else jam
    assert esp8266_crc32(data) == abs(signed)      # the on-device upgrade_crc_check form
    if u >= 0x80000000:
        assert esp8266_crc32(data) == u ^ 0xFFFFFFFF
    else:
        assert esp8266_crc32(data) == u + 1 == _naive(data)


def test_crc32_halves_are_covered() -> None:
    """The parametrized inputs above include values on both sides of 2**31."""
    us = [zlib.crc32(b"x" * n + bytes(range(n))) for n in range(12)]
    assert any(u >= 0x80000000 for u in us) and any(u < 0x80000000 for u in us)


@pytest.mark.parametrize(("name", "u", "stored", "naive_ok"), [
    ("nonos306_at_user1.1024.new.2.bin", 0x74A62BB3, 0x74A62BB4, True),
    ("nonos306_at_user2.1024.new.2.bin", 0x8F20514B, 0x70DFAEB4, False),
    ("esptool_test_esp8266_sdk_4096_user1.bin", 0x5BA8F855, 0x5BA8F856, True),
    ("mgwr_rboot_rom0_0x02000.bin", 0x12569843, 0x12569844, True),
])
def test_crc32_real_files(name: str, u: int, stored: int, naive_ok: bool) -> None:
    from esptool.bin_image import esp8266_crc32 as esptool_crc

    data = corpus_path(name).read_bytes()
    assert zlib.crc32(data[:-4]) == u
    assert struct.unpack("<I", data[-4:])[0] == stored
    assert esp8266_crc32(data[:-4]) == stored == esptool_crc(data[:-4])
    assert (_naive(data[:-4]) == stored) is naive_ok
    img = Esp8266Image.from_bytes(data)
    assert (img.stored_crc32, img.computed_crc32, img.crc32_status) == (stored, stored, "valid")


# --------------------------------------------------------------------- corpus, file by file
# file -> (kind, shape, format, role, bootloader, variant, user, valid)
EXPECTED: dict[str, tuple[str, str, str | None, str | None, str | None, str | None, int | None,
                          bool]] = {
    "esf_esp8266_rtos_bootloader.bin": ("image", "image", "esp8266-v1", "bootloader",
                                        "esp8266-rtos-sdk", None, None, True),
    "esf_esp8266_rtos_hello-world.bin": ("image", "image", "esp8266-v3", "app", None, None,
                                         None, True),
    "esptool_test_esp8266_sdk_4096_user1.bin": ("image", "image", "esp8266-v2", "app", None,
                                                "esptool", None, True),
    "esptool_test_nodemcu-master-7-modules-2017-01-19-integer.bin": (
        "flash", "nodemcu", None, None, None, None, None, True),
    "mgwr_nonos_0x00000.bin": ("image", "image", "esp8266-v1", "app", None, None, None, True),
    "mgwr_nonos_0x10000.bin": ("unknown", "irom", None, None, None, None, None, False),
    "mgwr_rboot_0x00000.bin": ("image", "image", "esp8266-v1", "bootloader", "rboot", None,
                               None, True),
    "mgwr_rboot_rom0_0x02000.bin": ("image", "image", "esp8266-v2", "app", None, "esptool",
                                    None, True),
    "mgwr_rboot_rom1_0x82000.bin": ("image", "image", "esp8266-v2", "app", None, "esptool",
                                    None, True),
    "nonos306_at_user1.1024.new.2.bin": ("image", "image", "esp8266-v2", "app", None,
                                         "gen_appbin", 1, True),
    "nonos306_at_user2.1024.new.2.bin": ("image", "image", "esp8266-v2", "app", None,
                                         "gen_appbin", 2, True),
    "nonos_boot_v1.2.bin": ("image", "image", "esp8266-v1", "bootloader", "boot_v1.2", None,
                            None, True),
    "nonos_boot_v1.6.bin": ("image", "image", "esp8266-v1", "bootloader", "boot_v1.6", None,
                            None, True),
    "nonos_boot_v1.7.bin": ("image", "image", "esp8266-v1", "bootloader", "boot_v1.7", None,
                            None, True),
    "nonos_esp_init_data_default_v05.bin": ("esp8266-init-data", "init-data", None, None, None,
                                            None, None, True),
    "nonos_esp_init_data_default_v08.bin": ("esp8266-init-data", "init-data", None, None, None,
                                            None, None, True),
    "pypi_cloudmgr_micropython-v1.8.6-firmware-combined.bin": (
        "flash", "micropython", None, None, None, None, None, True),
    "uartremote_boot8266-0x00000.bin": ("image", "image", "esp8266-v1", "bootloader",
                                        "boot8266", None, None, True),
    "uartremote_micropython_v1.15-ota.bin": ("flash", "yaota8266-main-app", None, None, None,
                                             None, None, True),
    "uartremote_ota.elf-0x00000.bin": ("image", "image", "esp8266-v1", "app", None, None, None,
                                       True),
    "uartremote_ota.elf-0x09000.bin": ("unknown", "irom", None, None, None, None, None, False),
    "uartremote_yaota8266.bin": ("flash", "yaota8266-bundle", None, None, None, None, None,
                                 True),
}
# The same expectations for the project's fixtures, so a clone without the corpus runs them.
FIXTURE_EXPECTED: dict[str, tuple[str, str, str | None, str | None, str | None, str | None,
                                  int | None, bool]] = {
    "esp8266-v1.bin": ("image", "image", "esp8266-v1", "app", None, None, None, True),
    "esp8266-user1.bin": ("image", "image", "esp8266-v2", "app", None, "gen_appbin", 1, True),
    "esp8266-user2.bin": ("image", "image", "esp8266-v2", "app", None, "gen_appbin", 2, True),
    "esp8266-combined.bin": ("flash", "micropython", None, None, None, None, None, True),
    "esp8266-init-data.bin": ("esp8266-init-data", "init-data", None, None, None, None, None,
                              True),
    "esp8266-nonos-boot.bin": ("image", "image", "esp8266-v1", "bootloader", "boot_v1.7",
                               None, None, True),
    "esp8266-nonos-flash-512K.bin": ("flash", "nonos-flash", None, None, None, None, None,
                                     True),
    "esp8266-rboot-boot.bin": ("image", "image", "esp8266-v1", "bootloader", "rboot", None,
                               None, True),
    "esp8266-rboot-config.bin": ("rboot-config", "rboot-config", None, None, None, None, None,
                                 True),
    "esp8266-rboot-rom0.bin": ("image", "image", "esp8266-v2", "app", None, "esptool", None,
                               True),
    "esp8266-rboot-flash-512K.bin": ("flash", "rboot-flash", None, None, None, None, None,
                                     True),
    "esp8266-boot8266.bin": ("image", "image", "esp8266-v1", "bootloader", "boot8266", None,
                             None, True),
    "esp8266-yaota8266.bin": ("flash", "yaota8266-bundle", None, None, None, None, None, True),
    "esp8266-firmware-ota.bin": ("flash", "yaota8266-main-app", None, None, None, None, None,
                                 True),
    "esp8266-yaota8266-initial.bin": ("flash", "yaota8266-initial", None, None, None, None,
                                      None, True),
}
ALL_EXPECTED = {**EXPECTED, **FIXTURE_EXPECTED}
NOT_ESP8266 = ["nonos_blank.bin", "esptool_test_image_header_only.bin",
               "esf_esp8266_partition-table.bin", "khiem_flash_contents_encryption.bin",
               "khiem_flash_dump_0x0_0x20000.bin", "esf_esp32_bootloader.bin",
               "ard106_boot_app0.bin", "esp32-bootloader.bin", "partitions-4MiB.bin",
               "otadata-ota0.bin", "firmware-esp32-4MB.bin", "dump-esp32-0x0-0x40000.bin",
               "littlefs-64K.bin", "app-esp32c6-sbv2-signed.bin"]


def _is_esp8266_row(row: dict[str, str]) -> bool:
    # corpus-2's ESP8266 files (Arduino builds, dumps, .bin.gz, NVS) are judged file by file in
    # tests/image/test_arduino_esp8266.py, test_wrapped.py and test_kinds.py.
    first_corpus = Path(row["path"]).parent == CORPUS
    return first_corpus and ("esp8266" in row["chip"] or row["local_file"] in EXPECTED)


ROWS = [r for r in corpus_rows() if _is_esp8266_row(r)]
ROW_IDS = [r["local_file"] for r in ROWS]


def test_every_esp8266_manifest_row_has_expectations() -> None:
    names = {r["local_file"] for r in ROWS} - {"esf_esp8266_partition-table.bin"}
    assert names <= set(EXPECTED), names - set(EXPECTED)


@pytest.mark.corpus
@pytest.mark.parametrize("name", sorted(ALL_EXPECTED))
def test_identify_corpus(name: str) -> None:
    data = input_path(name).read_bytes()
    found = identify_esp8266(memoryview(data))
    assert found is not None
    kind, shape, form, role, boot, variant, user, valid = ALL_EXPECTED[name]
    assert (found.kind, found.shape, found.valid) == (kind, shape, valid), found.checks
    img = found.firmware
    if form is None:
        assert img is None
    else:
        assert img is not None
        assert (img.format, img.role, img.bootloader_name) == (form, role, boot)
        assert (img.variant, img.user) == (variant, user)
        assert img.chip.name == "esp8266"
    if kind == "unknown":
        assert found.reason and "0x10000" in found.reason and "0x40000" in found.reason
        assert [c.valid for c in found.checks] == [False]
    else:
        assert all(c.valid for c in found.checks)
        assert not [i for i in found.issues if i.is_error]
    offsets = [c.offset for c in found.checks]
    assert offsets == sorted(offsets)


@pytest.mark.corpus
@pytest.mark.parametrize("name", NOT_ESP8266)
def test_not_esp8266(name: str) -> None:
    assert identify_esp8266(memoryview(input_path(name).read_bytes())) is None


@pytest.mark.corpus
@pytest.mark.parametrize("name", sorted(ALL_EXPECTED))
def test_rebuild_byte_identical(name: str) -> None:
    data = input_path(name).read_bytes()
    found = identify_esp8266(memoryview(data))
    assert found is not None
    assert found.to_bytes() == data
    if found.firmware is not None:
        img = found.firmware
        assert img.to_bytes() == data[:img.end]


@pytest.mark.corpus
@pytest.mark.parametrize("name", sorted(ALL_EXPECTED))
def test_describe_and_dict(name: str) -> None:
    import json

    found = identify_esp8266(memoryview(input_path(name).read_bytes()))
    assert found is not None
    blocks = describe_esp8266(found)
    assert blocks and isinstance(blocks[0], str)
    doc = found.to_dict()
    json.dumps(doc)
    assert doc["kind"] == found.kind and doc["chip"] == "esp8266"
    if found.firmware is not None:
        image = doc["image"]
        assert isinstance(image, dict)
        assert {"format", "role", "flash", "entry", "segments"} <= set(image)
        assert any(isinstance(b, Table) and b.title.startswith("Flash map") for b in blocks)


# --------------------------------------------------------------------- manifest facts
_V1 = re.compile(
    r"ESP8266 v1\(0xE9\) image: mode=(?P<mode>\w+) sf=0x(?P<sf>[0-9a-f]{2})\([^)]*\) "
    r"entry=0x(?P<entry>[0-9a-f]+) segs=(?P<n>\d+) \[(?P<segs>[^\]]*)\] checksum=(?P<ck>\w+) "
    r"sha256=(?P<sha>\S+).*? end=0x(?P<end>[0-9a-f]+) trailing=(?P<trail>\d+)B")
_V2 = re.compile(
    r"ESP8266 v2\(0xEA\) image: hdr1 mode=(?P<m1>\w+) sf=0x(?P<sf1>[0-9a-f]{2})\([^)]*\) "
    r"entry=0x(?P<e1>[0-9a-f]+); hdr2 mode=(?P<m2>\w+) sf=0x(?P<sf2>[0-9a-f]{2})\([^)]*\) "
    r"entry=0x(?P<e2>[0-9a-f]+); irom=0x(?P<irom>[0-9a-f]+)B; (?P<n>\d+) RAM segs; "
    r"checksum=(?P<ck>\w+); crc32=(?P<crc>\w+); end=0x(?P<end>[0-9a-f]+)")
_ESPTOOL = re.compile(r"Image version=(?P<v>\d); Checksum=0x(?P<ck>[0-9a-f]{2}) \(valid\).*?"
                      r"Flash size=(?P<size>[\w-]+); Flash mode=(?P<mode>\w+); "
                      r"Flash freq=(?P<freq>\w+)")
FACT_ROWS = [r for r in ROWS if r["parsed_facts(independent parser)"].startswith("ESP8266 v")]


@pytest.mark.corpus
@pytest.mark.parametrize("row", FACT_ROWS, ids=[r["local_file"] for r in FACT_ROWS])
def test_manifest_facts(row: dict[str, str]) -> None:
    data = corpus_path(row["local_file"]).read_bytes()
    img = Esp8266Image.from_bytes(data)
    facts = row["parsed_facts(independent parser)"]
    m1 = _V1.match(facts)
    if m1:
        assert img.flash_mode == m1["mode"].lower()
        assert img.flash_size_freq == int(m1["sf"], 16)
        assert img.entry == int(m1["entry"], 16)
        segs = [tuple(int(x, 16) for x in s.split("/")) for s in m1["segs"].split(",")]
        assert [(s.load_addr, s.data_len) for s in img.segments] == segs
        assert len(img.segments) == int(m1["n"]) == img.segment_count
        assert img.checksum_valid is (m1["ck"] == "ok")
        if m1["sha"].startswith("ok"):
            assert img.format == "esp8266-v3" and img.sha256_valid
        else:
            assert img.stored_sha256 is None
        assert img.end == int(m1["end"], 16)
        assert img.trailing == int(m1["trail"])
    else:
        m2 = _V2.match(facts)
        assert m2, facts
        assert img.v2_header is not None
        assert img.v2_header.byte3 == int(m2["sf1"], 16)
        assert img.v2_header.entry == int(m2["e1"], 16) and img.entry == int(m2["e2"], 16)
        assert img.flash_mode == m2["m2"].lower()
        assert img.flash_size_freq == int(m2["sf2"], 16)
        assert img.irom_size == int(m2["irom"], 16)
        assert len(img.segments) == int(m2["n"])
        assert img.checksum_valid is (m2["ck"] == "ok")
        assert img.crc32_status == ("valid" if m2["crc"] == "ok" else "invalid")
        assert img.end == int(m2["end"], 16) == len(data) == img.length + 4
        assert img.variant == ("gen_appbin" if "gen_appbin style" in facts else "esptool")
    cross = _ESPTOOL.search(row["esptool_v5.6.0_crosscheck"])
    assert cross, row["esptool_v5.6.0_crosscheck"]
    assert img.stored_checksum == int(cross["ck"], 16)
    assert img.flash_size_name == cross["size"]
    assert img.flash_mode == cross["mode"].lower() and img.flash_freq == cross["freq"]
    assert (img.v2_header is not None) == (cross["v"] == "2")


# --------------------------------------------------------------------- esptool oracle
@pytest.mark.oracle
@pytest.mark.corpus
@pytest.mark.parametrize("row", FACT_ROWS, ids=[r["local_file"] for r in FACT_ROWS])
def test_esptool_oracle(row: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    from esptool.bin_image import LoadFirmwareImage

    data = corpus_path(row["local_file"]).read_bytes()
    img = Esp8266Image.from_bytes(data)
    theirs = LoadFirmwareImage("esp8266", data)
    capsys.readouterr()  # esptool prints header-mismatch warnings
    segs = [(s.addr, len(s.data), s.file_offs) for s in theirs.segments]
    ours = [(s.load_addr, s.data_len, s.offset) for s in img.segments]
    if img.v2_header is not None:
        # esptool lists the irom part as a segment with the header's address field at offset 8.
        assert segs[0] == (img.v2_header.irom_addr, img.irom_size, 8)
        segs = segs[1:]
    assert segs == ours
    assert theirs.checksum == img.stored_checksum
    assert theirs.calculate_checksum() == img.computed_checksum
    assert theirs.entrypoint == img.entry
    assert theirs.flash_mode == img.flash_mode_code
    assert theirs.flash_size_freq == img.flash_size_freq


# --------------------------------------------------------------------- init data, sys params
@pytest.mark.corpus
def test_init_data_fields() -> None:
    v05 = corpus_path("nonos_esp_init_data_default_v05.bin").read_bytes()
    v08 = corpus_path("nonos_esp_init_data_default_v08.bin").read_bytes()
    a, b = InitData.from_bytes(v05), InitData.from_bytes(v08)
    assert (a.marker, a.version, a.vdd33_const, a.rf_cal_mode) == (5, 0, 0, 1)
    assert (b.marker, b.version, b.vdd33_const, b.rf_cal_mode) == (5, 8, 0, 1)
    assert a.to_bytes() == v05 and b.to_bytes() == v08
    assert "TOUT" in a.adc_mode
    assert looks_like_init_data(v08 + b"\xff" * (4096 - 128))
    assert not looks_like_init_data(v08 + b"\x00" * (4096 - 128))
    with pytest.raises(FormatError):
        InitData.from_bytes(b"\x04" + v05[1:])
    with pytest.raises(TruncatedError):
        InitData.from_bytes(v05[:100])
    sector = identify_esp8266(memoryview(v08 + b"\xff" * (4096 - 128)))
    assert sector is not None and sector.kind == "esp8266-init-data"
    assert sector.to_bytes() == v08 + b"\xff" * (4096 - 128)


def _sys_params(flag: int, save0: bytes, save1: bytes) -> bytes:
    def sector(head: bytes) -> bytes:
        return head + b"\xff" * (4096 - len(head))

    flag_rec = bytes([flag, 0xFF, 0xFF, 0xFF]) + struct.pack("<7I", 0x55AA55AA, 3, 0x20, 0x20,
                                                             0x11, 0x22, 0xAA55AA55)
    return sector(save0) + sector(save1) + sector(flag_rec)


@pytest.mark.parametrize(("flag", "live", "next_user"), [(0, 0, 2), (1, 1, 1), (0xFF, 1, 1)])
def test_system_params(flag: int, live: int, next_user: int) -> None:
    save0 = bytes([0x05, 0x87]) + bytes(6)      # usr_bin 1, status 1 -> user2
    save1 = bytes([0x04, 0x07]) + bytes(6)      # usr_bin 0, status 1 -> user1
    raw = _sys_params(flag, save0, save1)
    p = SystemParams.from_bytes(raw, 0, 0xFD000)
    assert (p.flag, p.live_copy, p.next_user) == (flag, live, next_user)
    assert p.live_address == 0xFD000 + live * 0x1000
    assert (p.flag_magic1, p.flag_write_count, p.flag_magic2) == (0x55AA55AA, 3, 0xAA55AA55)
    assert p.to_bytes() == raw
    d = p.to_dict()
    assert d["inferred"] is True and d["next_user_bin"] == f"user{next_user}"


def test_system_params_erased_boots_user1() -> None:
    p = SystemParams.from_bytes(b"\xff" * 0x3000)
    assert p.erased and p.live_copy == 1 and p.next_user == 1
    with pytest.raises(TruncatedError):
        SystemParams.from_bytes(b"\xff" * 0x2000)
