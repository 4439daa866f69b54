"""The run-time layouts in esp_image/formats/_compiled.py agree with the construct declarations."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esp_image.formats import _compile, _compiled
from esp_image.formats._layout import Layout, LayoutError

from .conftest import corpus_path

PAIRS = [(name, getattr(_compiled, name),
          getattr(importlib.import_module(f"esp_image.formats.{module}"), attr))
         for name, module, attr in _compile.TARGETS]


def plain(value: Any) -> Any:
    """A construct container or our record as plain dicts and lists (private keys dropped)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if not str(k).startswith("_io")}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def test_compiled_file_is_up_to_date() -> None:
    assert _compile.main(["--check"]) == 0


@pytest.mark.parametrize(("name", "layout", "declared"), PAIRS, ids=[p[0] for p in PAIRS])
def test_sizes_agree(name: str, layout: Layout, declared: Any) -> None:
    assert layout.size == declared.sizeof()


def _samples() -> list[tuple[str, bytes]]:
    """Real structures from the corpus: (target name, bytes)."""
    out: list[tuple[str, bytes]] = []
    for file in ("esf_esp32_bootloader.bin", "esf_esp32_hello_world.bin",
                 "esf_esp32c6_hello_world.bin", "knot_s3_bootloader.bin"):
        data = corpus_path(file).read_bytes()
        out.append(("ESP32_IMAGE_HEADER", data[:24]))
        out.append(("ESP32_SEGMENT_HEADER", data[24:32]))
        if data[0x20:0x24] == (0xABCD5432).to_bytes(4, "little"):
            out.append(("APP_DESC", data[0x20:0x120]))
        else:
            out.append(("BOOTLOADER_DESC", data[0x20:0x70]))
    signed = corpus_path("esptool_test_bootloader_multi_signed_v2_rsa.bin").read_bytes()
    out += [("SBV2_SIGNATURE_BLOCK", signed[0x8000 + i * 1216:0x8000 + (i + 1) * 1216])
            for i in range(3)]
    table = corpus_path("knot_partition-table.bin").read_bytes()
    out += [("PARTITION_INFO", table[i:i + 32]) for i in range(0, 6 * 32, 32)]
    out.append(("MD5_RECORD", table[6 * 32:7 * 32]))
    for file in ("ard106_boot_app0.bin", "knot_otadata_boot_from_ota0.bin"):
        data = corpus_path(file).read_bytes()
        out += [("OTA_SELECT_ENTRY", data[:32]), ("OTA_SELECT_ENTRY", data[0x1000:0x1020]),
                ("OTADATA", data)]
    return out


@pytest.mark.corpus
def test_parse_and_build_agree_on_real_structures() -> None:
    targets = {name: (layout, declared) for name, layout, declared in PAIRS}
    samples = _samples()
    assert {name for name, _ in samples} == set(targets)  # every layout is exercised
    for name, raw in samples:
        layout, declared = targets[name]
        ours = layout.parse(raw)
        theirs = declared.parse(raw)
        assert plain(ours) == plain(theirs), name
        assert layout.build(ours) == bytes(declared.build(theirs)) == raw, name


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(PAIRS), st.randoms(use_true_random=False))
def test_parse_agrees_on_random_bytes(pair: tuple[str, Layout, Any], rnd: Any) -> None:
    name, layout, declared = pair
    raw = bytearray(rnd.randbytes(layout.size))
    for field in layout.fields:  # keep magics right half of the time so fields get compared
        if field[0] == "const" and rnd.random() < 0.5:
            at = _offset_of(layout, field[1])
            raw[at:at + len(field[2])] = field[2]
    import construct

    try:
        theirs = declared.parse(bytes(raw))
    except construct.ConstError:
        with pytest.raises(LayoutError):
            layout.parse(bytes(raw))
        return
    assert plain(layout.parse(bytes(raw))) == plain(theirs), name


def _offset_of(layout: Layout, field_name: str) -> int:
    import struct

    offset = 0
    for field in layout.fields:
        if field[1] == field_name:
            return offset
        offset += struct.calcsize("<" + Layout(layout.name, (field,))._struct.format[1:])
    raise KeyError(field_name)
