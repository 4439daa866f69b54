"""check_update: will this OTA update boot on that device (esp_image.update_check)."""

from __future__ import annotations

import gzip
import struct
from functools import cache
from pathlib import Path
from types import ModuleType

import pytest

from esp_image import Image
from esp_image.app_image import AppImage
from esp_image.chips import chip_by_name
from esp_image.errors import UsageError
from esp_image.otadata import OtaData
from esp_image.partition_table import PartitionTable
from esp_image.transforms.merge import merge
from esp_image.update_check import UpdateCheck, check_update

from ..conftest import FIXTURES, corpus_path
from ..image.test_version_rules import _make_fixtures

APP = (FIXTURES / "esp32-app.bin").read_bytes()
BOOTLOADER = (FIXTURES / "esp32-bootloader.bin").read_bytes()
DESC = 0x20  # esp_app_desc_t in segment 0

FACTORY_OTA = """
nvs, data, nvs, 0x9000, 0x4000
otadata, data, ota, 0xd000, 0x2000
phy_init, data, phy, 0xf000, 0x1000
factory, app, factory, 0x10000, 0x100000
ota_0, app, ota_0, 0x110000, 0x100000
ota_1, app, ota_1, 0x210000, 0x100000
"""
OTA_ONLY = """
nvs, data, nvs, 0x9000, 0x4000
otadata, data, ota, 0xd000, 0x2000
ota_0, app, ota_0, 0x10000, 0x40000
ota_1, app, ota_1, 0x50000, 0x40000
"""


@cache
def tools() -> ModuleType:
    """fixtures/_tools/make_fixtures.py: the project's own image builders (loaded once)."""
    module: ModuleType = _make_fixtures()
    return module


def rebuilt(data: bytes | bytearray) -> bytes:
    """The image with its checksum and SHA-256 recomputed after an edit."""
    return AppImage.from_bytes(bytes(data)).to_bytes()


def with_desc(app: bytes, *, secure_version: int | None = None, project: str | None = None
              ) -> bytes:
    out = bytearray(app)
    if secure_version is not None:
        out[DESC + 4:DESC + 8] = struct.pack("<I", secure_version)
    if project is not None:
        out[DESC + 0x30:DESC + 0x50] = project.encode().ljust(32, b"\0")
    return rebuilt(out)


def with_revs(app: bytes, low: int, high: int) -> bytes:
    out = bytearray(app)
    out[0x0F:0x13] = struct.pack("<HH", low, high)
    return rebuilt(out)


def device(csv: str, apps: dict[int, bytes], *, boot: int | None = None,
           bootloader: bytes = BOOTLOADER, chip: str = "esp32") -> Image:
    """A merged flash file: bootloader, table, otadata selecting ``boot`` (None: erased)."""
    table = PartitionTable.from_csv(csv)
    otadata = OtaData.erased()
    if boot is not None:
        otadata = otadata.switch(boot, ota_slot_count=len(table.ota_slots))
    parts = [(chip_by_name(chip).bootloader_offset, bootloader), (0x8000, table.to_bytes()),
             (0xD000, otadata.to_bytes()), *apps.items()]
    return Image.from_bytes(merge(parts, chip=chip).data, path="device.bin")


def judge(update: bytes, target: Image) -> UpdateCheck:
    return check_update(Image.from_bytes(update, path="update.bin"), target)


def failed(result: UpdateCheck) -> set[str]:
    return {c.name for c in result.checks if not c.valid}


def test_good_update_on_factory_board_goes_to_ota_0() -> None:
    result = judge(APP, device(FACTORY_OTA, {0x10000: APP}))
    assert result.boots and result.reasons == []
    assert result.slot is not None and result.slot.label == "ota_0"
    assert result.slot.running == "factory" and result.slot.offset == 0x110000
    doc = result.to_dict()
    assert doc["boots"] is True and doc["slot"]["name"] == "ota_0"  # type: ignore[index]


def test_running_ota_0_sends_the_update_to_ota_1() -> None:
    result = judge(APP, device(FACTORY_OTA, {0x10000: APP, 0x110000: APP}, boot=0))
    assert result.boots and result.slot is not None
    assert (result.slot.running, result.slot.label) == ("ota_0", "ota_1")


def test_running_the_last_slot_wraps_to_the_first() -> None:
    result = judge(APP, device(OTA_ONLY, {0x10000: APP, 0x50000: APP}, boot=1))
    assert result.slot is not None and (result.slot.running, result.slot.label) == \
        ("ota_1", "ota_0")


def test_no_ota_slots_is_a_reason() -> None:
    result = judge(APP, Image.open(FIXTURES / "firmware-esp32-4MB.bin"))
    assert not result.boots and failed(result) == {"slot"}
    assert result.slot is None


def test_only_ota_slot_running_is_a_reason() -> None:
    csv = "otadata, data, ota, 0xd000, 0x2000\nota_0, app, ota_0, 0x10000, 0x100000\n"
    result = judge(APP, device(csv, {0x10000: APP}, boot=0))
    assert failed(result) == {"slot"} and "running" in result.reasons[0]


def test_update_too_big_for_the_slot() -> None:
    small = OTA_ONLY.replace("ota_1, app, ota_1, 0x50000, 0x40000",
                             "ota_1, app, ota_1, 0x50000, 0x20000")
    result = judge(APP, device(small, {0x10000: APP}, boot=0))
    assert failed(result) == {"slot-size"}
    assert result.slot is not None and result.slot.size == 0x20000


def test_other_chip_is_a_reason() -> None:
    other = (FIXTURES / "firmware-esp32c3.bin").read_bytes()
    c3_app = Image.from_bytes(other).partitions
    app = next(c.image for c in c3_app if c.image is not None)
    result = judge(bytes(app.data), device(FACTORY_OTA, {0x10000: APP}))
    assert "chip" in failed(result) and "ESP32-C3" in result.reasons[0]


def test_esp8266_app_on_esp32_device() -> None:
    user1 = (FIXTURES / "esp8266-user1.bin").read_bytes()
    result = judge(user1, device(FACTORY_OTA, {0x10000: APP}))
    assert failed(result) == {"chip"} and "ESP8266" in result.reasons[0]


@pytest.mark.parametrize("name,what", [
    ("esp32-bootloader.bin", "bootloader"), ("firmware-esp32-4MB.bin", "merged firmware"),
    ("partitions-4MiB-ota.bin", "partition table"), ("otadata-ota0.bin", "otadata")])
def test_not_an_app_says_what_it_is(name: str, what: str) -> None:
    result = judge((FIXTURES / name).read_bytes(), device(FACTORY_OTA, {0x10000: APP}))
    assert failed(result) == {"update-kind"} and what in result.reasons[0]


def test_damaged_update_never_boots() -> None:
    bad = bytearray(APP)
    bad[0x1000] ^= 0xFF
    result = judge(bytes(bad), device(FACTORY_OTA, {0x10000: APP}))
    assert failed(result) == {"update-intact"} and "checksum" in result.reasons[0]


def test_gzip_update_is_judged_by_its_app_with_a_note() -> None:
    result = judge(gzip.compress(APP, mtime=0), device(FACTORY_OTA, {0x10000: APP}))
    assert result.boots
    assert any("gzip" in n and "inflate" in n for n in result.notes)


def test_anti_rollback() -> None:
    running = with_desc(APP, secure_version=3)
    target = device(FACTORY_OTA, {0x10000: APP, 0x110000: running}, boot=0)
    older = judge(with_desc(APP, secure_version=2), target)
    assert failed(older) == {"anti-rollback"} and "2, running app 3" in older.reasons[0]
    assert judge(with_desc(APP, secure_version=3), target).boots
    assert judge(with_desc(APP, secure_version=4), target).boots


def test_anti_rollback_unknown_at_zero() -> None:
    result = judge(with_desc(APP, secure_version=0), device(FACTORY_OTA, {0x10000: APP}))
    check = next(c for c in result.checks if c.name == "anti-rollback")
    assert check.valid and "cannot tell" in check.detail


def test_chip_revision_ranges() -> None:
    target = device(FACTORY_OTA, {0x10000: with_revs(APP, 100, 199)})
    apart = judge(with_revs(APP, 300, 399), target)
    assert failed(apart) == {"chip-revision"}
    partly = judge(with_revs(APP, 150, 399), target)
    assert partly.boots and any("chip revision" in w for w in partly.warnings)
    assert not judge(with_revs(APP, 0, 0xFFFF), target).warnings


def test_project_name_is_a_warning() -> None:
    result = judge(with_desc(APP, project="other"), device(FACTORY_OTA, {0x10000: APP}))
    assert result.boots and any("'other'" in w for w in result.warnings)


def test_flash_size_beyond_the_bootloader_is_a_warning() -> None:
    app = bytearray(APP)
    app[3] = (app[3] & 0x0F) | 0x30  # 8MB
    result = judge(rebuilt(app), device(FACTORY_OTA, {0x10000: APP}))
    assert result.boots and any("CONFIG_SPI_FLASH_SIZE_OVERRIDE" in w for w in result.warnings)


def test_target_must_hold_a_table() -> None:
    with pytest.raises(UsageError):
        judge(APP, Image.from_bytes(APP))


# ---------------------------------------------------------------------- Secure Boot v2
C6_BOOTLOADER = "esf_esp32c6_bootloader.bin"


def signed(image: bytes, key_pem: bytes | None = None) -> bytes:
    """espsecure sign-data --version 2 (the fixture tools' ECDSA P-256 key by default)."""
    if key_pem is None:
        return bytes(tools().sbv2_signed(image))
    return _espsecure_sign(image, key_pem)


def _espsecure_sign(image: bytes, key_pem: bytes) -> bytes:
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "key.pem").write_bytes(key_pem)
        (folder / "in.bin").write_bytes(image)
        subprocess.run([sys.executable, "-m", "espsecure", "sign-data", "--version", "2",
                        "--keyfile", str(folder / "key.pem"), "-o", str(folder / "out.bin"),
                        str(folder / "in.bin")], check=True, capture_output=True)
        return (folder / "out.bin").read_bytes()


def _other_key() -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.derive_private_key(0x1234567, ec.SECP256R1())
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def test_key_digest_is_espsecures() -> None:
    image = Image.open(FIXTURES / "app-esp32c6-sbv2-signed.bin")
    assert isinstance(image.firmware, AppImage) and image.firmware.signature is not None
    # espsecure digest-sbv2-public-key --keyfile fixtures/signing-key-ecdsa256.pem
    assert image.firmware.signature.blocks[0].key_digest.hex() == (
        "6c33f645eb0a0af01a93c458c9507a8036958722066401904c86bef85e56d1eb")


def test_secure_boot_v2_keys() -> None:
    bootloader = signed(corpus_path(C6_BOOTLOADER).read_bytes())
    app = bytes(tools().c6_app())
    target = device(OTA_ONLY, {0x10000: signed(app)}, boot=0, bootloader=bootloader,
                    chip="esp32c6")
    assert judge(signed(app), target).boots
    unsigned = judge(app, target)
    assert failed(unsigned) == {"secure-boot"} and "unsigned" in unsigned.reasons[0]
    other = judge(signed(app, _other_key()), target)
    assert failed(other) == {"secure-boot"} and "no key of the update's" in other.reasons[0]


def test_unsigned_bootloader_accepts_unsigned_update() -> None:
    app = bytes(tools().c6_app())
    target = device(OTA_ONLY, {0x10000: app}, boot=0,
                    bootloader=corpus_path(C6_BOOTLOADER).read_bytes(), chip="esp32c6")
    assert judge(app, target).boots


# ---------------------------------------------------------------------- ESP8266
NONOS = FIXTURES / "esp8266-nonos-flash-512K.bin"


def test_nonos_user1_goes_to_the_slot_not_running() -> None:
    # The fixture's system parameters say boot_v1.x runs user2: the SDK writes user1.
    target = Image.open(NONOS)
    good = judge((FIXTURES / "esp8266-user1.bin").read_bytes(), target)
    assert good.boots and good.slot is not None
    assert (good.slot.running, good.slot.label) == ("user2", "user1")
    wrong = judge((FIXTURES / "esp8266-user2.bin").read_bytes(), target)
    assert failed(wrong) == {"link-address"} and "linked for user2" in wrong.reasons[0]


def test_nonos_running_user1_wants_user2() -> None:
    data = bytearray(NONOS.read_bytes())
    params = Image.open(NONOS).details["system_params"]
    assert isinstance(params, dict)
    live = int(params["live_address"])  # type: ignore[call-overload]
    data[live] = 0  # boot_hdr.usr_bin 0 + status 1 -> user1 runs (port.c)
    target = Image.from_bytes(bytes(data))
    assert target.details["system_params"]["next_user_bin"] == "user1"  # type: ignore[index]
    assert judge((FIXTURES / "esp8266-user2.bin").read_bytes(), target).boots
    assert failed(judge((FIXTURES / "esp8266-user1.bin").read_bytes(), target)) == \
        {"link-address"}


def test_nonos_update_too_big() -> None:
    user1 = (FIXTURES / "esp8266-user1.bin").read_bytes()
    big = user1 + b"\xff" * 0x40000
    result = judge(big, Image.open(NONOS))
    assert "slot-size" in failed(result)


def test_esp32_app_on_esp8266_device() -> None:
    result = judge(APP, Image.open(NONOS))
    assert failed(result) == {"chip"}


def test_real_nonos_user_bins_against_the_fixture_device() -> None:
    # gen_appbin's own user2.bin (NONOS 3.0.6 AT): the fixture device runs user2, so the SDK
    # writes user1, and a bin linked for user2 cannot run there.
    user2 = corpus_path("nonos306_at_user2.1024.new.2.bin").read_bytes()
    result = judge(user2, Image.open(NONOS))
    assert not result.boots and "link-address" in failed(result)


def test_yaota8266_main_app() -> None:
    target = Image.open(FIXTURES / "esp8266-yaota8266.bin")
    good = judge((FIXTURES / "esp8266-firmware-ota.bin").read_bytes(), target)
    assert good.boots and good.slot is not None and good.slot.offset == 0x3C000
    wrong = judge((FIXTURES / "esp8266-user1.bin").read_bytes(), target)
    assert failed(wrong) == {"update-kind"}
