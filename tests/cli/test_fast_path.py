"""The start-up fast path (esp_image.entry) runs the typer commands' own functions.

Its option table is generated from the typer declarations (tests/cli/test_cli.py holds the table
against them); here: every option in it is taken without typer, gives what typer gives, and
the fast commands import neither typer nor typing.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from esp_image.entry import _fast, _parse_fast, _typer_main

from ..conftest import FIXTURES, run_python

FIRMWARE = str(FIXTURES / "firmware-esp32-4MB.bin")


def _both(args: list[str]) -> tuple[tuple[int | None, str], tuple[int, str]]:
    fast_out, typer_out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(fast_out):
        fast = _fast(args)
    with contextlib.redirect_stdout(typer_out):
        slow = _typer_main(args)
    return (fast, fast_out.getvalue()), (slow, typer_out.getvalue())


@pytest.mark.parametrize("args", [
    ["info", "--chip", "esp32", FIRMWARE],
    ["info", "-q", FIRMWARE],
    ["verify", "--quiet", "--no-size-limit", FIRMWARE],
    ["verify", "--chip=esp32s3", "--json", FIRMWARE],
])
def test_every_declared_option_runs_fast_and_as_typer_does(args: list[str]) -> None:
    fast, slow = _both(args)
    assert fast[0] is not None, "went to typer"
    assert fast == slow


def test_repeatable_options_collect_in_order() -> None:
    parsed = _parse_fast("retable", ["--resize", "a=0", "x.bin", "--resize=b=4K", "--add", "c"])
    assert parsed is not None
    positional, values = parsed
    assert positional == ["x.bin"]
    assert values["resize"] == ["a=0", "b=4K"] and values["add"] == ["c"]
    assert values["delete"] is None and values["force"] is False


def test_a_missing_value_or_a_second_file_goes_to_typer() -> None:
    assert _parse_fast("retable", ["x.bin", "-f"]) is None
    assert _fast(["retable", "a.bin", "b.bin"]) is None


@pytest.mark.parametrize("argv", [["retable", FIRMWARE, "-f", "8MB"], ["elf", FIRMWARE]],
                         ids=lambda argv: argv[0])
def test_fast_path_imports_no_typer_or_typing(tmp_path: Path, argv: list[str]) -> None:
    out = tmp_path / "out.bin"
    code = (
        "import sys\n"
        f"sys.argv = ['esp-image', *{argv!r}, '-o', {str(out)!r}]\n"
        "from esp_image.entry import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code\n"
        "heavy = [m for m in ('typer', 'click', 'typing', 'esp_image.cli.options')\n"
        "         if m in sys.modules]\n"
        "sys.stderr.write(repr(heavy))\n"
    )
    result = run_python(code)
    assert result.stderr == "[]", result.stderr
    assert out.stat().st_size > 0
