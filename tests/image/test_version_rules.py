"""Rules only newer ESP-IDF bootloaders enforce: warnings naming the version, failures only where
the file's own bootloader is that version or newer (esp_image.idf_versions)."""

from __future__ import annotations

from pathlib import Path

import pytest

from esp_image import Image
from esp_image.idf_versions import APP_DESC_SEGMENT, enforces, parse_idf_version

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


@pytest.mark.parametrize(("text", "version"), [
    ("v5.2.2-dirty", (5, 2, None)), ("v4.4.7", (4, 4, None)), ("v6.1-dev-5820-gd06a91db188",
                                                               (6, 1, 5820)),
    ("v6.1-beta1", (6, 1, None)), ("", None), ("arduino", None)])
def test_parse_idf_version(text: str, version: object) -> None:
    assert parse_idf_version(text) == version


@pytest.mark.parametrize(("idf", "applies"), [
    (None, False), ("v5.2.2", False), ("v6.0.2", False), ("v6.1-beta1", False),
    ("v6.1-dev-5819-gabc", False), ("v6.1-dev-5820-gd06a91db188", True), ("v6.2", True),
    ("v7.0-dev-1-g0", True), ("garbage", False)])
def test_segment0_rule_versions(idf: str | None, applies: bool) -> None:
    assert enforces(idf, APP_DESC_SEGMENT) is applies


def test_bare_app_with_short_segment0_is_valid_with_a_warning() -> None:
    image = Image.open(FIXTURES / "esp32c3-app-short-seg0.bin")
    assert image.kind == "image" and image.valid
    [issue] = [i for i in image.issues if i.code == "app-desc-segment"]
    assert issue.severity == "warning" and "v6.1-dev-5820" in issue.message


def test_merged_file_with_an_older_bootloader_warns() -> None:
    image = Image.open(FIXTURES / "firmware-esp32c3-short-seg0-idf5.2.bin")
    assert image.kind == "flash" and image.valid
    [issue] = [i for i in image.issues if i.code == "app-desc-segment"]
    assert issue.severity == "warning" and "v5.2.2" in issue.message
    assert image.boot is not None and image.boot.target == "factory"


def _make_fixtures():  # type: ignore[no-untyped-def]
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_fixtures",
                                                  FIXTURES / "_tools" / "make_fixtures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_merged_file_whose_bootloader_enforces_the_rule_fails() -> None:
    """Built here, not in fixtures/ (every fixture there is valid): the same firmware with a
    bootloader from ESP-IDF master after the rule appeared."""
    data = _make_fixtures().c3_firmware_short_seg0("v6.1-dev-5900-g0123456789")
    image = Image.from_bytes(data)
    assert not image.valid
    failed = [c for c in image.checks if not c.valid]
    assert [c.offset for c in failed] == [0x10000]
    assert "too short for the 256-byte esp_app_desc_t" in failed[0].detail
    assert not any(i.code == "app-desc-segment" for i in image.issues)
    assert image.boot is not None and image.boot.target == "none"
