"""Write safety (issue 12 items 7, 8, 10, 11, 13, 21): every writing command, as a matrix.

The input is never modified without --in-place, whatever -o names; --in-place keeps symlinks,
hard links and the file mode; devices and FIFOs are written through, never renamed over;
default output names never replace a file silently; a write that changes nothing writes
nothing; outputs are verified as what they are; SIGTERM/SIGINT leave no temporary file.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from io import StringIO
from pathlib import Path

import pytest

from esp_image import Image
from esp_image.cli import parts
from esp_image.errors import VerificationFailed
from esp_image.io import verify_bytes, write_atomic

from ..conftest import FIXTURES, corpus_path

FW = "firmware-esp32-4MB.bin"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "esp_image", *args], capture_output=True,
                          text=True, check=False, timeout=120, cwd=cwd)


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The console script in this process (the matrices run hundreds of commands): the same
    dispatch as ``main``, without its process-wide signal handlers."""
    from esp_image.entry import _fast, _typer_main

    out, err = StringIO(), StringIO()
    old = os.getcwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        with redirect_stdout(out), redirect_stderr(err):
            code = _fast(list(args))
            if code is None:
                code = _typer_main(list(args))
    finally:
        os.chdir(old)
        gc.unfreeze()  # _started() froze this process's objects, as for a one-shot command
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.fixture
def work(tmp_path: Path) -> Path:
    for name in (FW, "esp32-app.bin", "esp32-bootloader.bin", "otadata-ota0.bin",
                 "partitions-4MiB-ota.bin"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    (tmp_path / "hello.py").write_text("print('hello')\n")
    return tmp_path


def fs_image(work: Path) -> Path:
    """A firmware whose vfs holds littlefs with /hello.py (made by esp-image itself)."""
    out = work / "fwfs.bin"
    result = cli("fs", str(work / FW), "-o", str(out), "put", str(work / "hello.py"), "/")
    assert result.returncode == 0, result.stderr
    return out


# A writer: (the file it rewrites or reads, argv given the output options).
Writer = tuple[Path, Callable[[list[str]], list[str]]]


def writer(name: str, work: Path) -> Writer:
    fw, ota = work / FW, work / "otadata-ota0.bin"
    if name == "retable":
        return fw, lambda o: ["retable", "-f", "8MB", *o, str(fw)]
    if name == "flash-params":
        return fw, lambda o: ["flash-params", "--size", "8MB", *o, str(fw)]
    if name == "otadata":
        return ota, lambda o: ["otadata", "--boot", "1", *o, str(ota)]
    if name == "extract":
        return fw, lambda o: ["extract", str(fw), "factory", *o]
    if name == "fs-put":
        return fw, lambda o: ["fs", str(fw), *o, "put", str(work / "hello.py"), "/"]
    if name == "elf":
        return fw, lambda o: ["elf", str(fw), *o]
    if name == "fs-mkdir":
        return fw, lambda o: ["fs", str(fw), *o, "mkdir", "/lib"]
    if name == "merge":
        app = work / "esp32-app.bin"
        return app, lambda o: ["merge", *o, f"0x1000={work / 'esp32-bootloader.bin'}",
                               f"0x8000={work / 'partitions-4MiB-ota.bin'}", f"0x10000={app}"]
    if name == "table-csv":
        table = work / "partitions-4MiB-ota.bin"
        return table, lambda o: ["table", str(table), *o]
    if name == "table-bin":
        csv = work / "partitions.csv"
        csv.write_text(Image.open(work / "partitions-4MiB-ota.bin").table.to_csv())  # type: ignore[union-attr]
        return csv, lambda o: ["table", str(csv), *o]
    if name == "convert":
        src = work / "user1.bin"
        shutil.copy(corpus_path("nonos306_at_user1.1024.new.2.bin"), src)
        return src, lambda o: ["convert", str(src), "--to", "esptool", *o]
    if name == "layout-esp8266":
        boot = work / "boot.bin"
        shutil.copy(corpus_path("nonos_boot_v1.7.bin"), boot)
        return boot, lambda o: ["layout", "esp8266", "--map", "1MB", "--boot", str(boot), *o]
    if name == "yaota-bundle":
        bundle, app = work / "yaota8266.bin", work / "firmware-ota.bin"
        shutil.copy(corpus_path("uartremote_yaota8266.bin"), bundle)
        shutil.copy(corpus_path("uartremote_micropython_v1.15-ota.bin"), app)
        return app, lambda o: ["yaota", "bundle", str(bundle), str(app), *o]
    raise AssertionError(name)


WITH_O = ["retable", "flash-params", "otadata", "extract", "fs-put", "fs-mkdir", "merge",
          "table-csv", "table-bin", "convert", "layout-esp8266", "yaota-bundle", "elf"]
WITH_DEFAULT_NAME = ["retable", "flash-params", "otadata", "extract", "fs-put", "table-bin",
                     "convert", "yaota-bundle", "elf"]
IN_PLACE = ["retable", "flash-params", "otadata", "fs-put", "convert"]


# --------------------------------------------------------------------- item 7: -o = the input
def spellings(path: Path) -> dict[str, str]:
    """Names that reach ``path``: itself, relative spellings, a symlink, a hard link."""
    link, hard = path.with_name("link-" + path.name), path.with_name("hard-" + path.name)
    link.symlink_to(path.name)
    os.link(path, hard)
    return {"same": str(path), "relative": f"./{path.name}",
            "dotdot": f"{path.parent.name}/../{path.parent.name}/{path.name}",
            "symlink": str(link), "hardlink": str(hard)}


@pytest.mark.parametrize("name", WITH_O)
def test_output_naming_the_input_is_refused(work: Path, name: str) -> None:
    source, argv = writer(name, work)
    before = sha(source)
    names = spellings(source)
    for how, spelled in names.items():
        cwd = work.parent if how == "dotdot" else work
        result = cli(*argv(["-o", spelled]), cwd=cwd)
        assert result.returncode == 2, (how, result.stdout, result.stderr)
        assert "--in-place" in one_line(result), how
        assert sha(source) == before, how
    assert Path(names["symlink"]).is_symlink()
    assert [p.name for p in work.iterdir() if p.name.startswith(".")] == []


def test_fs_get_onto_the_firmware_is_refused(work: Path) -> None:
    image = fs_image(work)
    before = sha(image)
    for target in (str(image), f"./{image.name}"):
        result = cli("fs", str(image), "get", "/hello.py", target, cwd=work)
        assert result.returncode == 2 and "--in-place" in one_line(result)
    assert sha(image) == before
    result = cli("fs", str(image), "get", "/hello.py", str(work / "copy.py"))
    assert result.returncode == 0, result.stderr
    assert (work / "copy.py").read_text() == "print('hello')\n"


def test_merge_output_naming_any_part_is_refused(work: Path) -> None:
    _, argv = writer("merge", work)
    boot = work / "esp32-bootloader.bin"
    before = sha(boot)
    result = cli(*argv(["-o", str(boot)]))
    assert result.returncode == 2 and "--in-place" in one_line(result)
    assert sha(boot) == before


def test_fs_put_output_naming_a_source_is_refused(work: Path) -> None:
    hello = work / "hello.py"
    result = cli("fs", str(work / FW), "-o", str(hello), "put", str(hello), "/")
    assert result.returncode == 2 and "--in-place" in one_line(result)
    assert hello.read_text() == "print('hello')\n"


# --------------------------------------------------------------------- item 7: --in-place
@pytest.mark.parametrize("name", IN_PLACE)
def test_in_place_through_a_symlink_rewrites_the_target_and_keeps_the_link(
        work: Path, name: str) -> None:
    source, argv = writer(name, work)
    before = sha(source)
    link = work / "via-link.bin"
    link.symlink_to(source.name)
    args = [str(link) if a == str(source) else a for a in argv(["--in-place"])]
    result = cli(*args)
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == source.name
    assert sha(source) != before
    assert Image.open(source).valid


@pytest.mark.parametrize("name", IN_PLACE)
def test_in_place_keeps_hard_links_and_the_mode(work: Path, name: str) -> None:
    source, argv = writer(name, work)
    other = work / "other-name.bin"
    os.link(source, other)
    source.chmod(0o640)
    inode = source.stat().st_ino
    result = cli(*argv(["--in-place"]))
    assert result.returncode == 0, result.stderr
    assert source.stat().st_ino == inode and source.stat().st_nlink == 2
    assert other.read_bytes() == source.read_bytes()
    assert Image.open(other).valid
    assert stat.S_IMODE(source.stat().st_mode) == 0o640
    assert [p.name for p in work.iterdir() if p.name.startswith(".")] == []


def test_replacing_an_existing_output_keeps_its_mode(work: Path) -> None:
    out = work / "out.bin"
    out.write_bytes(b"old")
    out.chmod(0o600)
    result = cli("flash-params", "--size", "8MB", "-o", str(out), str(work / FW))
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600 and Image.open(out).valid


# --------------------------------------------------------------------- item 7: devices, FIFOs
@pytest.mark.parametrize("name", ["retable", "flash-params", "extract", "merge"])
def test_dev_null_is_written_through_not_renamed_over(work: Path, name: str) -> None:
    _, argv = writer(name, work)
    result = cli(*argv(["-o", os.devnull]))
    assert result.returncode == 0, result.stderr
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
    assert [p.name for p in work.iterdir() if p.name.startswith(".")] == []


def test_fifo_is_written_through_after_verification(work: Path) -> None:
    fifo = work / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    try:
        result = run("flash-params", "--size", "8MB", "-o", str(fifo), str(work / FW))
    finally:
        reader.join(timeout=30)
    assert result.returncode == 0, result.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    image = Image.from_bytes(received[0])
    assert image.valid and image.bootloader is not None
    assert image.bootloader.flash_size == 8 * 1024 * 1024


def test_dev_stdout_gets_the_bytes_and_the_report_goes_to_stderr(work: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "esp_image", "flash-params", "--size", "8MB",
                           "-o", "/dev/stdout", str(work / FW)], capture_output=True,
                          check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    image = Image.from_bytes(proc.stdout)
    assert image.valid and image.bootloader is not None
    assert image.bootloader.flash_size == 8 * 1024 * 1024
    assert proc.stderr.startswith(b"wrote /dev/stdout")


def test_fifo_nobody_reads_is_refused_without_hanging(work: Path) -> None:
    fifo = work / "pipe"
    os.mkfifo(fifo)
    started = time.monotonic()
    result = run("flash-params", "--size", "8MB", "-o", str(fifo), str(work / FW))
    assert time.monotonic() - started < 30
    assert result.returncode == 2 and "no process reads it" in one_line(result)
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_damaged_output_never_reaches_a_device(tmp_path: Path) -> None:
    data = bytearray((FIXTURES / "esp32-app.bin").read_bytes())
    data[0x3000] ^= 1
    with pytest.raises(VerificationFailed):
        write_atomic(os.devnull, bytes(data))


# --------------------------------------------------------------------- item 8: default names
@pytest.mark.parametrize("name", WITH_DEFAULT_NAME)
def test_default_output_name_never_replaces_a_file(work: Path, name: str) -> None:
    _, argv = writer(name, work)
    before = {p.name for p in work.iterdir()}
    first = cli(*argv([]))
    assert first.returncode == 0, first.stderr
    made = [work / n for n in {p.name for p in work.iterdir()} - before]
    assert len(made) == 1, made
    default = made[0]
    default.write_bytes(b"someone else's file")
    again = cli(*argv([]))
    assert again.returncode == 2
    line = one_line(again)
    assert "-o" in line and "--force" in line and default.name in line
    assert default.read_bytes() == b"someone else's file"
    forced = cli(*argv(["--force"]))
    assert forced.returncode == 0, forced.stderr
    assert default.read_bytes() != b"someone else's file"


def test_explicit_output_replaces_an_existing_file(work: Path) -> None:
    out = work / "out.bin"
    out.write_bytes(b"old")
    result = cli("flash-params", "--size", "8MB", "-o", str(out), str(work / FW))
    assert result.returncode == 0, result.stderr
    assert Image.open(out).valid


def test_fast_path_and_typer_agree_on_force(work: Path) -> None:
    from esp_image.entry import _parse_fast

    parsed = _parse_fast("retable", ["-f", "8MB", "--force", "x.bin"])
    assert parsed is not None and parsed[1]["force"] is True


# --------------------------------------------------------------------- item 10: no change
def test_a_change_that_changes_nothing_writes_nothing(work: Path) -> None:
    fw = work / FW
    before = sorted(p.name for p in work.iterdir())
    for argv in (["flash-params", "--size", "4MB", str(fw)],
                 ["retable", "-f", "4MB", str(fw)],
                 ["flash-params", "--size", "4MB", "-o", str(work / "out.bin"), str(fw)]):
        result = cli(*argv)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("nothing to change"), result.stdout
        assert "wrote" not in result.stdout and "esptool" not in result.stdout
    assert sorted(p.name for p in work.iterdir()) == before


def test_nothing_to_change_in_json(work: Path) -> None:
    result = cli("flash-params", "--size", "4MB", "--json", str(work / FW))
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["actions"] == [] and doc["written"] is False and doc["changed"] is False
    changed = json.loads(run("flash-params", "--size", "8MB", "--json", str(work / FW)).stdout)
    assert changed["written"] is True and changed["changed"] is True and changed["actions"]


def test_in_place_without_a_change_leaves_the_file_alone(work: Path) -> None:
    fw = work / FW
    os.utime(fw, (1_000_000_000, 1_000_000_000))
    inode = fw.stat().st_ino
    result = cli("flash-params", "--size", "4MB", "--in-place", str(fw))
    assert result.returncode == 0 and result.stdout.startswith("nothing to change")
    assert fw.stat().st_ino == inode and fw.stat().st_mtime == 1_000_000_000


def test_fs_change_that_changes_nothing(work: Path) -> None:
    image = fs_image(work)
    assert cli("fs", str(image), "--in-place", "mkdir", "/lib").returncode == 0
    before = sha(image)
    result = cli("fs", str(image), "--in-place", "mkdir", "/lib")
    assert result.returncode == 0 and result.stdout.startswith("nothing to change")
    assert sha(image) == before


def test_retable_flash_size_zero_is_a_usage_error(work: Path) -> None:
    before = sorted(p.name for p in work.iterdir())
    result = cli("retable", "-f", "0", str(work / FW))
    assert result.returncode == 2 and "not a flash size" in one_line(result)
    assert sorted(p.name for p in work.iterdir()) == before


# --------------------------------------------------------------------- item 11: verification
def test_extracted_filesystem_is_verified_as_a_filesystem(work: Path) -> None:
    image = fs_image(work)
    out = work / "vfs.bin"
    result = cli("extract", str(image), "vfs", "-o", str(out))
    assert result.returncode == 0, result.stderr
    extracted = Image.open(out)
    assert extracted.kind == "filesystem" and extracted.valid


def test_extracting_a_damaged_filesystem_is_refused_unless_raw(work: Path) -> None:
    image = fs_image(work)
    data = bytearray(image.read_bytes())
    vfs = 0x200000 - 0x1000  # file offset of flash 0x200000 (the file starts at 0x1000)
    for block in (0, 0x1000):  # both superblock copies
        data[vfs + block + 0x10] ^= 0xFF
    image.write_bytes(bytes(data))
    out = work / "vfs.bin"
    result = cli("extract", str(image), "vfs", "-o", str(out))
    assert result.returncode == 1
    assert "does not verify" in one_line(result) and "--raw" in result.stderr
    assert not out.exists()
    assert cli("extract", str(image), "vfs", "--raw", "-o", str(out)).returncode == 0
    assert out.read_bytes() == bytes(data[vfs:vfs + 0x200000])


def test_verify_bytes_accepts_unmodelled_data_only_when_asked() -> None:
    nvs_like = bytes(range(256)) * 16
    verify_bytes(nvs_like, allow_unknown=True)
    with pytest.raises(VerificationFailed):
        verify_bytes(nvs_like)
    app = bytearray((FIXTURES / "esp32-app.bin").read_bytes())
    app[0x3000] ^= 1
    with pytest.raises(VerificationFailed):  # recognised, so it must pass its checks
        verify_bytes(bytes(app), allow_unknown=True)


def test_table_csv_output_is_verified_by_compiling_it_back(
        work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from esp_image.partition_table import PartitionTable

    real = PartitionTable.to_csv
    monkeypatch.setattr(PartitionTable, "to_csv",
                        lambda self: real(self).replace("ota_1", "ota_9"))
    out = work / "t.csv"
    code = parts.table(str(work / "partitions-4MiB-ota.bin"), output=str(out),
                       offset="0x8000", flash_size=None, json=False)
    assert code == 1 and not out.exists()


def test_keygen_public_key_may_not_overwrite_the_private_key(tmp_path: Path) -> None:
    pytest.importorskip("cryptography")
    key = tmp_path / "priv.key"
    result = run("yaota", "keygen", "-o", str(key), "--pub", str(key))
    assert result.returncode == 2 and "--pub" in one_line(result)
    assert not key.exists()


# --------------------------------------------------------------------- item 13: signals
_SLOW_WRITE = """
import os, sys, time
import esp_image.io as io
marker, argv = sys.argv[1], sys.argv[2:]
real = os.fsync
def slow(fd):
    real(fd)
    open(marker, "w").close()  # the temporary file is complete on disk now
    time.sleep(60)
io.os.fsync = slow
{run}
"""
_CLI = "from esp_image.entry import main\nsys.argv = ['esp-image', *argv]\nmain()\n"
_LIBRARY = "io.write_atomic(argv[0], open(argv[1], 'rb').read())\n"


def kill_mid_write(work: Path, sig: int, code: str, *argv: str) -> subprocess.CompletedProcess[str]:
    marker = work / "writing"
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_WRITE.format(run=code), str(marker),
                             *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert [p for p in work.iterdir() if p.name.endswith(".tmp")]  # mid-write indeed
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    marker.unlink()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.mark.parametrize(("sig", "code", "word"), [(signal.SIGTERM, 143, "terminated"),
                                                   (signal.SIGINT, 130, "interrupted")])
@pytest.mark.parametrize("name", ["retable", "fs-put", "extract"])
def test_signal_mid_write_removes_the_temporary_file(work: Path, name: str, sig: int,
                                                      code: int, word: str) -> None:
    _, argv = writer(name, work)
    before = {p.name: sha(p) for p in work.iterdir()}
    result = kill_mid_write(work, sig, _CLI, *argv([]))
    assert result.returncode == code
    assert one_line(result) == f"esp-image: {word}"
    assert {p.name: sha(p) for p in work.iterdir()} == before


def test_signal_mid_in_place_write_keeps_the_input(work: Path) -> None:
    fw = work / FW
    before = sha(fw)
    result = kill_mid_write(work, signal.SIGTERM, _CLI, "flash-params", "--size", "8MB",
                            "--in-place", str(fw))
    assert result.returncode == 143
    assert sha(fw) == before
    assert sorted(p.name for p in work.iterdir() if p.name.startswith(".")) == []


def test_sigterm_during_a_library_write_removes_the_temporary_file(work: Path) -> None:
    """A program using the library (no console script) gets the same clean-up."""
    out = work / "out.bin"
    result = kill_mid_write(work, signal.SIGTERM, _LIBRARY, str(out), str(work / FW))
    assert result.returncode == 143 and "Traceback" not in result.stderr
    assert not out.exists()
    assert [p.name for p in work.iterdir() if p.name.endswith(".tmp")] == []


# --------------------------------------------------------------------- item 21: long names
@pytest.mark.parametrize("length", [200, 240, 255])
def test_long_output_names_work(work: Path, length: int) -> None:
    name = "x" * (length - 4) + ".bin"
    result = cli("flash-params", "--size", "8MB", "-o", name, str(work / FW), cwd=work)
    assert result.returncode == 0, result.stderr
    assert Image.open(work / name).valid


def test_too_long_output_name_is_one_line(work: Path) -> None:
    result = cli("flash-params", "--size", "8MB", "-o", "x" * 300, str(work / FW), cwd=work)
    assert result.returncode == 2 and "name too long" in one_line(result).lower()


# --------------------------------------------------------------------- item 24: retable
def test_retable_prints_the_esptool_command_for_its_output(work: Path) -> None:
    result = cli("retable", "-f", "8MB", str(work / FW))
    assert result.returncode == 0, result.stderr
    out = work / "firmware-esp32-4MB-8MB.bin"
    assert out.exists()
    assert f"esptool --chip esp32 --port PORT write-flash 0x1000 {out}" in result.stdout
    doc = json.loads(run("retable", "-f", "8MB", "--json", "--dry-run", "--force",
                         str(work / FW)).stdout)
    assert doc["write_flash"] == f"esptool --chip esp32 --port PORT write-flash 0x1000 {out}"


def test_retable_command_uses_the_files_base(work: Path) -> None:
    # A dump from flash 0x0: the bootloader region is erased padding before 0x1000.
    dump = work / "dump.bin"
    dump.write_bytes(b"\xff" * 0x1000 + (work / FW).read_bytes())
    out = work / "dump-8.bin"
    result = cli("retable", "-f", "8MB", "-o", str(out), "--json", str(dump))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["write_flash"].endswith(f"write-flash 0x0 {out}")
