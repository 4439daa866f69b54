"""``plan``: the fewest writes (and the erases a used board needs) that give the firmware.

Every flash file in fixtures/ and both corpora is planned; the plan is then carried out here,
independently of the library, the way esptool does it (a write erases the 4 KiB sectors it
touches, then writes), on a blank board and on one full of random old bytes.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from esp_image import Image
from esp_image.errors import UsageError
from esp_image.transforms.plan import SECTOR, Plan, keep_names, plan
from esp_image.transforms.retable import RetableOptions, retable

from ..conftest import FIXTURES, corpus_files


def _flash_files() -> list[Path]:
    candidates = sorted(FIXTURES.glob("*.bin")) + corpus_files()
    out = []
    for path in candidates:
        try:
            if Image.open(path).unwrapped().kind == "flash":
                out.append(path)
        except Exception:  # a file that does not open is no plan input
            continue
    return out


FLASH_FILES = _flash_files()


def _image(path: Path) -> Image:
    return Image.open(path).unwrapped()


def _board(result: Plan, old: bytes) -> bytearray:
    """``old`` flash (byte 0 at the plan's base) after esptool carried the plan out."""
    flash = bytearray(old)
    base = result.base

    def erase(start: int, stop: int) -> None:
        lo, hi = start - base, min(stop - base, len(flash))
        flash[lo:hi] = b"\xff" * (hi - lo)

    for span in result.erases:
        assert span.address % SECTOR == 0 and span.size % SECTOR == 0
        erase(span.address, span.address + span.size)
    for w in result.writes:
        erase(w.address - w.address % SECTOR, -(-(w.address + w.size) // SECTOR) * SECTOR)
        flash[w.address - base:w.address - base + w.size] = w.data
    return flash


def _sectors(start: int, stop: int) -> range:
    return range(start - start % SECTOR, stop, SECTOR)


def _zone_bounds(image: Image, name: str) -> tuple[int, int]:
    assert image.table is not None
    part = image.table.find(name)
    assert part is not None
    return part.offset, part.end


@pytest.mark.parametrize("path", FLASH_FILES, ids=lambda p: p.name)
def test_plan_reproduces_the_firmware(path: Path) -> None:
    image = _image(path)
    data = bytes(image.data)
    result = plan(image)
    base = result.base
    # A blank board: the writes alone give the file.
    assert _board(result, b"\xff" * len(data)) == data
    # A used board: the file, except where the plan leaves erased runs alone.
    old = random.Random(path.name).randbytes(len(data))
    expected = bytearray(data)
    for span in result.left:
        expected[span.address - base:span.address - base + span.size] = \
            old[span.address - base:span.address - base + span.size]
    assert _board(result, old) == expected
    # Nothing is written to an erased sector, and what is left out is erased in the file.
    for w in result.writes:
        for s in _sectors(w.address, w.address + w.size):
            chunk = data[max(s, w.address) - base:s + SECTOR - base]
            assert chunk != b"\xff" * len(chunk), f"write {w.address:#x} covers erased {s:#x}"
    for span in (*result.left, *result.erases):
        chunk = data[span.address - base:span.address - base + span.size]
        assert chunk == b"\xff" * len(chunk)
    assert result.bytes_written == sum(len(w.data) for w in result.writes) <= len(data)


@pytest.mark.parametrize("path", [p for p in FLASH_FILES if _image(p).table is not None],
                         ids=lambda p: p.name)
def test_writes_and_erases_stay_in_their_partition(path: Path) -> None:
    image = _image(path)
    result = plan(image)
    assert image.table is not None
    for piece in (*result.writes, *result.erases, *result.left):
        part = image.table.find(piece.partition)
        if part is not None:
            assert part.offset <= piece.address and piece.address + piece.size <= part.end
        elif piece.partition == "partition-table":
            assert piece.address == image.table_address and piece.size <= SECTOR
        elif piece.partition == "bootloader":
            assert image.chip is not None and image.table_address is not None
            assert image.chip.bootloader_offset <= piece.address < image.table_address
    # Otadata and an app slot's first sector are never left stale; nothing else in an app is
    # erased past its image.
    for span in result.left:
        part = image.table.find(span.partition)
        assert part is None or part.is_app, f"{span.partition} left stale at {span.address:#x}"
        if part is not None:
            content = next(c for c in image.partitions if c.partition == part)
            image_end = content.image.end if content.image is not None else 0
            assert span.address >= part.offset + max(SECTOR, image_end)


@pytest.mark.parametrize("path", [p for p in FLASH_FILES if _image(p).table is not None],
                         ids=lambda p: p.name)
def test_kept_partitions_are_untouched(path: Path) -> None:
    image = _image(path)
    data = bytes(image.data)
    labels = [c.partition.name for c in image.partitions
              if c.partition.offset < result_end(image)]
    keep = labels[:: 2] or labels
    result = plan(image, keep=keep)
    base = result.base
    old = random.Random(path.name + "keep").randbytes(len(data))
    board = _board(result, old)
    for name in keep:
        start, stop = _zone_bounds(image, name)
        lo, hi = start - base, min(stop - base, len(data))
        assert board[lo:hi] == old[lo:hi], f"kept {name} was touched"
    assert set(keep) <= set(result.kept)
    touched = {p.partition for p in (*result.writes, *result.erases)}
    assert not touched & set(keep)


def result_end(image: Image) -> int:
    return (image.base or 0) + len(image.data)


def _ota_firmware() -> Image:
    """An OTA layout whose otadata and ota_1 slot are erased in the file."""
    made = retable(Image.open(FIXTURES / "firmware-esp32-4MB.bin"),
                   RetableOptions.parse(table="ota"))
    image = Image.from_bytes(made.data)
    assert image.table is not None and image.base is not None
    ota1 = image.table.find("ota_1")
    otadata = image.table.otadata
    assert ota1 is not None and otadata is not None
    data = bytearray(made.data).ljust(ota1.offset + 0x20000 - image.base, b"\xff")
    data[otadata.offset - image.base:otadata.end - image.base] = b"\xff" * otadata.size
    # Old data past the end of ota_1's first sector must not need erasing.
    return Image.from_bytes(bytes(data), path="ota.bin")


def test_used_board_erases_otadata_and_an_empty_slot_start() -> None:
    image = _ota_firmware()
    assert image.table is not None
    otadata, ota1 = image.table.otadata, image.table.find("ota_1")
    assert otadata is not None and ota1 is not None
    result = plan(image)
    erases = {(e.address, e.size, e.partition) for e in result.erases}
    assert (otadata.offset, otadata.size, otadata.name) in erases
    assert (ota1.offset, SECTOR, "ota_1") in erases
    assert any(s.partition == "ota_1" and s.address == ota1.offset + SECTOR
               for s in result.left)
    blank = plan(image, assume_erased=True)
    assert blank.erases == () and blank.writes == result.writes
    assert sum(s.size for s in blank.left) == sum(s.size for s in result.left) + sum(
        e.size for e in result.erases)


def test_keep_takes_labels_subtypes_and_type_pairs() -> None:
    image = _image(FIXTURES / "firmware-esp32-4MB.bin")
    assert keep_names(["nvs,phy_init", " nvs ", ""]) == ["nvs", "phy_init"]
    by_label = plan(image, keep=["nvs"])
    assert by_label.kept == ("nvs",)
    assert plan(image, keep=["data:nvs"]).kept == ("nvs",)
    assert plan(image, keep=["phy"]).kept == ("phy_init",)
    assert all(e.partition != "nvs" for e in by_label.erases)
    assert any(e.partition == "nvs" for e in plan(image).erases)
    # vfs lies past the end of the file: it can be kept, and nothing touches it anyway.
    assert plan(image, keep=["vfs"]).kept == ("vfs",)


def test_unknown_keep_names_the_labels() -> None:
    image = _image(FIXTURES / "firmware-esp32-4MB.bin")
    with pytest.raises(UsageError, match=r"'nosuch'.*bootloader, partition-table, nvs, "
                                         "phy_init, factory, vfs"):
        plan(image, keep=["nosuch"])


def test_keeping_what_the_firmware_changes_warns() -> None:
    image = _image(FIXTURES / "firmware-esp32-4MB.bin")
    assert plan(image, keep=["nvs"]).warnings == ()
    for name in ("factory", "bootloader", "partition-table"):
        result = plan(image, keep=[name])
        assert len(result.warnings) == 1 and name in result.warnings[0]
        assert not any(w.partition == name for w in result.writes)


def test_flash_parameters_come_from_the_bootloader_header() -> None:
    result = plan(_image(FIXTURES / "firmware-esp32-4MB.bin"))
    assert (result.chip, result.flash_mode, result.flash_size) == ("esp32", "dio", "4MB")
    esp8266 = plan(_image(FIXTURES / "esp8266-nonos-flash-512K.bin"))
    assert (esp8266.chip, esp8266.flash_mode, esp8266.flash_size) == ("esp8266", "qio",
                                                                      "512KB")


def test_esp8266_zones_follow_the_layout() -> None:
    result = plan(_image(FIXTURES / "esp8266-combined.bin"))
    # The irom's size word sits in the sector before it: one write, named for the irom.
    assert [(w.address, w.partition) for w in result.writes] == [(0, "firmware"),
                                                                 (0x8000, "irom0")]
    nonos = plan(_image(FIXTURES / "esp8266-nonos-flash-512K.bin"))
    assert {e.partition for e in nonos.erases} == {"rf_cal", "system_params"}


@pytest.mark.parametrize("name", ["esp32-app.bin", "partitions-4MiB-ota.bin",
                                  "otadata-ota0.bin"])
def test_not_a_flash_file_is_refused(name: str) -> None:
    with pytest.raises(UsageError, match="a plan needs a merged firmware file or a flash dump"):
        plan(Image.open(FIXTURES / name))


def test_to_dict_totals() -> None:
    result = plan(_image(FIXTURES / "firmware-esp32-4MB.bin"))
    doc = result.to_dict("out")
    assert doc["file_size"] == 208976
    assert doc["bytes_written"] == sum(w["size"] for w in doc["writes"])  # type: ignore[attr-defined]
    assert doc["writes"][0] == {"address": 0x1000, "size": 0x6000,  # type: ignore[index]
                                "partition": "bootloader", "file": "out/0x1000-bootloader.bin"}
    assert doc["bytes_erased"] == 0x7000
