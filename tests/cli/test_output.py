"""What the CLI prints: any stream, any name, every failure one line, JSON where asked.

Issue 12 items 6, 17, 18, 21 and 22: ``info -q`` prints the problems; output that a cp1252
console cannot encode falls back to ASCII; a closed pipe ends quietly; a NUL in a path, a bad
number and a binary "CSV" are one line naming them; labels and file names with escape
sequences are shown escaped; failing write commands print a JSON error document; ``fs cat
--json`` is JSON; the messages name the real options and files.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from esp_image.cli import inspect, parts
from esp_image.terminal import shown

from ..conftest import FIXTURES, corpus_path

ESC_LABEL = "\x1b[2Jx"


def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "esp_image", *args], capture_output=True,
                          text=True, check=False, timeout=120, cwd=cwd,
                          env={**os.environ, **(env or {})})


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("esp-image: error: "), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    return lines[0]


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """fw.bin (the merged fixture), ota.bin (the same with an OTA table, so info prints the
    boot answer with an arrow) and evil.bin (ota.bin with a vfs label holding an escape)."""
    work = tmp_path_factory.mktemp("output")
    shutil.copy(FIXTURES / "firmware-esp32-4MB.bin", work / "fw.bin")
    assert run("retable", "--table", "ota", "-o", "ota.bin", "fw.bin", cwd=work).returncode == 0
    assert run("retable", "--rename", f"vfs={ESC_LABEL}", "-o", "evil.bin", "ota.bin",
               cwd=work).returncode == 0
    return work


# ---------------------------------------------------------------------- item 17
@pytest.mark.parametrize("encoding", ["cp1252", "ascii"])
def test_stdout_that_cannot_encode_gets_ascii(work: Path, encoding: str) -> None:
    utf8 = run("info", "ota.bin", cwd=work, env={"PYTHONIOENCODING": "utf-8"})
    assert utf8.returncode == 0 and "→" in utf8.stdout  # the case that used to crash
    result = run("info", "ota.bin", cwd=work, env={"PYTHONIOENCODING": encoding})
    assert result.returncode == 0 and result.stderr == ""
    assert "->" in result.stdout and "→" not in result.stdout
    assert result.stdout == utf8.stdout.replace("→", "->").replace("−", "-")


def test_closed_pipe_ends_quietly_with_the_real_exit_code(work: Path) -> None:
    files = ["fw.bin"] * 400  # far more output than a pipe buffer holds
    proc = subprocess.Popen([sys.executable, "-m", "esp_image", "verify", *files], cwd=work,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # what `| head -1` does
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0, err  # every file verified
    assert first.startswith(b"OK   fw.bin") and err == ""


def test_closed_pipe_after_a_failure_keeps_exit_1(work: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.bin"
    data = bytearray((work / "fw.bin").read_bytes())
    data[0x10000 - 0x1000 + 0x100] ^= 0xFF  # inside the app: checksum and SHA-256 fail
    bad.write_bytes(bytes(data))
    proc = subprocess.Popen([sys.executable, "-m", "esp_image", "verify",
                             *[str(work / "fw.bin")] * 300, str(bad)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()
    assert proc.wait(timeout=120) == 1 and proc.stderr.read() == b""


def test_nul_in_a_path_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert inspect.info(["fw\0.bin"]) == 2
    err = capsys.readouterr().err
    assert err == "esp-image: error: fw\\x00.bin: a file name cannot contain a NUL byte\n"
    fw = str(FIXTURES / "firmware-esp32-4MB.bin")
    assert parts.extract(fw, "factory", output=str(tmp_path / "a\0b"), raw=False,
                         json=False) == 2
    assert "a\\x00b: a file name cannot contain a NUL byte" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_bad_numbers_and_binary_csv_name_the_value(work: Path, tmp_path: Path) -> None:
    line = one_error_line(run("merge", "--target-offset", "zz", "-o", str(tmp_path / "m.bin"),
                              "0x1000=fw.bin", cwd=work))
    assert "--target-offset: 'zz' is not a number" in line and "int()" not in line
    line = one_error_line(run("table", "--offset", "0xq", "fw.bin", cwd=work))
    assert "--offset: '0xq' is not a number" in line
    csv = tmp_path / "bin.csv"
    csv.write_bytes(b"nvs,data\xd4\x00\x9c")
    line = one_error_line(run("table", str(csv)))
    assert f"{csv}: not a CSV text file (byte 0xd4 at offset 0x8" in line
    assert "codec" not in line


# ---------------------------------------------------------------------- item 18
def test_shown_escapes_what_a_terminal_would_act_on() -> None:
    assert shown("vfs") == "vfs"
    assert shown("a\x1b[2Jb\0c\nd\x7f\x9b") == "a\\x1b[2Jb\\x00c\\x0ad\\x7f\\x9b"
    assert shown("evil\u202etxt.exe") == "evil\\u202etxt.exe"
    assert shown("caf\udce9") == "caf\\xe9"  # a non-UTF-8 byte of a file name
    assert shown("ota_0 → ok µs") == "ota_0 → ok µs"


@pytest.mark.parametrize("args", [["info"], ["verify"], ["table"], ["info", "-q"],
                                  ["retable", "-f", "8MB", "--dry-run"]])
def test_labels_with_escapes_are_shown_escaped(work: Path, args: list[str]) -> None:
    raw = run("info", "--json", "evil.bin", cwd=work)
    assert ESC_LABEL in [p["name"] for p in json.loads(raw.stdout)["partitions"]]
    result = run(*args, "evil.bin", cwd=work)
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout + result.stderr
    if args[0] in ("info", "table", "retable") and "-q" not in args:
        assert "\\x1b[2Jx" in result.stdout


def test_file_names_with_escapes_are_shown_escaped(work: Path, tmp_path: Path) -> None:
    evil = tmp_path / "fw\x1b]0;pwned\x07.bin"
    shutil.copy(work / "fw.bin", evil)
    for args in (["verify", str(evil)], ["info", str(evil)],
                 ["flash-params", "--size", "8MB", "--dry-run", str(evil)]):
        result = run(*args)
        assert result.returncode == 0 and "\x1b" not in result.stdout + result.stderr
        assert "fw\\x1b]0;pwned\\x07" in result.stdout
    missing = run("verify", str(tmp_path / "no\x1b[31m.bin"))
    assert "no\\x1b[31m.bin" in one_error_line(missing)


def test_fs_names_are_shown_escaped(work: Path, tmp_path: Path) -> None:
    src = tmp_path / "ev\x1b[2Jil.py"
    src.write_bytes(b"print(1)\n")
    fs = tmp_path / "fs.bin"
    put = run("fs", "fw.bin", "-o", str(fs), "put", str(src), "/", cwd=work)
    assert put.returncode == 0 and "\x1b" not in put.stdout and "ev\\x1b[2Jil.py" in put.stdout
    listing = run("fs", str(fs), "ls")
    assert listing.stdout.strip().endswith("ev\\x1b[2Jil.py") and "\x1b" not in listing.stdout


# ---------------------------------------------------------------------- item 6
def test_info_quiet_prints_the_problems(work: Path, tmp_path: Path) -> None:
    assert run("info", "-q", "fw.bin", cwd=work).stdout == ""  # nothing wrong: nothing
    bad = tmp_path / "bad.bin"
    data = bytearray((work / "fw.bin").read_bytes())
    data[0x10000 - 0x1000 + 0x100] ^= 0xFF
    bad.write_bytes(bytes(data))
    result = run("info", "-q", str(work / "fw.bin"), str(bad))
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0] == f"FAIL {bad}: flash esp32, 2 of 9 checks failed", result.stdout
    assert any("sha256" in line for line in lines[1:]) and "fw.bin" not in result.stdout
    unknown = tmp_path / "noise.bin"
    unknown.write_bytes(bytes(range(256)) * 8)
    assert run("info", "-q", str(unknown)).stdout.startswith(f"FAIL {unknown}: not recognised")


# ---------------------------------------------------------------------- item 22
@pytest.mark.parametrize(("args", "code", "error"), [
    (["retable", "fw.bin"], 2, "nothing to change"),
    (["flash-params", "--size", "7MB", "fw.bin"], 2, "cannot be encoded"),
    (["flash-params", "--size", "2MB", "fw.bin"], 1, "refused: 2MB is too small"),
    (["extract", "fw.bin", "nosuch"], 2, "nosuch"),
    (["merge", "-o", "m.bin", "0x0=fw.bin", "0x1000=fw.bin"], 1, "overlaps"),
    (["fs", "fw.bin", "ls"], 2, "no filesystem"),
])
def test_failing_write_commands_print_a_json_error(work: Path, args: list[str], code: int,
                                                   error: str) -> None:
    result = run(*args[:1], "--json", *args[1:], cwd=work) if args[0] != "fs" else \
        run("fs", "fw.bin", "--json", *args[2:], cwd=work)
    assert result.returncode == code
    doc = json.loads(result.stdout)
    path = "m.bin" if args[0] == "merge" else "fw.bin"
    assert doc["path"] == path and error in doc["error"], doc
    assert error in one_error_line(result)


def test_fs_cat_json_is_base64_with_size(work: Path, tmp_path: Path) -> None:
    content = bytes(range(256)) + b"\xff\x00binary"
    src = tmp_path / "blob.bin"
    src.write_bytes(content)
    fs = tmp_path / "fs.bin"
    assert run("fs", "fw.bin", "-o", str(fs), "put", str(src), "/", cwd=work).returncode == 0
    result = run("fs", str(fs), "--json", "cat", "/blob.bin")
    assert result.returncode == 0
    doc = json.loads(result.stdout)
    assert doc["path"] == "/blob.bin" and doc["size"] == len(content)
    assert doc["encoding"] == "base64" and base64.b64decode(doc["content"]) == content


# ---------------------------------------------------------------------- item 21
def test_merge_names_each_part_once(work: Path, tmp_path: Path) -> None:
    shutil.copy(work / "fw.bin", tmp_path / "other.bin")
    line = one_error_line(run("merge", "-o", str(tmp_path / "m.bin"), f"0x1000={work}/fw.bin",
                              "0x1000=other.bin", cwd=tmp_path))
    assert "fw.bin" in line and "other.bin" in line
    line = one_error_line(run("merge", "-o", "m.bin", "0x1000fw.bin", cwd=work))
    assert line.endswith("merge takes ADDR=FILE arguments, got '0x1000fw.bin'")
    line = one_error_line(run("retable", "--resize", "vfs", "fw.bin", cwd=work))
    assert "--resize takes NAME=SIZE, got 'vfs'" in line
    assert "--rename takes OLD=NEW" in one_error_line(
        run("retable", "--rename", "vfs", "fw.bin", cwd=work))


def test_messages_name_the_real_options(work: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.bin"
    data = bytearray((work / "fw.bin").read_bytes())
    data[0x10000 - 0x1000] = 0  # the app's magic byte
    bad.write_bytes(bytes(data))
    line = one_error_line(run("extract", str(bad), "factory"))
    assert "use --raw" in line and "use raw" not in line
    from esp_image.errors import InputError
    from esp_image.transforms.esp8266 import convert_v2

    esptool_form = convert_v2((corpus_path("esptool_test_esp8266_sdk_4096_user1.bin")
                               ).read_bytes(), to="esptool")
    with pytest.raises(InputError, match=r"\(--user 1 or 2\)"):
        convert_v2(esptool_form, to="gen_appbin")


def test_layout_names_the_files_given_and_explains_blank_bin(tmp_path: Path) -> None:
    boot = tmp_path / "mine.img"
    shutil.copy(corpus_path("nonos_boot_v1.7.bin"), boot)
    result = run("layout", "esp8266", "--map", "4MB-c1", "--boot", str(boot))
    assert result.returncode == 0
    row = next(line for line in result.stdout.splitlines() if " boot " in line)
    assert f"{boot} (4.0KB)" in row and "boot.bin (" not in row
    assert "build()" not in result.stdout
    assert "blank.bin in the command is the NONOS SDK's bin/blank.bin: 4096 bytes of 0xFF" \
        in result.stdout
    doc = json.loads(run("layout", "esp8266", "--map", "4MB-c1", "--json").stdout)
    assert any("blank.bin" in n for n in doc["notes"])
    assert not any("build()" in i["message"] for i in doc["issues"])


def test_yaota_layout_names_the_bundle_given(tmp_path: Path) -> None:
    bundle = tmp_path / "mine.img"
    shutil.copy(corpus_path("uartremote_yaota8266.bin"), bundle)
    result = run("layout", "yaota8266", "--bundle", str(bundle))
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if " boot8266 " in line)
    assert f"{bundle} (" in row and "yaota8266.bin (" not in row
