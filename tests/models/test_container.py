"""esp_image/container.py: the one walker of header + segments + XOR checksum, and that every
model (ESP32 family, ESP8266 v1/v3, rBoot's v1 walker used by yaota8266) applies its rules with
the same words."""

from __future__ import annotations

import subprocess
import sys

import pytest

from esp_image.app_image import AppImage
from esp_image.container import MAX_SEGMENTS, walk
from esp_image.esp8266 import Esp8266Image
from esp_image.formats.compiled import esp32_image, esp8266
from esp_image.hashing import xor_checksum
from esp_image.rboot import _walk_v1

from ..conftest import ROOT, corpus_path


def _esp32(count: int, segments: list[tuple[int, bytes]]) -> bytes:
    header = esp32_image.ImageHeader(count, 2, 2, 0, 0x40080000, 0xEE, b"\0" * 3, 0, 0, 0,
                                     0xFFFF, b"\0" * 4, 0).build()
    return header + _body(segments)


def _esp8266(count: int, segments: list[tuple[int, bytes]]) -> bytes:
    return esp8266.ImageHeader(count, 0, 2, 0, 0x40100000).build() + _body(segments)


def _body(segments: list[tuple[int, bytes]]) -> bytes:
    return b"".join(esp32_image.SegmentHeader(a, len(d)).build() + d for a, d in segments)


def _finish(image: bytes, segments: list[tuple[int, bytes]]) -> bytes:
    pad = (-(len(image) + 1)) % 16
    return image + b"\0" * pad + bytes([xor_checksum([d for _, d in segments], 0xEF)])


SEGS = [(0x3FFB0000, b"\x11" * 8), (0x40080000, b"\x22" * 20)]


def _problems(kind: str, data: bytes) -> tuple[str, ...]:
    if kind == "esp32":
        return AppImage.from_bytes(data).problems
    if kind == "esp8266":
        return Esp8266Image.from_bytes(data).problems
    return _walk_v1(data).problems


BUILDERS = {"esp32": _esp32, "esp8266": _esp8266, "rboot": _esp8266}


@pytest.mark.parametrize("kind", BUILDERS)
def test_a_sound_image_has_no_walk_problems_and_the_checksum_ends_a_line(kind: str) -> None:
    data = _finish(BUILDERS[kind](2, SEGS), SEGS)
    first = 24 if kind == "esp32" else 8
    walked = walk(memoryview(data), first, 2)
    assert walked.problems == () and not walked.truncated
    assert walked.checksum_offset == len(data) - 1 and walked.checksum_offset % 16 == 15
    assert walked.stored_checksum == walked.computed_checksum
    assert [(s.load_addr, s.data_len) for s in walked.segments] == [(a, len(d)) for a, d in SEGS]
    assert not [p for p in _problems(kind, data) if "segment" in p or "truncated" in p]


@pytest.mark.parametrize("kind", BUILDERS)
def test_zero_segments_is_one_rule_for_every_family(kind: str) -> None:
    data = _finish(BUILDERS[kind](0, []), [])
    assert "segment_count is 0" in _problems(kind, data)


@pytest.mark.parametrize("kind", BUILDERS)
def test_the_segment_cap_is_one_rule_for_every_family(kind: str) -> None:
    segs = [(0x3FFB0000, b"\0" * 4)] * (MAX_SEGMENTS + 1)
    data = _finish(BUILDERS[kind](MAX_SEGMENTS + 1, segs), segs)
    assert (f"segment_count {MAX_SEGMENTS + 1} exceeds the limit of {MAX_SEGMENTS} "
            "(ESP-IDF's bootloader and esptool refuse it)") in _problems(kind, data)


@pytest.mark.parametrize("kind", BUILDERS)
def test_truncation_words_are_the_same_for_every_family(kind: str) -> None:
    whole = _finish(BUILDERS[kind](2, SEGS), SEGS)
    first = 24 if kind == "esp32" else 8
    cut_header = whole[:first + 8 + 8 + 4]
    assert any(p.startswith("truncated: segment 1 header at") for p in _problems(kind, cut_header))
    cut_data = whole[:first + 8 + 8 + 8 + 10]
    assert any(p.startswith("truncated: segment 1 at") and "declares 0x14 bytes but only 0xa "
               "remain" in p for p in _problems(kind, cut_data))
    cut_sum = whole[:-1]
    assert any(p.startswith("truncated: checksum byte at") for p in _problems(kind, cut_sum))


@pytest.mark.corpus
def test_the_models_agree_on_a_real_esp8266_image() -> None:
    data = corpus_path("esf_esp8266_rtos_bootloader.bin").read_bytes()
    image = Esp8266Image.from_bytes(data)
    v1 = _walk_v1(data)
    assert [(s.load_addr, s.data_len, s.data_offset) for s in image.segments] == list(v1.segments)
    assert image.computed_checksum == v1.computed_checksum == v1.stored_checksum
    assert image.checksum_offset == v1.checksum_offset


@pytest.mark.corpus
def test_no_model_imports_construct() -> None:
    files = [corpus_path(f) for f in ("esf_esp8266_rtos_hello-world.bin",
                                      "esptool_test_esp8266_sdk_4096_user1.bin",
                                      "esf_esp32_hello_world.bin", "knot_partition-table.bin")]
    code = ("import sys\n"
            "import esp_image.esp8266, esp_image.rboot, esp_image.yaota8266, esp_image.image\n"
            "import esp_image.transforms.esp8266, esp_image.transforms.yaota\n"
            "from esp_image import Image\n"
            f"for f in {[str(f) for f in files]!r}:\n"
            "    Image.open(f).to_dict()\n"
            "assert 'construct' not in sys.modules, 'construct imported'\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stderr
