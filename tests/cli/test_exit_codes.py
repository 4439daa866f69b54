"""Every command, every kind of bad request: exit 2, exactly one line on stderr, no traceback.

cli-contract.md: 2 is a usage error or unusable input (unknown option, bad value, missing
argument, a file of the wrong kind, contradictory options); 1 is kept for damage found and
refusals after checking the input. Each case runs in a fresh interpreter, as a user runs it.
"""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ..conftest import FIXTURES

UNKNOWN_OPTION = [
    "info --bogus fw.bin",
    "verify --bogus fw.bin",
    "retable --bogus -f 8MB fw.bin",
    "flash-params --bogus fw.bin",
    "otadata --bogus otadata.bin",
    "extract --bogus fw.bin factory",
    "merge --bogus -o out.bin 0x1000=fw.bin",
    "table --bogus fw.bin",
    "convert --bogus --to esptool fw.bin",
    "elf --bogus fw.bin",
    "layout esp8266 --bogus --map 1MB",
    "layout yaota8266 --bogus",
    "diff --bogus fw.bin fw.bin",
    "check-update --bogus fw.bin --against fw.bin",
    "fs fw.bin --bogus ls",
    "fs fw.bin ls --bogus",
    "nvs fw.bin --bogus ls",
    "nvs fw.bin ls --bogus",
    "yaota keygen --bogus",
    "yaota mkapp --bogus a b",
    "yaota sign --bogus --key k fw.bin",
    "yaota verify --bogus fw.bin",
    "yaota bundle --bogus a b",
    "yaota send --bogus --to 127.0.0.1 fw.bin",
    "nosuchcommand fw.bin",
]

BAD_VALUE = [
    "info --chip bogus fw.bin",
    "retable -f 7MB fw.bin",
    "retable -f zz fw.bin",
    "retable --table otaa fw.bin",
    "retable --app-size zz fw.bin",
    "retable --resize vfs fw.bin",
    "retable --rename vfs fw.bin",
    "flash-params --mode qqq fw.bin",
    "flash-params --size 7MB fw.bin",
    "flash-params --freq 99m fw.bin",
    "otadata --boot ota_5 otadata.bin",
    "otadata --boot nosuch otadata.bin",
    "otadata --state bogus otadata.bin",
    "otadata --slots x otadata.bin",
    "extract fw.bin nosuch",
    "merge -o out.bin --target-offset zz 0x1000=fw.bin",
    "merge -o out.bin 0x1000fw.bin",
    "merge -o out.bin zz=fw.bin",
    "merge -o out.bin --pad-to zz 0x1000=fw.bin",
    "merge -o out.bin --flash-mode qqq 0x1000=fw.bin",
    "merge -o out.bin --format bogus 0x1000=fw.bin",
    "retable --format bogus -f 8MB fw.bin",
    "extract --format bogus fw.bin factory",
    "table --offset zz bin.csv",
    "table --flash-size zz fw.bin",
    "convert --to bogus fw.bin",
    "convert --to gen_appbin --user 3 fw.bin",
    "layout esp8266 --map 5MB",
    "layout esp8266 --map 32m-c2",
    "yaota mkapp --offset zz fw.bin fw.bin",
    "yaota send --to 127.0.0.1 --port zz fw.bin",
    "yaota send --to 127.0.0.1 --port 0 fw.bin",
    "yaota send --to 127.0.0.1 --timeout 0 fw.bin",
    "yaota send --to 127.0.0.1 --retries -1 fw.bin",
    "fs fw.bin mkfs --type bogus",
    "nvs fw.bin set ns k 1 --type bogus",
    "nvs fw.bin set ns k 256 --type u8",
    "nvs fw.bin set ns sixteen_chars_ke 1",
    "nvs fw.bin mkfs --size zz",
    "nvs fw.bin get ns nosuch",
]

MISSING_ARGUMENT = [
    "info",
    "check-update fw.bin",
    "check-update --against fw.bin",
    "verify",
    "retable",
    "retable fw.bin",
    "flash-params",
    "flash-params fw.bin",
    "otadata",
    "extract fw.bin",
    "merge -o out.bin",
    "merge 0x1000=fw.bin",
    "table",
    "convert fw.bin",
    "elf",
    "layout esp8266",
    "diff fw.bin",
    "fs fw.bin",
    "fs fw.bin get /x",
    "fs fw.bin put x",
    "nvs fw.bin",
    "nvs fw.bin get ns",
    "nvs fw.bin set ns k",
    "nvs fw.bin export",
    "yaota sign fw.bin",
    "yaota mkapp fw.bin",
    "yaota verify",
    "yaota bundle fw.bin",
    "yaota send fw.bin",
]

WRONG_KIND_FILE = [
    "info .",
    "check-update photo.jpg --against fw.bin",
    "check-update fw.bin --against otadata.bin",
    "retable -f 8MB photo.jpg",
    "flash-params --size 8MB photo.jpg",
    "otadata --boot 0 photo.jpg",
    "extract photo.jpg factory",
    "table bin.csv",
    "table photo.jpg",
    "convert --to esptool photo.jpg",
    "elf photo.jpg -o x.elf",
    "elf otadata.bin -o x.elf",
    "elf fw.bin --partition nvs -o x.elf",
    "layout esp8266 --map 1MB --boot photo.jpg",
    "fs photo.jpg ls",
    "nvs photo.jpg ls",
    "nvs fw.bin --keys photo.jpg ls",
    "yaota verify photo.jpg",
    "yaota sign --key photo.jpg fw.bin",
    "yaota bundle photo.jpg photo.jpg",
    "yaota send --to 127.0.0.1 photo.jpg",
    "layout yaota8266 --bundle photo.jpg",
    "layout yaota8266 --app photo.jpg",
    "merge -o out.bin 0x1000=.",
]

CONTRADICTORY = [
    "retable -f 8MB -o x.bin --in-place fw.bin",
    "flash-params --size 8MB -o x.bin --in-place fw.bin",
    "otadata --erase --boot 1 otadata.bin",
    "otadata --erase --state valid otadata.bin",
    "convert --to esptool -o x.bin --in-place fw.bin",
    "yaota verify --key k --modulus 00 fw.bin",
    "fs fw.bin -o x.bin --in-place mkdir /a",
    "nvs fw.bin -o x.bin --in-place rm ns",
]

# A change inside gzip, a signature or a Matter header cannot be redone here; a --key that
# cannot serve the file's wrapper (or cannot be read) is unusable input.
WRAPPED_FILE = [
    "retable -f 8MB fw.bin.gz",
    "flash-params --size 8MB fw.bin.gz",
    "otadata --boot 0 fw.bin.gz",
    "nvs fw.bin.gz set ns k 1",
    "fs fw.bin.gz mkdir /a",
    "flash-params --size 8MB signed.bin",
    "info --key nosuch.pem signed.bin",
    "verify --key photo.jpg signed.bin",
    "verify --key rsa3072.pem signed.bin",
]

KINDS = [(kind, line)
         for kind, lines in (("unknown option", UNKNOWN_OPTION), ("bad value", BAD_VALUE),
                             ("missing argument", MISSING_ARGUMENT),
                             ("wrong-kind file", WRONG_KIND_FILE),
                             ("contradictory", CONTRADICTORY),
                             ("wrapped file or key", WRAPPED_FILE))
         for line in lines]
CASES = [pytest.param(kind, line, id=f"{kind}: {line}") for kind, line in KINDS]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("exit-codes")
    shutil.copy(FIXTURES / "firmware-esp32-4MB.bin", work / "fw.bin")
    shutil.copy(FIXTURES / "otadata-ota0.bin", work / "otadata.bin")
    (work / "fw.bin.gz").write_bytes(gzip.compress((work / "fw.bin").read_bytes(), mtime=0))
    shutil.copy(FIXTURES / "wrappers" / "esp8266-v1.bin.signed", work / "signed.bin")
    shutil.copy(FIXTURES / "wrappers" / "pre-encrypted-rsa3072-key.pem", work / "rsa3072.pem")
    # Not firmware of any kind: a JPEG header and pseudo-random bytes; and binary "CSV".
    noise = bytes((i * 7919 + 13) % 251 for i in range(3000))
    (work / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0" + noise)
    (work / "bin.csv").write_bytes(b"\xd4\x00\x9c" + noise[:200])
    return work


def _snapshot(work: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(work.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def results(workdir: Path) -> dict[str, subprocess.CompletedProcess[str]]:
    """Every case's run, in parallel (each is a fresh interpreter: ~1 s of start-up)."""
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1"}
    lines = [line for _, line in KINDS]
    before = _snapshot(workdir)

    def run(line: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "esp_image", *line.split()], cwd=workdir,
                              capture_output=True, text=True, check=False, timeout=120,
                              env=env)

    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        done = dict(zip(lines, pool.map(run, lines), strict=True))
    assert _snapshot(workdir) == before  # refused requests wrote nothing
    return done


@pytest.mark.parametrize(("kind", "line"), CASES)
def test_bad_request_exits_2_with_one_line(
        results: dict[str, subprocess.CompletedProcess[str]], kind: str, line: str) -> None:
    result = results[line]
    lines = result.stderr.splitlines()
    assert result.returncode == 2, (kind, result.returncode, result.stderr)
    assert len(lines) == 1 and lines[0].startswith("esp-image: error: "), result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_usage_errors_name_the_failing_command() -> None:
    """The hint points at the (sub)command's own --help, where the missing piece is."""
    result = subprocess.run([sys.executable, "-m", "esp_image", "fs", "x.bin", "get", "/a"],
                            capture_output=True, text=True, check=False, timeout=60)
    assert "Missing argument 'DST'" in result.stderr
    assert "'esp-image fs [FILE] get --help'" in result.stderr
    result = subprocess.run([sys.executable, "-m", "esp_image", "fs", "x.bin"],
                            capture_output=True, text=True, check=False, timeout=60)
    assert "fs needs a COMMAND after FILE: one of ls, cat, get, put" in result.stderr
