"""One flash-parameter encoder: flash-params, retable and merge give one answer per value.

An impossible size, mode or clock is a usage error (exit 2) with the same message from every
command and the library, for the ESP32 family and for the ESP8266 (issue 13 item 4).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from esp_image import Image, chips
from esp_image.cli import parts as cli_parts
from esp_image.cli import rewrite as cli_rewrite
from esp_image.errors import UsageError
from esp_image.transforms import TransformResult
from esp_image.transforms.flash import FlashParams, encode, set_flash_params
from esp_image.transforms.merge import merge

from ..conftest import FIXTURES, corpus_path

FIRMWARE = FIXTURES / "firmware-esp32-4MB.bin"
ESP32 = chips.chip_by_name("esp32")


def _esp32_parts() -> list[tuple[int, bytes]]:
    data = FIRMWARE.read_bytes()
    image = Image.from_bytes(data)
    assert image.bootloader is not None and image.base == 0x1000
    return [(0x1000, data[:image.bootloader.end]), (0x8000, data[0x7000:0x8000])]


def _message(exc_info: pytest.ExceptionInfo[BaseException]) -> str:
    return str(exc_info.value)


@pytest.mark.parametrize(("size", "mode", "freq"), [
    ("3MB", None, None), ("256MB", None, None), ("32MB", None, None),
    (None, "octal", None), (None, None, "26.5m"),
])
def test_same_refusal_from_every_transform(size: str | None, mode: str | None,
                                           freq: str | None) -> None:
    with pytest.raises(UsageError) as direct:
        set_flash_params(Image.open(FIRMWARE), FlashParams.parse(size, mode, freq))
    with pytest.raises(UsageError) as merged:
        merge(_esp32_parts(), flash_size=size, flash_mode=mode, flash_freq=freq)
    assert _message(direct) == _message(merged)


@pytest.mark.parametrize("size", ["3MB", "32MB", "256MB"])
def test_cli_flash_params_merge_and_retable_agree(tmp_path: Path, size: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    parts = []
    for address, blob in _esp32_parts():
        path = tmp_path / f"part-{address:x}.bin"
        path.write_bytes(blob)
        parts.append(f"{address:#x}={path}")
    codes = [
        cli_rewrite.flash_params(str(FIRMWARE), size=size, dry_run=True),
        cli_parts.merge(parts, output=str(tmp_path / "out.bin"), flash_size=size, dry_run=True),
        cli_rewrite.retable(str(FIRMWARE), flash_size=size, dry_run=True),
    ]
    lines = capsys.readouterr().err.splitlines()
    assert codes == [2, 2, 2]
    assert len(lines) == 3 and len(set(lines)) == 1, lines
    assert "refused" not in lines[0]


def test_esp8266_merge_and_flash_params_agree() -> None:
    boot = corpus_path("nonos_boot_v1.7.bin").read_bytes()
    for size in ("3MB", "4MB-c2"):
        with pytest.raises(UsageError) as direct:
            set_flash_params(Image.from_bytes(boot), FlashParams.parse(size))
        with pytest.raises(UsageError) as merged:
            merge([(0, boot)], chip="esp8266", flash_size=size)
        assert _message(direct) == _message(merged)


def test_encode_per_chip() -> None:
    # 4MB: code 2 in the ESP32 table, code 4 (the 512+512 map) in the ESP8266 one.
    assert encode(FlashParams.parse("4MB", "dio", "80m"), ESP32, 0, 0x20) == (2, 0x2F)
    esp8266 = chips.chip_by_name("esp8266")
    assert encode(FlashParams.parse("4MB", None, None), esp8266, 3, 0x0F) == (3, 0x4F)
    assert encode(FlashParams.parse("4MB-c1", "keep", "26.7m"), esp8266, 2, 0) == (2, 0x61)
    assert encode(FlashParams.parse("4MB"), esp8266, 0, 0, table="esp32") == (0, 0x20)
    with pytest.raises(UsageError, match="larger than the 16MB the ESP32"):
        encode(FlashParams(size=32 << 20), ESP32, 0, 0)


def test_set_flash_params_takes_esp8266_files() -> None:
    boot = corpus_path("nonos_boot_v1.7.bin").read_bytes()
    result = set_flash_params(Image.from_bytes(boot), FlashParams.parse(mode="dout"))
    assert isinstance(result, TransformResult)
    assert result.data[2] == 3 and result.data[3:] == boot[3:]
    assert result.actions == ("ESP8266 header: mode dout",)

