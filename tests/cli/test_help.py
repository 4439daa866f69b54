"""Every command's --help: written for a CLI user, true, and complete.

Walks the whole command tree (typer's click commands), runs each --help and checks every
option: help text present, a metavar on every value option, no Python type labels
(``<bool>``, ``<list[str]>``), no ``{FILE}`` in the usage line.
"""

from __future__ import annotations

import re

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from esp_image.cli.app import app

ROOT = get_command(app)


def _commands() -> list[tuple[list[str], object]]:
    """(argv words, click command) for every command and group, depth first."""
    found: list[tuple[list[str], object]] = []

    def walk(words: list[str], command: object) -> None:
        found.append((words, command))
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            walk([*words, name], sub)
    walk([], ROOT)
    return found


COMMANDS = _commands()


def _help(words: list[str]) -> str:
    # fs takes FILE before its command; its commands' help must still be their own.
    argv = [*words[:1], "x.bin", *words[1:]] if words[:1] == ["fs"] and words[1:] else words
    result = CliRunner().invoke(app, [*argv, "--help"], env={"COLUMNS": "200",
                                                              "NO_COLOR": "1"})
    assert result.exit_code == 0, (words, result.output)
    return result.output


@pytest.mark.parametrize(("words", "command"), COMMANDS,
                         ids=[" ".join(w) or "esp-image" for w, _ in COMMANDS])
def test_help_rules(words: list[str], command: object) -> None:
    text = _help(words)
    usage = next(line for line in text.splitlines() if "Usage:" in line)
    assert "{" not in usage, usage
    assert not re.search(r"<(bool|str|int|list\[[^]]*\]|float|path)>", text), text
    for param in getattr(command, "params", []):
        if getattr(param, "param_type_name", "") != "option":
            assert param.metavar or param.name, param
            continue
        assert (param.help or "").strip(), f"{' '.join(words)} {param.opts}: no help text"
        if not param.is_flag:
            assert param.metavar, f"{' '.join(words)} {param.opts}: no metavar"
            assert param.metavar in text


def test_fs_commands_show_their_own_arguments() -> None:
    get = _help(["fs", "get"])
    assert "Usage: esp-image fs [FILE] get [OPTIONS] SRC DST" in get
    assert "Where to write it on this computer" in get
    put = _help(["fs", "put"])
    assert "SRC... DST" in put and "destination directory" in put
    assert "littlefs, FAT" in _help(["fs"])  # the group's own help is unchanged


def test_no_untrue_defaults() -> None:
    """layout and table do not write a tagged file by default; their -o must not say so."""
    for words in (["layout", "esp8266"], ["table"]):
        text = _help(words)
        assert "tagged name" not in text and "input's name" not in text, words
    assert "nothing is written without -o" in _help(["layout", "esp8266"])
    merge = _help(["merge"])
    for option in ("--flash-size", "--flash-mode", "--flash-freq"):
        assert re.search(re.escape(option) + r"\s+\S+\s+Set the bootloader header", merge)


@pytest.mark.parametrize(("words", "command"), COMMANDS[1:],
                         ids=[" ".join(w) for w, _ in COMMANDS[1:]])
def test_command_summaries_are_one_line(words: list[str], command: object) -> None:
    """The command list shows each docstring's first paragraph as it is written: a summary
    wrapped in the source would break mid-sentence there."""
    text = (getattr(command, "help", None) or "").strip()
    assert text, words
    assert "\n" not in text.split("\n\n")[0], f"{' '.join(words)}: {text.split(chr(10))[0]!r}"
