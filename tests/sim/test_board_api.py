"""The library side of ``--port`` (esp_image.board) against the simulated board: what a
command such as check-update or plan calls to get a board's Image."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest

from esp_image.board import BoardOptions, board_image, open_board, read_image
from esp_image.board.write import apply, changed_sectors
from esp_image.errors import BoardError, UsageError

from ..conftest import FIXTURES

pytest.importorskip("esptool")

FLASH = 0x400000


def flash() -> bytes:
    return (b"\xff" * 0x1000 + (FIXTURES / "firmware-esp32-nvs.bin").read_bytes()).ljust(
        FLASH, b"\xff")


def test_board_image_is_the_one_call(sim_board: Callable[..., Any]) -> None:
    board = sim_board(flash(), size=FLASH)
    image, summary = board_image(BoardOptions(board.port))
    assert image.kind == "flash" and image.valid and image.path == board.port
    assert summary["chip"] == "esp32" and summary["bytes_written"] == 0
    assert {c.partition.name: c.state for c in image.partitions}["nvs"] == "unread"


def test_contents_are_read_when_asked_and_reads_are_cached(
        sim_board: Callable[..., Any]) -> None:
    board = sim_board(flash(), size=FLASH)
    with open_board(BoardOptions(board.port, stub=False)) as connected:
        image = read_image(connected, contents=("nvs",))
        nvs = next(c for c in image.partitions if c.partition.name == "nvs")
        assert nvs.state != "unread" and nvs.content is not None and nvs.covered == 0x6000
        before = connected.bytes_read
        assert connected.read(0x9000, 0x100) == flash()[0x9000:0x9100]
        assert connected.bytes_read == before  # already read: nothing transferred
        seen: list[tuple[str, int]] = []
        connected.progress = lambda what, total: (lambda done: seen.append((what, done)))
        connected.read(0x300000, 0x2000)
        assert seen and seen[-1][1] == 0x2000


def test_defined_ranges_are_compared_by_md5(sim_board: Callable[..., Any]) -> None:
    """An unread sector the change lays out afresh (0xFF here) is compared with the board's
    MD5, so old data under a placeholder is not left behind."""
    content = bytearray(flash())
    content[0x300000:0x301000] = b"\x00" * 0x1000  # old data in an area not read
    board = sim_board(bytes(content), size=FLASH)
    with open_board(BoardOptions(board.port)) as connected:
        image = read_image(connected)
        new = bytes(image.data)
        assert changed_sectors(connected, image, new) == []
        assert changed_sectors(connected, image, new, [(0x2F0000, 0x310000)]) == [0x300000]
        done = apply(connected, image, new, backup=False, defined=[(0x2F0000, 0x310000)])
        assert done.sectors == (0x300000,) and done.backup is None
        assert connected.md5(0x300000, 0x1000) == hashlib.md5(b"\xff" * 0x1000).hexdigest()
    assert board.path.read_bytes()[0x300000:0x301000] == b"\xff" * 0x1000


def test_bad_options_and_ranges() -> None:
    with pytest.raises(UsageError, match="--before"):
        BoardOptions("x", before="now")
    with pytest.raises(UsageError, match="--after"):
        BoardOptions("x", after="later")


def test_reading_past_the_flash_is_refused(sim_board: Callable[..., Any]) -> None:
    board = sim_board(size=0x100000)
    with open_board(BoardOptions(board.port)) as connected:
        assert connected.flash_size == 0x100000
        with pytest.raises(BoardError, match="outside the board's 1024 KiB flash"):
            connected.read(0xFF000, 0x2000)
