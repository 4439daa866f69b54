"""The one whole-file model: Image for every family, built by one ordered list of recognisers.

Checks that ESP32 and ESP8266 files come out as the same kind of object (regions carrying the
models that rebuild them, one ``to_bytes``), and that the recognisers run in the documented order.
"""

from __future__ import annotations

import pytest

from esp_image import AppImage, Image, PartitionTable
from esp_image.esp8266 import Esp8266Image
from esp_image.image import TableArea
from esp_image.recognise import RECOGNISERS
from esp_image.recognise.esp8266 import AFTER_IMAGE, identify_esp8266

from ..conftest import FIXTURES, corpus_path

FLASH = FIXTURES / "firmware-esp32-4MB.bin"


def test_recognisers_follow_the_documented_order() -> None:
    names = [r.__name__ for r in RECOGNISERS]
    assert names == ["_bare_otadata", "_erased", "_bare_table", "_yaota_ota", "direct_boot",
                     "_data_partition", "_wrapped", "_esp8266_forced", "_e9_at_zero",
                     "_esp32_dump", "_esp8266_any", "_bare_filesystem"]
    assert [r.__name__ for r in AFTER_IMAGE] == [
        "_rtos_flash", "_yaota_bundle", "_arduino", "_rboot_flash", "_nonos_flash",
        "_micropython", "_noboot"]


def test_esp32_flash_regions_carry_their_models() -> None:
    image = Image.open(FLASH)
    by_name = {r.name: r for r in image.regions}
    assert by_name["bootloader"].model is image.bootloader
    table = by_name["partition-table"].model
    assert isinstance(table, TableArea) and table.table is image.table
    apps = [r for r in image.regions if isinstance(r.model, AppImage) and r.name != "bootloader"]
    assert apps and all(r.model is c.image for r in apps for c in image.partitions
                        if c.partition.name == r.name)
    assert image.esp8266 is None and image.shape is None


def test_to_bytes_rebuilds_from_region_models() -> None:
    data = bytearray(FLASH.read_bytes())
    image = Image.from_bytes(bytes(data))
    area = next(r for r in image.regions if r.name == "partition-table")
    assert image.table is not None and image.table.md5 is not None
    # A stored MD5 that disagrees is recomputed by the model that owns those bytes.
    at = area.offset + 32 * len(image.table.partitions) + 16
    assert bytes(data[at:at + 16]) == image.table.md5
    data[at] ^= 0xFF
    damaged = Image.from_bytes(bytes(data))
    assert not damaged.valid
    assert damaged.to_bytes() == FLASH.read_bytes()


def test_truncated_esp32_image_is_kept_as_is() -> None:
    data = (FIXTURES / "esp32-app.bin").read_bytes()[:0x200]
    image = Image.from_bytes(data)
    assert image.kind == "image" and isinstance(image.firmware, AppImage)
    assert image.firmware.truncated
    assert image.to_bytes() == data     # nothing rebuildable: same rule as ESP8266 files


def test_bare_table_rebuilds_its_area() -> None:
    data = (FIXTURES / "partitions-4MiB-ota.bin").read_bytes()
    image = Image.from_bytes(data)
    assert isinstance(image.table, PartitionTable)
    assert image.to_bytes() == data


@pytest.mark.corpus
def test_esp8266_file_is_an_image_with_its_layout() -> None:
    data = corpus_path("nonos_boot_v1.7.bin").read_bytes()
    found = identify_esp8266(memoryview(data))
    assert isinstance(found, Image)
    image = Image.from_bytes(data)
    assert image.esp8266 is image and image.shape == "image"
    assert isinstance(image.firmware, Esp8266Image)
    assert image.to_dict() == found.to_dict()
