"""retable: the headline transformation, against esptool, gen_esp32part and mp-image-tool."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from esp_image import Image
from esp_image.errors import LayoutError
from esp_image.transforms.retable import RetableOptions, retable
from esp_image.units import parse_size

from ..conftest import FIXTURES, corpus_path, corpus_rows, input_path

MPY = "esptool_ESP32_GENERIC-20240602-v1.23.0.bin"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "esp_image", *args], capture_output=True,
                          text=True, check=False, timeout=120, cwd=cwd)


def mp_image_tool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).parent / "mp-image-tool-esp32"
    if not script.exists():
        pytest.skip("mp-image-tool-esp32 is not installed (pip install '.[test]')")
    return subprocess.run([str(script), *args], capture_output=True, text=True, check=False,
                          timeout=120, cwd=cwd)


@pytest.fixture(params=[MPY, "firmware-esp32-4MB.bin"])
def mpy(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """The real MicroPython firmware, and the fixture made with the same 4MB table."""
    path = tmp_path / "firmware.bin"
    shutil.copy(input_path(request.param), path)
    return path


@pytest.fixture
def mpy_large_app(tmp_path: Path) -> Path:
    """The real MicroPython firmware alone: its 1.6MB app is what some refusals need."""
    path = tmp_path / "firmware.bin"
    shutil.copy(corpus_path(MPY), path)
    return path


def _records(table_area: bytes) -> list[bytes]:
    """The partition records (AA 50 ...) of a table area."""
    out = []
    for pos in range(0, 0xC00, 32):
        record = table_area[pos:pos + 32]
        if record[:2] != b"\xaa\x50":
            break
        out.append(record)
    return out


# --------------------------------------------------------------------- issue test 1
@pytest.mark.oracle
def test_retable_8mb_ota_on_real_micropython(mpy: Path) -> None:
    before = hashlib.sha256(mpy.read_bytes()).hexdigest()
    result = run("retable", "-f", "8MB", "--table", "ota", str(mpy))
    assert result.returncode == 0, result.stderr
    out = mpy.with_name("firmware-8MB-OTA.bin")
    assert out.is_file()
    assert hashlib.sha256(mpy.read_bytes()).hexdigest() == before  # input untouched

    image = Image.open(out)
    assert image.valid, [c for c in image.checks if not c.valid]
    assert image.bootloader is not None and image.bootloader.flash_size_name == "8MB"
    data = out.read_bytes()

    # esptool's image-info accepts the bootloader (8MB, hash valid) and the moved app.
    from esptool.bin_image import LoadFirmwareImage

    boot = LoadFirmwareImage("esp32", data[:image.bootloader.end])
    assert boot.flash_size_freq >> 4 == 3  # 8MB
    assert boot.calc_digest == boot.stored_digest
    assert boot.checksum == boot.calculate_checksum()
    ota_0 = next(c for c in image.apps if c.partition.name == "ota_0")
    assert ota_0.image is not None and ota_0.partition.offset == 0x10000
    start = ota_0.partition.offset - 0x1000
    app = LoadFirmwareImage("esp32", data[start:start + ota_0.image.end])
    assert app.calc_digest == app.stored_digest and app.checksum == app.calculate_checksum()
    for name, blob in (("boot.bin", data[:image.bootloader.end]),
                       ("app.bin", data[start:start + ota_0.image.end])):
        (mpy.parent / name).write_bytes(blob)
        info = subprocess.run([str(Path(sys.executable).parent / "esptool"), "image-info",
                               str(mpy.parent / name)], capture_output=True, text=True,
                              check=False)
        assert info.returncode == 0, info.stdout + info.stderr
        assert "(valid)" in info.stdout and "invalid" not in info.stdout.lower()

    # gen_esp32part (esp-idf-defs) parses and verifies the table.
    from esp_idf_defs.partitions import PartitionTable as IdfTable

    idf = IdfTable.from_binary(data[0x7000:0x7C00])
    idf.verify()
    assert [p.name for p in idf] == ["nvs", "otadata", "ota_0", "ota_1", "vfs"]

    # otadata: ota_0 boots, and it is a real record (ota_1 is next for an update).
    assert image.boot is not None and image.boot.slot == 0
    assert image.otadata is not None and image.otadata.entries[0].ota_seq == 1



@pytest.mark.oracle
def test_retable_table_equals_mp_image_tool(mpy: Path) -> None:
    """mp-image-tool-esp32 writes the same table for the same command."""
    assert run("retable", "-f", "8MB", "--table", "ota", str(mpy)).returncode == 0
    data = mpy.with_name("firmware-8MB-OTA.bin").read_bytes()
    theirs = mp_image_tool(str(mpy), "-f", "8M", "--table", "ota", "-o", "theirs.bin",
                           cwd=mpy.parent)
    assert theirs.returncode == 0, theirs.stdout + theirs.stderr
    their_table = (mpy.parent / "theirs.bin").read_bytes()[0x7000:0x7C00]
    assert _records(their_table) == _records(data[0x7000:0x7C00])
    assert their_table[:0xC00][:len(_records(their_table)) * 32 + 32] == \
        data[0x7000:0x7000 + len(_records(their_table)) * 32 + 32]  # records and MD5 record


# --------------------------------------------------------------------- issue test 2
FLASH_FIXTURES = ["firmware-esp32-4MB.bin", "firmware-esp32-lfs.bin", "firmware-esp32s2.bin",
                  "firmware-esp32s3.bin", "firmware-esp32c3.bin", "dump-esp32-0x0-0x40000.bin"]


def _flash_files() -> list[str]:
    return [r["local_file"] for r in corpus_rows()
            if "flash" in r["kind"] and r["chip"].startswith("esp32")] + FLASH_FIXTURES


@pytest.mark.corpus
@pytest.mark.parametrize("name", _flash_files())
@pytest.mark.parametrize("size,source", [("8MB", "ota"), ("16MB", "default")])
def test_every_corpus_flash_file(name: str, size: str, source: str) -> None:
    image = Image.open(input_path(name))
    options = RetableOptions(flash_size=parse_size(size), table=source)
    if image.table is not None and image.table.signature is not None:
        with pytest.raises(LayoutError, match="signed"):
            retable(image, options)
        return
    if any(not c.valid and c.name != "layout" for c in image.checks):
        with pytest.raises(LayoutError, match="damaged"):  # a stale SHA-256 (m5acssr)
            retable(image, options)
        return
    result = retable(image, options)
    after = Image.from_bytes(result.data)
    assert after.valid, [c for c in after.checks if not c.valid]
    assert after.bootloader is not None and after.bootloader.flash_size == parse_size(size)
    assert after.table is not None
    fields = [(p.name, p.type, p.subtype, p.offset, p.size, p.flags)
              for p in after.table.partitions]
    assert fields == [(p.name, p.type, p.subtype, p.offset, p.size, p.flags)
                      for p in result.table.partitions]
    assert any(c.image is not None for c in after.apps)


def test_app_that_cannot_fit_is_refused(mpy_large_app: Path) -> None:
    mpy = mpy_large_app
    result = run("retable", "--table", "ota", "--app-size", "1M", str(mpy))
    assert result.returncode == 1
    assert "refused" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in mpy.parent.iterdir()) == ["firmware.bin"]


def test_partition_past_flash_end_is_refused(mpy: Path) -> None:
    result = run("retable", "-f", "2MB", str(mpy))
    assert result.returncode == 1 and "refused" in result.stderr
    assert sorted(p.name for p in mpy.parent.iterdir()) == ["firmware.bin"]


def test_ota_slots_grow_for_a_large_app(mpy_large_app: Path) -> None:
    mpy = mpy_large_app
    result = run("retable", "-f", "4MB", "--table", "ota", "--json", str(mpy))
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    slots = [p for p in doc["partitions"] if p["subtype"] in ("ota_0", "ota_1")]
    assert all(p["size"] >= 0x198660 and p["size"] % 0x10000 == 0 for p in slots)
    assert any("grow" in n or "grown" in n for n in doc["notes"])
    assert Image.open(doc["output"]).valid


def test_resize_vfs_fill_keeps_filesystem(tmp_path: Path) -> None:
    """-f 8MB --resize vfs=0: vfs keeps its offset, grows, and its contents are kept."""
    src = tmp_path / "fw.bin"
    data = bytearray((FIXTURES / "firmware-esp32-4MB.bin").read_bytes())
    data += b"\xff" * (0x400000 - 0x1000 - len(data))
    data[0x200000 - 0x1000:0x200000 - 0x1000 + 16] = b"littlefs-ish....."[:16]
    src.write_bytes(bytes(data))
    result = run("retable", "-f", "8MB", "--resize", "vfs=0", str(src))
    assert result.returncode == 0, result.stderr
    out = tmp_path / "fw-8MB-resize.bin"
    image = Image.open(out)
    assert image.valid and image.table is not None
    vfs = image.table.find("vfs")
    assert vfs is not None and vfs.offset == 0x200000 and vfs.end == 0x800000
    assert out.read_bytes()[0x1FF000:0x1FF010] == bytes(data[0x1FF000:0x1FF010])


def test_dry_run_and_in_place(mpy: Path) -> None:
    before = mpy.read_bytes()
    result = run("retable", "-f", "8MB", "--table", "ota", "--dry-run", str(mpy))
    assert result.returncode == 0 and "would write" in result.stdout and "otadata" in result.stdout
    assert sorted(p.name for p in mpy.parent.iterdir()) == ["firmware.bin"]
    result = run("retable", "-f", "8MB", "--table", "ota", "--in-place", str(mpy))
    assert result.returncode == 0, result.stderr
    assert mpy.read_bytes() != before and Image.open(mpy).valid
    assert sorted(p.name for p in mpy.parent.iterdir()) == ["firmware.bin"]


def test_output_names(mpy: Path) -> None:
    for args, name in ((["--table", "default"], "firmware-DEFAULT.bin"),
                       (["--resize", "vfs=0", "-f", "8MB"], "firmware-8MB-resize.bin")):
        result = run("retable", *args, str(mpy))
        assert result.returncode == 0, result.stderr
        assert (mpy.parent / name).is_file()
        assert "=" not in name and "," not in name


def test_csv_source(mpy: Path) -> None:
    csv = mpy.parent / "parts.csv"
    csv.write_text("# custom\nnvs, data, nvs, , 24K\nphy_init, data, phy, , 4K\n"
                   "factory, app, factory, 0x10000, 2M\nvfs, data, fat, , 1M\n"
                   "romfs, data, 0x8f, , 128K\n")
    result = run("retable", "--table", str(csv), "-f", "4MB", str(mpy))
    assert result.returncode == 0, result.stderr
    image = Image.open(mpy.with_name("firmware-4MB-CSV.bin"))
    assert image.valid and image.table is not None
    assert [p.name for p in image.table.partitions][-1] == "romfs"


def test_retable_refuses_non_flash_input() -> None:
    from esp_image.errors import InputError

    with pytest.raises(InputError, match="merged firmware"):
        retable(Image.open(FIXTURES / "esp32-app.bin"), RetableOptions(flash_size=0x800000))


@pytest.mark.corpus
@pytest.mark.parametrize("chip", ["esp32s2", "esp32s3", "esp32c3", "esp32c6", "esp32p4"])
@pytest.mark.parametrize("options", [RetableOptions(flash_size=0x800000, table="ota"),
                                     RetableOptions(flash_size=0x1000000, table="micropython"),
                                     RetableOptions(resize=(("factory", 0),))],
                         ids=["8MB-ota", "16MB-micropython", "resize-factory"])
def test_every_chip(chip: str, options: RetableOptions) -> None:
    """Merged files for chips whose bootloader sits at 0x0, 0x1000 and 0x2000."""
    from esp_image import chips as chip_table

    boot = corpus_path(f"esf_{chip}_bootloader.bin").read_bytes()
    app = corpus_path(f"esf_{chip}_hello_world.bin").read_bytes()
    table = corpus_path("esf_partition-table.bin").read_bytes()
    base = chip_table.chip_by_name(chip).bootloader_offset
    data = bytearray(b"\xff" * (0x10000 + len(app) - base))
    data[:len(boot)] = boot
    data[0x8000 - base:0x8000 - base + len(table)] = table
    data[0x10000 - base:] = app
    result = retable(Image.from_bytes(bytes(data)), options)
    after = Image.from_bytes(result.data)
    assert after.valid and after.chip is not None and after.chip.name == chip
    app_found = [c.image for c in after.apps if c.image is not None]
    assert len(app_found) == 1
    moved = app_found[0].to_bytes()
    if options.flash_size is None:
        assert moved == app  # moved unchanged
    else:  # only the header's size nibble and the SHA-256 differ
        assert len(moved) == len(app)
        assert [i for i in range(len(app)) if moved[i] != app[i] and i != 3] == [
            i for i in range(len(app) - 32, len(app)) if moved[i] != app[i]]
    if options.table is not None:
        assert after.boot is not None and after.boot.slot == 0
