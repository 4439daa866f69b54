"""rBoot: config sector, RTC record, boot-slot choice and bootloader recognition.

Reference: shared/docs/formats/rboot.md (section numbers below refer to it).
"""

from __future__ import annotations

import functools
import json
import operator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esp_image.errors import FormatError, TruncatedError
from esp_image.formats import rboot as fmt
from esp_image.rboot import (
    BootRom,
    RbootConfig,
    RbootRtc,
    flash_size_from_header,
    is_rboot,
    looks_like_rboot_config,
    rboot_version,
)

from ..conftest import input_path


def xor_oracle(data: bytes) -> int:
    """calc_chksum written out independently: 0xEF XOR every byte."""
    return functools.reduce(operator.xor, data, 0xEF)


# §2 golden vector: BOOT_CONFIG_CHKSUM on, MAX_ROMS = 4.
GOLDEN = bytes.fromhex(
    "e1"           # 0x00 magic BOOT_CONFIG_MAGIC
    "01"           # 0x01 version
    "03"           # 0x02 mode = GPIO_ROM | TEMP_ROM
    "01"           # 0x03 current_rom = 1
    "00"           # 0x04 gpio_rom = 0
    "02"           # 0x05 count = 2
    "00 00"        # 0x06 unused[2]
    "00 20 00 00"  # 0x08 roms[0] = 0x2000
    "00 20 08 00"  # 0x0c roms[1] = 0x82000
    "00 00 00 00"  # 0x10 roms[2] = 0
    "00 00 00 00"  # 0x14 roms[3] = 0
    "07"           # 0x18 chksum = 0xEF ^ bytes 0..23
)


def make_config(mode: int = 0, current: int = 0, count: int = 2, chksum: bool = False,
                roms: tuple[int, ...] = (0x2000, 0x82000, 0, 0), version: int = 1) -> bytes:
    """A config struct assembled by hand from the §2 table (not with the library)."""
    raw = bytes([0xE1, version, mode, current, 0, count, 0, 0])
    raw += b"".join(r.to_bytes(4, "little") for r in roms)
    if chksum:
        raw += bytes([xor_oracle(raw)])
    return raw


# ---------------------------------------------------------------------- golden vector
def test_golden_vector_parse() -> None:
    assert xor_oracle(GOLDEN[:24]) == 0x07
    cfg = RbootConfig.from_bytes(GOLDEN)
    assert (cfg.magic, cfg.version, cfg.mode, cfg.current_rom, cfg.gpio_rom, cfg.count) == (
        0xE1, 1, 3, 1, 0, 2)
    assert cfg.roms == (0x2000, 0x82000, 0, 0)
    assert cfg.slots == (0x2000, 0x82000)
    assert cfg.chksum == 0x07 and cfg.has_checksum and cfg.layout_guessed
    assert cfg.max_roms == 4 and cfg.struct_size == 25 and cfg.tail == b""
    assert cfg.mode_names == ["gpio_rom", "temp_rom"]
    assert [c.name for c in cfg.checks()] == ["structure", "rboot-checksum"]
    assert all(c.valid for c in cfg.checks())
    assert cfg.checks(0x1000)[1].offset == 0x1018


def test_golden_vector_build_and_construct() -> None:
    cfg = RbootConfig(1, 3, 1, 0, 2, (0x2000, 0x82000, 0, 0), chksum=0)
    assert cfg.to_bytes() == GOLDEN  # checksum recomputed on build
    assert fmt.rboot_config_chksum.sizeof() == 25
    assert fmt.rboot_config.sizeof() == 24
    c = fmt.rboot_config_chksum.parse(GOLDEN)
    assert (c.magic, c.count, list(c.roms), c.chksum) == (0xE1, 2, [0x2000, 0x82000, 0, 0], 7)
    assert fmt.rboot_config_chksum.build(c) == GOLDEN


def test_golden_vector_dict() -> None:
    d = RbootConfig.from_bytes(GOLDEN).to_dict()
    json.dumps(d)
    assert d["mode_names"] == ["gpio_rom", "temp_rom"]
    assert d["current_rom"] == 1 and d["count"] == 2
    assert d["roms"] == [0x2000, 0x82000]
    assert d["checksum"] == {"present": True, "guessed": True, "stored": 7, "computed": 7}
    assert d["boot_rom"]["slot"] == 1  # type: ignore[index]


# ---------------------------------------------------------------------- synthetic configs
MODES = [0x00, 0x01, 0x02, 0x04, 0x08, 0x05, 0x09, 0x0F]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("chksum", [False, True])
def test_modes_and_checksum_round_trip(mode: int, chksum: bool) -> None:
    raw = make_config(mode=mode, current=1, chksum=chksum)
    sector = raw + b"\xff" * (fmt.SECTOR_SIZE - len(raw))
    for data in (raw, sector):
        cfg = RbootConfig.from_bytes(data)
        assert cfg.to_bytes() == data
        assert cfg.mode == mode and cfg.has_checksum == chksum
        checks = cfg.checks()
        assert all(c.valid for c in checks), checks
        names = [c.name for c in checks]
        assert ("rboot-checksum" in names) == chksum
        if not chksum:
            assert "BOOT_CONFIG_CHKSUM is off" in checks[0].detail
        expected = [n for bit, n in fmt.MODE_NAMES.items() if mode & bit] or ["standard"]
        assert cfg.mode_names == expected
        reason = cfg.boot_rom.reason
        assert ("MODE_GPIO_ROM" in reason) == bool(mode & fmt.MODE_GPIO_ROM)
        assert ("MODE_GPIO_SKIP" in reason) == bool(mode & fmt.MODE_GPIO_SKIP)
        assert cfg.boot_rom.slot == 1


def test_explicit_layout_overrides_guess() -> None:
    raw = make_config(chksum=True)
    cfg = RbootConfig.from_bytes(raw, max_roms=4, has_checksum=False)
    assert not cfg.has_checksum and cfg.tail == raw[24:] and not cfg.layout_guessed
    assert cfg.to_bytes() == raw
    cfg2 = RbootConfig.from_bytes(raw, max_roms=4)
    assert cfg2.has_checksum and cfg2.layout_guessed


def test_checksum_on_but_wrong() -> None:
    raw = bytearray(make_config(current=1, chksum=True))
    raw[24] ^= 0x55
    guessed = RbootConfig.from_bytes(bytes(raw))
    assert not guessed.has_checksum  # indistinguishable from "option off"
    cfg = RbootConfig.from_bytes(bytes(raw), has_checksum=True)
    check = {c.name: c for c in cfg.checks()}["rboot-checksum"]
    assert not check.valid and check.offset == 24
    assert not cfg.accepted
    assert cfg.boot_rom.slot == 0 and "default config" in cfg.boot_rom.reason
    repaired = cfg.to_bytes()
    assert repaired == make_config(current=1, chksum=True)
    assert RbootConfig.from_bytes(repaired).accepted


def test_larger_max_roms_guessed() -> None:
    roms = (0x2000, 0x82000, 0x102000, 0x182000, 0x202000, 0, 0, 0)
    raw = make_config(count=5, chksum=True, roms=roms)
    cfg = RbootConfig.from_bytes(raw + b"\xff" * 100)
    assert cfg.max_roms == 8 and cfg.has_checksum
    assert cfg.slots == roms[:5]
    assert cfg.to_bytes() == raw + b"\xff" * 100


def test_current_rom_out_of_range_and_version() -> None:
    cfg = RbootConfig.from_bytes(make_config(current=5))
    assert cfg.boot_rom.slot == 0 and "resets it to slot 0" in cfg.boot_rom.reason
    assert cfg.checks()[0].valid and "current_rom 5" in cfg.checks()[0].detail
    bad = RbootConfig.from_bytes(make_config(version=2))
    assert not bad.checks()[0].valid and "version 2" in bad.checks()[0].detail
    assert not bad.accepted and bad.boot_rom.slot == 0


@pytest.mark.parametrize(("roms", "count", "fragment"), [
    ((0x2000, 0x82001, 0, 0), 2, "not sector-aligned"),
    ((0x2000, 0, 0, 0), 2, "rejected by rBoot"),
    ((0x2000, 0x82000, 0, 0), 0, "count is 0"),
])
def test_structure_problems(roms: tuple[int, ...], count: int, fragment: str) -> None:
    cfg = RbootConfig.from_bytes(make_config(count=count, roms=roms))
    assert not cfg.checks()[0].valid
    assert fragment in cfg.checks()[0].detail


def test_count_above_max_roms_flagged() -> None:
    cfg = RbootConfig.from_bytes(make_config(count=6) + bytes(8), max_roms=4, has_checksum=False)
    assert not cfg.checks()[0].valid and "exceeds MAX_ROMS" in cfg.checks()[0].detail


def test_boot_rom_with_fallback() -> None:
    roms = (0x2000, 0x82000, 0x102000, 0x182000)  # roms[3] is not in use (count 3)
    cfg = RbootConfig.from_bytes(make_config(count=3, current=0, roms=roms))
    assert cfg.boot_rom_with(lambda a: True) == BootRom(0, "current_rom is 0")
    # slot 0 bad: tries previous slots, wrapping: 2 first (never the unused roms[3])
    choice = cfg.boot_rom_with(lambda a: a in (0x82000, 0x102000, 0x182000))
    assert choice.slot == 2 and "falls back to slot 2" in choice.reason
    choice = cfg.boot_rom_with(lambda a: a == 0x82000)
    assert choice.slot == 1
    none = cfg.boot_rom_with(lambda a: False)
    assert none.slot is None and "No good rom available" in none.reason
    # address 0 is rejected without asking
    seen: list[int] = []

    def record(addr: int) -> bool:
        seen.append(addr)
        return True

    zero = RbootConfig.from_bytes(make_config(count=2, roms=(0, 0x82000, 0, 0)))
    assert zero.boot_rom_with(record).slot == 1
    assert seen == [0x82000]


def test_with_current_rom() -> None:
    cfg = RbootConfig.from_bytes(make_config(chksum=True) + b"\xff" * 4071)
    moved = cfg.with_current_rom(1)
    raw = moved.to_bytes()
    assert raw[3] == 1 and raw[24] == xor_oracle(raw[:24]) and raw[25:] == b"\xff" * 4071
    assert RbootConfig.from_bytes(raw).checks()[1].valid
    with pytest.raises(FormatError):
        cfg.with_current_rom(2)


@pytest.mark.parametrize(("flash_size", "big", "second"), [
    (0x80000, False, 0x42000), (0x100000, False, 0x82000), (0x400000, False, 0x82000),
    (0x400000, True, 0x202000),
])
def test_default_config(flash_size: int, big: bool, second: int) -> None:
    cfg = RbootConfig.default(flash_size, big_flash=big, has_checksum=True)
    assert cfg.slots == (0x2000, second)
    raw = cfg.to_bytes()
    assert raw[24] == xor_oracle(raw[:24])
    assert RbootConfig.from_bytes(raw) == RbootConfig.from_bytes(raw)  # deterministic
    assert RbootConfig.from_bytes(raw).accepted


def test_blank_sector() -> None:
    for fill in (b"\xff", b"\x00"):
        sector = fill * fmt.SECTOR_SIZE
        assert not looks_like_rboot_config(sector)
        with pytest.raises(FormatError):
            RbootConfig.from_bytes(sector)
        eff = RbootConfig.effective(sector, 0x400000)
        assert eff.slots == (0x2000, 0x82000) and eff.current_rom == 0


def test_effective_keeps_accepted_config() -> None:
    raw = make_config(current=1)
    assert RbootConfig.effective(raw).current_rom == 1
    assert RbootConfig.effective(make_config(version=7)).current_rom == 0


def test_looks_like() -> None:
    assert looks_like_rboot_config(GOLDEN)
    assert looks_like_rboot_config(make_config())
    assert not looks_like_rboot_config(make_config(version=2))
    assert not looks_like_rboot_config(make_config(roms=(0x2001, 0, 0, 0)))
    assert not looks_like_rboot_config(GOLDEN[:10])


def test_truncated_and_bad_magic() -> None:
    with pytest.raises(TruncatedError):
        RbootConfig.from_bytes(GOLDEN[:6])
    with pytest.raises(TruncatedError):
        RbootConfig.from_bytes(GOLDEN[:20])
    with pytest.raises(FormatError):
        RbootConfig.from_bytes(b"")
    with pytest.raises(FormatError, match="0xe1"):
        RbootConfig.from_bytes(b"\xe9" + GOLDEN[1:])


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=80))
def test_config_fuzz_only_format_errors(data: bytes) -> None:
    data = b"\xe1" + data
    try:
        cfg = RbootConfig.from_bytes(data)
    except FormatError:
        return
    assert cfg.to_bytes() == data
    cfg.checks()
    cfg.to_dict()
    looks_like_rboot_config(data)


# ---------------------------------------------------------------------- RTC record (§3)
RTC_GOLDEN = bytes.fromhex(
    "68 ae 34 23"  # magic 0x2334AE68
    "02"           # next_mode = MODE_TEMP_ROM
    "00"           # last_mode = STANDARD
    "01"           # last_rom = 1
    "03"           # temp_rom = 3
    "3e"           # chksum = 0xEF ^ bytes 0..7
)


def test_rtc_golden() -> None:
    assert xor_oracle(RTC_GOLDEN[:8]) == RTC_GOLDEN[8]
    rtc = RbootRtc.from_bytes(RTC_GOLDEN)
    assert (rtc.next_mode, rtc.last_mode, rtc.last_rom, rtc.temp_rom) == (2, 0, 1, 3)
    assert rtc.checks()[0].valid and rtc.checks()[0].name == "rboot-rtc-checksum"
    assert rtc.checks(0x100)[0].offset == 0x108
    assert rtc.temp_boot_requested
    assert rtc.to_bytes() == RTC_GOLDEN
    assert RbootRtc(2, 0, 1, 3).to_bytes() == RTC_GOLDEN
    assert rtc.to_dict()["checksum_valid"] is True
    assert fmt.rboot_rtc_data.sizeof() == 9


def test_rtc_padded_round_trip_and_corruption() -> None:
    padded = RTC_GOLDEN + b"\0\0\0"  # C sizeof is 12
    assert RbootRtc.from_bytes(padded).to_bytes() == padded
    bad = bytearray(RTC_GOLDEN)
    bad[6] = 0
    rtc = RbootRtc.from_bytes(bytes(bad))
    assert not rtc.checks()[0].valid and not rtc.temp_boot_requested
    assert RbootRtc(0, 0, 0, 0).checks()[0].valid is False  # nothing stored


def test_rtc_errors() -> None:
    with pytest.raises(TruncatedError):
        RbootRtc.from_bytes(RTC_GOLDEN[:8])
    with pytest.raises(FormatError, match="magic"):
        RbootRtc.from_bytes(b"\0" * 9)


# ---------------------------------------------------------------------- rBoot image (§1, §4)
@pytest.mark.parametrize("name", ["mgwr_rboot_0x00000.bin", "esp8266-rboot-boot.bin"])
def test_corpus_rboot_recognised(name: str) -> None:
    data = input_path(name).read_bytes()
    assert is_rboot(data)
    assert rboot_version(data) == "1.4.2"
    assert is_rboot(memoryview(data))
    # as part of a flash dump with a config sector after it
    assert is_rboot(data + b"\xff" * (0x1000 - len(data)) + GOLDEN)


@pytest.mark.parametrize("name", [
    "nonos_boot_v1.2.bin", "nonos_boot_v1.6.bin", "nonos_boot_v1.7.bin",
    "uartremote_boot8266-0x00000.bin", "mgwr_nonos_0x00000.bin",
    "mgwr_rboot_rom0_0x02000.bin", "uartremote_yaota8266.bin",
    "esp8266-nonos-boot.bin", "esp8266-boot8266.bin", "esp8266-v1.bin",
    "esp8266-rboot-rom0.bin", "esp8266-yaota8266.bin",
    "esp8266-nonos-flash-512K.bin",
])
def test_corpus_not_rboot(name: str) -> None:
    data = input_path(name).read_bytes()
    assert not is_rboot(data)
    assert rboot_version(data) is None


@pytest.mark.parametrize("name", ["mgwr_rboot_0x00000.bin", "esp8266-rboot-boot.bin"])
def test_rboot_damaged_and_truncated(name: str) -> None:
    data = input_path(name).read_bytes()
    assert not is_rboot(data[:0x100])  # segments cut off
    assert not is_rboot(b"")
    assert not is_rboot(b"\xe9")
    at = data.find(b"rBoot v")
    scrubbed = data[:at] + b"xxxxxxx" + data[at + 7:]
    assert is_rboot(scrubbed)  # find_image() messages still identify it
    nothing = scrubbed.replace(b"No good rom available", b"x" * 21)
    assert not is_rboot(nothing)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64))
def test_is_rboot_never_raises(data: bytes) -> None:
    assert is_rboot(b"\xe9" + data) in (True, False)


@pytest.mark.parametrize(("byte3", "big", "size"), [
    (0x00, False, 0x80000), (0x10, False, 0x40000), (0x20, False, 0x100000),
    (0x4F, False, 0x100000), (0x4F, True, 0x400000), (0x30, True, 0x200000),
    (0x90, True, 0x1000000), (0x70, True, 0x80000),
])
def test_flash_size_from_header(byte3: int, big: bool, size: int) -> None:
    assert flash_size_from_header(byte3, big) == size
