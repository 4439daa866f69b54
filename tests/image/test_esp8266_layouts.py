"""ESP8266 combined files and flash dumps, assembled from real corpus parts."""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

import pytest

from esp_image.esp8266 import Esp8266Image
from esp_image.hashing import xor_bytes
from esp_image.recognise.esp8266 import identify_esp8266

from ..conftest import corpus_path

if TYPE_CHECKING:
    from esp_image.image import Image as Esp8266Finding


def _read(name: str) -> bytes:
    return corpus_path(name).read_bytes()


def _place(size: int, parts: dict[int, bytes], fill: int = 0xFF) -> bytes:
    out = bytearray([fill]) * size
    for offset, data in parts.items():
        out[offset:offset + len(data)] = data
    return bytes(out)


def v1_image(segments: list[tuple[int, bytes]], *, entry: int = 0x40100004, mode: int = 0,
             size_freq: int = 0x20) -> bytes:
    """A v1 image the way esptool writes it (esp8266.md §1)."""
    out = bytearray([0xE9, len(segments), mode, size_freq]) + struct.pack("<I", entry)
    checksum = 0xEF
    for addr, data in segments:
        out += struct.pack("<II", addr, len(data)) + data
        checksum ^= xor_bytes(data)
    while len(out) % 16 != 15:
        out.append(0)
    out.append(checksum)
    return bytes(out)


def _identify(data: bytes, *, identical: bool = True) -> Esp8266Finding:
    found = identify_esp8266(memoryview(data))
    assert found is not None
    if identical:
        assert found.to_bytes() == data
    return found


def _region(found: Esp8266Finding, name: str) -> tuple[int, str]:
    for r in found.regions:
        if r.name == name:
            return r.address, r.kind
    raise AssertionError(f"no region {name}: {[r.name for r in found.regions]}")


def _sys_params(flag: int, save0_head: bytes) -> bytes:
    def sector(head: bytes) -> bytes:
        return head + b"\xff" * (0x1000 - len(head))

    return sector(save0_head) + sector(b"") + sector(bytes([flag]) + b"\xff" * 31)


# --------------------------------------------------------------------- NONOS whole-flash dumps
def _nonos_dump(byte3: int = 0x20, swap: bool = False, flag: int = 0,
                boot_hdr: bytes = bytes([0x05, 0x87]) + bytes(6), user2: bool = True) -> bytes:
    boot = bytearray(_read("nonos_boot_v1.7.bin"))
    boot[3] = byte3                       # not checksummed; this is what write-flash patches
    u1 = _read("nonos306_at_user1.1024.new.2.bin")
    u2 = _read("nonos306_at_user2.1024.new.2.bin")
    if swap:
        u1, u2 = u2, u1
    parts = {0: bytes(boot), 0x1000: u1, 0xFC000: _read("nonos_esp_init_data_default_v08.bin"),
             0xFD000: _sys_params(flag, boot_hdr)}
    if user2:
        parts[0x81000] = u2
    return _place(0x100000, parts)


@pytest.mark.corpus
def test_nonos_dump() -> None:
    found = _identify(_nonos_dump())
    assert (found.kind, found.shape, found.valid) == ("flash", "nonos-flash", True)
    assert found.flash_map is not None and found.flash_map.code == 2
    assert _region(found, "boot") == (0, "image")
    assert _region(found, "user1") == (0x1000, "image")
    assert _region(found, "user2") == (0x81000, "image")
    assert _region(found, "rf_cal") == (0xFB000, "erased")
    assert _region(found, "init_data") == (0xFC000, "init-data")
    assert _region(found, "system_params") == (0xFD000, "system-params")
    params = found.details["system_params"]
    assert isinstance(params, dict)
    assert (params["live_copy"], params["next_user_bin"], params["inferred"]) == (
        "save0", "user2", True)
    names = {c.detail.split(":")[0] for c in found.checks}
    assert {"boot", "user1", "user2"} <= names
    assert {c.name for c in found.checks if c.detail.startswith("user2")} == {
        "structure", "checksum", "crc32"}
    assert not found.issues
    # regions tile the file
    pos = 0
    for r in found.regions:
        assert r.offset == pos
        pos += r.size
    assert pos == 0x100000


@pytest.mark.corpus
def test_nonos_dump_wrong_slots_and_empty_next() -> None:
    found = _identify(_nonos_dump(swap=True))
    codes = [i.code for i in found.issues if i.is_error]
    assert codes == ["wrong-slot", "wrong-slot"]
    assert not found.valid
    assert [c.name for c in found.checks if not c.valid] == ["layout"]
    found = _identify(_nonos_dump(user2=False))
    assert [i.code for i in found.issues] == ["next-slot-empty"]
    assert found.valid          # a warning: the bootloader falls back (inferred)
    assert _region(found, "user2") == (0x81000, "erased")


@pytest.mark.corpus
def test_nonos_dump_map_comes_from_boot_byte3() -> None:
    """With byte 3 = 0x00 (512 KB, 256+256) user1's slot ends at 0x40000: user1 does not fit."""
    found = _identify(_nonos_dump(byte3=0x00))
    assert found.flash_map is not None and found.flash_map.code == 0
    assert not found.valid
    assert "image-too-large" in [i.code for i in found.issues]
    assert any(r.name == "user2" and r.address == 0x41000 for r in found.regions)
    assert any("larger than" in i.message for i in found.issues)


@pytest.mark.corpus
def test_nonos_dump_flag_selects_save1() -> None:
    found = _identify(_nonos_dump(flag=0xFF))
    params = found.details["system_params"]
    assert isinstance(params, dict)
    assert (params["live_copy"], params["next_user_bin"]) == ("save1", "user1")


@pytest.mark.corpus
def test_nonos_partial_dump() -> None:
    boot = bytearray(_read("nonos_boot_v1.7.bin"))
    boot[3] = 0x20
    user1 = _read("nonos306_at_user1.1024.new.2.bin")
    found = _identify(_place(0x1000 + len(user1), {0: bytes(boot), 0x1000: user1}))
    assert (found.shape, found.valid) == ("nonos-flash", True)
    assert any("covers flash" in n for n in found.notes)


# --------------------------------------------------------------------- rBoot
@pytest.mark.corpus
def test_rboot_flash_with_config() -> None:
    from esp_image.rboot import RbootConfig

    cfg = RbootConfig.default(0x100000).to_bytes()
    rom0 = _read("mgwr_rboot_rom0_0x02000.bin")
    rom1 = _read("mgwr_rboot_rom1_0x82000.bin")
    data = _place(0x82000 + len(rom1), {0: _read("mgwr_rboot_0x00000.bin"), 0x1000: cfg,
                                        0x2000: rom0, 0x82000: rom1})
    found = _identify(data)
    assert (found.kind, found.shape, found.valid) == ("flash", "rboot-flash", True)
    assert _region(found, "rboot-config") == (0x1000, "rboot-config")
    assert _region(found, "rom0") == (0x2000, "image")
    assert _region(found, "rom1") == (0x82000, "image")
    boot = found.details["rboot_boot"]
    assert isinstance(boot, dict) and boot["slot"] == 0


@pytest.mark.corpus
def test_rboot_flash_blank_config_uses_default_slots() -> None:
    rom0 = _read("mgwr_rboot_rom0_0x02000.bin")
    rboot = bytearray(_read("mgwr_rboot_0x00000.bin"))
    data = _place(0x2000 + len(rom0), {0: bytes(rboot), 0x2000: rom0})
    # rBoot's own header says 512KB: default slot 1 is 0x42000 and rom0 does not fit.
    small = _identify(data)
    assert not small.valid and "0x42000" in " ".join(small.notes)
    rboot[3] = 0x20           # 1MB, as write-flash --flash-size 1MB would patch it
    data = _place(0x2000 + len(rom0), {0: bytes(rboot), 0x2000: rom0})
    found = _identify(data)
    assert (found.shape, found.valid) == ("rboot-flash", True)
    assert _region(found, "rboot-config") == (0x1000, "erased")
    assert any("default" in n for n in found.notes)


@pytest.mark.corpus
def test_rboot_config_file() -> None:
    from esp_image.rboot import RbootConfig

    sector = RbootConfig.default(0x100000).to_bytes()
    sector += b"\xff" * (0x1000 - len(sector))
    found = _identify(sector)
    assert (found.kind, found.shape, found.valid) == ("rboot-config", "rboot-config", True)
    assert isinstance(found.details["rboot_config"], dict)


# --------------------------------------------------------------------- yaota8266
@pytest.mark.corpus
def test_yaota8266_initial_image() -> None:
    bundle = _read("uartremote_yaota8266.bin")
    app = _read("uartremote_micropython_v1.15-ota.bin")
    found = _identify(bundle + app)
    assert (found.kind, found.shape, found.valid) == ("flash", "yaota8266-initial", True)
    main = found.details["main_app"]
    assert isinstance(main, dict) and main["verdict"] == "boots the main app"
    assert _region(found, "main app") == (0x3C000, "image")
    assert _region(found, "main app irom0") == (0x45000, "irom")
    assert any(c.name == "yaota-md5" and c.valid for c in found.checks)
    assert isinstance(found.details["boot8266"], dict)


@pytest.mark.corpus
def test_yaota8266_main_app_alone_and_damaged() -> None:
    app = _read("uartremote_micropython_v1.15-ota.bin")
    found = _identify(app)
    assert found.base == 0x3C000
    damaged = bytearray(app)
    damaged[0x9000 + 100] ^= 0xFF
    bad = _identify(bytes(damaged), identical=False)
    assert bad.shape == "yaota8266-main-app" and not bad.valid
    assert [c.name for c in bad.checks if not c.valid] == ["yaota-md5"]
    assert identify_esp8266(memoryview(bad.to_bytes())).valid  # type: ignore[union-attr]


# --------------------------------------------------------------------- MicroPython, noboot
@pytest.mark.corpus
def test_micropython_md5_damage() -> None:
    data = bytearray(_read("pypi_cloudmgr_micropython-v1.8.6-firmware-combined.bin"))
    data[0x20000] ^= 0x01
    found = _identify(bytes(data), identical=False)
    assert found.shape == "micropython"
    assert [c.name for c in found.checks if not c.valid] == ["md5"]
    repaired = identify_esp8266(memoryview(found.to_bytes()))
    assert repaired is not None and repaired.valid


@pytest.mark.corpus
@pytest.mark.parametrize("irom_at", [0x10000, 0x40000])
def test_noboot_pair_combined(irom_at: int) -> None:
    ram = _read("mgwr_nonos_0x00000.bin")
    irom = _read("mgwr_nonos_0x10000.bin")
    found = _identify(_place(irom_at + len(irom), {0: ram, irom_at: irom}))
    assert (found.kind, found.shape, found.valid) == ("flash", "noboot", True)
    assert _region(found, "irom0") == (irom_at, "irom")


@pytest.mark.corpus
def test_raw_irom_blob_reason() -> None:
    found = identify_esp8266(memoryview(_read("mgwr_nonos_0x10000.bin")))
    assert found is not None and found.kind == "unknown"
    assert found.reason is not None
    assert "0x10000 (NONOS SDK >= 2.0)" in found.reason
    assert found.details["irom_link_address"] == 0x40210000


@pytest.mark.corpus
def test_v1_app_notes_separate_irom() -> None:
    found = identify_esp8266(memoryview(_read("mgwr_nonos_0x00000.bin")))
    assert found is not None
    assert any("irom0 code is not in this file" in n for n in found.notes)


# --------------------------------------------------------------------- Arduino, RTOS SDK
def test_arduino_eboot_layout() -> None:
    eboot = v1_image([(0x4010F000, bytes(range(64)) * 8), (0x3FFFDD80, bytes(96))],
                     entry=0x4010F000)
    eboot += b"\xaa" * (0x1000 - len(eboot))
    app = v1_image([(0x40201010, bytes(range(256)) * 64), (0x40100000, bytes(1024)),
                    (0x3FFE8000, bytes(64))], entry=0x40100004)
    found = _identify(eboot + app)
    assert (found.kind, found.shape, found.valid) == ("flash", "arduino", True)
    assert _region(found, "eboot") == (0, "image")
    assert _region(found, "app") == (0x1000, "image")
    alone = identify_esp8266(memoryview(eboot))
    assert alone is not None and alone.firmware is not None
    assert alone.firmware.bootloader_name == "eboot" and alone.firmware.role == "bootloader"


@pytest.mark.corpus
def test_rtos_sdk_flash() -> None:
    table = _read("esf_esp8266_partition-table.bin")
    data = _place(0x10000 + len(_read("esf_esp8266_rtos_hello-world.bin")), {
        0: _read("esf_esp8266_rtos_bootloader.bin"), 0x8000: table,
        0x10000: _read("esf_esp8266_rtos_hello-world.bin")})
    found = _identify(data)
    assert (found.kind, found.shape, found.valid) == ("flash", "rtos-sdk-flash", True)
    assert _region(found, "partition-table") == (0x8000, "partition-table")
    assert _region(found, "factory") == (0x10000, "image")


@pytest.mark.corpus
def test_v3_size_code_is_ambiguous() -> None:
    found = identify_esp8266(memoryview(_read("esf_esp8266_rtos_hello-world.bin")))
    assert found is not None and found.firmware is not None
    assert found.firmware.flash_size_ambiguous
    assert any("ESP32 table" in n for n in found.notes)
    flash = found.firmware.to_dict()["flash"]
    assert isinstance(flash, dict) and flash["size_if_esp32_code"] == "2MB"


# --------------------------------------------------------------------- v2 variants
@pytest.mark.corpus
def test_v2_without_trailer_is_valid() -> None:
    data = _read("nonos306_at_user1.1024.new.2.bin")[:-4]
    found = _identify(data)
    img = found.firmware
    assert img is not None and found.valid
    assert img.crc32_status == "absent" and img.stored_crc32 is None
    assert "crc32" not in [c.name for c in found.checks]
    assert any("no CRC32 trailer" in n for n in found.notes)


@pytest.mark.corpus
def test_esptool_v2_to_gen_appbin_marker() -> None:
    """EA bytes 2-3 set to ``00 01`` and the CRC recomputed: a valid gen_appbin user1.bin."""
    data = bytearray(_read("esptool_test_esp8266_sdk_4096_user1.bin"))
    data[2:4] = b"\x00\x01"
    stale = Esp8266Image.from_bytes(bytes(data))
    assert stale.crc32_status == "invalid" and stale.checksum_valid
    fixed = Esp8266Image.from_bytes(stale.to_bytes())
    assert (fixed.variant, fixed.user, fixed.valid) == ("gen_appbin", 1, True)
    assert fixed.irom_address == 0x40201010


@pytest.mark.corpus
def test_v2_header_mismatch_warns() -> None:
    data = bytearray(_read("esptool_test_esp8266_sdk_4096_user1.bin"))
    data[3] = 0x40
    img = Esp8266Image.from_bytes(Esp8266Image.from_bytes(bytes(data)).to_bytes())
    assert img.variant == "esptool" and img.valid
    assert any("disagree" in w for w in img.warnings)
    assert img.flash_size_name == "4MB-c1"  # the inner header wins, like esptool
