"""extract() and merge(): esptool merge-bin as the byte-for-byte oracle, corpus round trips.

The oracle is ``esptool.cmds.merge_bin(addr_data, chip, output=None, ...)``, which returns the
merged bytes in esptool 5.x (checked below). esptool is imported lazily, test-only.
"""

from __future__ import annotations

import hashlib
import os

import pytest

from esp_image import Image, chips
from esp_image.app_image import AppImage
from esp_image.errors import (
    EspImageError,
    FormatError,
    InputError,
    LayoutError,
    UsageError,
)
from esp_image.transforms.extract import Extracted, default_extract_name, extract
from esp_image.transforms.merge import MergeResult, merge

from ..conftest import input_path

MPY = ("esptool_ESP32_GENERIC-20240602-v1.23.0.bin", "tjc_mpy_esp32-20220618-v1.19.1.bin")
DUMP = "khiem_flash_dump_0x0_0x20000.bin"

# chip -> (bootloader file, bootloader offset, app file)
CHIP_PIECES = {
    "esp32": ("esf_esp32_bootloader.bin", 0x1000, "esf_esp32_hello_world.bin"),
    "esp32s2": ("esf_esp32s2_bootloader.bin", 0x1000, "esf_esp32s2_hello_world.bin"),
    "esp32s3": ("esf_esp32s3_bootloader.bin", 0x0, "esf_esp32s3_hello_world.bin"),
    "esp32c3": ("esf_esp32c3_bootloader.bin", 0x0, "esf_esp32c3_hello_world.bin"),
    "esp32c6": ("esf_esp32c6_bootloader.bin", 0x0, "esf_esp32c6_hello_world.bin"),
    "esp32p4": ("esf_esp32p4_bootloader.bin", 0x2000, "esf_esp32p4_hello_world.bin"),
}


# chip -> the project's merged fixture for it, cut back into its pieces by fixture_pieces
FIXTURE_MERGED = {"esp32": "firmware-esp32-4MB.bin", "esp32s2": "firmware-esp32s2.bin",
                  "esp32s3": "firmware-esp32s3.bin", "esp32c3": "firmware-esp32c3.bin"}
MERGE_CASES = [*[(c, "corpus") for c in sorted(CHIP_PIECES)],
               *[(c, "fixtures") for c in sorted(FIXTURE_MERGED)]]


def read(name: str) -> bytes:
    """A corpus file, or the fixture of that name (fixtures/ names never clash with it)."""
    return input_path(name).read_bytes()


def pieces(chip: str) -> list[tuple[int, bytes]]:
    boot, offset, app = CHIP_PIECES[chip]
    return [(offset, read(boot)), (0x8000, read("esf_partition-table.bin")),
            (0x10000, read(app))]


def fixture_pieces(chip: str) -> list[tuple[int, bytes]]:
    """Bootloader, table and app of the chip's merged fixture (make_fixtures.py's layout)."""
    data = read(FIXTURE_MERGED[chip])
    base = chips.chip_by_name(chip).bootloader_offset
    boot = AppImage.from_bytes(data)
    return [(base, data[:boot.end]), (0x8000, data[0x8000 - base:0x8C00 - base]),
            (0x10000, data[0x10000 - base:])]


def esptool_merge(parts: list[tuple[int, bytes]], chip: str, **kwargs: object) -> bytes:
    esptool_cmds = pytest.importorskip("esptool.cmds")
    out = esptool_cmds.merge_bin(list(parts), chip, output=None, **kwargs)
    assert isinstance(out, bytes), "esptool merge_bin(output=None) no longer returns bytes"
    return out


# ====================================================================== merge vs esptool
@pytest.mark.parametrize(("chip", "source"), MERGE_CASES)
@pytest.mark.parametrize("params", [
    {},
    {"flash_size": "4MB"},
    {"flash_size": "8MB", "flash_mode": "qio", "flash_freq": "80m"},
    {"flash_mode": "dout", "flash_freq": "20m"},
])
def test_merge_matches_esptool(chip: str, source: str, params: dict[str, str]) -> None:
    parts = pieces(chip) if source == "corpus" else fixture_pieces(chip)
    ours = merge(parts, **params)  # type: ignore[arg-type]
    assert ours.chip == chip  # detected from the bootloader
    assert ours.data == esptool_merge(parts, chip, **params)


@pytest.mark.parametrize("chip", sorted(CHIP_PIECES))
def test_merge_reopens_as_valid_flash(chip: str) -> None:
    boot_name, offset, _ = CHIP_PIECES[chip]
    result = merge(pieces(chip), flash_size="4MB")
    image = Image.from_bytes(result.data)
    assert image.kind == "flash"
    assert image.chip is not None and image.chip.name == chip
    assert image.base == 0
    assert image.valid, [c for c in image.checks if not c.valid]
    names = [r.name for r in image.regions if r.kind in ("image", "partition-table")]
    assert names == ["bootloader", "partition-table", "factory"]
    assert image.bootloader is not None and image.bootloader.flash_size == 4 << 20
    assert image.bootloader.digest_valid
    assert [r.address for r in image.regions if r.name == "bootloader"] == [offset]
    factory = image.partitions[-1]
    assert factory.image is not None
    # Only the bootloader header is patched; the app is byte-identical to its file.
    app = read(CHIP_PIECES[chip][2])
    assert result.data[0x10000:0x10000 + len(app)] == app
    boot = read(boot_name)
    assert result.data[offset + 4:offset + len(boot) - 32] == boot[4:-32]


def test_merge_patches_only_bootloader_bytes() -> None:
    parts = pieces("esp32")
    boot = parts[0][1]
    out = merge(parts, flash_size="16MB", flash_mode="qio").data
    patched = out[0x1000:0x1000 + len(boot)]
    diff = [i for i in range(len(boot)) if patched[i] != boot[i]]
    length = 0x6120  # image length incl. SHA-256 (esp32-image.md §4.1)
    assert diff[0] == 2 and diff[1] == 3
    assert all(i in (2, 3) or length - 32 <= i < length for i in diff)
    assert patched[2:4] == bytes([0, 0x40])
    assert patched[length - 32:length] == hashlib.sha256(patched[:length - 32]).digest()
    assert any("SHA-256 recomputed" in n for n in merge(parts, flash_size="16MB").notes)


@pytest.mark.parametrize(("target", "pad"), [(0, None), (0x1000, None), (0x1000, 0x400000),
                                             (0, 0x200000)])
def test_merge_target_offset_and_padding_match_esptool(target: int, pad: int | None) -> None:
    parts = pieces("esp32")
    ours = merge(parts, target_offset=target, pad_to=pad)
    kwargs: dict[str, object] = {"target_offset": target}
    if pad is not None:
        kwargs["pad_to_size"] = f"{pad >> 20}MB"
    assert ours.data == esptool_merge(parts, "esp32", **kwargs)
    if pad is not None:
        assert len(ours.data) == pad - target
        assert ours.data.endswith(b"\xff" * 0x1000)


def test_merge_same_flash_size_is_a_noop_like_esptool() -> None:
    parts = pieces("esp32")
    ours = merge(parts, flash_size="2MB", flash_freq="40m", flash_mode="dio")
    assert ours.data == esptool_merge(parts, "esp32", flash_size="2MB", flash_freq="40m",
                                      flash_mode="dio")
    assert ours.data == merge(parts).data
    assert any("unchanged" in n for n in ours.notes)


def test_merge_other_bootloader_headers_match_esptool() -> None:
    # An old ESP-IDF bootloader (no descriptor) and an S3 bootloader with an 8MB header.
    for chip, parts in (
        ("esp32", [(0x1000, read("ard106_bootloader_qio_80m.bin")),
                   (0x8000, read("ard106_partitions_default.bin")),
                   (0xE000, read("ard106_boot_app0.bin"))]),
        ("esp32s3", [(0x0, read("knot_s3_bootloader.bin")),
                     (0x8000, read("knot_partition-table.bin")),
                     (0xE000, read("knot_otadata_boot_from_ota0.bin")),
                     (0x410000, read("knot_s3_tinyuf2.bin"))]),
    ):
        for params in ({}, {"flash_size": "4MB", "flash_freq": "40m"}):
            ours = merge(parts, **params)  # type: ignore[arg-type]
            assert ours.chip == chip
            assert ours.data == esptool_merge(parts, chip, **params)


def test_merge_fill_byte() -> None:
    parts = [(0x1000, b"\x01" * 16), (0x1020, b"\x02" * 16)]
    out = merge(parts, fill=0x00, target_offset=0x1000).data
    assert out == b"\x01" * 16 + b"\x00" * 16 + b"\x02" * 16
    assert merge(parts, target_offset=0x1000).data[16:32] == b"\xff" * 16


def test_merge_result_type() -> None:
    result = merge([(0, b"abc")])
    assert isinstance(result, MergeResult)
    assert result.data == b"abc" and result.chip is None
    with pytest.raises(AttributeError):
        result.data = b""  # type: ignore[misc]


# ---------------------------------------------------------------------- ESP8266
@pytest.mark.parametrize(("first", "second"), [
    ("nonos_boot_v1.7.bin", None),
    ("mgwr_nonos_0x00000.bin", (0x10000, "mgwr_nonos_0x10000.bin")),
    ("mgwr_rboot_0x00000.bin", (0x2000, "mgwr_rboot_rom0_0x02000.bin")),
    ("esp8266-nonos-boot.bin", (0x1000, "esp8266-user1.bin")),
    ("esp8266-rboot-boot.bin", (0x2000, "esp8266-rboot-rom0.bin")),
])
@pytest.mark.parametrize("params", [{}, {"flash_size": "4MB"},
                                    {"flash_size": "1MB", "flash_mode": "dout",
                                     "flash_freq": "80m"}])
def test_merge_esp8266_matches_esptool(first: str, second: tuple[int, str] | None,
                                       params: dict[str, str]) -> None:
    parts = [(0, read(first))]
    if second is not None:
        parts.append((second[0], read(second[1])))
    ours = merge(parts, **params)  # type: ignore[arg-type]
    assert ours.chip == "esp8266"
    assert ours.data == esptool_merge(parts, "esp8266", **params)
    if params:
        assert ours.data[:4] != parts[0][1][:4]


def test_merge_esp8266_v2_image_at_zero_refuses_flash_params() -> None:
    parts = [(0, read("nonos306_at_user1.1024.new.2.bin"))]
    with pytest.raises(InputError, match=r"not supported here.*flash-params"):
        merge(parts, chip="esp8266", flash_size="4MB")
    assert merge(parts, chip="esp8266").data == parts[0][1]


def test_merge_esp8266_refuses_esp32_images() -> None:
    with pytest.raises(LayoutError, match="ESP8266"):
        merge([(0, read("nonos_boot_v1.7.bin")), (0x10000, read("esf_esp32_hello_world.bin"))],
              chip="esp8266")


# ---------------------------------------------------------------------- refusals
def test_merge_refuses_overlap_naming_both_parts() -> None:
    boot = read("esf_esp32_bootloader.bin")  # 0x6120 bytes: 0x1000-0x7120
    parts = [(0x1000, boot), (0x7000, read("esf_partition-table.bin"))]
    with pytest.raises(LayoutError) as err:
        merge(parts, names=["bootloader.bin", "table.bin"])
    text = str(err.value)
    assert "table.bin (0x7000-0x7c00)" in text
    assert "bootloader.bin (0x1000-0x7120)" in text
    # Touching is not overlapping.
    merge([(0x1000, boot), (0x1000 + len(boot), b"x")])


def test_merge_refuses_overlap_behind_a_short_part() -> None:
    with pytest.raises(LayoutError, match="overlaps"):
        merge([(0x0, b"\0" * 0x3000), (0x1000, b"\1" * 0x10), (0x2000, b"\2")])


@pytest.mark.parametrize(("name", "address", "expect"), [
    ("esf_esp32s3_bootloader.bin", 0x1000, "ESP32-S3 boots from 0x0, not 0x1000"),
    ("esf_esp32_bootloader.bin", 0x0, "ESP32 boots from 0x1000, not 0x0"),
    ("esf_esp32p4_bootloader.bin", 0x0, "ESP32-P4 boots from 0x2000"),
    ("esf_esp32c3_bootloader.bin", 0x2000, "ESP32-C3 boots from 0x0"),
    ("ard106_bootloader_dio_40m.bin", 0x0, "ESP32 boots from 0x1000"),
])
def test_merge_refuses_bootloader_at_wrong_offset(name: str, address: int, expect: str) -> None:
    with pytest.raises(LayoutError, match=expect):
        merge([(address, read(name)), (0x8000, read("esf_partition-table.bin"))])


def test_merge_refuses_misaligned_app() -> None:
    with pytest.raises(LayoutError, match="64 KiB"):
        merge([(0x1000, read("esf_esp32_bootloader.bin")),
               (0x18000, read("esf_esp32_hello_world.bin"))])
    merge([(0x1000, read("esf_esp32_bootloader.bin")),
           (0x20000, read("esf_esp32_hello_world.bin"))])  # any 64 KiB boundary works


def test_merge_refuses_mixed_chips() -> None:
    with pytest.raises(LayoutError, match=r"ESP32-S3.*ESP32"):
        merge([(0x1000, read("esf_esp32_bootloader.bin")),
               (0x10000, read("esf_esp32s3_hello_world.bin"))])
    with pytest.raises(LayoutError, match="for the ESP32-C3"):
        merge(pieces("esp32"), chip="esp32c3")


def test_merge_refuses_parts_below_target_offset() -> None:
    with pytest.raises(LayoutError, match="below the target offset 0x2000"):
        merge(pieces("esp32"), target_offset=0x2000)


def test_merge_refuses_parts_past_pad_to() -> None:
    with pytest.raises(LayoutError, match="past the pad-to size"):
        merge(pieces("esp32"), pad_to=0x20000)


@pytest.mark.parametrize("name", ["esptool_test_bootloader_multi_signed_v2_rsa.bin",
                                  "esptool_test_bootloader_signed_sbv1.bin"])
def test_merge_refuses_flash_params_on_signed_bootloader(name: str) -> None:
    parts = [(0x1000, read(name)), (0x10000, read("esf_esp32_hello_world.bin"))]
    with pytest.raises(InputError, match="signature") as err:
        merge(parts, flash_size="4MB" if read(name)[3] >> 4 != 2 else "8MB")
    assert "Secure Boot" in str(err.value)
    # Without flash parameters the signed bootloader is copied as it is.
    out = merge(parts).data
    assert out[0x1000:0x1000 + len(parts[0][1])] == parts[0][1]


def test_merge_refuses_flash_params_with_secure_boot_v1_digest() -> None:
    dump = read(DUMP)
    parts = [(0x0, dump[:0x1000]), (0x1000, dump[0x1000:0xC3D0])]
    with pytest.raises(InputError, match="Secure Boot v1 IV"):
        merge(parts, flash_size="8MB")


@pytest.mark.parametrize(("size", "error", "match"), [
    ("3MB", UsageError, "not a power of two"),
    (6 * 1024 * 1024, UsageError, "not a power of two"),
    ("32MB", UsageError, "larger than the 16MB the ESP32"),
    ("256MB", UsageError, "cannot be encoded"),
    ("lots", UsageError, "not a size"),
])
def test_merge_refuses_bad_flash_size(size: str | int, error: type[Exception],
                                      match: str) -> None:
    with pytest.raises(error, match=match):
        merge(pieces("esp32"), flash_size=size)


def test_merge_flash_size_accepts_bytes_and_chip_maximum() -> None:
    out = merge(pieces("esp32s3"), flash_size=128 << 20).data  # S3 addresses 128MB
    assert out[3] >> 4 == 7
    assert merge(pieces("esp32"), flash_size=4 << 20).data == merge(
        pieces("esp32"), flash_size="4MB").data


def test_merge_refuses_bad_mode_and_freq() -> None:
    with pytest.raises(UsageError, match="unknown flash mode"):
        merge(pieces("esp32"), flash_mode="octal")
    with pytest.raises(UsageError, match="26m"):
        merge(pieces("esp32c6"), flash_freq="26m")


def test_merge_flash_params_need_a_bootloader() -> None:
    app_only = [(0x10000, read("esf_esp32_hello_world.bin"))]
    with pytest.raises(InputError, match="no part at the ESP32 bootloader offset 0x1000"):
        merge(app_only, flash_size="4MB")
    with pytest.raises(InputError, match="chip is unknown"):
        merge([(0x1000, b"\xff" * 64)], flash_size="4MB")
    with pytest.raises(InputError, match="not a valid ESP32 image"):
        merge([(0x1000, b"\xff" * 64)], flash_size="4MB", chip="esp32")


def test_merge_argument_errors() -> None:
    with pytest.raises(InputError, match="nothing to merge"):
        merge([])
    with pytest.raises(InputError, match="names"):
        merge([(0, b"a")], names=["a", "b"])
    with pytest.raises(EspImageError, match="unknown chip"):
        merge([(0, b"a")], chip="esp99")


# ====================================================================== extract
@pytest.mark.parametrize("name", MPY)
def test_extract_micropython_round_trip(name: str) -> None:
    raw = read(name)
    image = Image.from_bytes(raw)
    assert image.kind == "flash" and image.base == 0x1000
    boot = extract(image, "bootloader")
    table = extract(image, "partition-table")
    app = extract(image, "factory")
    assert isinstance(boot, Extracted)
    assert (boot.name, boot.address) == ("bootloader", 0x1000)
    assert image.bootloader is not None
    assert boot.data == raw[:image.bootloader.end]
    assert boot.data[-1] != 0xFF or len(boot.data) % 16 == 0
    assert (table.address, table.data) == (0x8000, raw[0x7000:0x7C00])
    assert (app.name, app.address) == ("factory", 0x10000)
    assert app.data == raw[0xF000:0xF000 + len(app.data)]
    assert not app.partial and not boot.partial

    esptool_bin_image = pytest.importorskip("esptool.bin_image")
    loaded = esptool_bin_image.LoadFirmwareImage("esp32", app.data)
    assert loaded.data_length + 32 == len(app.data)  # cut exactly after the SHA-256
    assert loaded.stored_digest == loaded.calc_digest
    loaded_boot = esptool_bin_image.LoadFirmwareImage("esp32", boot.data)
    assert loaded_boot.data_length + 32 == len(boot.data)

    parts = [(p.address, p.data) for p in (boot, table, app) if p.address is not None]
    assert merge(parts, target_offset=0x1000).data == raw
    assert esptool_merge(parts, "esp32", target_offset=0x1000) == raw


@pytest.mark.parametrize("name", MPY)
def test_extract_app_ignores_file_length_and_trailing_bytes(name: str) -> None:
    raw = read(name)
    expected = extract(Image.from_bytes(raw), "factory").data
    for tail in (b"\xff" * 0x30000, b"\x00\x11" * 0x800, b"\xff" * 100 + b"junk"):
        grown = extract(Image.from_bytes(raw + tail), "factory")
        assert grown.data == expected  # defect D2: never the file length, never trailing 0xFF


@pytest.mark.parametrize("name", MPY)
def test_extract_raw_regions(name: str) -> None:
    raw = read(name)
    image = Image.from_bytes(raw)
    boot = extract(image, "bootloader", raw=True)
    assert boot.data == raw[:0x7000] and boot.address == 0x1000
    sector = extract(image, "partition-table", raw=True)
    assert sector.data == raw[0x7000:0x8000]
    factory = extract(image, "factory", raw=True)
    assert factory.data == raw[0xF000:]
    assert factory.partial and "ends before" in factory.description
    nvs = extract(image, "nvs", raw=True)
    assert nvs.data == b"\xff" * 0x6000 and not nvs.partial


def test_extract_flash_dump_from_zero() -> None:
    raw = read(DUMP)
    image = Image.from_bytes(raw)
    assert image.base == 0
    boot = extract(image, "bootloader")
    assert boot.address == 0x1000
    assert boot.data == raw[0x1000:0xC3D0]
    assert extract(image, "bootloader", raw=True).data == raw[0x1000:0x10000]
    table = extract(image, "partition-table")
    assert table.address == 0x10000
    # A Secure Boot v1 signed table keeps its 68-byte signature block.
    assert table.data == raw[0x10000:0x10C44]
    assert "signed" in table.description
    assert extract(image, "partition-table", raw=True).data == raw[0x10000:0x11000]
    nvs = extract(image, "nvs")
    assert (nvs.address, nvs.data) == (0x11000, raw[0x11000:0x17000])
    with pytest.raises(InputError, match=r"does not contain partition 'factory' at 0x20000"):
        extract(image, "factory")


def test_extract_otadata_from_merged_flash() -> None:
    otadata = read("knot_otadata_boot_from_ota0.bin")
    parts = [(0x0, read("knot_s3_bootloader.bin")), (0x8000, read("knot_partition-table.bin")),
             (0xE000, otadata), (0x410000, read("knot_s3_tinyuf2.bin"))]
    image = Image.from_bytes(merge(parts).data)
    got = extract(image, "otadata")
    assert (got.name, got.address, got.data) == ("otadata", 0xE000, otadata)
    uf2 = extract(image, "uf2")
    assert uf2.data == read("knot_s3_tinyuf2.bin")
    with pytest.raises(InputError, match="erased"):
        extract(image, "ota_0")
    assert extract(image, "ota_0", raw=True).data == b"\xff" * 0x200000


def test_extract_erased_otadata_needs_raw() -> None:
    parts = [(0x0, read("knot_s3_bootloader.bin")), (0x8000, read("knot_partition-table.bin")),
             (0x10000, read("knot_s3_tinyuf2.bin"))]
    image = Image.from_bytes(merge(parts).data)
    with pytest.raises(InputError, match=r"otadata.*erased"):
        extract(image, "otadata")
    assert extract(image, "otadata", raw=True).data == b"\xff" * 0x2000


def test_extract_truncated_app() -> None:
    raw = read(MPY[0])[:0xF000 + 0x100000]
    image = Image.from_bytes(raw)
    with pytest.raises(FormatError, match="truncated"):
        extract(image, "factory")
    part = extract(image, "factory", raw=True)
    assert part.partial and len(part.data) == 0x100000


def test_extract_errors_list_what_exists() -> None:
    image = Image.from_bytes(read(MPY[0]))
    with pytest.raises(InputError) as err:
        extract(image, "nosuch")
    text = str(err.value)
    for word in ("'nosuch'", "bootloader", "partition-table", "nvs (erased)", "factory",
                 "vfs (not in the file)"):
        assert word in text
    with pytest.raises(InputError, match="otadata"):
        extract(image, "otadata")
    with pytest.raises(InputError, match="erased"):
        extract(image, "phy_init")
    with pytest.raises(InputError, match=r"vfs.*0x200000.*file covers flash 0x1000-0x1a8660"):
        extract(image, "vfs", raw=True)


def test_extract_damaged_or_erased_bootloader() -> None:
    dump = bytearray(read(DUMP))
    dump[0x1018:0x1020] = b"\xff" * 8  # segment 0 header: length 0xffffffff
    image = Image.from_bytes(bytes(dump))
    assert image.kind == "flash"
    with pytest.raises(FormatError, match=r"truncated.*raw"):
        extract(image, "bootloader")
    # The table is no longer found behind the broken image: raw stops at the default 0x8000.
    assert image.table_address is None
    assert extract(image, "bootloader", raw=True).data == bytes(dump[0x1000:0x8000])
    # With the bootloader erased a merged file is no longer recognised at all.
    merged = bytearray(read(MPY[0]))
    merged[:0x6000] = b"\xff" * 0x6000
    with pytest.raises(InputError, match="not a recognised firmware file"):
        extract(Image.from_bytes(bytes(merged)), "bootloader")


def test_extract_wrong_file_kinds() -> None:
    with pytest.raises(InputError, match="erased flash"):
        extract(Image.from_bytes(b"\xff" * 0x1000), "factory")
    with pytest.raises(InputError, match="not a recognised firmware file"):
        extract(Image.from_bytes(bytes(range(256)) * 64), "bootloader")
    table = Image.from_bytes(read("esf_partition-table.bin"))
    with pytest.raises(InputError, match="bare partition table"):
        extract(table, "factory")
    assert extract(table, "partition-table").data == read("esf_partition-table.bin")
    otadata = read("knot_otadata_boot_from_ota0.bin")
    assert extract(Image.from_bytes(otadata), "otadata").data == otadata
    with pytest.raises(InputError, match="bare otadata"):
        extract(Image.from_bytes(otadata), "bootloader")


@pytest.mark.parametrize(("name", "what", "role"), [
    ("esf_esp32_hello_world.bin", "app", "app"),
    ("esf_esp32c3_hello_world.bin", "image", "app"),
    ("esf_esp32_bootloader.bin", "bootloader", "bootloader"),
    ("khiem_YOLO_BIT_sbv1_signed.bin", "app", "app"),
    ("esptool_test_bootloader_multi_signed_v2_rsa.bin", "bootloader", "bootloader"),
])
def test_extract_single_image_drops_trailing_data(name: str, what: str, role: str) -> None:
    raw = read(name)
    padded = Image.from_bytes(raw + b"\xff" * 0x2345)
    got = extract(padded, what)
    assert got.name == role
    assert got.data == raw  # signature blocks included, trailing 0xFF dropped
    assert extract(padded, what, raw=True).data == raw + b"\xff" * 0x2345
    wrong = "bootloader" if role == "app" else "app"
    with pytest.raises(InputError, match="single"):
        extract(padded, wrong)


def test_extract_signed_app_keeps_signature() -> None:
    signed = read("khiem_YOLO_BIT_sbv1_signed.bin")
    unsigned = read("khiem_YOLO_BIT-unsigned.bin")
    got = extract(Image.from_bytes(signed), "app")
    assert got.data == signed and len(got.data) == len(unsigned) + 68
    assert "sbv1" in got.description


def test_extract_esp8266_flash_regions() -> None:
    raw = read("pypi_cloudmgr_micropython-v1.8.6-firmware-combined.bin")
    image = Image.from_bytes(raw)
    first = extract(image, "firmware")
    assert first.address == 0 and first.data == raw[:0x8A60]
    irom = extract(image, "irom0")
    assert irom.address == 0x9000 and irom.data == raw[0x9000:0x9000 + 0x88664]
    with pytest.raises(InputError, match="irom0"):
        extract(image, "factory")


def test_extract_esp8266_single_image() -> None:
    raw = read("nonos_boot_v1.7.bin")
    got = extract(Image.from_bytes(raw + b"\xff" * 0x100), "bootloader")
    assert got.data == raw and got.address == 0


def test_default_extract_name() -> None:
    assert default_extract_name("firmware.bin", "factory") == "firmware-factory.bin"
    assert default_extract_name("firmware.bin", "bootloader") == "firmware-bootloader.bin"
    assert default_extract_name("firmware.bin", "partition-table") == \
        "firmware-partition-table.bin"
    assert default_extract_name(os.path.join("out", "fw.img"), "ota_0") == \
        os.path.join("out", "fw-ota_0.bin")
    assert default_extract_name("fw.bin", "a/b c") == "fw-a_b_c.bin"
