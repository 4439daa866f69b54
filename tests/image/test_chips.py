"""The chip table, held against esptool's target classes (the oracle)."""

from __future__ import annotations

import pytest

from esp_image import chips
from esp_image.errors import UnsupportedChip

esptool_targets = pytest.importorskip("esptool.targets")


def _targets() -> dict[str, object]:
    return dict(esptool_targets.CHIP_DEFS)


@pytest.mark.oracle
def test_every_esptool_target_is_known() -> None:
    ours = {c.name for c in chips.CHIPS}
    assert set(_targets()) <= ours


@pytest.mark.oracle
@pytest.mark.parametrize("chip", list(chips.CHIPS), ids=lambda c: c.name)
def test_chip_matches_esptool(chip: chips.Chip) -> None:
    target = _targets()[chip.name]
    assert getattr(target, "IMAGE_CHIP_ID", None) == chip.chip_id
    assert chip.bootloader_offset == target.BOOTLOADER_FLASH_OFFSET  # type: ignore[attr-defined]
    # Frequency codes: esptool maps name -> code; ours maps code -> name.
    theirs = dict(target.FLASH_FREQUENCY)  # type: ignore[attr-defined]
    for name, code in theirs.items():
        if chip.name == "esp32c6" and name == "80m":
            assert chip.freq_name(code) == "40m/80m"  # code 0 is ambiguous on the C6
            continue
        assert chip.flash_freq.get(code) == name or chip.freq_name(code) == "40m/80m", name
    assert len(chip.flash_freq) == len(set(theirs.values()))


@pytest.mark.oracle
def test_flash_size_codes_match_esptool() -> None:
    sizes = dict(_targets()["esp32"].FLASH_SIZES)  # type: ignore[attr-defined]
    for code, size in chips.ESP32_FLASH_SIZES.items():
        assert sizes[f"{size // (1024 * 1024)}MB"] == code << 4


@pytest.mark.oracle
@pytest.mark.parametrize("chip", list(chips.CHIPS), ids=lambda c: c.name)
def test_memory_map_matches_esptool(chip: chips.Chip) -> None:
    theirs = {(s, e, n) for s, e, n in _targets()[chip.name].MEMORY_MAP}  # type: ignore[attr-defined]
    for start, end, name in chips.MEMORY_MAPS[chip.name]:
        if chip.name == "esp32" and name == "IROM_MASK":
            assert (start, end, "IROM") in theirs
            continue
        if chip.name == "esp32s3" and name == "RTC_IRAM":
            assert (start, end, "RTC_IRAM") in theirs
            continue
        assert (start, end, name) in theirs, (hex(start), hex(end), name)


def test_bootloader_offsets_have_no_default() -> None:
    """The peer's bug: a default-0 dictionary gives 0 for P4/C5/H4/S31."""
    assert {c.name for c in chips.CHIPS if c.bootloader_offset == 0x2000} == {
        "esp32p4", "esp32c5", "esp32h4", "esp32s31"}
    assert {c.name for c in chips.CHIPS if c.bootloader_offset == 0x1000} == {"esp32", "esp32s2"}
    with pytest.raises(UnsupportedChip):
        chips.chip_by_id(0x77)
    with pytest.raises(UnsupportedChip, match="pre-release"):
        chips.chip_by_id(4)


def test_lookup_by_name() -> None:
    assert chips.chip_by_name("ESP32-S3").chip_id == 9
    assert chips.chip_by_name("esp32_c6").name == "esp32c6"
    with pytest.raises(UnsupportedChip):
        chips.chip_by_name("esp99")
    assert chips.chip_by_name("esp32c6").freq_code("80m") == 0
    with pytest.raises(UnsupportedChip):
        chips.chip_by_name("esp32h2").freq_code("80m")
