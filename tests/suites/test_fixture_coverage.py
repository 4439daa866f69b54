"""Every format family has a project-made fixture, so a clone without the real-world corpus still
runs every parser (issue 12, item 26). Each case names what the parser must find."""

from __future__ import annotations

from typing import Any

import pytest

from esp_image import Image
from esp_image.esp8266 import Esp8266Image
from esp_image.filesystems import detect, open_volume
from esp_image.transforms.esp8266 import convert_v2, infer_irom_link

from ..conftest import FIXTURES

# name: (kind, chip, base, facts found in the --json document)
FAMILIES: dict[str, tuple[str, str | None, int | None, dict[str, Any]]] = {
    "esp32-bootloader.bin": ("image", "esp32", None, {"role": "bootloader"}),
    "esp32-app.bin": ("image", "esp32", None, {"role": "app"}),
    "partitions-4MiB.bin": ("partition-table", None, None, {"partitions": 4}),
    "partitions-4MiB-ota.bin": ("partition-table", None, None, {"partitions": 6}),
    "otadata-ota0.bin": ("otadata", None, None, {"boot": "ota_0"}),
    "firmware-esp32-4MB.bin": ("flash", "esp32", 0x1000, {"boot": "factory"}),
    "firmware-esp32-lfs.bin": ("flash", "esp32", 0x1000, {"filesystem": "littlefs"}),
    "firmware-esp32-nvs.bin": ("flash", "esp32", 0x1000, {"boot": "factory"}),
    "nvs-24K.bin": ("nvs", None, None, {}),
    "esp-secure-cert.bin": ("esp-secure-cert", None, None, {}),
    "coredump-esp32c6-elf-sha256.bin": ("coredump", "esp32c6", None, {}),
    "coredump-esp32-bin-crc32.bin": ("coredump", "esp32", None, {}),
    "firmware-esp32s2.bin": ("flash", "esp32s2", 0x1000, {"boot": "factory"}),
    "firmware-esp32s3.bin": ("flash", "esp32s3", 0x0, {"boot": "factory"}),
    "firmware-esp32c3.bin": ("flash", "esp32c3", 0x0, {"boot": "factory"}),
    "dump-esp32-0x0-0x40000.bin": ("flash", "esp32", 0x0, {"boot": "factory"}),
    "esp8266-v1.bin": ("image", "esp8266", None, {"format": "esp8266-v1"}),
    "esp8266-user1.bin": ("image", "esp8266", None, {"format": "esp8266-v2"}),
    "esp8266-user2.bin": ("image", "esp8266", None, {"format": "esp8266-v2"}),
    "esp8266-combined.bin": ("flash", "esp8266", None, {"shape": "micropython"}),
    "esp8266-init-data.bin": ("esp8266-init-data", "esp8266", None, {}),
    "littlefs-64K.bin": ("filesystem", None, None, {}),
    "fat-wl-576K.bin": ("filesystem", None, None, {}),
    "spiffs-64K.bin": ("filesystem", None, None, {}),
    "spiffs-esp8266-128K.bin": ("filesystem", None, None, {}),
    "firmware-esp32-spiffs.bin": ("flash", "esp32", 0x1000, {"filesystem": "spiffs"}),
    "esp8266-rboot-boot.bin": ("image", "esp8266", None, {"role": "bootloader"}),
    "esp8266-nonos-boot.bin": ("image", "esp8266", None, {"role": "bootloader"}),
    "esp8266-boot8266.bin": ("image", "esp8266", None, {"role": "bootloader"}),
    "esp8266-rboot-config.bin": ("rboot-config", "esp8266", None, {}),
    "esp8266-rboot-rom0.bin": ("image", "esp8266", None, {"format": "esp8266-v2"}),
    "esp8266-rboot-flash-512K.bin": ("flash", "esp8266", 0x0, {"shape": "rboot-flash"}),
    "esp8266-nonos-flash-512K.bin": ("flash", "esp8266", 0x0, {"shape": "nonos-flash"}),
    "esp8266-yaota8266.bin": ("flash", "esp8266", 0x0, {"shape": "yaota8266-bundle"}),
    "esp8266-firmware-ota.bin": ("flash", "esp8266", 0x3C000, {"shape": "yaota8266-main-app"}),
    "esp8266-yaota8266-initial.bin": ("flash", "esp8266", 0x0, {"shape": "yaota8266-initial"}),
    "esp8266-firmware-ota.ota": ("yaota8266-ota", "esp8266", None, {}),
    "esp8266-arduino-core2.7.bin": ("flash", "esp8266", 0x0, {"shape": "arduino"}),
    "esp8266-arduino-core3.bin": ("flash", "esp8266", 0x0, {"shape": "arduino"}),
    "bootloader-sbv1-signed.bin": ("image", "esp32", None, {"signature": "sbv1"}),
    "app-esp32c6-sbv2-signed.bin": ("image", "esp32c6", None, {"signature": "sbv2-ecdsa"}),
    "dump-esp32c3-moved-table.bin": ("flash", "esp32c3", 0x0, {"boot": "factory"}),
    "esp32c3-app-short-seg0.bin": ("image", "esp32c3", None, {"role": "app"}),
    "esp32c3-direct-boot.bin": ("image", "esp32c3", None, {"format": "direct-boot"}),
    "firmware-esp32c3-short-seg0-idf5.2.bin": ("flash", "esp32c3", 0x0, {"boot": "factory"}),
    "ota_data_initial.bin": ("otadata", None, None, {"boot": "ota_0"}),
}


def test_every_fixture_is_a_family_case() -> None:
    assert {p.name for p in [*FIXTURES.glob("*.bin"), *FIXTURES.glob("*.ota")]} == set(FAMILIES)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_family_parses_verifies_and_round_trips(name: str) -> None:
    kind, chip, base, facts = FAMILIES[name]
    data = (FIXTURES / name).read_bytes()
    image = Image.from_bytes(data)
    assert image.kind == kind
    assert (image.chip.name if image.chip else None) == chip
    if base is not None:
        assert image.base == base
    assert image.valid, [c for c in image.checks if not c.valid]
    assert image.checks
    assert image.to_bytes() == data
    doc = image.to_dict()
    for key, value in facts.items():
        if key == "role":
            assert doc["image"]["role"] == value
        elif key == "format":
            assert doc["image"]["format"] == value
        elif key == "partitions":
            assert len(doc["partitions"]) == value
        elif key == "boot":
            assert doc["boot"]["target"] == value
        elif key == "signature":
            assert doc["image"]["signature"]["scheme"] == value
        elif key == "shape":
            assert doc["esp8266"]["shape"] == value
        elif key == "filesystem":
            assert any((p.get("filesystem") or {}).get("type") == value
                       for p in doc["partitions"])


@pytest.mark.parametrize(("name", "kind"), [("littlefs-64K.bin", "littlefs"),
                                            ("fat-wl-576K.bin", "fat-wl")])
def test_filesystem_images_hold_their_files(name: str, kind: str) -> None:
    pytest.importorskip("littlefs" if kind == "littlefs" else "pyfatfs")
    data = (FIXTURES / name).read_bytes()
    assert detect(data).type == kind
    volume = open_volume(data)
    assert volume.read("/main.py") == b'print("hello")\n'
    assert volume.read("/lib/util.py") == b"X = 1\n"


@pytest.mark.parametrize(("user", "link"), [(1, 0x40201010), (2, 0x40281010)])
def test_esp8266_user_bins_link_for_their_slot_and_convert_back(user: int, link: int) -> None:
    data = (FIXTURES / f"esp8266-user{user}.bin").read_bytes()
    assert infer_irom_link(Esp8266Image.from_bytes(data)) == link
    esptool_form = convert_v2(data, to="esptool")
    assert esptool_form != data
    assert convert_v2(esptool_form, to="gen_appbin", user=user) == data
