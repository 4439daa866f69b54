"""extract, merge, table, convert and layout through the command line, end to end."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from esp_image import Image

from ..conftest import FIXTURES, corpus_path

MPY = "esptool_ESP32_GENERIC-20240602-v1.23.0.bin"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "esp_image", *args], capture_output=True,
                          text=True, check=False, timeout=120, cwd=cwd)


def test_extract_then_merge_reproduces_the_firmware(tmp_path: Path) -> None:
    fw = tmp_path / "fw.bin"
    shutil.copy(corpus_path(MPY), fw)
    for what in ("bootloader", "partition-table", "factory"):
        result = run("extract", str(fw), what)
        assert result.returncode == 0, result.stderr
    app = Image.open(tmp_path / "fw-factory.bin")
    assert app.kind == "image" and app.valid and app.firmware is not None
    assert app.size == app.firmware.end  # cut at the real image end, no trailing 0xFF
    result = run("merge", "-o", str(tmp_path / "re.bin"), "--target-offset", "0x1000",
                 f"0x1000={tmp_path / 'fw-bootloader.bin'}",
                 f"0x8000={tmp_path / 'fw-partition-table.bin'}",
                 f"0x10000={tmp_path / 'fw-factory.bin'}")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "re.bin").read_bytes() == fw.read_bytes()


def test_merge_refuses_overlap(tmp_path: Path) -> None:
    boot = FIXTURES / "esp32-bootloader.bin"
    result = run("merge", "-o", str(tmp_path / "x.bin"), f"0x1000={boot}", f"0x2000={boot}")
    assert result.returncode == 1 and "overlaps" in result.stderr
    assert not (tmp_path / "x.bin").exists()


def test_merge_refuses_wrong_bootloader_address(tmp_path: Path) -> None:
    result = run("merge", "-o", str(tmp_path / "x.bin"),
                 f"0x0={FIXTURES / 'esp32-bootloader.bin'}")
    assert result.returncode == 1 and "0x1000" in result.stderr
    assert not (tmp_path / "x.bin").exists()


def test_table_csv_round_trip_against_gen_esp32part(tmp_path: Path) -> None:
    from esp_idf_defs.partitions import PartitionTable as IdfTable

    csv = tmp_path / "p.csv"
    csv.write_text("nvs,data,nvs,,0x5000\notadata,data,ota,,8K\nphy_init,data,phy,,4K\n"
                   "ota_0,app,ota_0,,1600K\nota_1,app,ota_1,,1600K\n"
                   "storage,data,spiffs,,512K,readonly\ncustom,0x40,0x01,,4K\n")
    result = run("table", str(csv), "-o", str(tmp_path / "p.bin"))
    assert result.returncode == 0, result.stderr
    ours = (tmp_path / "p.bin").read_bytes()
    theirs = IdfTable.from_csv(csv.read_text()).to_binary()
    assert ours == theirs
    text = run("table", str(tmp_path / "p.bin"))
    assert text.returncode == 0 and text.stdout.startswith("# ESP-IDF Partition Table")
    assert IdfTable.from_csv(text.stdout).to_binary() == theirs


def test_table_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("nvs,data,nvs,0x9000,0x6000\nfactory,app,factory,0x10000,8M\n")
    result = run("table", str(bad), "--flash-size", "4MB", "-o", str(tmp_path / "o.bin"))
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o.bin").exists()
    result = run("table", str(FIXTURES / "esp32-app.bin"))
    assert result.returncode == 2 and "no partition table" in result.stderr


@pytest.mark.oracle
def test_convert_round_trip_and_crc(tmp_path: Path) -> None:
    from esptool.bin_image import esp8266_crc32

    for user in (1, 2):
        src = tmp_path / f"u{user}.bin"
        shutil.copy(corpus_path(f"nonos306_at_user{user}.1024.new.2.bin"), src)
        assert run("convert", str(src), "--to", "esptool").returncode == 0
        esptool_form = tmp_path / f"u{user}-esptool.bin"
        result = run("convert", str(esptool_form), "--to", "gen_appbin", "--user", str(user),
                     "-o", str(tmp_path / f"back{user}.bin"))
        assert result.returncode == 0, result.stderr
        back = (tmp_path / f"back{user}.bin").read_bytes()
        assert back == src.read_bytes()
        body = esptool_form.read_bytes()
        assert int.from_bytes(body[-4:], "little") == esp8266_crc32(body[:-4])


def test_layout_esp8266_builds_a_verified_image(tmp_path: Path) -> None:
    out = tmp_path / "full.bin"
    result = run("layout", "esp8266", "--map", "1MB",
                 "--boot", str(corpus_path("nonos_boot_v1.7.bin")),
                 "--user1", str(corpus_path("nonos306_at_user1.1024.new.2.bin")),
                 "--user2", str(corpus_path("nonos306_at_user2.1024.new.2.bin")),
                 "--init-data", str(corpus_path("nonos_esp_init_data_default_v08.bin")),
                 "-o", str(out), "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert "write-flash" in doc["write_flash"] and "0x81000" in doc["write_flash"]
    image = Image.open(out)
    assert image.kind == "flash" and image.chip is not None and image.chip.name == "esp8266"
    assert image.valid and image.size == 0x100000


def test_layout_refuses_user1_in_user2_slot(tmp_path: Path) -> None:
    result = run("layout", "esp8266", "--map", "1MB",
                 "--user2", str(corpus_path("nonos306_at_user1.1024.new.2.bin")))
    assert result.returncode == 1 and "linked for" in result.stderr


@pytest.mark.parametrize("args", [
    ["extract", "{f}", "factory"],
    ["table", "{f}"],
    ["retable", "-f", "8MB", "--table", "ota", "{f}"],
    ["flash-params", "--size", "8MB", "{f}"],
])
def test_input_unchanged(tmp_path: Path, args: list[str]) -> None:
    fw = tmp_path / "fw.bin"
    shutil.copy(corpus_path(MPY), fw)
    before = hashlib.sha256(fw.read_bytes()).hexdigest()
    result = run(*[a.format(f=fw) for a in args])
    assert result.returncode == 0, result.stderr
    assert hashlib.sha256(fw.read_bytes()).hexdigest() == before


def test_every_command_has_help_with_example() -> None:
    for command in ("retable", "flash-params", "otadata", "extract", "merge", "table",
                    "convert", "diff", "layout esp8266", "layout yaota8266", "yaota keygen",
                    "yaota mkapp", "yaota sign", "yaota verify", "yaota bundle"):
        result = run(*command.split(), "--help")
        assert result.returncode == 0, command
        assert "Example" in result.stdout, command


def _options(*command: str) -> set[str]:
    """Every option a command declares, read from the typer app."""
    import typing

    from esp_image.cli.app import app

    target = app
    for word in command[:-1]:
        target = next(g.typer_instance for g in target.registered_groups if g.name == word)
    cmd = next(c for c in target.registered_commands
               if (c.name or c.callback.__name__) == command[-1])  # type: ignore[union-attr]
    found: set[str] = set()
    for hint in typing.get_type_hints(cmd.callback, include_extras=True).values():
        for info in getattr(hint, "__metadata__", ())[:1]:
            first = [info.default] if isinstance(getattr(info, "default", None), str) else []
            found.update(o for o in [*first, *(getattr(info, "param_decls", ()) or ())]
                         if o.startswith("-"))
    return found


WRITERS = [("retable",), ("flash-params",), ("otadata",), ("extract",), ("merge",),
           ("table",), ("convert",), ("layout", "esp8266")]


@pytest.mark.parametrize("command", [("info",), ("verify",), ("diff",), *WRITERS])
def test_common_options_everywhere(command: tuple[str, ...]) -> None:
    options = _options(*command)
    assert {"--json", "-q", "--quiet", "--debug"} <= options, command


@pytest.mark.parametrize("command", WRITERS)
def test_writers_have_output_and_dry_run(command: tuple[str, ...]) -> None:
    options = _options(*command)
    assert {"-o", "--output", "--dry-run"} <= options, command


def test_diff_through_the_real_cli(tmp_path: Path) -> None:
    fw = tmp_path / "fw.bin"
    shutil.copy(FIXTURES / "firmware-esp32-4MB.bin", fw)
    assert run("retable", "-f", "8MB", "--table", "ota", str(fw)).returncode == 0
    same = run("diff", str(fw), str(fw))
    assert same.returncode == 0 and "equal" in same.stdout
    changed = run("diff", "--json", str(fw), str(tmp_path / "fw-8MB-OTA.bin"))
    assert changed.returncode == 1
    doc = json.loads(changed.stdout)
    assert doc["equal"] is False and "partitions" in doc["sections"]
    assert run("diff", str(fw), str(tmp_path / "missing.bin")).returncode == 2
