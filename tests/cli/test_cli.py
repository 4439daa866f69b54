"""The command line: exit codes, JSON shape, one-line errors, and both dispatch paths."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from esp_image import __version__
from esp_image.cli import inspect
from esp_image.entry import _fast, _typer_main

from ..conftest import FIXTURES, corpus_path, run_python

TYPE_CHECKING = False
if TYPE_CHECKING:  # the generator evaluates the annotations against esp_image.cli.options
    from esp_image.cli.options import DryRun, File

APP = str(FIXTURES / "esp32-app.bin")
FIRMWARE = str(FIXTURES / "firmware-esp32-4MB.bin")
TABLE = str(FIXTURES / "partitions-4MiB-ota.bin")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m esp_image`` in a fresh interpreter, as a user would."""
    return subprocess.run([sys.executable, "-m", "esp_image", *args], capture_output=True,
                          text=True, check=False, timeout=60)


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"esp-image {__version__}"
    assert _typer_main(["--version"]) == 0


def test_info_exit_zero_and_text() -> None:
    result = run("info", FIRMWARE)
    assert result.returncode == 0, result.stderr
    assert "merged firmware, file byte 0 = flash 0x1000" in result.stdout
    for text in ("Partition table at 0x8000", "factory", "fixture_app", "verdict: valid"):
        assert text in result.stdout
    assert result.stderr == ""


def test_info_json_object_and_list() -> None:
    one = json.loads(run("info", "--json", APP).stdout)
    assert isinstance(one, dict)
    assert {"path", "size", "kind", "chip", "valid", "checks", "image"} <= set(one)
    assert one["image"]["format"] == "esp32" and one["image"]["role"] == "app"
    assert one["image"]["flash"] == {"size": "4MB", "mode": "dio", "freq": "40m"}
    assert all({"name", "valid", "offset", "detail"} <= set(c) for c in one["checks"])
    many = json.loads(run("info", "--json", APP, FIRMWARE, TABLE).stdout)
    assert [d["kind"] for d in many] == ["image", "flash", "partition-table"]
    flash = many[1]
    assert flash["flash"]["base"] == 0x1000
    assert [p["name"] for p in flash["partitions"]] == ["nvs", "phy_init", "factory", "vfs"]
    assert flash["partitions"][0] == {**flash["partitions"][0], "type": "data",
                                      "subtype": "nvs", "offset": 0x9000, "size": 0x6000,
                                      "flags": []}


def test_verify_codes(tmp_path: Path) -> None:
    assert run("verify", APP, FIRMWARE, TABLE).returncode == 0
    damaged = tmp_path / "damaged.bin"
    data = bytearray(Path(APP).read_bytes())
    data[0x2000] ^= 1
    damaged.write_bytes(bytes(data))
    result = run("verify", APP, str(damaged))
    assert result.returncode == 1
    assert "FAIL" in result.stdout and "checksum" in result.stdout
    assert json.loads(run("verify", "--json", str(damaged)).stdout)["valid"] is False


@pytest.mark.parametrize("command", ["info", "verify"])
def test_unusable_inputs(tmp_path: Path, command: str) -> None:
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    for target, text in ((tmp_path / "missing.bin", "No such file"), (tmp_path, "directory"),
                         (empty, "empty")):
        result = run(command, str(target))
        assert result.returncode == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and text in lines[0] and "Traceback" not in result.stderr


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "secret.bin"
    path.write_bytes(b"\xe9" * 64)
    path.chmod(0)
    try:
        path.read_bytes()
    except PermissionError:
        result = run("info", str(path))
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    else:
        pytest.skip("running as root: permissions are not enforced")
    finally:
        path.chmod(0o644)


@pytest.mark.parametrize("args", [["info", "--bogus", APP], ["nosuch"], ["info"],
                                  ["verify", "--chip", "esp99", APP]])
def test_usage_errors_are_one_line(args: list[str]) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("esp-image: error:")


def test_unknown_data_is_described_not_an_error(tmp_path: Path) -> None:
    path = tmp_path / "zeros.bin"
    path.write_bytes(bytes(4096))
    assert run("info", str(path)).returncode == 0
    assert run("verify", str(path)).returncode == 1


def test_fast_path_matches_typer_path() -> None:
    """The fast dispatch and the typer app produce identical output and codes."""
    for args in (["info", APP, FIRMWARE], ["info", "--json", TABLE], ["verify", FIRMWARE]):
        out_fast, out_typer = io.StringIO(), io.StringIO()
        run_fn = inspect.info if args[0] == "info" else inspect.verify
        paths = [a for a in args[1:] if not a.startswith("-")]
        with contextlib.redirect_stdout(out_fast):
            code_fast = run_fn(paths, json="--json" in args)
        old = sys.stdout
        sys.stdout = out_typer
        try:
            code_typer = _typer_main(args)
        finally:
            sys.stdout = old
        assert code_fast == code_typer
        assert out_fast.getvalue() == out_typer.getvalue()


def test_fast_path_scope() -> None:
    assert _fast(["info", "--debug", APP]) is None  # anything unusual goes to typer
    assert _fast(["info"]) is None
    assert _fast(["flash-params", APP]) is None
    assert _fast(["retable", APP, "--bogus"]) is None


def test_help_has_an_example_for_every_command() -> None:
    from esp_image.cli.app import app

    for command in app.registered_commands:
        name = command.name or command.callback.__name__  # type: ignore[union-attr]
        result = run(name, "--help")
        assert result.returncode == 0
        assert "Example" in result.stdout, name


def test_python_m_equals_console_script() -> None:
    script = Path(sys.executable).parent / "esp-image"
    if not script.exists():
        pytest.skip("console script not installed next to the interpreter")
    a = subprocess.run([str(script), "info", "--json", APP], capture_output=True, text=True,
                       check=False)
    assert a.stdout == run("info", "--json", APP).stdout


def test_corpus_merged_info() -> None:
    path = corpus_path("esptool_ESP32_GENERIC-20240602-v1.23.0.bin")
    result = run("info", str(path))
    assert result.returncode == 0
    assert "82.3% full" in result.stdout and "v5.0.4" in result.stdout


def test_deferred_modules_load_on_use() -> None:
    code = (
        "import sys\n"
        "from esp_image.entry import _defer_imports\n"
        "_defer_imports('pdb', 'pickle')\n"
        "import construct\n"
        "assert 'bdb' not in sys.modules, 'pdb was loaded eagerly'\n"
        "import pickle\n"
        "assert pickle.loads(pickle.dumps([1, 2])) == [1, 2]\n"
        "import pdb\n"
        "assert callable(pdb.post_mortem) and 'bdb' in sys.modules\n"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr


def test_info_path_imports_nothing_heavy() -> None:
    """esptool, typer, rich, crcmod, construct and typing stay out of info/verify (start-up)."""
    code = (
        "import sys\n"
        f"sys.argv = ['esp-image', 'info', {FIRMWARE!r}, {APP!r}]\n"
        "from esp_image.entry import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = [m for m in ('esptool', 'typer', 'rich', 'crcmod', 'click', 'construct',\n"
        "                     'littlefs', 'pyfatfs', 'esp_image.filesystems', 'typing',\n"
        "                     'esp_image.app_extras')\n"
        "         if m in sys.modules]\n"
        "sys.stderr.write(repr(heavy))\n"
    )
    result = run_python(code)
    assert result.stderr == "[]", result.stderr


def test_rich_rendering_of_every_fixture() -> None:
    from esp_image import Image
    from esp_image.cli.render import _write_rich, describe

    for path in sorted(FIXTURES.glob("*.bin")):
        out = io.StringIO()
        _write_rich(describe(Image.open(path)), out)
        assert path.name in out.getvalue() and "verdict: valid" in out.getvalue()


def test_esp8266_json_and_text() -> None:
    path = str(corpus_path("nonos306_at_user1.1024.new.2.bin"))
    doc = json.loads(run("info", "--json", path).stdout)
    assert (doc["kind"], doc["chip"], doc["valid"]) == ("image", "esp8266", True)
    assert doc["image"]["format"] == "esp8266-v2" and doc["image"]["role"] == "app"
    assert {c["name"] for c in doc["checks"]} >= {"checksum", "crc32"}
    text = run("info", path).stdout
    assert "gen_appbin" in text and "user2" in text and "0x81000" in text
    assert run("verify", path).returncode == 0


def test_fast_parser_table_matches_typer() -> None:
    """The generated fast-path table holds exactly the options typer declares for each fast
    command (both directions), with the same kind (flag, value, repeatable), the keyword of
    the command function and the same default; --debug always goes to typer."""
    import typer.main
    from typer.core import TyperArgument, TyperOption

    from esp_image.cli._fast import COMMANDS, DEFAULTS, OPTIONS
    from esp_image.cli.app import app

    group = typer.main.get_command(app)
    assert set(COMMANDS) == set(OPTIONS) == set(DEFAULTS) == {"info", "verify", "retable",
                                                              "merge", "elf"}
    for name in COMMANDS:
        command = group.commands[name]  # type: ignore[attr-defined]
        declared: dict[str, tuple[str, str]] = {}
        defaults: dict[str, object] = {}
        arguments = [p for p in command.params if isinstance(p, TyperArgument)]
        assert [(p.name, p.nargs == -1) for p in arguments] == [COMMANDS[name][2:]]
        for param in command.params:
            if not isinstance(param, TyperOption) or "--debug" in param.opts:
                continue
            kind = "flag" if param.is_flag else "multi" if param.multiple else "value"
            declared.update({opt: (str(param.name), kind) for opt in param.opts})
            if not param.required:  # a required option has no default (merge -o)
                defaults[str(param.name)] = param.default
        assert OPTIONS[name] == declared, name
        assert {k: v or None for k, v in DEFAULTS[name].items()} == \
            {k: v or None for k, v in defaults.items()}, name
        assert {k: type(v) for k, v in DEFAULTS[name].items() if v is not None} == \
            {k: type(v) for k, v in defaults.items() if v is not None}, name


def test_fast_table_is_generated_from_the_declarations() -> None:
    from esp_image.cli import _fastgen

    assert _fastgen.main(["--check"]) == 0


def probe(file: File, extra: DryRun = False) -> int:
    """A fast command as the generator sees one."""
    return 0


def test_fast_table_follows_a_changed_declaration(monkeypatch: pytest.MonkeyPatch) -> None:
    """A new option on a fast command shows up in the generated table."""
    from esp_image.cli import _fastgen

    monkeypatch.setattr(_fastgen, "FAST", (("probe", probe),))
    text = _fastgen.render()
    assert "'--dry-run': ('dry_run', 'flag')" not in text
    assert "'--dry-run': ('extra', 'flag')" in text
    assert f"'probe': ('{__name__}', 'probe', 'file', False)" in text


@pytest.mark.parametrize("argv", [
    ["retable", "-f", "8MB", "--table", "ota", "{f}", "-o", "{o}"],
    ["retable", "--flash-size=8MB", "--table=ota", "--output={o}", "{f}", "--dry-run"],
    ["retable", "{f}", "--resize", "vfs=0", "-f", "8MB", "--json", "-o", "{o}"],
])
def test_fast_retable_matches_typer(tmp_path: Path, argv: list[str]) -> None:
    import shutil

    src = tmp_path / "fw.bin"
    shutil.copy(FIXTURES / "firmware-esp32-4MB.bin", src)
    outputs = []
    for way in ("fast", "typer"):
        out = tmp_path / f"{way}.bin"
        args = [a.format(f=src, o=out) for a in argv]
        buffer = io.StringIO()
        old = sys.stdout
        sys.stdout = buffer
        try:
            code = _fast(args) if way == "fast" else _typer_main(args)
        finally:
            sys.stdout = old
        assert code == 0
        text = buffer.getvalue().replace(str(out), "OUT")
        outputs.append((text, out.read_bytes() if out.exists() else None))
    assert outputs[0] == outputs[1]


def test_size_limit_and_override(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    with big.open("wb") as fh:  # sparse: no 129MB write
        fh.truncate(129 * 1024 * 1024)
    refused = run("info", str(big))
    assert refused.returncode == 2 and "larger than the largest flash" in refused.stderr
    allowed = run("info", "--no-size-limit", "--json", str(big))
    assert allowed.returncode == 0 and json.loads(allowed.stdout)["kind"] == "unknown"


def test_flash_map_bar() -> None:
    text = run("info", FIRMWARE).stdout
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("Flash layout 0x0-0x400000"))
    bar = lines[at + 1].strip()
    assert bar.startswith("|") and bar.endswith("|") and len(bar) == 66
    # every region has its symbol, in flash order: bootloader, table, nvs, phy_init, factory, vfs
    symbols = "".join(dict.fromkeys(bar.strip("|").replace(".", "")))
    assert symbols == "bpnhfv"
    assert "f factory 0x10000 1.9MB" in lines[at + 2] + lines[at + 3]
    assert "\x1b[" not in text  # plain text in a pipe


def test_flash_map_bar_proportions() -> None:
    from esp_image.cli.render import BAR_WIDTH, Bar, _bar_cells

    bar = Bar("t", 0, 0x400000, [("a", 0, 0x200000, "app"), ("d", 0x200000, 0x400000, "data")])
    cells, legend = _bar_cells(bar)
    assert "".join(c for c, _ in cells) == "a" * (BAR_WIDTH // 2) + "d" * (BAR_WIDTH // 2)
    assert [s for s, _, _ in legend] == ["a", "d"]


@pytest.mark.parametrize("argv", [["info", FIRMWARE], ["diff", FIRMWARE, FIRMWARE]],
                         ids=["fast-path", "typer"])
def test_cli_collects_garbage_after_start_up(argv: list[str]) -> None:
    """The CLI pauses the collector only while importing; a library import never touches it."""
    code = (
        "import gc, sys\n"
        "import esp_image, esp_image.image\n"
        "assert gc.isenabled(), 'importing the library disabled gc'\n"
        f"sys.argv = ['esp-image', *{argv!r}]\n"
        "from esp_image.entry import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.stderr.write(f'{gc.isenabled()} {gc.get_freeze_count() > 0}')\n"
    )
    result = run_python(code)
    assert result.stderr == "True True", result.stderr
