"""No allocation or loop sized by a field in the file (issue 12, items 15 and 16).

A partition table can claim 4 GB partitions, offsets near 4 GB and nearly a hundred
overlapping entries of 127 MB. Every command reading such a table (bare, in a merged firmware,
in a flash dump) must answer in bounded memory and time: regions are clipped to the file and
to the flash, and overlapping entries are not examined again. ``merge`` never allocates more
than the largest flash, and ``--table`` / ``table`` read CSVs through the guarded reader, so a
FIFO or /dev/zero is refused at once.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from esp_image import Image
from esp_image.image import flash_end, readable_size
from esp_image.partition_table import MAX_CSV_SIZE, Partition, PartitionTable
from esp_image.spans import ErasedIndex, is_erased
from esp_image.transforms.fs import locate, region

from ..conftest import FIXTURES
from .test_contract import HANG_TIMEOUT, MAX_RSS_MB, Run, assert_one_clean_line, run

CPU_SECONDS = 1.5
"""Bound on a command's CPU time (start-up included; the measured runs take 0.2-0.6 s). CPU
time, not wall time, so that a loaded machine does not fail the test; before the fix these
runs took tens of seconds or died of MemoryError."""
WALL_SECONDS = 10.0

_BASE_PARTS = [Partition("nvs", 1, 2, 0x9000, 0x6000), Partition("phy_init", 1, 1, 0xF000, 0x1000),
               Partition("factory", 0, 0, 0x10000, 0x1F0000)]
_FAT = 0x81
HOSTILE: dict[str, list[Partition]] = {
    "size 0xFFFE0000": [Partition("vfs", 1, _FAT, 0x200000, 0xFFFE0000)],
    # 3 + 91 = 94 entries, the most a table holds, each 127 MB, staggered over the file's data.
    "94 x 127MB": [Partition("vfs" if i == 0 else f"p{i}", 1, _FAT, 0x200000 + i * 0x1000,
                             127 << 20) for i in range(91)],
    "offsets near 4GB": [Partition("vfs", 1, _FAT, 0x200000, 0x1000),
                         Partition("hi", 1, _FAT, 0xFFFF0000, 0x10000),
                         Partition("wrap", 1, 0x83, 0xFFFFF000, 0xFFFFFFFF)],
    "overlapping huge": [Partition("vfs", 1, _FAT, 0x200000, 0xFFFE0000),
                         Partition("vfs2", 1, 0x83, 0x210000, 0xFFFD0000),
                         Partition("app2", 0, 0x10, 0x200000, 0xFFFE0000)],
}


def _table(extra: list[Partition]) -> bytes:
    return PartitionTable(tuple(_BASE_PARTS + extra), md5=None).to_bytes(md5=True, size=0xC00)


def _merged(extra: list[Partition], *, size_code: int | None = None) -> bytes:
    """The merged fixture with the hostile table, and 1 MB of non-erased data at flash 0x200000
    (so that every hostile data partition starts inside the file and holds something)."""
    out = bytearray((FIXTURES / "firmware-esp32-4MB.bin").read_bytes())
    table = _table(extra)
    out[0x7000:0x7000 + len(table)] = table
    out += b"\xff" * (0x200000 - 0x1000 - len(out)) + bytes(range(256)) * 0x1000
    if size_code is not None:  # a bootloader header claiming another flash size
        boot_end = Image.from_bytes(bytes(out)).bootloader.end  # type: ignore[union-attr]
        out[3] = (out[3] & 0x0F) | size_code << 4
        out[boot_end - 32:boot_end] = hashlib.sha256(bytes(out[:boot_end - 32])).digest()
    return bytes(out)


def _files() -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for case, extra in HOSTILE.items():
        files[f"{case}, bare table"] = _table(extra)
        files[f"{case}, merged"] = _merged(extra)
        files[f"{case}, dump"] = b"\xff" * 0x1000 + _merged(extra)
    # The ESP32 addresses 16 MB at most, whatever its bootloader header says.
    files["size 0xFFFE0000, merged, header says 128MB"] = _merged(HOSTILE["size 0xFFFE0000"],
                                                                   size_code=7)
    return files


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile")
    paths = {}
    for n, (name, data) in enumerate(_files().items()):
        paths[name] = folder / f"hostile-{n}.bin"
        paths[name].write_bytes(data)
    return paths


COMMANDS = {
    "info": lambda f, out: ["info", f],
    "verify": lambda f, out: ["verify", "--json", f],
    "diff": lambda f, out: ["diff", f, str(FIXTURES / "firmware-esp32-4MB.bin")],
    "retable": lambda f, out: ["retable", "--table", "ota", f, "-o", out],
    "extract": lambda f, out: ["extract", f, "vfs", "-o", out],
    "fs ls": lambda f, out: ["fs", f, "ls"],
}
CASES = [(name, command) for name in _files() for command in COMMANDS
         if not (name.endswith("bare table") and command in ("retable", "extract", "fs ls"))]


@pytest.mark.parametrize(("name", "command"), CASES, ids=[f"{n}: {c}" for n, c in CASES])
def test_hostile_table_in_bounded_memory_and_time(hostile: dict[str, Path], tmp_path: Path,
                                                  name: str, command: str) -> None:
    assert_bounded(run(*COMMANDS[command](str(hostile[name]), str(tmp_path / "out.bin")),
                       timeout=60, memory_limit_mb=1024, cwd=tmp_path))


def assert_bounded(result: Run) -> None:
    """A command on hostile input: a report or one clean line, in bounded memory and time."""
    detail = f"exit {result.returncode}\n{result.stdout[-2000:]}\n{result.stderr}"
    assert not result.timed_out, f"hung for {result.seconds:.0f}s"
    assert result.returncode in (0, 1, 2), detail
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, detail
    if result.returncode == 2:
        assert_one_clean_line(result)
    assert result.max_rss_mb < MAX_RSS_MB, f"peak RSS {result.max_rss_mb:.0f} MB"
    assert result.cpu_seconds < CPU_SECONDS, f"{result.cpu_seconds:.1f}s of CPU"
    assert result.seconds < WALL_SECONDS, f"took {result.seconds:.1f}s"


@pytest.mark.parametrize("name", ["size 0xFFFE0000, merged", "overlapping huge, dump"])
def test_hostile_table_is_reported_not_trusted(hostile: dict[str, Path], name: str) -> None:
    """verify fails on the layout (the bootloader rejects such a table) and says so."""
    image = Image.open(hostile[name])
    assert not image.valid
    assert any(i.code == "past-flash-end" for i in image.issues)
    vfs = next(c for c in image.partitions if c.partition.name == "vfs")
    assert vfs.state == "data" and vfs.covered == 0x100000


# ---------------------------------------------------------------------- the clipping itself
def test_flash_end_is_the_smallest_of_header_chip_and_largest_flash() -> None:
    image = Image.open(FIXTURES / "firmware-esp32-4MB.bin")
    assert image.chip is not None
    assert image.flash_end == 4 << 20
    assert flash_end(None, None) == 128 << 20
    assert flash_end(1 << 40, None) == 128 << 20
    assert flash_end(128 << 20, image.chip) == image.chip.max_flash == 16 << 20
    part = Partition("vfs", 1, _FAT, 0x200000, 0xFFFE0000)
    assert readable_size(part, 4 << 20) == 0x200000
    assert readable_size(Partition("hi", 1, _FAT, 0xFFFF0000, 0x10000), 4 << 20) == 0


def test_fs_region_is_clipped_to_the_flash(tmp_path: Path) -> None:
    image = Image.from_bytes(_merged(HOSTILE["size 0xFFFE0000"]))
    target = locate(image)
    assert (target.name, target.size, target.missing) == ("vfs", 0x200000, 0x100000)
    data = region(image, target)
    assert len(data) == 0x200000
    assert data[:0x100000] == bytes(range(256)) * 0x1000 and is_erased(data[0x100000:])
    assert image.partition_bytes(image.table.find("vfs")) == data  # type: ignore[union-attr]


def test_overlapping_partitions_are_examined_for_a_filesystem_once() -> None:
    """The first of two overlapping littlefs partitions is examined, the second not."""
    from esp_image.filesystems import mkfs

    fs = mkfs(0x40000)
    fs.write("/a.txt", b"hello")
    out = bytearray(_merged([Partition("vfs", 1, 0x83, 0x200000, 0x40000),
                             Partition("again", 1, 0x83, 0x200000, 0x40000)]))
    out[0x1FF000:0x1FF000 + 0x40000] = fs.image()
    image = Image.from_bytes(bytes(out))
    found = {c.partition.name: c.filesystem for c in image.partitions}
    assert found["vfs"] is not None and found["vfs"].type == "littlefs"
    assert found["again"] is None
    assert any(i.code == "overlap" for i in image.issues)


@pytest.mark.parametrize("data", [b"", b"\xff", b"\xff" * 0x1000, b"\xff" * 0x2345,
                                  b"\xff" * 0x3000 + b"\0", b"\0" + b"\xff" * 0x3000,
                                  b"\xff" * 0x1800 + b"\1" + b"\xff" * 0x2000])
def test_erased_index_agrees_with_is_erased(data: bytes) -> None:
    index = ErasedIndex(memoryview(data))
    bounds = sorted({0, 1, 0xFFF, 0x1000, 0x1001, 0x1800, 0x1801, 0x2000, 0x3000, len(data)})
    for start in bounds:
        for stop in bounds:
            assert index.erased(start, stop) == is_erased(data[start:stop]), (start, stop)


# ---------------------------------------------------------------------- merge
@pytest.mark.parametrize("args", [["--pad-to", "0x7FFFFFFF"], ["--pad-to", "256MB"],
                                  ["--target-offset", "0"]])
def test_merge_never_allocates_past_the_largest_flash(tmp_path: Path, args: list[str]) -> None:
    part = f"0x1000={FIXTURES / 'esp32-bootloader.bin'}"
    if args[0] == "--target-offset":  # a data part at a high address
        (tmp_path / "data.bin").write_bytes(b"data")
        part = f"0x7FFF0000={tmp_path / 'data.bin'}"
    result = run("merge", "-o", str(tmp_path / "out.bin"), *args, part, memory_limit_mb=1024,
                 cwd=tmp_path)
    assert_one_clean_line(result, mentions="largest flash")
    assert result.max_rss_mb < MAX_RSS_MB, f"peak RSS {result.max_rss_mb:.0f} MB"
    assert not (tmp_path / "out.bin").exists()


def test_merge_pads_to_the_largest_flash(tmp_path: Path) -> None:
    from esp_image.transforms.merge import merge

    boot = (FIXTURES / "esp32-bootloader.bin").read_bytes()
    assert len(merge([(0x1000, boot)], pad_to=128 << 20).data) == 128 << 20


# ---------------------------------------------------------------------- --table sources
def _unusable(tmp_path: Path) -> dict[str, str]:
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    big = tmp_path / "big.csv"
    big.write_text("# a comment\n" * (MAX_CSV_SIZE // 12 + 1))
    return {"FIFO": str(fifo), "/dev/zero": "/dev/zero", "directory": str(tmp_path),
            "huge CSV": str(big)}


@pytest.mark.parametrize("command", ["retable --table", "table"])
@pytest.mark.parametrize("which", ["FIFO", "/dev/zero", "directory", "huge CSV"])
def test_table_csv_read_through_the_guarded_reader(tmp_path: Path, command: str,
                                                   which: str) -> None:
    source = _unusable(tmp_path)[which]
    args = (["retable", "--table", source, str(FIXTURES / "firmware-esp32-4MB.bin"),
             "-o", str(tmp_path / "out.bin")] if command != "table" else ["table", source])
    result = run(*args, timeout=HANG_TIMEOUT, memory_limit_mb=1024, cwd=tmp_path)
    assert_one_clean_line(result)
    assert result.max_rss_mb < MAX_RSS_MB, f"peak RSS {result.max_rss_mb:.0f} MB"
    assert not (tmp_path / "out.bin").exists()


def test_table_source_may_be_any_existing_csv_path(tmp_path: Path) -> None:
    """A CSV named without .csv is read (it used to be an unknown layout name)."""
    from esp_image.layouts import table_from_source

    path = tmp_path / "partitions.txt"
    path.write_text("nvs, data, nvs, 0x9000, 0x6000\nfactory, app, factory, 0x10000, 1M\n")
    table, _ = table_from_source(str(path), 4 << 20)
    assert [p.name for p in table.partitions] == ["nvs", "factory"]
