"""Corrupted and truncated ESP8266 data: clean reports or a clean FormatError, nothing else."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from esp_image.errors import FormatError
from esp_image.esp8266 import Esp8266Image
from esp_image.recognise.esp8266 import identify_esp8266

from ..conftest import corpus_path, input_path

if TYPE_CHECKING:
    from esp_image.image import Image as Esp8266Finding

IMAGES = [
    "nonos_boot_v1.2.bin", "nonos_boot_v1.7.bin", "mgwr_rboot_0x00000.bin",
    "uartremote_boot8266-0x00000.bin", "esf_esp8266_rtos_bootloader.bin",
    "esf_esp8266_rtos_hello-world.bin", "mgwr_nonos_0x00000.bin",
    "uartremote_ota.elf-0x00000.bin", "nonos306_at_user1.1024.new.2.bin",
    "nonos306_at_user2.1024.new.2.bin", "esptool_test_esp8266_sdk_4096_user1.bin",
    "mgwr_rboot_rom0_0x02000.bin",
    # the project's fixtures of the same kinds (a clone without the corpus runs these)
    "esp8266-nonos-boot.bin", "esp8266-rboot-boot.bin", "esp8266-boot8266.bin",
    "esp8266-v1.bin", "esp8266-user1.bin", "esp8266-user2.bin", "esp8266-rboot-rom0.bin",
]
COMBINED = [
    "pypi_cloudmgr_micropython-v1.8.6-firmware-combined.bin",
    "esptool_test_nodemcu-master-7-modules-2017-01-19-integer.bin",
    "uartremote_yaota8266.bin", "uartremote_micropython_v1.15-ota.bin",
    "esp8266-combined.bin", "esp8266-yaota8266.bin", "esp8266-firmware-ota.bin",
    "esp8266-yaota8266-initial.bin", "esp8266-rboot-flash-512K.bin",
    "esp8266-nonos-flash-512K.bin",
]


def _failed(found: Esp8266Finding | Esp8266Image) -> set[str]:
    checks = found.checks() if isinstance(found, Esp8266Image) else found.checks
    return {c.name for c in checks if not c.valid}


def _expected_extra(img: Esp8266Image) -> set[str]:
    """Checks that also fail when segment data or the checksum byte changes."""
    extra = set()
    if img.stored_crc32 is not None:
        extra.add("crc32")
    if img.stored_sha256 is not None:
        extra.add("sha256")
    return extra


@pytest.mark.corpus
@pytest.mark.parametrize("name", IMAGES)
def test_flip_segment_bytes(name: str) -> None:
    data = input_path(name).read_bytes()
    img = Esp8266Image.from_bytes(data)
    for seg in img.segments:
        bad = bytearray(data)
        bad[seg.data_offset + seg.data_len // 2] ^= 0x5A
        damaged = Esp8266Image.from_bytes(bytes(bad))
        assert _failed(damaged) == {"checksum"} | _expected_extra(img)
        assert damaged.to_bytes() != bytes(bad)
        repaired = Esp8266Image.from_bytes(damaged.to_bytes())
        assert repaired.valid and repaired.computed_checksum != img.computed_checksum


@pytest.mark.corpus
@pytest.mark.parametrize("name", IMAGES)
def test_flip_checksum_crc_sha(name: str) -> None:
    data = input_path(name).read_bytes()
    img = Esp8266Image.from_bytes(data)
    assert img.checksum_offset is not None
    bad = bytearray(data)
    bad[img.checksum_offset] ^= 0xFF
    assert _failed(Esp8266Image.from_bytes(bytes(bad))) == {"checksum"} | _expected_extra(img)
    found = identify_esp8266(memoryview(bytes(bad)))
    assert found is not None and not found.valid
    assert "checksum" in _failed(found)
    # The model rebuilds with the checksum recomputed; the whole file round-trips byte for byte,
    # damage included (Image.to_bytes keeps a damaged image's bytes).
    assert Esp8266Image.from_bytes(bytes(bad)).to_bytes() == data
    assert found.to_bytes() == bytes(bad)
    if img.stored_crc32 is not None:
        bad = bytearray(data)
        bad[img.length + 1] ^= 0x10
        assert _failed(Esp8266Image.from_bytes(bytes(bad))) == {"crc32"}
        assert Esp8266Image.from_bytes(bytes(bad)).to_bytes() == data
    if img.stored_sha256 is not None:
        bad = bytearray(data)
        bad[img.length - 5] ^= 0x01
        assert _failed(Esp8266Image.from_bytes(bytes(bad))) == {"sha256"}
        assert Esp8266Image.from_bytes(bytes(bad)).to_bytes() == data


@pytest.mark.corpus
def test_flip_v2_header_breaks_only_crc() -> None:
    """EA bytes 2-3 and the inner header are covered by the CRC, not by the checksum (§6.1)."""
    data = corpus_path("nonos306_at_user1.1024.new.2.bin").read_bytes()
    img = Esp8266Image.from_bytes(data)
    for offset in (3, img.header_offset + 3):
        bad = bytearray(data)
        bad[offset] ^= 0x10
        assert _failed(Esp8266Image.from_bytes(bytes(bad))) == {"crc32"}


@pytest.mark.corpus
def test_damaged_irom_length_is_structure() -> None:
    data = bytearray(corpus_path("nonos306_at_user1.1024.new.2.bin").read_bytes())
    data[12] ^= 0x40
    img = Esp8266Image.from_bytes(bytes(data))
    assert "structure" in _failed(img)
    with pytest.raises(FormatError):
        img.to_bytes()
    found = identify_esp8266(memoryview(bytes(data)))
    assert found is not None and not found.valid
    assert found.to_bytes() == bytes(data)     # nothing rebuildable: kept as is


def _boundaries(img: Esp8266Image) -> list[int]:
    cuts = {1, 2, 4, 7, 8, 9, 12, 15, 16, 17, img.length - 1, img.length, img.end - 1}
    if img.v2_header is not None:
        cuts |= {img.header_offset - 1, img.header_offset, img.header_offset + 4,
                 img.header_offset + 8, img.length + 2}
    for seg in img.segments:
        cuts |= {seg.offset, seg.offset + 4, seg.data_offset, seg.data_offset + 1, seg.end - 1,
                 seg.end}
    if img.checksum_offset is not None:
        cuts |= {img.checksum_offset, img.checksum_offset + 1}
    return sorted(c for c in cuts if 0 < c < img.end)


@pytest.mark.corpus
@pytest.mark.parametrize("name", IMAGES)
def test_truncate_at_every_boundary(name: str) -> None:
    data = input_path(name).read_bytes()
    img = Esp8266Image.from_bytes(data)
    for cut in _boundaries(img):
        part = data[:cut]
        try:
            short = Esp8266Image.from_bytes(part)
        except FormatError:
            assert cut < 16
        else:
            no_trailer = img.v2_header is not None and cut == img.length
            sha_gone = img.stored_sha256 is not None and cut == img.length - 32
            if no_trailer:
                assert short.valid and short.crc32_status == "absent"
            elif sha_gone:
                assert short.format == "esp8266-v1"  # a v1 image now: no hash, no v3
            else:
                assert not short.valid, cut
                assert "structure" in _failed(short) or "checksum" in _failed(short), cut
        found = identify_esp8266(memoryview(part))
        if found is not None:
            assert found.kind in ("image", "flash", "unknown")
            assert found.to_bytes() == part
            if not (img.v2_header is not None and cut == img.length) and not (
                    img.stored_sha256 is not None and cut == img.length - 32):
                assert not found.valid, cut


@pytest.mark.corpus
@pytest.mark.parametrize("name", COMBINED)
def test_truncate_combined(name: str) -> None:
    data = input_path(name).read_bytes()
    whole = identify_esp8266(memoryview(data))
    assert whole is not None
    cuts = {r.offset + d for r in whole.regions for d in (0, 1, r.size // 2, r.size - 1)}
    for cut in sorted(c for c in cuts if 0 < c < len(data)):
        part = data[:cut]
        found = identify_esp8266(memoryview(part))
        if found is not None:
            assert found.to_bytes() == part
            found.to_dict()


@pytest.mark.corpus
@pytest.mark.parametrize("name", COMBINED)
def test_corrupt_combined(name: str) -> None:
    data = input_path(name).read_bytes()
    whole = identify_esp8266(memoryview(data))
    assert whole is not None and whole.valid
    for r in whole.regions:
        if r.kind not in ("image", "irom") or r.size < 64:
            continue
        bad = bytearray(data)
        bad[r.offset + r.size // 2] ^= 0xA5
        found = identify_esp8266(memoryview(bytes(bad)))
        assert found is not None
        if r.kind == "irom" and name in (
                "esptool_test_nodemcu-master-7-modules-2017-01-19-integer.bin",
                "uartremote_yaota8266.bin", "esp8266-yaota8266.bin",
                "esp8266-yaota8266-initial.bin") and r.name != "main app irom0":
            continue                      # nothing covers a noboot or ota-server irom
        assert not found.valid, r


# --------------------------------------------------------------------- fuzz
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([b"\xe9", b"\xea\x04", b"\xe1\x01", b"\x05\x08", b""]),
       st.binary(min_size=0, max_size=300))
def test_fuzz_random(prefix: bytes, body: bytes) -> None:
    data = prefix + body
    try:
        found = identify_esp8266(memoryview(data))
    except FormatError:
        return
    if found is not None:
        rebuilt = found.to_bytes()
        assert len(rebuilt) == len(data)
        if found.valid:
            assert rebuilt == data
        found.to_dict()


_SMALL = None


def _small_image() -> bytes:
    global _SMALL  # noqa: PLW0603
    if _SMALL is None:
        _SMALL = corpus_path("nonos_boot_v1.2.bin").read_bytes()
    return _SMALL


@pytest.mark.corpus
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 1935), st.integers(0, 255)), min_size=1, max_size=6),
       st.integers(1, 1936))
def test_fuzz_mutated_image(edits: list[tuple[int, int]], cut: int) -> None:
    data = bytearray(_small_image())
    for pos, value in edits:
        data[pos] = value
    part = bytes(data[:cut])
    try:
        img = Esp8266Image.from_bytes(part)
    except FormatError:
        pass
    else:
        img.checks()
        img.to_dict()
    try:
        found = identify_esp8266(memoryview(part))
    except FormatError:
        return
    if found is not None:
        rebuilt = found.to_bytes()
        assert len(rebuilt) == len(part)
        if found.valid:
            assert rebuilt == part
