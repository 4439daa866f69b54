"""ESP32-family images: golden vectors, corpus facts, the esptool oracle, corruption."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from esp_image.app_image import AppImage, ImageHeader
from esp_image.errors import FormatError, TruncatedError
from esp_image.formats import esp32_image as fmt
from esp_image.hashing import xor_bytes, xor_checksum

from ..conftest import FIXTURES, corpus_path, corpus_rows, input_path

# --------------------------------------------------------------------- golden vectors
# esf_esp32_bootloader.bin, header annotated field by field (esp32-image.md §2).
ESP32_BOOTLOADER_HEADER = bytes.fromhex(
    "e9"        # magic
    "04"        # segment_count
    "02"        # spi_mode: DIO
    "10"        # spi_size 1 (2MB) high nibble, spi_speed 0 (40m) low nibble
    "20060840"  # entry_addr 0x40080620
    "ee"        # wp_pin: disabled
    "000000"    # spi_pin_drv
    "0000"      # chip_id 0: ESP32
    "00"        # min_chip_rev
    "0000"      # min_chip_rev_full
    "8f01"      # max_chip_rev_full 399
    "00000000"  # reserved
    "01"        # hash_appended
)
ESP32C3_BOOTLOADER_HEADER = bytes.fromhex("e903021f1ac73c40ee00000005000303" "00c7000000000001")


def test_golden_header_esp32() -> None:
    h = ImageHeader.from_bytes(ESP32_BOOTLOADER_HEADER)
    assert (h.segment_count, h.spi_mode, h.spi_size, h.spi_speed) == (4, 2, 1, 0)
    assert h.entry_addr == 0x40080620 and h.wp_pin == 0xEE and h.chip_id == 0
    assert (h.min_chip_rev_full, h.max_chip_rev_full, h.hash_appended) == (0, 399, 1)
    assert h.flash_size == 2 * 1024 * 1024 and h.flash_mode == "dio"
    assert h.to_bytes() == ESP32_BOOTLOADER_HEADER
    assert fmt.ImageHeader.sizeof() == 24 and fmt.SegmentHeader.sizeof() == 8


def test_golden_header_esp32c3() -> None:
    h = ImageHeader.from_bytes(ESP32C3_BOOTLOADER_HEADER)
    assert (h.chip_id, h.min_chip_rev, h.min_chip_rev_full, h.max_chip_rev_full) == (5, 3, 3, 199)
    assert (h.spi_size, h.spi_speed) == (1, 0xF)
    assert h.to_bytes() == ESP32C3_BOOTLOADER_HEADER


def test_bitstruct_nibble_order() -> None:
    """Byte 3 = 0x2F is size code 2 (high nibble) and frequency 0xF (low nibble)."""
    raw = bytearray(ESP32_BOOTLOADER_HEADER)
    raw[3] = 0x2F
    h = ImageHeader.from_bytes(bytes(raw))
    assert (h.spi_size, h.spi_speed) == (2, 0xF)
    assert h.to_bytes()[3] == 0x2F


def test_xor_matches_naive_loop() -> None:
    import functools
    import os

    for n in (0, 1, 15, 16, 17, 16383, 16384, 16385, 40000):
        data = os.urandom(n)
        assert xor_bytes(data) == functools.reduce(lambda a, b: a ^ b, data, 0)
    assert xor_checksum([b"\x01", b"\x02"], 0xEF) == 0xEF ^ 3


# --------------------------------------------------------------------- corpus facts
_FACT = re.compile(
    r"mode=(?P<mode>\w+) sf=0x(?P<sf>[0-9a-f]{2}).*? entry=0x(?P<entry>[0-9a-f]+) "
    r"segs=(?P<n>\d+) \[(?P<segs>[^\]]*)\] wp=0x(?P<wp>[0-9a-f]+) min_rev_full=(?P<min>\d+) "
    r"max_rev_full=(?P<max>\d+) checksum=(?P<ck>\w+) hash_appended=(?P<ha>\d) "
    r"sha256=(?P<sha>\w+) end=0x(?P<end>[0-9a-f]+)"
)


def _esp32_image_rows() -> list[dict[str, str]]:
    # "esp32s3 image", not "LittleFS image" or a Matter file "wrapping an esp32h2 app image"
    return [r for r in corpus_rows() if re.fullmatch(r"esp32\w* image", r["kind"])]


ESP32_IMAGES = [r["local_file"] for r in _esp32_image_rows()]


@pytest.mark.corpus
@pytest.mark.skipif(not ESP32_IMAGES, reason="../shared/corpus absent")
@pytest.mark.parametrize("name", ESP32_IMAGES)
def test_corpus_image_facts(name: str) -> None:
    row = next(r for r in _esp32_image_rows() if r["local_file"] == name)
    data = corpus_path(name).read_bytes()
    image = AppImage.from_bytes(data)
    m = _FACT.search(row["parsed_facts(independent parser)"])
    assert m, "manifest facts not in the expected form"
    h = image.header
    assert image.chip is not None and image.chip.name == row["chip"]
    assert h.flash_mode.upper() == m["mode"]
    assert (h.spi_size << 4 | h.spi_speed) == int(m["sf"], 16)
    assert h.entry_addr == int(m["entry"], 16)
    assert h.wp_pin == int(m["wp"], 16)
    assert (h.min_chip_rev_full, h.max_chip_rev_full) == (int(m["min"]), int(m["max"]))
    segs = [tuple(int(x, 16) for x in s.split("/")) for s in m["segs"].split(",")]
    assert [(s.load_addr, s.data_len) for s in image.segments] == segs
    assert len(image.segments) == int(m["n"])
    assert image.checksum_valid is (m["ck"] == "ok")
    assert h.hash_appended == int(m["ha"])
    assert image.digest_valid is (m["sha"] == "ok")
    assert image.length == int(m["end"], 16)
    assert not image.problems
    # Parse then build gives back identical bytes.
    assert image.to_bytes() == data[:image.end]


# the project's ESP32-family image fixtures (signed ones too), so the oracle runs without corpus
FIXTURE_IMAGES = ["esp32-bootloader.bin", "esp32-app.bin", "bootloader-sbv1-signed.bin",
                  "app-esp32c6-sbv2-signed.bin"]


@pytest.mark.corpus
@pytest.mark.oracle
@pytest.mark.parametrize("name", ESP32_IMAGES + FIXTURE_IMAGES)
def test_esptool_oracle(name: str) -> None:
    """esptool's image classes agree on segments, checksum and SHA-256."""
    from esptool.bin_image import LoadFirmwareImage

    data = input_path(name).read_bytes()
    ours = AppImage.from_bytes(data)
    assert ours.chip is not None
    theirs = LoadFirmwareImage(ours.chip.name, data)
    assert [(s.addr, len(s.data)) for s in theirs.segments] == [
        (s.load_addr, s.data_len) for s in ours.segments]
    assert theirs.checksum == ours.stored_checksum
    assert theirs.calculate_checksum() == ours.computed_checksum
    assert theirs.entrypoint == ours.header.entry_addr
    assert theirs.chip_id == ours.header.chip_id
    if ours.stored_digest is not None:
        assert theirs.stored_digest == ours.stored_digest
        assert theirs.calc_digest == ours.computed_digest


def test_descriptors() -> None:
    app = AppImage.from_bytes(corpus_path("esf_esp32_hello_world.bin").read_bytes())
    assert app.role == "app" and app.app_desc is not None
    assert app.app_desc.project_name == "hello_world"
    assert app.app_desc.version == "v1.4.1-2-g0296947-dirty"
    assert app.app_desc.idf_ver == "v5.2.2-dirty"
    assert (app.app_desc.date, app.app_desc.time) == ("Jul 25 2024", "16:23:40")
    boot = AppImage.from_bytes(corpus_path("esf_esp32_bootloader.bin").read_bytes())
    assert boot.role == "bootloader" and boot.bootloader_desc is not None
    assert (boot.bootloader_desc.version, boot.bootloader_desc.idf_ver) == (1, "v5.2.2-dirty")
    old = AppImage.from_bytes(corpus_path("ard106_bootloader_dio_40m.bin").read_bytes())
    assert old.bootloader_desc is None and old.role == "bootloader"


def test_signatures() -> None:
    sbv2 = AppImage.from_bytes(
        corpus_path("esptool_test_bootloader_multi_signed_v2_rsa.bin").read_bytes())
    assert sbv2.signature is not None and sbv2.signature.scheme == "sbv2-rsa"
    assert sbv2.signature.offset == 0x8000 and len(sbv2.signature.blocks) == 3
    assert sbv2.end == 0x9000 and sbv2.trailing == 0
    names = [c.name for c in sbv2.checks()]
    assert names.count("signature-crc") == 3 and names.count("signature-digest") == 3
    assert sbv2.valid
    sbv1 = AppImage.from_bytes(corpus_path("khiem_YOLO_BIT_sbv1_signed.bin").read_bytes())
    assert sbv1.signature is not None and sbv1.signature.scheme == "sbv1"
    assert sbv1.signature.size == 68 and sbv1.is_signed
    unsigned = AppImage.from_bytes(corpus_path("khiem_YOLO_BIT-unsigned.bin").read_bytes())
    assert unsigned.signature is None and not unsigned.is_signed
    boot_v1 = AppImage.from_bytes(
        corpus_path("esptool_test_bootloader_signed_sbv1.bin").read_bytes())
    assert boot_v1.signature is not None and boot_v1.signature.scheme == "sbv1"


def test_sbv2_block_crc_damage() -> None:
    data = bytearray(corpus_path("esptool_test_bootloader_multi_signed_v2_rsa.bin").read_bytes())
    data[0x8000 + 1216 + 600] ^= 0x01  # inside block 1's modulus
    image = AppImage.from_bytes(bytes(data))
    bad = [c for c in image.checks() if not c.valid]
    assert [c.name for c in bad] == ["signature-crc"]
    assert bad[0].offset == 0x8000 + 1216


# --------------------------------------------------------------------- corruption
def _hello() -> bytes:
    return corpus_path("esf_esp32_hello_world.bin").read_bytes()


def _failed(image: AppImage) -> list[str]:
    return [c.name for c in image.checks() if not c.valid]


def test_flip_segment_data() -> None:
    data = bytearray(_hello())
    data[0x1000] ^= 0x40
    assert _failed(AppImage.from_bytes(bytes(data))) == ["checksum", "sha256"]


def test_flip_sha256() -> None:
    data = bytearray(_hello())
    data[-5] ^= 0x01
    failed = AppImage.from_bytes(bytes(data))
    assert _failed(failed) == ["sha256"]
    assert failed.checks()[-1].offset == len(data) - 32


def test_header_edit_breaks_only_sha() -> None:
    data = bytearray(_hello())
    data[3] = 0x20
    assert _failed(AppImage.from_bytes(bytes(data))) == ["sha256"]


@pytest.mark.parametrize("cut", [30, 0x100, 0x1E5D0, 0x1E5E0, 0x1E5F0])
def test_truncation(cut: int) -> None:
    image = AppImage.from_bytes(_hello()[:cut])
    assert image.truncated
    assert "structure" in _failed(image)
    with pytest.raises(FormatError):
        image.to_bytes()


def test_header_only() -> None:
    with pytest.raises(TruncatedError):
        AppImage.from_bytes(corpus_path("esptool_test_image_header_only.bin").read_bytes())


def test_hostile_lengths() -> None:
    data = bytearray(_hello())
    data[0x1C:0x20] = b"\xff\xff\xff\xff"  # segment 0 data_len
    image = AppImage.from_bytes(bytes(data))
    assert image.truncated and "declares 0xffffffff" in image.problems[0]
    data = bytearray(_hello())
    data[1] = 255
    image = AppImage.from_bytes(bytes(data))
    assert any("exceeds" in p for p in image.problems)


def test_fixture_round_trip() -> None:
    for path in sorted(Path(FIXTURES).glob("*.bin")):
        data = path.read_bytes()
        if data[:1] != b"\xe9" or path.name.startswith("esp8266-"):  # same magic, other format
            continue
        image = AppImage.from_bytes(data)
        assert image.to_bytes() == data[:image.end], path.name
        assert hashlib.sha256(image.to_bytes()).digest() == hashlib.sha256(
            data[:image.end]).digest()


def test_build_repairs_derived_fields() -> None:
    """Parsing is lenient, building strict: a stale checksum and hash are rebuilt."""
    good = _hello()
    data = bytearray(good)
    data[0x1E5DF] ^= 0xFF  # the checksum byte
    data[-1] ^= 0xFF  # the SHA-256
    image = AppImage.from_bytes(bytes(data))
    assert _failed(image) == ["checksum", "sha256"]
    assert image.to_bytes() == good


def test_rare_parts_reexported_lazily() -> None:
    """Signature types load on first use and are importable under both module names."""
    from esp_image import app_extras, app_image

    assert app_image.Signature is app_extras.Signature
    assert app_image.SignatureBlock is app_extras.SignatureBlock
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = app_image.Nope
