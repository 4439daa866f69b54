"""Transforms share one shape, and the command-line text they take is parsed in the library.

Every transform that writes a file returns a :class:`TransformResult` (new bytes, actions,
notes); ``--resize``/``--rename``/``--add`` specs, ``--boot`` slot names and CSV sniffing are
library functions the CLI calls (issue 13 item 6).
"""

from __future__ import annotations

import pytest

from esp_image import Image
from esp_image.errors import InputError, UsageError
from esp_image.partition_csv import decode_csv, looks_like_csv
from esp_image.partition_table import PartitionTable
from esp_image.transforms import TransformResult
from esp_image.transforms.flash import FlashParams, set_flash_params
from esp_image.transforms.merge import merge
from esp_image.transforms.ota import otadata_for, slot_number
from esp_image.transforms.retable import RetableOptions, retable

from ..conftest import FIXTURES

FIRMWARE = FIXTURES / "firmware-esp32-4MB.bin"


@pytest.fixture(scope="module")
def ota_image() -> Image:
    return Image.from_bytes(retable(Image.open(FIRMWARE), RetableOptions(table="ota")).data)


def test_every_writing_transform_returns_a_transform_result(ota_image: Image) -> None:
    image = Image.open(FIRMWARE)
    data = image.data
    results = [
        set_flash_params(image, FlashParams.parse(freq="80m")),
        otadata_for(ota_image, slot=1),
        retable(image, RetableOptions(flash_size=8 << 20)),
        merge([(0x1000, bytes(data[:0x7000]))]),
    ]
    for result in results:
        assert isinstance(result, TransformResult)
        assert isinstance(result.data, bytes) and result.data
        assert isinstance(result.actions, tuple) and isinstance(result.notes, tuple)
    assert results[0].actions and results[1].actions and results[2].actions
    assert results[3].notes


def test_retable_options_parse_the_command_line_specs() -> None:
    options = RetableOptions.parse(flash_size="8MB", app_size="0x180000",
                                   resize=["vfs=0", " nvs = 24K "],
                                   add=["fs:data:littlefs:1M", "cd:data:coredump:64K:0x3f0000"],
                                   delete=["phy_init"], rename=["vfs=ffat"])
    assert options.flash_size == 8 << 20 and options.app_size == 0x180000
    assert options.resize == (("vfs", 0), ("nvs", 0x6000))
    assert options.add == (("fs", 1, 0x83, 1 << 20, None), ("cd", 1, 3, 0x10000, 0x3F0000))
    assert options.delete == ("phy_init",) and options.rename == (("vfs", "ffat"),)
    assert RetableOptions.parse().empty


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"resize": ["vfs"]}, ValueError, "--resize takes NAME=SIZE, got 'vfs'"),
    ({"rename": ["vfs"]}, ValueError, "--rename takes OLD=NEW, got 'vfs'"),
    ({"add": ["fs:data:1M"]}, ValueError, "expected NAME:TYPE:SUBTYPE:SIZE"),
    ({"flash_size": "0"}, UsageError, "is not a flash size"),
    ({"flash_size": "lots"}, UsageError, "-f/--flash-size: not a size"),
    ({"app_size": "big"}, UsageError, "--app-size: not a size"),
])
def test_retable_options_parse_refusals(kwargs: dict[str, object], error: type[Exception],
                                        message: str) -> None:
    with pytest.raises(error) as exc:
        RetableOptions.parse(**kwargs)  # type: ignore[arg-type]
    assert message in str(exc.value)


def test_added_partition_from_a_parsed_spec(ota_image: Image) -> None:
    grown = retable(ota_image, RetableOptions.parse(flash_size="8MB",
                                                    add=["fs2:data:fat:64K"]))
    added = grown.table.find("fs2")
    assert added is not None and added.size == 0x10000 and added.subtype_name == "fat"


def test_slot_number_resolves_boot_names(ota_image: Image) -> None:
    assert slot_number(ota_image, "1") == 1
    assert slot_number(ota_image, "OTA_1") == 1
    assert slot_number(ota_image, "ota_0") == 0
    with pytest.raises(UsageError, match="--boot 'factory'"):
        slot_number(ota_image, "factory")
    by_name = otadata_for(ota_image, slot="ota_1")
    assert by_name == otadata_for(ota_image, slot=1)
    after = Image.from_bytes(by_name.data)
    assert after.boot is not None and after.boot.slot == 1


def test_csv_sniffing_and_decoding() -> None:
    binary = PartitionTable.from_csv("nvs, data, nvs, , 24K\n").to_bytes()
    assert looks_like_csv("table.CSV", binary)  # the name decides first
    assert looks_like_csv("table", b"nvs, data, nvs, , 24K\n")
    assert not looks_like_csv("table.bin", binary)
    assert not looks_like_csv("flash.bin", b"\xe9\x03\x02\x20")
    assert not looks_like_csv("blank.bin", b"\xff" * 16)
    assert decode_csv(b"\xef\xbb\xbfnvs, data, nvs, , 24K\n", "t.csv").startswith("nvs")
    with pytest.raises(InputError) as exc:
        decode_csv(b"nvs, data\xd4, nvs\n", "t.csv")
    assert str(exc.value) == ("cannot read partition CSV t.csv: not a CSV text file (byte "
                              "0xd4 at offset 0x9 is not UTF-8 text)")
