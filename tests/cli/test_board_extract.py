"""``extract --port PORT WHAT`` against the simulated board: the same bytes ``extract FILE WHAT``
cuts from the board's flash file, only that part read (plus what finds it), through typer and
past the fast path; the app checked by esptool's own image-info."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from esp_image.entry import _fast, _typer_main

from .test_board_inspect import FLASH, esp_image, flash_of
from .test_board_write import esptool_image_info
from .test_json_doc import assert_matches

pytest.importorskip("esptool")


@pytest.mark.parametrize("what,raw", [("bootloader", False), ("bootloader", True),
                                      ("partition-table", True), ("factory", False),
                                      ("nvs", False), ("phy_init", True)])
def test_same_bytes_as_from_the_flash_file(sim_board: Callable[..., Any], tmp_path: Path,
                                           what: str, raw: bool) -> None:
    board = sim_board(flash_of(), size=FLASH)
    flags = ["--raw"] if raw else []
    from_file = esp_image("extract", str(board.path), what, "-o", str(tmp_path / "file.bin"),
                          *flags)
    assert from_file.returncode == 0, from_file.stderr
    result = esp_image("extract", "--port", board.port, what, "-o", str(tmp_path / "b.bin"),
                       "--json", *flags)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "b.bin").read_bytes() == (tmp_path / "file.bin").read_bytes()
    doc = json.loads(result.stdout)
    assert_matches("Write document", doc)
    assert_matches("Board", doc["board"])
    assert doc["input"] == board.port and doc["board"]["bytes_written"] == 0
    # the 2 MB filesystem at 0x200000 is never read, nor the factory slot past its image
    assert all(b <= 0x200000 for _, b in doc["board"]["read"])
    assert doc["board"]["bytes_read"] < 0x40000


def test_default_name_is_the_mac_and_what(sim_board: Callable[..., Any], tmp_path: Path) -> None:
    board = sim_board(flash_of(), size=FLASH)
    result = esp_image("extract", "--port", board.port, "--no-stub", "factory", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "240ac4123456-factory.bin"
    assert f"wrote {out.name}" in result.stdout and f"{board.port}: read " in result.stdout
    info = esptool_image_info(out.read_bytes(), tmp_path)
    assert "Validation hash: " in info and "(valid)" in info
    again = esp_image("extract", "--port", board.port, "factory", cwd=tmp_path)
    assert again.returncode == 2 and "--force" in again.stderr  # as for a file's default name


def test_typer_takes_it_where_the_fast_path_does_not(sim_board: Callable[..., Any],
                                                     tmp_path: Path) -> None:
    board = sim_board(flash_of(), size=FLASH)
    args = ["extract", "--port", board.port, "partition-table", "-o", str(tmp_path / "t.bin")]
    assert _fast(args) is None  # extract is not a fast-path command: typer parses it
    with contextlib.redirect_stdout(io.StringIO()):
        assert _typer_main(args) == 0
    assert (tmp_path / "t.bin").read_bytes() == flash_of()[0x8000:0x8c00]


@pytest.mark.parametrize("args,says", [
    (["extract", "--port", "socket://127.0.0.1:9", "f.bin", "factory"], "only WHAT"),
    (["extract", "f.bin"], "missing WHAT"),
    (["extract", "--port", "socket://127.0.0.1:9"], "Missing argument"),
])
def test_operand_mistakes_are_one_line(args: list[str], says: str) -> None:
    result = esp_image(*args)
    assert result.returncode == 2 and says in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_an_unknown_part_lists_what_the_board_has(sim_board: Callable[..., Any]) -> None:
    board = sim_board(flash_of(), size=FLASH)
    result = esp_image("extract", "--port", board.port, "nothing", "--json")
    assert result.returncode == 2
    assert "factory" in json.loads(result.stdout)["error"]
