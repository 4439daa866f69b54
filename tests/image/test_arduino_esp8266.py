"""Arduino-ESP8266 builds (issue 14 item 1): eboot at 0, the sketch at 0x1000, elf2bin's length
and CRC in each core generation, the flash split of whole dumps, and rewrites that keep the CRC.

The CRC here is elf2bin's ``crc8266`` written out bit by bit from esp8266/Arduino
``tools/elf2bin.py`` (not esp_image's table-free version), so the two are held against each other.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from esp_image.arduino import ArduinoBuild, build, detect_layout
from esp_image.errors import ChecksumMismatch, FormatError
from esp_image.hashing import crc32_msb
from esp_image.image import Image
from esp_image.transforms.esp8266 import set_esp8266_flash_params

from ..conftest import FIXTURES, corpus_path


def crc8266(data: bytes) -> int:
    """elf2bin's CRC: MSB first, polynomial 0x04C11DB7, start 0xFFFFFFFF, no final XOR."""
    crc = 0xFFFFFFFF
    for byte in data:
        for bit in (0x80, 0x40, 0x20, 0x10, 0x08, 0x04, 0x02, 0x01):
            top = bool(crc & 0x80000000) != bool(byte & bit)
            crc = (crc << 1) & 0xFFFFFFFF
            if top:
                crc ^= 0x04C11DB7
    return crc


def elf2bin_words_ok(data: bytes, at: int) -> bool:
    """``add_crc``'s rule, independently: length = file size, CRC with both words zeroed."""
    length, crc = struct.unpack_from("<II", data, at)
    zeroed = data[:at] + bytes(8) + data[at + 8:length]
    return length == len(data) and crc8266(zeroed) == crc


def corpus2(name: str) -> bytes:
    return corpus_path(name).read_bytes()


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def regions(image: Image) -> dict[str, tuple[int, int, str]]:
    return {r.name: (r.offset, r.size, r.kind) for r in image.regions}


def failed(image: Image) -> list[str]:
    return [f"{c.name}: {c.detail}" for c in image.checks if not c.valid]


# ---------------------------------------------------------------------- the CRC itself
def test_crc32_msb_is_elf2bins_crc() -> None:
    assert crc32_msb(b"123456789") == 0x0376E6E7  # CRC-32/MPEG-2 check value
    for data in (b"", b"\x00", bytes(range(256)) * 3, b"\xaa" * 77):
        assert crc32_msb(data) == crc8266(data)
    assert crc32_msb(b"6789", crc32_msb(b"12345")) == crc8266(b"123456789")


# ---------------------------------------------------------------------- project fixtures
@pytest.mark.parametrize(("name", "layout", "words", "release"), [
    ("esp8266-arduino-core2.7.bin", "crc-in-eboot-sector", 0xFF8, "2.7.4"),
    ("esp8266-arduino-core3.bin", "crc-in-sketch", 0x1010, "3.1.2"),
])
def test_fixture_builds_follow_elf2bin(name: str, layout: str, words: int, release: str) -> None:
    data = fixture(name)
    assert elf2bin_words_ok(data, words)
    image = Image.from_bytes(data)
    assert (image.kind, image.shape, image.valid) == ("flash", "arduino", True), failed(image)
    info = image.details["arduino"]
    assert isinstance(info, dict)
    assert (info["layout"], info["crc_offset"], info["crc_valid"], info["core_release"]) == (
        layout, words + 4, True, release)
    assert regions(image)["app"][:2] == (0x1000, len(data) - 0x1000)
    assert image.to_bytes() == data


def test_core3_sketch_checksum_is_made_over_zero_words() -> None:
    data = fixture("esp8266-arduino-core3.bin")
    image = Image.from_bytes(data)
    check = next(c for c in image.checks if c.name == "checksum" and "sketch" in c.detail)
    assert check.valid and "0x1010 as zero" in check.detail
    # The plain XOR over the stored bytes does not match: that is what elf2bin leaves.
    build_ = ArduinoBuild.from_bytes(data)
    assert not build_.sketch.checksum_valid


def bad_crc() -> bytes:
    """The core 3.x fixture with one bit of its stored CRC word changed."""
    out = bytearray(fixture("esp8266-arduino-core3.bin"))
    out[0x1014] ^= 0x01
    return bytes(out)


def test_damaged_crc_variant_is_invalid() -> None:
    image = Image.from_bytes(bad_crc())
    assert image.shape == "arduino" and not image.valid
    assert [c.name for c in image.checks if not c.valid] == ["crc32"]


def test_damaged_code_byte_fails_crc_not_only_checksum() -> None:
    data = bytearray(fixture("esp8266-arduino-core2.7.bin"))
    data[0x1100] ^= 0x40  # inside the sketch's irom segment
    names = {c.name for c in Image.from_bytes(bytes(data)).checks if not c.valid}
    assert names == {"crc32", "checksum"}


def test_core3_damaged_length_word_still_core3() -> None:
    data = bytearray(fixture("esp8266-arduino-core3.bin"))
    data[0x1010] ^= 0x10
    image = Image.from_bytes(bytes(data))
    info = image.details["arduino"]
    assert isinstance(info, dict) and info["layout"] == "crc-in-sketch"
    assert not image.valid


def test_no_crc_build() -> None:
    """A core < 2.7 build: no words, eboot checks nothing, the XOR checksums are what is left."""
    made = fixture("esp8266-arduino-core2.7.bin")
    data = made[:0xFF8] + b"\xaa" * 8 + made[0x1000:]
    image = Image.from_bytes(data)
    info = image.details["arduino"]
    assert isinstance(info, dict)
    assert (info["layout"], info["crc_offset"], image.valid) == ("no-crc", None, True)
    assert "crc32" not in {c.name for c in image.checks}
    assert any("no elf2bin CRC" in n for n in image.notes)
    assert image.to_bytes() == data


def test_builder_refuses_what_elf2bin_refuses() -> None:
    made = ArduinoBuild.from_bytes(fixture("esp8266-arduino-core3.bin"))
    sketch = bytes(made.sketch.data[:made.sketch.end])
    eboot = bytes(made.eboot.data[:made.eboot.end])
    assert build(eboot, sketch, "crc-in-sketch") == fixture("esp8266-arduino-core3.bin")
    body = bytes(0xFE0)  # eboot ending at 0xff8 leaves no padding before the words
    big = b"\xe9\x01\x02\x40" + struct.pack("<III", 0x4010F000, 0x4010F000, len(body)) + body
    big += bytes(-(len(big) + 1) % 16) + b"\xef"
    with pytest.raises(FormatError, match="8 bytes short of 0x1000"):
        build(big, sketch, "crc-in-eboot-sector")
    with pytest.raises(FormatError, match="irom segment"):
        build(eboot, bytes(made.eboot.data[:made.eboot.end]), "crc-in-sketch")


def test_trailing_data_after_the_build_is_noted() -> None:
    data = fixture("esp8266-arduino-core3.bin") + b"ELRS" * 100
    image = Image.from_bytes(data)
    assert image.valid
    assert any("0x190 bytes follow the build" in n for n in image.notes)


def test_detect_layout_on_esptool_ck_style() -> None:
    made = ArduinoBuild.from_bytes(fixture("esp8266-arduino-core2.7.bin"))
    view = memoryview(fixture("esp8266-arduino-core2.7.bin")[:0xFF8] + b"\xaa" * 8
                      + fixture("esp8266-arduino-core2.7.bin")[0x1000:])
    assert detect_layout(view, made.sketch) == "no-crc"


# ---------------------------------------------------------------------- rewrites keep the CRC
@pytest.mark.parametrize(("name", "words"), [("esp8266-arduino-core2.7.bin", 0xFF8),
                                             ("esp8266-arduino-core3.bin", 0x1010)])
def test_flash_params_recomputes_the_crc(name: str, words: int) -> None:
    before = fixture(name)
    after = set_esp8266_flash_params(before, mode="dout", size="1MB")
    assert after[2:4] == bytes([3, 0x20])
    assert elf2bin_words_ok(after, words)
    assert Image.from_bytes(after).valid


def test_flash_params_refuses_a_damaged_crc() -> None:
    with pytest.raises(ChecksumMismatch, match="elf2bin CRC"):
        set_esp8266_flash_params(bad_crc(), mode="dout")
    forced = set_esp8266_flash_params(bad_crc(), mode="dout", ignore_invalid=True)
    assert Image.from_bytes(forced).valid


def test_flash_params_cli_writes_a_file_eboot_accepts(tmp_path: Path) -> None:
    import subprocess
    import sys

    out = tmp_path / "out.bin"
    result = subprocess.run([sys.executable, "-m", "esp_image", "flash-params",
                             str(FIXTURES / "esp8266-arduino-core3.bin"), "--freq", "80m",
                             "-o", str(out)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert elf2bin_words_ok(out.read_bytes(), 0x1010)


# ---------------------------------------------------------------------- dumps
def _dump(fs: bytes | None, fs_at: int, size: int = 0x100000) -> bytes:
    out = bytearray(b"\xff" * size)
    made = fixture("esp8266-arduino-core3.bin")
    out[:len(made)] = made
    if fs is not None:
        out[fs_at:fs_at + len(fs)] = fs
    out[size - 0x5000:size - 0x4FF0] = b"EEPROM data....."
    out[size - 0x4000:size - 0x3F00] = bytes(range(256))
    return bytes(out)


def test_dump_with_littlefs_has_the_flash_split() -> None:
    pytest.importorskip("littlefs")
    from esp_image.filesystems import mkfs

    volume = mkfs(0x40000, kind="littlefs")
    volume.write("/index.html", b"<h1>hi</h1>")
    image = Image.from_bytes(_dump(volume.image(), 0xFB000 - 0x40000))
    found = regions(image)
    assert found["littlefs"] == (0xBB000, 0x40000, "data")
    assert found["eeprom"] == (0xFB000, 0x1000, "data")
    assert found["rf_cal"] == (0xFC000, 0x1000, "data")
    assert found["sdk_settings"] == (0xFD000, 0x3000, "erased")
    assert image.valid, failed(image)


def test_dump_without_filesystem() -> None:
    image = Image.from_bytes(_dump(None, 0))
    assert image.valid
    assert not {"littlefs", "spiffs"} & set(regions(image))
    assert "eeprom" in regions(image)


# ---------------------------------------------------------------------- the corpus, file by file
CORPUS_CASES = [
    # name, layout, CRC words at, core release (None: a fork or unreleased commit)
    ("soccer_d1mini_firmware.bin", "crc-in-eboot-sector", 0xFF8, "2.7.4"),
    ("tasmaht10_tasmota.bin", "crc-in-eboot-sector", 0xFF8, None),
    ("dkclock_d1mini_firmware.bin", "crc-in-sketch", 0x1010, "3.1.2"),
    ("lanterns_d1mini_firmware.bin", "no-crc", None, None),
]


@pytest.mark.parametrize(("name", "layout", "words", "release"), CORPUS_CASES)
def test_corpus_sketch_bins(name: str, layout: str, words: int | None,
                            release: str | None) -> None:
    data = corpus2(name)
    image = Image.from_bytes(data)
    assert (image.kind, image.shape, image.valid) == ("flash", "arduino", True), failed(image)
    info = image.details["arduino"]
    assert isinstance(info, dict)
    assert (info["layout"], info["core_release"]) == (layout, release)
    if words is not None:
        assert elf2bin_words_ok(data, words)
        assert info["crc_valid"] is True and info["length"] == len(data)
    assert image.to_bytes() == data


def test_corpus_core3_bin_gz_payload_with_trailer() -> None:
    """ExpressLRS appends 2704 bytes after elf2bin's length: the CRC covers only the build."""
    import gzip

    data = gzip.decompress(corpus2("rp3elrs_firmware.bin.gz"))
    image = Image.from_bytes(data)
    assert image.shape == "arduino" and image.valid, failed(image)
    assert any("0xa90 bytes follow the build" in n for n in image.notes)


def test_corpus_cmmc_dump_has_spiffs_and_split() -> None:
    image = Image.from_bytes(corpus2("cmmc_esp8266_flash_2M.bin"))
    assert (image.shape, image.valid) == ("arduino", True), failed(image)
    found = regions(image)
    assert found["spiffs"][:2] == (0x100000, 0xFA000)
    assert found["eeprom"][0] == 0x1FB000 and found["sdk_settings"][0] == 0x1FD000
    info = image.details["arduino"]
    assert isinstance(info, dict) and info["core_release"] == "2.4.1"


def test_corpus_esp8266ani_dump_has_no_filesystem() -> None:
    image = Image.from_bytes(corpus2("esp8266ani_flash_1M.bin"))
    assert (image.shape, image.valid) == ("arduino", True), failed(image)
    assert not {"littlefs", "spiffs"} & set(regions(image))
    assert regions(image)["rf_cal"][0] == 0xFC000


def test_corpus_tuya_dump_is_not_arduino() -> None:
    image = Image.from_bytes(corpus2("tphome_tuya_flash_1M.bin"))
    assert image.shape == "nonos-flash" and image.valid
    assert "arduino" not in image.details


@pytest.mark.parametrize("name", ["soccer_d1mini_firmware.bin", "dkclock_d1mini_firmware.bin"])
def test_corpus_flash_params_keeps_the_crc(name: str) -> None:
    data = corpus2(name)
    after = set_esp8266_flash_params(data, size="1MB")
    words = 0xFF8 if data[0xFF8:0x1000] != b"\xaa" * 8 else 0x1010
    assert elf2bin_words_ok(after, words)
    assert Image.from_bytes(after).valid
