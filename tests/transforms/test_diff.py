"""esp-image diff: semantic differences between two files, on corpus pairs and fixtures."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from esp_image import Image
from esp_image.app_image import AppImage
from esp_image.cli import inspect
from esp_image.cli.app import add_command
from esp_image.cli.diff_render import diff_blocks, show
from esp_image.cli.render import Table, plain
from esp_image.diff import Change, Diff, diff
from esp_image.otadata import OtaData

from ..conftest import corpus_path, fixture_path, input_path

USER1 = "nonos306_at_user1.1024.new.2.bin"
USER2 = "nonos306_at_user2.1024.new.2.bin"
UNSIGNED = "khiem_YOLO_BIT-unsigned.bin"
SIGNED = "khiem_YOLO_BIT_sbv1_signed.bin"
MPY_123 = "esptool_ESP32_GENERIC-20240602-v1.23.0.bin"
MPY_119 = "tjc_mpy_esp32-20220618-v1.19.1.bin"


def changes(d: Diff, section: str) -> dict[str, Change]:
    """The changes of one section by field (fields are unique within a section)."""
    found = d.find(section)
    by_field = {c.field: c for c in found}
    assert len(by_field) == len(found), found
    return by_field


def pair(d: Diff, section: str, field: str) -> tuple[object, object]:
    (change,) = d.find(section, field)
    return change.before, change.after


# --------------------------------------------------------------------- corpus pairs
@pytest.mark.corpus
def test_user1_vs_user2_reports_marker_irom_link_and_crc() -> None:
    d = diff(Image.open(corpus_path(USER1)), Image.open(corpus_path(USER2)))
    assert not d.equal
    assert pair(d, "esp8266", "user") == (1, 2)
    assert pair(d, "esp8266", "irom address") == (0x40201010, 0x40281010)
    assert pair(d, "esp8266", "crc32") == (0x74A62BB4, 0x70DFAEB4)
    assert d.find("esp8266", "crc32")[0].detail == "both valid"
    # Same format, variant, sizes, flash parameters and segment layout.
    assert set(d.sections) == {"esp8266", "segments"}
    assert "irom size" not in changes(d, "esp8266")
    assert all(c.before == c.after for c in d.find("segments"))
    assert all(c.detail == "same size, contents differ" for c in d.find("segments"))


@pytest.mark.corpus
def test_user_pair_is_symmetric() -> None:
    a, b = Image.open(corpus_path(USER1)), Image.open(corpus_path(USER2))
    forward, backward = diff(a, b), diff(b, a)
    assert [(c.section, c.field, c.after, c.before) for c in forward.changes] == [
        (c.section, c.field, c.before, c.after) for c in backward.changes]


@pytest.mark.corpus
def test_signed_vs_unsigned_reports_only_the_signature() -> None:
    unsigned, signed = Image.open(corpus_path(UNSIGNED)), Image.open(corpus_path(SIGNED))
    d = diff(unsigned, signed)
    assert not d.equal
    assert d.changes == (Change("signature", "scheme", None, "sbv1",
                                "added: sbv1 at 0xdffb0, 68 bytes"),)
    back = diff(signed, unsigned)
    assert len(back.changes) == 1
    assert back.changes[0].before == "sbv1"
    assert back.changes[0].after is None
    assert back.changes[0].detail.startswith("removed")


@pytest.mark.corpus
def test_two_micropython_versions() -> None:
    new, old = Image.open(corpus_path(MPY_123)), Image.open(corpus_path(MPY_119))
    d = diff(new, old)
    assert not d.equal
    desc = changes(d, "app[factory].descriptor")
    assert (desc["idf"].before, desc["idf"].after) == ("v5.0.4", "v4.2.2")
    assert (desc["date"].before, desc["date"].after) == ("Jun  2 2024", "Jun 18 2022")
    assert "time" in desc
    assert "elf_sha256" in desc
    assert "project" not in desc  # MicroPython leaves it empty in both
    app = changes(d, "app[factory]")
    assert (app["length"].before, app["length"].after) == (0x198660, 0x16E190)
    assert app["length"].detail == "-0x2a4d0"
    assert app["max chip rev"].after == "not set"
    assert "bootloader" in d.sections  # another ESP-IDF bootloader
    segs = changes(d, "app[factory].segments")
    assert segs["0x400d0020 IROM"].detail.startswith("resized")
    assert any(c.detail.startswith("added") for c in segs.values())
    # The partition table is identical, and so are kind, chip, base and flash parameters.
    for section in ("partitions", "otadata", "kind", "file", "bootloader.flash",
                    "app[factory].flash"):
        assert section not in d.sections, section


@pytest.mark.corpus
def test_retable_output_vs_input() -> None:
    from esp_image.transforms.retable import RetableOptions, retable

    before = Image.open(corpus_path(MPY_123))
    result = retable(before, RetableOptions(flash_size=0x800000, table="ota"))
    after = Image.from_bytes(result.data, path="retabled.bin")
    d = diff(before, after)
    assert pair(d, "bootloader.flash", "size") == ("4MB", "8MB")
    parts = changes(d, "partitions")
    # factory and ota_0 share offset 0x10000: matched by offset, reported as a rename.
    assert (parts["factory.name"].before, parts["factory.name"].after) == ("factory", "ota_0")
    assert (parts["factory.type"].before, parts["factory.type"].after) == (
        "app/factory", "app/ota_0")
    assert parts["vfs.offset"].detail.startswith("moved +")
    assert parts["vfs.size"].detail.startswith("resized +")
    assert parts["ota_1"].before is None
    assert parts["ota_1"].after == {"name": "ota_1", "type": "app", "subtype": "ota_1",
                                    "offset": 0x210000, "size": 0x200000, "flags": []}
    assert parts["otadata"].before is None
    assert parts["otadata"].detail.startswith("added: data/ota")
    ota = changes(d, "otadata")
    assert (ota["otadata"].before, ota["otadata"].after) == (None, "present")
    assert (ota["boots"].before, ota["boots"].after) == ("factory", "ota_0 (ota_0)")
    # The app itself did not move; only its header's flash size was rewritten.
    assert changes(d, "app[factory->ota_0]") == {}
    assert pair(d, "app[factory->ota_0].flash", "size") == ("4MB", "8MB")
    assert "app[factory->ota_0].segments" not in d.sections
    assert "kind" not in d.sections


@pytest.mark.corpus
@pytest.mark.parametrize("name", [USER1, SIGNED, MPY_119, "esp8266-user1.bin",
                                  "bootloader-sbv1-signed.bin", "firmware-esp32-4MB.bin"])
def test_file_vs_itself_and_a_copy(name: str, tmp_path: Path) -> None:
    path = input_path(name)
    copy = tmp_path / "copy.bin"
    shutil.copy(path, copy)
    for other in (path, copy):
        d = diff(Image.open(path), Image.open(other))
        assert d.equal
        assert d.changes == ()
        assert d.to_dict()["changes"] == []
        assert d.summary.startswith("identical")


@pytest.mark.corpus
def test_esp8266_flash_regions() -> None:
    nodemcu = Image.open(corpus_path("esptool_test_nodemcu-master-7-modules-2017-01-19-"
                                     "integer.bin"))
    irom = next(r for r in nodemcu.regions if r.name == "irom0")
    data = bytearray(nodemcu.data)
    data[irom.offset + 0x100] ^= 0xFF
    d = diff(nodemcu, Image.from_bytes(bytes(data)))
    assert d.changes == (Change("regions", "irom0.contents", irom.size, irom.size,
                                "contents differ"),)
    data = bytearray(nodemcu.data)
    data[0x100] ^= 0xFF  # inside the eagle.flash image's first segment
    d = diff(nodemcu, Image.from_bytes(bytes(data)))
    assert pair(d, "image[eagle.flash]", "checksum") == ("valid", "INVALID")
    assert "image[eagle.flash].segments" in d.sections


@pytest.mark.corpus
def test_sbv2_vs_sbv1_bootloaders() -> None:
    d = diff(Image.open(corpus_path("esptool_test_bootloader_multi_signed_v2_rsa.bin")),
             Image.open(corpus_path("esptool_test_bootloader_signed_sbv1.bin")))
    sig = changes(d, "signature")
    assert (sig["scheme"].before, sig["scheme"].after) == ("sbv2-rsa", "sbv1")
    assert (sig["blocks"].before, sig["blocks"].after) == (3, 0)
    assert "bootloader" in d.sections  # single bootloader images: header section named so


# --------------------------------------------------------------------- fixtures
def test_fixture_tables_rows() -> None:
    plain_table = Image.open(fixture_path("partitions-4MiB.bin"))
    ota_table = Image.open(fixture_path("partitions-4MiB-ota.bin"))
    d = diff(plain_table, ota_table)
    assert set(d.sections) == {"partitions"}
    parts = changes(d, "partitions")
    # factory and ota_0 both start at 0x10000: matched by offset (a rename), not remove + add.
    assert (parts["factory.name"].before, parts["factory.name"].after) == ("factory", "ota_0")
    assert parts["factory.size"].detail == "resized -0x70000"
    assert (parts["nvs.size"].before, parts["nvs.size"].after) == (0x6000, 0x4000)
    assert (parts["vfs.offset"].before, parts["vfs.offset"].after) == (0x200000, 0x310000)
    for name in ("otadata", "ota_1"):
        assert parts[name].before is None, name
        assert parts[name].detail.startswith("added"), name
    assert not [f for f in parts if f.startswith("phy_init")]  # unchanged row
    assert "order" not in parts
    back = changes(diff(ota_table, plain_table), "partitions")
    assert back["ota_1"].after is None and back["ota_1"].detail.startswith("removed")


def test_table_rows_flags_order_and_md5() -> None:
    original = Image.open(fixture_path("partitions-4MiB.bin"))
    table = original.table
    assert table is not None
    nvs, phy, factory, vfs = table.partitions
    edited = replace(table, partitions=(phy, nvs, factory, replace(vfs, name="ffat", flags=1)))
    d = diff(original, Image.from_bytes(edited.to_bytes()))
    parts = changes(d, "partitions")
    assert (parts["vfs.name"].before, parts["vfs.name"].after) == ("vfs", "ffat")
    assert parts["vfs.flags"].after == "encrypted"
    assert parts["order"].before == ["nvs", "phy_init", "factory", "vfs"]
    assert parts["order"].after == ["phy_init", "nvs", "factory", "ffat"]
    assert "md5" not in parts  # rebuilt with a fresh MD5
    data = bytearray(original.data)
    data[0x80 + 20] ^= 1  # a byte of the stored MD5 digest
    broken = diff(original, Image.from_bytes(bytes(data)))
    assert pair(broken, "partitions", "md5") == ("valid", "INVALID")


def test_fixture_app_header_fields() -> None:
    app = Image.open(fixture_path("esp32-app.bin"))
    firmware = app.firmware
    assert isinstance(firmware, AppImage)
    header = replace(firmware.header, spi_mode=3, entry_addr=firmware.header.entry_addr + 4,
                     max_chip_rev_full=0)
    edited = Image.from_bytes(replace(firmware, header=header).to_bytes())
    d = diff(app, edited)
    assert pair(d, "flash", "mode") == ("dio", "dout")
    assert pair(d, "app", "entry") == (firmware.header.entry_addr,
                                       firmware.header.entry_addr + 4)
    assert pair(d, "app", "max chip rev")[1] == "not set"
    assert "sha256" not in changes(d, "app")  # rebuilt with a fresh SHA-256: still valid
    assert "segments" not in d.sections


def test_fixture_header_byte_edit_breaks_sha() -> None:
    app = Image.open(fixture_path("esp32-app.bin"))
    data = bytearray(app.data)
    data[3] = (data[3] & 0x0F) | 0x30  # flash size nibble: 4MB -> 8MB, SHA-256 not updated
    d = diff(app, Image.from_bytes(bytes(data)))
    assert pair(d, "flash", "size") == ("4MB", "8MB")
    assert pair(d, "app", "sha256") == ("valid", "INVALID")
    assert pair(d, "file", "verdict") == ("valid", "INVALID")


def test_fixture_segment_contents_change() -> None:
    app = Image.open(fixture_path("esp32-app.bin"))
    assert app.firmware is not None
    seg = app.firmware.segments[-1]
    data = bytearray(app.data)
    data[seg.data_offset + 10] ^= 0xFF
    d = diff(app, Image.from_bytes(bytes(data)))
    segs = d.find("segments")
    assert len(segs) == 1
    assert segs[0].field.startswith(f"{seg.load_addr:#010x}")
    assert segs[0].detail == "same size, contents differ"
    assert pair(d, "app", "checksum") == ("valid", "INVALID")


def test_fixture_otadata_switch() -> None:
    path = fixture_path("otadata-ota0.bin")
    before = Image.open(path)
    assert before.otadata is not None
    switched = before.otadata.switch(1, ota_slot_count=2)
    d = diff(before, Image.from_bytes(switched.to_bytes()))
    ota = changes(d, "otadata")
    assert ota["copy 1"].before == "erased"
    assert str(ota["copy 1"].after).startswith("seq 2")
    assert (ota["boots"].before, ota["boots"].after) == ("ota_0", "ota_1")
    # 8 KiB of 0xFF is erased otadata (ota_data_initial.bin), so the records differ
    erased = diff(before, Image.from_bytes(OtaData.erased().to_bytes()))
    assert changes(erased, "otadata")["copy 0"].after == "erased" and not erased.equal


def test_fixture_app_vs_merged_firmware_holding_it() -> None:
    app = Image.open(fixture_path("esp32-app.bin"))
    merged = Image.open(fixture_path("firmware-esp32-4MB.bin"))
    d = diff(app, merged)
    assert pair(d, "kind", "kind") == ("image", "flash")
    assert d.find("bootloader", "image")[0].before is None
    assert pair(d, "partitions", "table") == (None, "4 partitions")
    # The app inside the merged file is the same app: nothing under "app".
    assert not [s for s in d.sections if s.startswith("app")]
    firmware = app.firmware
    assert isinstance(firmware, AppImage)
    edited = replace(firmware, header=replace(firmware.header, spi_mode=3))
    d = diff(Image.from_bytes(edited.to_bytes()), merged)
    assert pair(d, "app.flash", "mode") == ("dout", "dio")


def test_fixture_flash_data_partition_contents() -> None:
    merged = Image.open(fixture_path("firmware-esp32-4MB.bin"))
    assert merged.base is not None and merged.table is not None
    nvs = merged.table.find("nvs")
    assert nvs is not None
    data = bytearray(merged.data)
    data[nvs.offset - merged.base + 5] = 0
    d = diff(merged, Image.from_bytes(bytes(data)))
    assert d.changes == (Change("partitions", "nvs.contents", "erased", "data"),)


@pytest.mark.parametrize("name", ["esp32-app.bin", "esp32-bootloader.bin",
                                  "firmware-esp32-4MB.bin", "partitions-4MiB-ota.bin",
                                  "otadata-ota0.bin", "app-esp32c6-sbv2-signed.bin",
                                  "esp8266-nonos-flash-512K.bin", "esp8266-rboot-flash-512K.bin",
                                  "esp8266-yaota8266-initial.bin", "esp8266-firmware-ota.ota"])
def test_any_byte_change_gives_a_change(name: str) -> None:
    original = Image.open(fixture_path(name))
    size = original.size
    for offset in sorted({0, 1, 2, 3, 23, size // 3, size // 2, size - 33, size - 1,
                          *range(7, size, max(1, size // 23))}):
        data = bytearray(original.data)
        data[offset] ^= 0x5A
        d = diff(original, Image.from_bytes(bytes(data)))
        assert not d.equal, offset
        assert d.changes, offset
        json.dumps(d.to_dict())  # every value is JSON-friendly


def test_bytes_fallback_for_unmodelled_data() -> None:
    a = Image.from_bytes(bytes(100))
    b = Image.from_bytes(bytes(99) + b"\x01")
    d = diff(a, b)
    assert d.changes == (Change("file", "bytes", 100, 100,
                                "first difference at offset 0x63; 1 of 0x64 compared bytes "
                                "differ"),)
    longer = diff(Image.from_bytes(b"\xff" * 100), Image.from_bytes(b"\xff" * 0x30000))
    (change,) = longer.changes
    assert change.field == "bytes"
    assert "the first 0x64 bytes are identical" in change.detail
    assert "B has 0x2ff9c more bytes" in change.detail


def test_trailing_bytes_after_a_single_image() -> None:
    app = Image.open(fixture_path("esp32-app.bin"))
    d = diff(app, Image.from_bytes(bytes(app.data) + b"\xff" * 0x1000))
    assert pair(d, "file", "trailing bytes") == (0, 0x1000)


# --------------------------------------------------------------------- rendering
def test_diff_blocks_table_and_summary() -> None:
    plain_table = Image.open(fixture_path("partitions-4MiB.bin"))
    ota_table = Image.open(fixture_path("partitions-4MiB-ota.bin"))
    d = diff(plain_table, ota_table)
    blocks = diff_blocks(d)
    tables = [b for b in blocks if isinstance(b, Table)]
    assert len(tables) == 1
    assert tables[0].columns[:4] == ["Section", "Field", "A", "B"]
    assert len(tables[0].rows) == len(d.changes)
    assert blocks[-1] == f"different: {d.summary}"
    assert d.summary.startswith(f"{len(d.changes)} changes in 1 section: partitions")
    text = plain(blocks)
    assert "app/ota_1 at 0x190000, 0x180000" in text
    assert "0x1f0000 (1.9MB)" in text
    same = diff_blocks(diff(plain_table, plain_table))
    assert not [b for b in same if isinstance(b, Table)]
    assert same[-1] == "equal: identical (3072 bytes)"


def test_show_formats_values() -> None:
    assert show(None) == "-"
    assert show(True) == "yes"
    assert show(3) == "3"
    assert show(0x40080000, "entry") == "0x40080000"
    assert show(0x1F0000, "factory.size") == "0x1f0000 (1.9MB)"
    assert show("a" * 64).endswith("a" * 8) and len(show("a" * 64)) < 64


# --------------------------------------------------------------------- command line
def cli() -> typer.Typer:
    app = typer.Typer()
    add_command(app, inspect.diff, "diff")

    @app.command("other")
    def _other() -> None:  # a second command keeps "diff" a subcommand
        """Unused."""

    return app


runner = CliRunner()


def test_cli_equal_exits_0() -> None:
    path = str(fixture_path("esp32-app.bin"))
    result = runner.invoke(cli(), ["diff", path, path])
    assert result.exit_code == 0, result.output
    assert "identical" in result.output


def test_cli_different_exits_1_with_table() -> None:
    a, b = fixture_path("partitions-4MiB.bin"), fixture_path("partitions-4MiB-ota.bin")
    result = runner.invoke(cli(), ["diff", str(a), str(b)])
    assert result.exit_code == 1, result.output
    assert "Changes" in result.output
    assert "Section" in result.output and "partitions" in result.output
    assert result.output.rstrip().splitlines()[-1].startswith("different: ")


def test_cli_json_shape() -> None:
    a, b = str(fixture_path("partitions-4MiB.bin")), str(fixture_path("partitions-4MiB-ota.bin"))
    result = runner.invoke(cli(), ["diff", "--json", a, b])
    assert result.exit_code == 1
    doc = json.loads(result.output)
    assert doc["a"] == a and doc["b"] == b
    assert doc["equal"] is False
    assert doc["sections"] == ["partitions"]
    assert {"a_size", "b_size", "summary", "changes"} <= doc.keys()
    assert doc["changes"]
    for change in doc["changes"]:
        assert set(change) == {"section", "field", "before", "after", "detail"}
    same = runner.invoke(cli(), ["diff", "--json", a, a])
    assert same.exit_code == 0
    assert json.loads(same.output)["equal"] is True
    assert json.loads(same.output)["changes"] == []


def test_cli_quiet() -> None:
    a, b = str(fixture_path("partitions-4MiB.bin")), str(fixture_path("partitions-4MiB-ota.bin"))
    result = runner.invoke(cli(), ["diff", "-q", a, b])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and " differ: " in result.output
    same = runner.invoke(cli(), ["diff", "-q", a, a])
    assert same.exit_code == 0
    assert same.output == ""


def test_cli_missing_file_exits_2(tmp_path: Path) -> None:
    a = str(fixture_path("esp32-app.bin"))
    missing = str(tmp_path / "nope.bin")
    for args in (["diff", a, missing], ["diff", missing, a], ["diff", "--json", a, missing]):
        result = runner.invoke(cli(), args)
        assert result.exit_code == 2, args
        assert "esp-image: error:" in result.output  # CliRunner mixes stderr in
        assert "nope.bin" in result.output


def test_cli_empty_file_exits_2(tmp_path: Path) -> None:
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    result = runner.invoke(cli(), ["diff", str(empty), str(fixture_path("esp32-app.bin"))])
    assert result.exit_code == 2


def test_cli_help_has_example() -> None:
    result = runner.invoke(cli(), ["diff", "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output
