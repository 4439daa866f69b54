"""``check-update UPDATE --port PORT`` against the simulated board: the verdict and document
``--against`` gives for the board's own flash file, plus the ``board`` it was read from."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ..conftest import FIXTURES, corpus_path
from .test_board_inspect import FLASH, esp_image, flash_of
from .test_json_doc import assert_matches

pytest.importorskip("esptool")


def both(update: Path, board: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The documents of --port and of --against the board's flash file (same exit code)."""
    on_board = esp_image("check-update", str(update), "--port", board.port, "--json")
    on_file = esp_image("check-update", str(update), "--against", str(board.path), "--json")
    assert on_board.returncode == on_file.returncode, on_board.stderr + on_file.stderr
    assert on_board.returncode in (0, 1), on_board.stderr
    return json.loads(on_board.stdout), json.loads(on_file.stdout)


def test_same_verdict_as_against_the_flash_file(sim_board: Callable[..., Any]) -> None:
    board = sim_board(flash_of(FIXTURES / "firmware-esp32-4MB.bin"), size=FLASH)
    doc, file_doc = both(FIXTURES / "esp32-app.bin", board)
    assert_matches("Check-update document", doc)
    assert_matches("Board", doc["board"])
    assert doc["target"] == board.port and doc["boots"] is False
    assert {**doc, "target": None, "board": None} == {**file_doc, "target": None,
                                                      "board": None}
    # the bootloader (and the sector after it: a signature), the table, the app's image
    assert doc["board"]["bytes_read"] < 0x40000 and doc["board"]["bytes_written"] == 0


def test_a_real_ota_device_takes_its_running_app_again(sim_board: Callable[..., Any],
                                                       tmp_path: Path) -> None:
    from esp_image import Image

    dump = corpus_path("smooker_esp32_flash_2M.bin")
    running = next(c for c in Image.open(dump).partitions if c.partition.name == "ota_0")
    assert running.image is not None
    app = tmp_path / "app.bin"
    app.write_bytes(bytes(running.image.data))
    board = sim_board(dump.read_bytes(), size=len(dump.read_bytes()))
    doc, file_doc = both(app, board)
    assert doc["boots"] is True and doc["slot"] == file_doc["slot"]
    assert doc["checks"] == file_doc["checks"] and doc["reasons"] == file_doc["reasons"]
    text = esp_image("check-update", str(app), "--port", board.port)
    assert text.returncode == 0 and f"boots on {board.port}: yes" in text.stdout
    assert text.stdout.rstrip().splitlines()[-1].startswith(f"{board.port}: read ")


@pytest.mark.parametrize("args,says", [
    ([], "--against TARGET or --port PORT"),
    (["--against", "x.bin", "--port", "socket://127.0.0.1:9"], "not both"),
])
def test_the_device_is_one_of_the_two(args: list[str], says: str) -> None:
    result = esp_image("check-update", str(FIXTURES / "esp32-app.bin"), *args)
    assert result.returncode == 2 and says in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_bad_update_is_refused_before_connecting() -> None:
    # nothing listens on the port: the update's own problem is what is reported
    result = esp_image("check-update", "/nonexistent.bin", "--port", "socket://127.0.0.1:9")
    assert result.returncode == 2 and "/nonexistent.bin" in result.stderr



def sbv2_bootloader(tmp_path: Path) -> bytes:
    """The fixture bootloader signed by espsecure (Secure Boot v2, RSA-3072): the signature
    sector follows the image at the next 4 KiB boundary."""
    def espsecure(*args: str) -> None:
        result = subprocess.run([sys.executable, "-m", "espsecure", *args], cwd=tmp_path,
                                capture_output=True, text=True, check=False, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
    espsecure("generate-signing-key", "--version", "2", "--scheme", "rsa3072", "key.pem")
    espsecure("sign-data", "--version", "2", "--keyfile", "key.pem", "--output", "boot.bin",
              str(FIXTURES / "esp32-bootloader.bin"))
    return (tmp_path / "boot.bin").read_bytes()


@pytest.mark.parametrize("scheme", ["v1", "v2"])
def test_a_signed_bootloader_is_read_with_its_signature(sim_board: Callable[..., Any],
                                                        tmp_path: Path, scheme: str) -> None:
    """The secure-boot check needs the bootloader's signature, after its image (v2: in the
    next sector): it is read, and the verdict is the flash file's."""
    flash = bytearray(flash_of(FIXTURES / "firmware-esp32-4MB.bin"))
    signed = (FIXTURES / "bootloader-sbv1-signed.bin").read_bytes() if scheme == "v1" \
        else sbv2_bootloader(tmp_path)
    flash[0x1000:0x8000] = signed.ljust(0x7000, b"\xff")
    board = sim_board(bytes(flash), size=FLASH)
    doc, file_doc = both(FIXTURES / "esp32-app.bin", board)
    secure = next(c for c in doc["checks"] if c["name"] == "secure-boot")
    assert f"Secure Boot {scheme}" in secure["detail"] and not secure["valid"]
    assert doc["checks"] == file_doc["checks"]
