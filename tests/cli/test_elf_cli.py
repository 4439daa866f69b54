"""``esp-image elf``: names, JSON, refusals, and the verified write."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from esp_image.elf import ElfProgram
from tests.conftest import FIXTURES


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "esp_image", *args], cwd=cwd,
                          capture_output=True, text=True, check=False)


@pytest.fixture
def work(tmp_path: Path) -> Path:
    for name in ("firmware-esp32-4MB.bin", "esp32-app.bin", "esp32-bootloader.bin",
                 "esp8266-nonos-flash-512K.bin"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    return tmp_path


def test_default_names_beside_the_input(work: Path) -> None:
    before = (work / "esp32-app.bin").read_bytes()
    result = run("elf", "esp32-app.bin", cwd=work)
    assert result.returncode == 0, result.stderr
    assert "wrote esp32-app.elf" in result.stdout
    assert (work / "esp32-app.bin").read_bytes() == before
    assert ElfProgram.from_bytes((work / "esp32-app.elf").read_bytes()).entry
    result = run("elf", "firmware-esp32-4MB.bin", cwd=work)
    assert result.returncode == 0, result.stderr
    assert (work / "firmware-esp32-4MB-factory.elf").is_file()
    assert "the app the bootloader boots" in result.stdout
    result = run("elf", "firmware-esp32-4MB.bin", "--partition", "bootloader", cwd=work)
    assert (work / "firmware-esp32-4MB-bootloader.elf").is_file(), result.stderr


def test_existing_default_name_needs_force(work: Path) -> None:
    (work / "esp32-app.elf").write_bytes(b"old")
    result = run("elf", "esp32-app.bin", cwd=work)
    assert result.returncode == 2 and "--force" in result.stderr
    assert (work / "esp32-app.elf").read_bytes() == b"old"
    assert run("elf", "esp32-app.bin", "--force", cwd=work).returncode == 0
    assert (work / "esp32-app.elf").read_bytes()[:4] == b"\x7fELF"


def test_json_describes_the_program(work: Path) -> None:
    result = run("elf", "firmware-esp32-4MB.bin", "-o", "app.elf", "--json", cwd=work)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["written"] is True and doc["output"] == "app.elf"
    elf = doc["elf"]
    assert (elf["name"], elf["machine"], elf["flags"]) == ("factory", 94, 0x300)
    program = ElfProgram.from_bytes((work / "app.elf").read_bytes())
    assert elf["entry"] == program.entry
    assert [(s["address"], s["size"], s["section"], s["flags"]) for s in elf["segments"]] == \
        [(s.address, len(s.data), s.section, s.flags) for s in program.segments]


def test_dry_run_writes_nothing(work: Path) -> None:
    result = run("elf", "esp32-app.bin", "--dry-run", cwd=work)
    assert result.returncode == 0 and "would write" in result.stdout
    assert not (work / "esp32-app.elf").exists()


def test_damaged_bootloader_is_refused_with_exit_1(work: Path) -> None:
    data = bytearray((work / "esp32-bootloader.bin").read_bytes())
    data[0x40] ^= 0xFF
    (work / "bad.bin").write_bytes(bytes(data))
    result = run("elf", "bad.bin", "-o", "x.elf", cwd=work)
    assert result.returncode == 1, result.stderr
    assert result.stderr.count("\n") == 1 and "damaged" in result.stderr
    assert not (work / "x.elf").exists()


def test_truncated_image_and_unknown_choice_exit_2(work: Path) -> None:
    (work / "cut.bin").write_bytes((work / "esp32-app.bin").read_bytes()[:0x3000])
    for args in (["cut.bin"], ["esp8266-nonos-flash-512K.bin"],
                 ["firmware-esp32-4MB.bin", "--partition", "vfs"]):
        result = run("elf", *args, "-o", "x.elf", cwd=work)
        assert result.returncode == 2, result.stderr
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert not (work / "x.elf").exists()
    result = run("elf", "esp8266-nonos-flash-512K.bin", "-o", "x.elf", cwd=work)
    assert "--partition: boot, user1, user2" in result.stderr


def test_json_keys_are_documented(work: Path) -> None:
    from tests.cli.test_json_doc import assert_matches

    result = run("elf", "esp32-app.bin", "--json", "--dry-run", cwd=work)
    doc = json.loads(result.stdout)
    assert_matches("Write document", doc)
    assert_matches("ELF program", doc["elf"])
    for segment in doc["elf"]["segments"]:
        assert_matches("ELF segment", segment)

