"""``info --port`` and ``verify --port`` against the simulated board (tests/sim): only what is
needed is read, what was not read says so, and every failure is one line."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ..conftest import FIXTURES
from .test_json_doc import assert_matches

pytest.importorskip("esptool")

FLASH = 0x400000
FIRMWARE = FIXTURES / "firmware-esp32-nvs.bin"  # bootloader at 0x1000, nvs, factory app, fat


def esp_image(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "esp_image", *args], capture_output=True,
                          text=True, check=False, timeout=120, cwd=cwd)


def flash_of(firmware: Path = FIRMWARE, base: int = 0x1000) -> bytes:
    """A 4 MB flash holding a merged firmware written at ``base``, as esptool would."""
    return (b"\xff" * base + firmware.read_bytes()).ljust(FLASH, b"\xff")


def test_info_reads_only_what_it_needs(sim_board: Callable[..., Any]) -> None:
    board = sim_board(flash_of(), size=FLASH)
    result = esp_image("info", "--port", board.port, "--no-stub", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert_matches("File document", doc)
    assert_matches("Board", doc["board"])
    for partition in doc["partitions"]:
        assert_matches("Partition", partition)
    assert doc["kind"] == "flash" and doc["valid"] and doc["chip"] == "esp32"
    assert doc["board"]["mac"] == "24:0a:c4:12:34:56"
    assert doc["board"]["flash_size"] == FLASH and doc["board"]["bytes_written"] == 0
    states = {p["name"]: p["state"] for p in doc["partitions"]}
    assert states == {"nvs": "unread", "phy_init": "unread", "factory": "image",
                      "vfs": "unread"}
    # the bootloader, the table and the app's extent: not the 2 MB filesystem, not the slot
    assert doc["board"]["bytes_read"] < 0x40000
    read = doc["board"]["read"]
    assert not any(a < 0x200000 + 0x200000 and b > 0x200000 for a, b in read)
    assert any(r["kind"] == "unread" and r["name"] == "nvs" for r in doc["flash"]["regions"])


def test_info_text_says_what_was_not_read(sim_board: Callable[..., Any]) -> None:
    board = sim_board(flash_of(), size=FLASH)
    result = esp_image("info", "--port", board.port)
    assert result.returncode == 0, result.stderr
    assert "not read from the board" in result.stdout
    assert "erased" not in result.stdout.split("Partition table")[1].split("\n\n")[0]
    assert f"{board.port}: read " in result.stdout


def test_verify_finds_a_damaged_app_on_the_board(sim_board: Callable[..., Any]) -> None:
    flash = bytearray(flash_of())
    flash[0x10000 + 0x100] ^= 0xFF  # inside the factory app's first segment
    board = sim_board(bytes(flash), size=FLASH)
    result = esp_image("verify", "--port", board.port)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "factory" in result.stdout
    clean = sim_board(flash_of(), size=FLASH)
    assert esp_image("verify", "-q", "--port", clean.port).returncode == 0


@pytest.mark.parametrize("args", [["info", str(FIRMWARE), "--port", "socket://127.0.0.1:9"],
                                  ["verify"], ["info", "--port", "x", "--before", "jump"],
                                  ["info", "--port", "x", "--baud", "fast"]])
def test_bad_board_requests_are_one_line(args: list[str]) -> None:
    result = esp_image(*args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_no_board_on_the_port_is_one_line() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = esp_image("info", "--port", f"socket://127.0.0.1:{port}")
    assert result.returncode == 2
    assert result.stderr.startswith("esp-image: error: socket://127.0.0.1:")
    assert "no ESP board answered" in result.stderr and result.stderr.count("\n") == 1


@pytest.fixture
def silent_port() -> Iterator[str]:
    """A TCP port that accepts and never answers: a board that is not in its bootloader."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    server.settimeout(0.2)
    stop = threading.Event()
    held: list[socket.socket] = []

    def accept() -> None:
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue
    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"socket://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join(timeout=5)
    for conn in held:
        conn.close()
    server.close()


def test_a_silent_board_is_one_line_in_bounded_time(silent_port: str) -> None:
    result = esp_image("info", "--port", silent_port, "--json")
    assert result.returncode == 2
    assert "no ESP board answered" in result.stderr
    assert json.loads(result.stdout)["error"].startswith(silent_port)
