"""The CLI contract on hostile input, for every command (shared/docs/cli-contract.md, issue #5).

- Unusable input (a missing file, a directory, an unreadable file, an empty file, a file of the
  wrong kind) gives exit code 2 and exactly one line on stderr, naming the file, never a
  traceback or an "internal error", and writes nothing (no output, no temporary file).
- ``verify`` exits 1 on each kind of damage (checksum, sha256, md5, otadata-crc, crc32,
  structure) and names the failed check.
- A 1 GB sparse file of zeros and a file just over 128 MB are refused quickly, with a message
  naming the limit, without reading them (the child's max RSS is measured with ``os.wait4``).
- A FIFO is refused without blocking on it.

Every command runs as ``python -m esp_image`` in a child process, as a user would run it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from ..conftest import FIXTURES

MAX_RSS_MB = 200
"""Bound on a refusing child's peak memory (Python + esp_image start at ~20-40 MB)."""
QUICK_SECONDS = 10.0
"""Bound on a refusal's wall time (start-up is ~0.1-0.3 s)."""
HANG_TIMEOUT = 5.0
"""A child still running after this long on a FIFO is hung."""


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    max_rss_mb: float
    seconds: float
    timed_out: bool = False
    cpu_seconds: float = 0.0

    @property
    def lines(self) -> list[str]:
        return self.stderr.strip().splitlines()


# A small launcher between pytest and the command: ru_maxrss is a high-water mark that includes
# the pages a child inherits before exec, so forking straight from a large pytest process would
# report pytest's size. The launcher is a fresh interpreter; its child's peak is the command's.
_LAUNCHER = """
import os, resource, sys
limit, report, args = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
pid = os.fork()
if pid == 0:
    if limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    os.execv(sys.executable, [sys.executable, "-m", "esp_image", *args])
_, status, usage = os.wait4(pid, 0)
with open(report, "w") as fh:
    fh.write(f"{usage.ru_maxrss} {usage.ru_utime + usage.ru_stime}")
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
"""


def run(*args: str, timeout: float = 60.0, cwd: Path | None = None,
        memory_limit_mb: int | None = None) -> Run:
    """Run ``python -m esp_image ARGS``; measure its peak RSS and CPU time with ``os.wait4``.

    ``memory_limit_mb`` caps the command's address space, so that a regression that reads a
    huge input whole fails the test instead of exhausting the machine's memory."""
    base = Path(os.environ.get("TMPDIR", "/tmp")) / f"esp-image-contract-{os.getpid()}"
    report = Path(f"{base}.rss")
    report.unlink(missing_ok=True)
    limit = (memory_limit_mb or 0) << 20
    with open(f"{base}.out", "w+b") as out, open(f"{base}.err", "w+b") as err:
        start = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-c", _LAUNCHER, str(limit), str(report), *args], stdout=out,
            stderr=err, stdin=subprocess.DEVNULL, cwd=cwd, start_new_session=True)
        timed_out = False
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(proc.pid, signal.SIGKILL)  # the launcher and the command
            proc.wait()
        seconds = time.monotonic() - start
        out.seek(0)
        err.seek(0)
        rss_kb, cpu = (report.read_text() or "0 0").split() if report.is_file() else ("0", "0")
        result = Run(proc.returncode, out.read().decode(errors="replace"),
                     err.read().decode(errors="replace"), int(rss_kb) / 1024, seconds, timed_out,
                     float(cpu))
    for suffix in (".out", ".err", ".rss"):
        Path(f"{base}{suffix}").unlink(missing_ok=True)
    return result


def assert_one_clean_line(result: Run, *, code: int = 2, mentions: str | None = None) -> None:
    assert not result.timed_out, f"hung for {result.seconds:.0f}s"
    detail = f"exit {result.returncode}, stderr:\n{result.stderr}"
    assert result.returncode == code, detail
    assert len(result.lines) == 1, detail
    assert result.lines[0].startswith("esp-image: error:"), detail
    assert "Traceback" not in result.stderr, detail
    assert "internal error" not in result.stderr, detail
    if mentions is not None:
        assert mentions in result.lines[0], f"the message does not name {mentions!r}: {detail}"


# ---------------------------------------------------------------------- every command
# Each command, with the input file in the slot it reads; ``out`` is the output path.
Command = Callable[[str, str], list[str]]
COMMANDS: dict[str, Command] = {
    "info": lambda f, out: ["info", f],
    "info --json": lambda f, out: ["info", "--json", f],
    "verify": lambda f, out: ["verify", f],
    "retable": lambda f, out: ["retable", "-f", "8MB", f, "-o", out],
    "retable --in-place": lambda f, out: ["retable", "--table", "ota", "--in-place", f],
    "flash-params": lambda f, out: ["flash-params", "--size", "8MB", f, "-o", out],
    "otadata": lambda f, out: ["otadata", "--boot", "1", f, "-o", out],
    "extract": lambda f, out: ["extract", f, "bootloader", "-o", out],
    "merge": lambda f, out: ["merge", "-o", out, f"0x1000={f}"],
    "table": lambda f, out: ["table", f],
    "table -o": lambda f, out: ["table", f, "-o", out],
    "convert": lambda f, out: ["convert", "--to", "gen_appbin", "--user", "1", f, "-o", out],
    "elf": lambda f, out: ["elf", f, "-o", out],
    "layout esp8266 --boot": lambda f, out: ["layout", "esp8266", "--map", "4MB-c1",
                                             "--boot", f, "-o", out],
    "layout esp8266 --user1": lambda f, out: ["layout", "esp8266", "--map", "4MB-c1",
                                              "--user1", f, "-o", out],
    "layout yaota8266 --bundle": lambda f, out: ["layout", "yaota8266", "--bundle", f],
    "layout yaota8266 --app": lambda f, out: ["layout", "yaota8266", "--app", f],
    "yaota mkapp": lambda f, out: ["yaota", "mkapp", f, f, "-o", out],
    "yaota sign": lambda f, out: ["yaota", "sign", f, "--key", f, "-o", out],
    "yaota verify": lambda f, out: ["yaota", "verify", f],
    "yaota bundle": lambda f, out: ["yaota", "bundle", f, f, "-o", out],
    # port 9 (discard) on this host: nothing is ever sent, the file is refused first
    "yaota send": lambda f, out: ["yaota", "send", f, "--to", "127.0.0.1", "--port", "9",
                                  "--timeout", "0.05", "--retries", "0"],
    # diff compares files of any kind (like info), so it has no wrong-kind case
    "diff": lambda f, out: ["diff", f, f],
    # an update of the wrong kind is a reason it does not boot (exit 1), not unusable input
    "check-update": lambda f, out: ["check-update", f, "--against",
                                    str(FIXTURES / "firmware-esp32-4MB.bin")],
    "check-update --against": lambda f, out: ["check-update", str(FIXTURES / "esp32-app.bin"),
                                              "--against", f],
    "fs ls": lambda f, out: ["fs", f, "ls"],
    "fs cat": lambda f, out: ["fs", f, "cat", "/main.py"],
    "fs get": lambda f, out: ["fs", f, "get", "/main.py", out],
    "fs df": lambda f, out: ["fs", f, "df"],
    "fs put": lambda f, out: ["fs", f, "-o", out, "put", f, "/"],
    "fs rm": lambda f, out: ["fs", f, "-o", out, "rm", "/main.py"],
    "fs mkdir": lambda f, out: ["fs", f, "-o", out, "mkdir", "/lib"],
    "fs mkfs": lambda f, out: ["fs", f, "-o", out, "mkfs"],
    "nvs ls": lambda f, out: ["nvs", f, "ls"],
    "nvs get": lambda f, out: ["nvs", f, "get", "wifi", "ssid", "-o", out],
    "nvs export": lambda f, out: ["nvs", f, "export", "-o", out],
    "nvs set": lambda f, out: ["nvs", f, "-o", out, "set", "wifi", "ssid", "x"],
    "nvs rm": lambda f, out: ["nvs", f, "-o", out, "rm", "wifi"],
    "nvs import": lambda f, out: ["nvs", f, "-o", out, "import", f],
    "nvs mkfs": lambda f, out: ["nvs", f, "-o", out, "mkfs"],
    "plan": lambda f, out: ["plan", f, "-o", out],
}
NO_INPUT = ["yaota keygen"]
"""Commands that read no file: their output path is tested instead."""

# A real file of a kind the command cannot work on (info/verify describe any kind).
WRONG_KIND = {
    "retable": "otadata-ota0.bin",
    "retable --in-place": "esp32-app.bin",
    "flash-params": "otadata-ota0.bin",
    "otadata": "esp32-app.bin",
    "extract": "otadata-ota0.bin",
    "merge": "partitions.csv",  # a CSV where binary data is expected
    "table": "esp32-app.bin",
    "table -o": "esp32-bootloader.bin",
    "convert": "esp32-app.bin",
    "elf": "otadata-ota0.bin",
    "layout esp8266 --boot": "esp32-app.bin",
    "layout esp8266 --user1": "partitions-4MiB.bin",
    "layout yaota8266 --bundle": "esp32-app.bin",
    "layout yaota8266 --app": "otadata-ota0.bin",
    "yaota mkapp": "esp32-app.bin",
    "yaota sign": "otadata-ota0.bin",
    "yaota verify": "esp32-app.bin",
    "yaota bundle": "esp32-bootloader.bin",
    "yaota send": "esp32-app.bin",
    "fs ls": "esp32-app.bin",
    "fs put": "esp32-bootloader.bin",
    "fs mkfs": "otadata-ota0.bin",
    "nvs ls": "esp32-app.bin",
    "nvs set": "partitions-4MiB.bin",
    "nvs mkfs": "otadata-ota0.bin",
    "check-update --against": "otadata-ota0.bin",
    "plan": "esp32-app.bin",
}


def test_every_cli_command_is_covered() -> None:
    """Fail when a command is added to the CLI without contract tests here."""
    from esp_image.cli.app import app

    names = {c.name or getattr(c.callback, "__name__", "") for c in app.registered_commands}
    for group in app.registered_groups:
        sub = group.typer_instance
        assert sub is not None
        names |= {f"{group.name} {c.name or getattr(c.callback, '__name__', '')}"
                  for c in sub.registered_commands}
    covered = {n.split(" --")[0].split(" -o")[0] for n in COMMANDS} | set(NO_INPUT)
    assert names <= covered, f"commands without contract tests: {sorted(names - covered)}"


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def work(tmp_path: Path) -> Path:
    (tmp_path / "empty.bin").write_bytes(b"")
    (tmp_path / "a-directory").mkdir()
    for name in ("otadata-ota0.bin", "esp32-app.bin", "esp32-bootloader.bin",
                 "partitions-4MiB.bin"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    (tmp_path / "partitions.csv").write_text(
        "nvs, data, nvs, 0x9000, 0x6000,\nfactory, app, factory, 0x10000, 1M,\n")
    return tmp_path


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("case", ["missing", "directory", "empty"])
def test_unusable_input(work: Path, command: str, case: str) -> None:
    target = {"missing": "no-such-file.bin", "directory": "a-directory",
              "empty": "empty.bin"}[case]
    before = _listing(work)
    result = run(*COMMANDS[command](str(work / target), str(work / "out.bin")), cwd=work)
    assert_one_clean_line(result, mentions=target)
    assert _listing(work) == before, "something was written"


@pytest.mark.parametrize("command", list(COMMANDS))
def test_unreadable_file(work: Path, command: str) -> None:
    path = work / "secret.bin"
    shutil.copy(FIXTURES / "firmware-esp32-4MB.bin", path)
    path.chmod(0)
    try:
        try:
            path.read_bytes()
        except PermissionError:
            pass
        else:
            pytest.skip("running as root: file permissions are not enforced")
        before = _listing(work)
        result = run(*COMMANDS[command](str(path), str(work / "out.bin")), cwd=work)
        assert_one_clean_line(result, mentions="secret.bin")
        assert _listing(work) == before
    finally:
        path.chmod(0o644)


@pytest.mark.parametrize("command", list(WRONG_KIND))
def test_wrong_kind_of_file(work: Path, command: str) -> None:
    name = WRONG_KIND[command]
    if command == "merge":
        args = ["merge", "-o", str(work / "out.bin"), f"0x1000={work / 'esp32-bootloader.bin'}",
                f"0x8000={work / name}", f"0x10000={work / 'esp32-app.bin'}"]
    else:
        args = COMMANDS[command](str(work / name), str(work / "out.bin"))
    before = _listing(work)
    original = (work / name).read_bytes()
    result = run(*args, cwd=work)
    assert_one_clean_line(result)
    assert _listing(work) == before, "something was written"
    assert (work / name).read_bytes() == original


@pytest.mark.parametrize("target", ["a-directory", "no-such-dir/key.pem"])
def test_keygen_unwritable_output(work: Path, target: str) -> None:
    before = _listing(work)
    result = run("yaota", "keygen", "-o", str(work / target), cwd=work)
    assert_one_clean_line(result)
    assert _listing(work) == before and _listing(work / "a-directory") == []


@pytest.mark.parametrize("command", ["info", "verify"])
def test_info_and_verify_report_wrong_kind_without_error(work: Path, command: str) -> None:
    """info describes anything (exit 0), verify says it is not valid firmware (exit 1)."""
    (work / "zeros.bin").write_bytes(bytes(0x3000))
    (work / "text.txt").write_text("hello\n")
    for name in ("zeros.bin", "text.txt", "partitions.csv"):
        result = run(command, str(work / name))
        assert result.returncode == (0 if command == "info" else 1), result.stderr
        assert result.stderr == ""


def test_several_files_one_bad(work: Path) -> None:
    """A bad file among good ones: one error line for it, exit 2, the others still reported."""
    result = run("verify", "--json", str(work / "esp32-app.bin"), str(work / "empty.bin"),
                 str(work / "otadata-ota0.bin"))
    assert_one_clean_line(result, mentions="empty.bin")
    docs = json.loads(result.stdout)
    assert [d.get("valid") for d in docs] == [True, None, True]
    assert "error" in docs[1]


def test_debug_shows_a_traceback_only_when_asked(work: Path) -> None:
    quiet = run("flash-params", "--size", "8MB", str(work / "otadata-ota0.bin"),
                "-o", str(work / "o.bin"))
    assert "Traceback" not in quiet.stderr and len(quiet.lines) == 1
    loud = run("flash-params", "--debug", "--size", "8MB", str(work / "otadata-ota0.bin"),
               "-o", str(work / "o.bin"))
    assert loud.returncode != 0 and "Traceback" in loud.stderr


# ---------------------------------------------------------------------- verify on damage
def _flip(data: bytes, offset: int) -> bytes:
    out = bytearray(data)
    out[offset] ^= 0x10
    return bytes(out)


def _damaged() -> dict[str, tuple[str, bytes]]:
    """Check name -> (what was damaged, damaged bytes)."""
    from esp_image import Image

    app = (FIXTURES / "esp32-app.bin").read_bytes()
    image = Image.from_bytes(app)
    assert image.firmware is not None
    seg = image.firmware.segments[-1]
    table = (FIXTURES / "partitions-4MiB-ota.bin").read_bytes()
    otadata = (FIXTURES / "otadata-ota0.bin").read_bytes()
    firmware = (FIXTURES / "firmware-esp32-4MB.bin").read_bytes()
    cases = {
        "checksum": ("app segment data", _flip(app, seg.data_offset + 5)),
        "sha256": ("app SHA-256", _flip(app, len(app) - 3)),
        "md5": ("table MD5 digest", _flip(table, 6 * 32 + 20)),
        "otadata-crc": ("otadata copy 0 CRC", _flip(otadata, 29)),
        "structure": ("app truncated", app[:len(app) // 2]),
        "layout": ("merged table partition past the flash end",
                   _table_past_flash_end(firmware)),
    }
    v2 = (FIXTURES / "esp8266-user1.bin").read_bytes()
    cases["crc32"] = ("ESP8266 v2 CRC32 trailer", _flip(v2, len(v2) - 2))
    return cases


def _table_past_flash_end(firmware: bytes) -> bytes:
    """The merged fixture with its last partition grown past 4MB and the MD5 repaired."""
    import hashlib

    out = bytearray(firmware)
    table = 0x8000 - 0x1000
    records = 4
    last = table + 32 * (records - 1)
    out[last + 8:last + 12] = (0x300000).to_bytes(4, "little")
    md5_at = table + 32 * records
    assert out[md5_at:md5_at + 2] == b"\xeb\xeb"
    out[md5_at + 16:md5_at + 32] = hashlib.md5(bytes(out[table:md5_at])).digest()
    return bytes(out)


DAMAGE = ["checksum", "sha256", "md5", "otadata-crc", "crc32", "structure", "layout"]


@pytest.mark.parametrize("check", DAMAGE)
def test_verify_exits_1_on_damage(tmp_path: Path, check: str) -> None:
    what, data = _damaged()[check]
    path = tmp_path / "damaged.bin"
    path.write_bytes(data)
    result = run("verify", str(path))
    assert result.returncode == 1, f"{what}: {result.stdout}{result.stderr}"
    assert result.stderr == ""
    assert check in result.stdout and "FAIL" in result.stdout
    doc = json.loads(run("verify", "--json", str(path)).stdout)
    assert doc["valid"] is False
    assert any(c["name"] == check and not c["valid"] for c in doc["checks"]), doc["checks"]
    # info describes the damage but the file was readable: exit 0.
    assert run("info", str(path)).returncode == 0


@pytest.mark.parametrize("command", ["retable", "flash-params", "otadata", "extract"])
def test_writers_refuse_damaged_input(tmp_path: Path, command: str) -> None:
    """A merged OTA firmware whose app is damaged is refused with one line (pre-flight, exit 1,
    or unusable, exit 2) and nothing is written: a rewrite must never recompute the checksum
    and SHA-256 over corrupted data and hand back an image that looks intact."""
    from esp_image import Image
    from esp_image.transforms.retable import RetableOptions, retable

    ota = retable(Image.open(FIXTURES / "firmware-esp32-4MB.bin"), RetableOptions(table="ota"))
    firmware = bytearray(ota.data)
    firmware[0x10000 - 0x1000 + 0x2000] ^= 1  # ota_0's app: segment data
    path = tmp_path / "damaged.bin"
    path.write_bytes(bytes(firmware))
    assert run("verify", str(path)).returncode == 1
    args = {"retable": ["retable", "-f", "8MB", str(path)],
            "flash-params": ["flash-params", "--size", "8MB", str(path)],
            "otadata": ["otadata", "--boot", "1", str(path)],
            "extract": ["extract", str(path), "ota_0"]}[command]
    result = run(*args)
    assert result.returncode in (1, 2), result.stdout
    assert_one_clean_line(result, code=result.returncode)
    assert _listing(tmp_path) == ["damaged.bin"]
    assert path.read_bytes() == bytes(firmware)


# ---------------------------------------------------------------------- huge files, FIFOs
BIG_INPUT_COMMANDS = [c for c in COMMANDS if c not in ("info --json", "table -o")]


@pytest.fixture(scope="module")
def huge(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A 1 GB sparse file of zeros and one of 128 MB + 1 byte, created with truncate (the
    blocks are never written)."""
    folder = tmp_path_factory.mktemp("huge")
    files = {"1GB of zeros": folder / "zeros-1GB.bin",
             "128MB + 1": folder / "over-128MB.bin"}
    with open(files["1GB of zeros"], "wb") as fh:
        fh.truncate(1 << 30)
    with open(files["128MB + 1"], "wb") as fh:
        fh.truncate((128 << 20) + 1)
    return files


@pytest.mark.parametrize("command", BIG_INPUT_COMMANDS)
@pytest.mark.parametrize("which", ["1GB of zeros", "128MB + 1"])
def test_huge_file_refused_quickly_in_bounded_memory(huge: dict[str, Path], tmp_path: Path,
                                                     command: str, which: str) -> None:
    path = huge[which]
    result = run(*COMMANDS[command](str(path), str(tmp_path / "out.bin")), cwd=tmp_path,
                 timeout=60, memory_limit_mb=1024)
    assert_one_clean_line(result, mentions=path.name)
    assert "larger than" in result.stderr, "the message should name the limit"
    assert result.max_rss_mb < MAX_RSS_MB, f"peak RSS {result.max_rss_mb:.0f} MB"
    assert result.seconds < QUICK_SECONDS, f"took {result.seconds:.1f}s"
    assert _listing(tmp_path) == []


@pytest.mark.parametrize("command", [c for c in COMMANDS if c != "retable --in-place"])
def test_fifo_is_refused_without_hanging(tmp_path: Path, command: str) -> None:
    fifo = tmp_path / "pipe.bin"
    os.mkfifo(fifo)
    result = run(*COMMANDS[command](str(fifo), str(tmp_path / "out.bin")), cwd=tmp_path,
                 timeout=HANG_TIMEOUT)
    assert_one_clean_line(result, mentions="pipe.bin")
    assert _listing(tmp_path) == ["pipe.bin"]


def test_large_valid_flash_dump_in_bounded_memory(tmp_path: Path) -> None:
    """A 16 MB flash dump (the merged fixture padded with erased flash) is read and verified in
    a small multiple of its size."""
    data = (FIXTURES / "firmware-esp32-4MB.bin").read_bytes()
    path = tmp_path / "dump.bin"
    path.write_bytes(data + b"\xff" * ((16 << 20) - len(data) - 0x1000))
    result = run("verify", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.max_rss_mb < 40 + 4 * 16, f"peak RSS {result.max_rss_mb:.0f} MB"
