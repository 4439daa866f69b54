"""Bootloaders of every ESP32-family chip: the role comes from each chip's memory map, held
against esptool's chip definitions; dumps of any chip find a moved table; direct-boot images and
ESP-IDF's ota_data_initial.bin."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from esp_image import Image
from esp_image.app_image import AppImage
from esp_image.cli.app import app as cli_app

from ..conftest import FIXTURES, corpus_path


def _esptool_rom_loadable(image: AppImage) -> bool:
    """The role rule from esptool's own chip definition (an independent source): no segment in
    the IROM/DROM flash windows, and the entry point in a region esptool calls IRAM."""
    from esptool.targets import CHIP_DEFS

    assert image.chip is not None
    rom = CHIP_DEFS[image.chip.name]
    windows = [(rom.IROM_MAP_START, rom.IROM_MAP_END), (rom.DROM_MAP_START, rom.DROM_MAP_END)]
    for seg in image.segments:
        if any(lo <= seg.load_addr < hi for lo, hi in windows):
            return False
    entry = image.header.entry_addr
    return any(lo <= entry < hi and name in ("IRAM", "RTC_IRAM", "CACHE_APP")
               for lo, hi, name in rom.MEMORY_MAP)


BOOTLOADERS = ["ard106_bootloader_dio_40m.bin", "ard106_bootloader_qio_80m.bin",
               "esf_esp32_bootloader.bin", "esf_esp32c3_bootloader.bin",
               "esf_esp32c6_bootloader.bin", "esf_esp32p4_bootloader.bin",
               "esf_esp32s2_bootloader.bin", "esf_esp32s3_bootloader.bin",
               "knot_s3_bootloader.bin", "esptool_test_bootloader_signed_sbv1.bin",
               "esptool_test_bootloader_multi_signed_v2_rsa.bin"]


@pytest.mark.parametrize("name", BOOTLOADERS)
def test_corpus_bootloader_role_agrees_with_esptool(name: str) -> None:
    image = Image.open(corpus_path(name))
    assert image.kind == "image" and isinstance(image.firmware, AppImage)
    assert image.firmware.role == "bootloader"
    assert _esptool_rom_loadable(image.firmware)


@pytest.mark.parametrize(("name", "offset", "chip"), [
    ("drone_esp32s2_flash_1M.bin", 0x1000, "esp32s2"),   # IDF 4.4: no bootloader descriptor
    ("m5acssr_c3_merged.bin", 0x0, "esp32c3"),           # IDF 4.3: no bootloader descriptor
    ("smooker_esp32_flash_2M.bin", 0x1000, "esp32"),
])
def test_descriptorless_bootloaders_cut_out_of_dumps(name: str, offset: int, chip: str) -> None:
    """The bootloader of each dump, read bare (no position to hint its role)."""
    data = corpus_path(name).read_bytes()
    whole = Image.from_bytes(data)
    assert whole.kind == "flash" and whole.chip is not None and whole.chip.name == chip
    assert whole.table is not None
    boot = AppImage.from_bytes(data, offset)
    assert boot.bootloader_desc is None and boot.role == "bootloader"
    assert _esptool_rom_loadable(boot)
    bare = Image.from_bytes(data[offset:offset + boot.end])
    assert isinstance(bare.firmware, AppImage) and bare.firmware.role == "bootloader"


@pytest.mark.parametrize("name", ["esf_esp32c3_hello_world.bin", "esf_esp32s2_hello_world.bin",
                                  "esf_esp32p4_hello_world.bin", "esf_esp32c6_hello_world.bin"])
def test_corpus_apps_are_not_rom_loadable(name: str) -> None:
    image = Image.open(corpus_path(name))
    assert isinstance(image.firmware, AppImage) and image.firmware.role == "app"
    assert not _esptool_rom_loadable(image.firmware)


def test_fixture_c3_bootloader_without_descriptor() -> None:
    data = (FIXTURES / "dump-esp32c3-moved-table.bin").read_bytes()
    boot = AppImage.from_bytes(data, 0)
    assert boot.bootloader_desc is None and boot.end > 0x8000
    bare = Image.from_bytes(data[:boot.end])
    assert isinstance(bare.firmware, AppImage)
    assert bare.firmware.role == "bootloader" and bare.firmware.role_from_memory_map
    assert any("role from the memory map" in n for n in bare.notes)
    assert _esptool_rom_loadable(bare.firmware)


def test_c3_dump_finds_the_moved_table() -> None:
    image = Image.open(FIXTURES / "dump-esp32c3-moved-table.bin")
    assert image.kind == "flash" and image.base == 0 and image.valid
    assert image.chip is not None and image.chip.name == "esp32c3"
    assert image.table_address == 0x10000
    assert image.boot is not None and image.boot.target == "factory"


def test_direct_boot_image() -> None:
    image = Image.open(FIXTURES / "esp32c3-direct-boot.bin")
    assert image.kind == "image" and image.valid
    assert image.chip is not None and image.chip.name == "esp32c3"
    assert any("0x42000008" in n for n in image.notes)
    forced = Image.open(FIXTURES / "esp32c3-direct-boot.bin", chip="esp32c2")
    assert forced.chip is not None and forced.chip.name == "esp32c2" and forced.valid


def test_direct_boot_json_and_text() -> None:
    runner = CliRunner()
    out = runner.invoke(cli_app, ["info", "--json", str(FIXTURES / "esp32c3-direct-boot.bin")])
    assert out.exit_code == 0
    doc = json.loads(out.stdout)
    assert doc["kind"] == "image" and doc["chip"] == "esp32c3"
    assert doc["image"]["format"] == "direct-boot" and doc["image"]["entry"] == 0x42000008
    text = runner.invoke(cli_app, ["info", str(FIXTURES / "esp32c3-direct-boot.bin")])
    assert "ESP32-C3 direct-boot image" in text.stdout


def test_ota_data_initial_is_erased_otadata() -> None:
    image = Image.open(FIXTURES / "ota_data_initial.bin")
    assert image.kind == "otadata" and image.valid
    assert image.otadata is not None and image.otadata.is_erased
    assert any("factory app, or ota_0" in n for n in image.notes)


def test_other_erased_sizes_stay_erased() -> None:
    assert Image.from_bytes(b"\xff" * 0x1000).kind == "erased"
    assert Image.from_bytes(b"\xff" * 0x4000).kind == "erased"


@pytest.mark.parametrize(("data", "says", "never"), [
    (bytes(range(256)) * 64, "byte entropy", "encrypted"),
    (b"hello world, this is text\n" * 200, "printable text", "encrypted"),
    (bytes([0x12, 0x34]) * 100, "no ESP image", "irom0"),
])
def test_unknown_reason_claims_only_what_the_bytes_show(data: bytes, says: str,
                                                        never: str) -> None:
    image = Image.from_bytes(data)
    assert image.kind == "unknown" and image.reason is not None
    assert says in image.reason and never not in image.reason.split("; ")[-1]


def test_unknown_random_data_says_near_random() -> None:
    import random

    image = Image.from_bytes(random.Random(1).randbytes(0x8000))
    assert image.kind == "unknown" and image.reason is not None
    assert "near random" in image.reason and "raw ESP8266 irom0 blob" not in image.reason


def _stale(data: bytes, byte3: int) -> bytes:
    """``data`` (a firmware whose bootloader is at file offset 0) with the bootloader's header
    byte 3 rewritten and its SHA-256 left as it was, as esptool's flash-time rewrite leaves it."""
    out = bytearray(data)
    out[3] = byte3
    return bytes(out)


def test_stale_bootloader_digest_is_what_the_rom_boots() -> None:
    """esp32-image.md §8: without secure boot the ROM warns about a bootloader whose SHA-256
    was made before esptool rewrote the flash parameters, and boots it; the model finds the
    header the digest was made for, keeps the bytes, and a real rewrite repairs the digest."""
    data = (FIXTURES / "firmware-esp32c3.bin").read_bytes()
    boot = AppImage.from_bytes(data, 0, role_hint="bootloader")
    assert boot.header.hash_appended == 1 and boot.stale_digest is None
    stale = _stale(data, data[3] ^ 0x10)             # another flash size code
    image = Image.from_bytes(stale)
    assert image.valid and image.bootloader is not None
    assert image.bootloader.stale_digest == (data[2], data[3])
    assert any(c.name == "sha256" and "Attempting to boot anyway" in c.detail
               for c in image.checks)
    assert image.to_bytes() == stale                 # byte-exact: the stored digest is kept
    # A damaged digest matches no header: still a failed check.
    damaged = bytearray(stale)
    damaged[boot.length - 1] ^= 0x01
    assert "sha256" in {c.name for c in Image.from_bytes(bytes(damaged)).checks if not c.valid}
    # A damaged body: the checksum fails, and the digest is not excused.
    body = bytearray(stale)
    body[boot.segments[0].data_offset] ^= 0x01
    failed = {c.name for c in Image.from_bytes(bytes(body)).checks if not c.valid}
    assert {"checksum", "sha256"} <= failed


def test_flash_params_repairs_a_stale_bootloader_digest() -> None:
    from esp_image.transforms.flash import FlashParams, set_flash_params

    data = (FIXTURES / "firmware-esp32c3.bin").read_bytes()
    stale = _stale(data, data[3] ^ 0x10)
    result = set_flash_params(Image.from_bytes(stale), FlashParams.parse(size="16MB"))
    after = Image.from_bytes(result.data)
    assert after.valid and after.bootloader is not None
    assert after.bootloader.stale_digest is None and after.bootloader.digest_valid
