"""Secure Boot v2 signatures sit in the sector after each image (at the next 4 KiB boundary):
``verify --port`` reads them, so a signed board gets the verdict its flash gets as a file."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ..conftest import FIXTURES
from .test_board_inspect import FLASH, esp_image, flash_of

pytest.importorskip("esptool")


def signed(tmp_path: Path, image: Path) -> bytes:
    """``image`` signed by espsecure with a fresh RSA-3072 key (Secure Boot v2)."""
    def espsecure(*args: str) -> None:
        result = subprocess.run([sys.executable, "-m", "espsecure", *args], cwd=tmp_path,
                                capture_output=True, text=True, check=False, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
    if not (tmp_path / "key.pem").exists():
        espsecure("generate-signing-key", "--version", "2", "--scheme", "rsa3072", "key.pem")
    out = tmp_path / f"signed-{image.name}"
    espsecure("sign-data", "--version", "2", "--keyfile", "key.pem", "--output", str(out),
              str(image))
    return out.read_bytes()


def test_verify_on_a_signed_board_reads_the_signatures(sim_board: Callable[..., Any],
                                                      tmp_path: Path) -> None:
    flash = bytearray(flash_of(FIXTURES / "firmware-esp32-4MB.bin"))
    boot = signed(tmp_path, FIXTURES / "esp32-bootloader.bin")
    app = signed(tmp_path, FIXTURES / "esp32-app.bin")
    flash[0x1000:0x8000] = boot.ljust(0x7000, b"\xff")
    flash[0x10000:0x10000 + len(app)] = app
    (tmp_path / "flash.bin").write_bytes(flash)
    from_file = esp_image("verify", str(tmp_path / "flash.bin"), "--json")
    board = sim_board(bytes(flash), size=FLASH)
    on_board = esp_image("verify", "--port", board.port, "--json")
    assert on_board.returncode == from_file.returncode, on_board.stdout + on_board.stderr
    doc, file_doc = json.loads(on_board.stdout), json.loads(from_file.stdout)
    assert [c for c in doc["checks"] if "signature" in c["name"] or "secure" in c["name"]]
    # the board's Image is read for the chip esptool found, and says so in a "chip" check
    assert [c for c in doc["checks"] if c["name"] != "chip"] == file_doc["checks"]
    # each image's signature sector, not the slots: the 2 MB filesystem stays unread
    assert all(b <= 0x200000 for _, b in doc["board"]["read"])
