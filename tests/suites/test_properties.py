"""Property tests (hypothesis): valid inputs built by independent writers round-trip, and every
transform's output verifies, checked by esptool, gen_esp32part and zlib/hashlib.

- ESP32-family images are written by esptool's own image classes (random chip, segments, flash
  parameters, with and without SHA-256): esp_image parses them as valid and rebuilds them byte
  for byte; esptool reads back what ``flash-params`` writes; the XOR checksum and SHA-256 are
  recomputed here from the raw bytes with hashlib, never through esp_image.
- Partition tables from random valid layouts: binary and CSV round trips, gen_esp32part
  (esp_idf_defs.partitions) compiles the same CSV to the same bytes and accepts ours, the MD5 is
  recomputed with hashlib.
- otadata after random ``switch`` sequences: the slot ESP-IDF's selection rule (written again
  here, from otadata.md §5) picks from the raw bytes is the slot asked for, each record's CRC is
  recomputed with zlib, and the sequence numbers match esp_idf_defs' ``incremented``.
- Merged files built by ``merge`` from random tables: parse as valid flash files, round trip,
  and ``extract`` gives the parts back.
- ``retable`` with random valid options, ``flash-params`` and ``otadata`` on merged files:
  the output passes ``Image.from_bytes(...).valid`` and the oracles above.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from functools import cache

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from esp_image import Image
from esp_image.app_image import AppImage
from esp_image.errors import LayoutError
from esp_image.otadata import OtaData
from esp_image.partition_table import PartitionTable

from ..conftest import FIXTURES

esptool_bin = pytest.importorskip("esptool.bin_image")
idf_partitions = pytest.importorskip("esp_idf_defs.partitions")
idf_otadata = pytest.importorskip("esp_idf_defs.otadata")

pytestmark = pytest.mark.oracle

SETTINGS = settings(deadline=None, max_examples=60,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FEW = settings(deadline=None, max_examples=25,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# RAM load addresses that are not flash-mapped on each chip (so esptool writes the segments as
# they are, without MMU padding).
RAM = {
    "esp32": (0x3FFB0000, 0x40080000),
    "esp32s2": (0x3FFB0000, 0x40022000),
    "esp32s3": (0x3FC88000, 0x40374000),
    "esp32c3": (0x3FC80000, 0x40380000),
    "esp32c6": (0x40800000, 0x40810000),
}
CHIP_IDS = {"esp32": 0, "esp32s2": 2, "esp32s3": 9, "esp32c3": 5, "esp32c6": 13}
SIZE_CODES = {0: 1 << 20, 1: 2 << 20, 2: 4 << 20, 3: 8 << 20, 4: 16 << 20}


# ---------------------------------------------------------------------- independent oracles
def raw_image_facts(data: bytes) -> tuple[int, int, int, bytes | None, bytes | None]:
    """Walk an ESP32 image with struct only: (end, stored checksum, computed checksum,
    stored SHA-256, computed SHA-256). Independent of esp_image's parser."""
    count = data[1]
    pos = 24
    checksum = 0xEF
    for _ in range(count):
        _addr, length = struct.unpack_from("<II", data, pos)
        for b in data[pos + 8:pos + 8 + length]:
            checksum ^= b
        pos += 8 + length
    pos |= 0x0F
    stored = data[pos]
    end = pos + 1
    if data[23] == 1:
        return end + 32, stored, checksum, data[end:end + 32], hashlib.sha256(data[:end]).digest()
    return end, stored, checksum, None, None


def assert_image_oracles(data: bytes, chip: str) -> None:
    """esptool and hashlib both accept the image at the start of ``data``."""
    end, stored, computed, digest, computed_digest = raw_image_facts(data)
    assert stored == computed
    assert digest == computed_digest
    theirs = esptool_bin.LoadFirmwareImage(chip, data[:end])
    assert theirs.checksum == theirs.calculate_checksum()
    if theirs.append_digest:
        assert theirs.stored_digest == theirs.calc_digest


def idf_boot_slot(raw: bytes, n: int) -> int | None:
    """ESP-IDF's selection (otadata.md §5, rollback disabled) from the raw 0x2000 bytes.

    None: no valid copy (factory, or ota_0 without one)."""
    best: tuple[int, int] | None = None
    for copy in (0, 1):
        rec = raw[copy * 0x1000:copy * 0x1000 + 32]
        seq, = struct.unpack_from("<I", rec, 0)
        state, crc = struct.unpack_from("<II", rec, 24)
        valid = (seq != 0xFFFFFFFF and state not in (3, 4)
                 and crc == zlib.crc32(rec[:4], 0xFFFFFFFF) & 0xFFFFFFFF)
        if valid and (best is None or seq > best[0]):
            best = (seq, copy)
    if best is None:
        return None
    return ((best[0] - 1) & 0xFFFFFFFF) % n


def assert_table_oracles(blob: bytes, flash_size: int | None = None) -> None:
    """gen_esp32part parses and verifies the table; hashlib recomputes its MD5."""
    area = blob[:0xC00]
    theirs = idf_partitions.PartitionTable.from_binary(area)
    theirs.verify()
    if flash_size is not None:
        theirs.verify_size_fits(flash_size)
    records = b""
    pos = 0
    while area[pos:pos + 2] == b"\xaa\x50":
        records += area[pos:pos + 32]
        pos += 32
    assert area[pos:pos + 2] == b"\xeb\xeb"
    assert area[pos + 16:pos + 32] == hashlib.md5(records).digest()
    assert len(theirs) == pos // 32


# ---------------------------------------------------------------------- image builders
def esptool_image(chip: str, segments: list[tuple[int, bytes]], *, mode: int, size: int,
                  freq: int, digest: bool, entry: int) -> bytes:
    from esptool.bin_image import ELFSection
    from esptool.targets import CHIP_DEFS

    image = CHIP_DEFS[chip].BOOTLOADER_IMAGE()
    image.flash_mode = mode
    image.flash_size_freq = (size << 4) | freq
    image.entrypoint = entry
    image.min_rev_full = 0
    image.max_rev_full = 399
    image.append_digest = digest
    image.segments = [ELFSection(f".s{i}".encode(), addr, data, 0)
                      for i, (addr, data) in enumerate(segments)]
    out = image.save(None)
    assert isinstance(out, bytes)
    return out


@st.composite
def esp32_images(draw: st.DrawFn) -> tuple[str, bytes]:
    chip = draw(st.sampled_from(sorted(RAM)))
    dram, iram = RAM[chip]
    count = draw(st.integers(1, 6))
    segments = []
    for i in range(count):
        words = draw(st.integers(1, 0x200))
        data = draw(st.binary(min_size=4 * words, max_size=4 * words))
        base = dram if i % 2 else iram
        segments.append((base + 0x1000 * i, data))
    return chip, esptool_image(
        chip, segments, mode=draw(st.integers(0, 3)), size=draw(st.sampled_from(sorted(
            c for c in SIZE_CODES if c <= 4))), freq=draw(st.sampled_from([0, 1, 2, 0xF])),
        digest=draw(st.booleans()), entry=iram)


# ---------------------------------------------------------------------- images
@SETTINGS
@given(esp32_images())
def test_images_round_trip(built: tuple[str, bytes]) -> None:
    chip, data = built
    assert_image_oracles(data, chip)
    image = Image.from_bytes(data)
    assert image.kind == "image" and image.chip is not None and image.chip.name == chip
    assert image.valid, [c for c in image.checks if not c.valid]
    assert image.to_bytes() == data
    fw = image.firmware
    assert isinstance(fw, AppImage)
    assert AppImage.from_bytes(fw.to_bytes()).to_bytes() == data
    assert fw.header.chip_id == CHIP_IDS[chip]
    # Trailing erased flash (a partition read-out) is kept and still verifies.
    padded = data + b"\xff" * 0x1000
    assert Image.from_bytes(padded).valid and Image.from_bytes(padded).to_bytes() == padded


@SETTINGS
@given(esp32_images(), st.sampled_from([None, "1MB", "2MB", "4MB", "8MB", "16MB"]),
       st.sampled_from([None, "qio", "qout", "dio", "dout"]),
       st.sampled_from([None, "40m", "80m"]))
def test_flash_params_output_verifies(built: tuple[str, bytes], size: str | None,
                                      mode: str | None, freq: str | None) -> None:
    from esp_image.transforms.flash import FlashParams, set_flash_params

    assume(size or mode or freq)
    chip, data = built
    params = FlashParams.parse(size, mode, freq)
    try:
        out = set_flash_params(Image.from_bytes(data), params).data
    except LayoutError as exc:  # a clock the chip does not have: refused with the reason
        event("refused")
        assert freq is not None and freq in str(exc), exc
        return
    after = Image.from_bytes(out)
    assert after.valid and after.kind == "image"
    assert after.to_bytes() == out
    assert_image_oracles(out, chip)
    theirs = esptool_bin.LoadFirmwareImage(chip, out)
    if size is not None:
        assert SIZE_CODES[theirs.flash_size_freq >> 4] == params.size
    if mode is not None:
        assert theirs.flash_mode == {"qio": 0, "qout": 1, "dio": 2, "dout": 3}[mode]
    # Only the header (and the SHA-256 over it) may change.
    assert out[24:len(out) - (32 if data[23] == 1 else 0)] == \
        data[24:len(data) - (32 if data[23] == 1 else 0)]


# ---------------------------------------------------------------------- partition tables
NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_0123456789", min_size=1, max_size=15)
DATA_KINDS = [("nvs", 0x4000, 0x20000), ("phy", 0x1000, 0x2000), ("fat", 0x10000, 0x200000),
              ("spiffs", 0x10000, 0x200000), ("coredump", 0x10000, 0x20000),
              ("littlefs", 0x10000, 0x100000), ("0x40", 0x1000, 0x10000)]


@st.composite
def table_layouts(draw: st.DrawFn, *, ota: bool | None = None,
                  flash_size: int = 16 << 20) -> str:
    """A random valid ESP-IDF partition CSV (auto offsets, as most real CSVs)."""
    rows: list[tuple[str, str, str, int]] = []
    names = draw(st.lists(NAMES.filter(lambda n: n not in (
        "app", "data", "ota", "factory", "nvs", "phy", "fat", "spiffs", "coredump",
        "littlefs", "otadata", "test", "ota_0", "ota_1", "ota_2", "ota_3", "nvs_keys",
        "efuse", "undefined", "esphttpd", "bootloader", "partition_table", "tee_0", "tee_1",
        "tee_ota", "tee_sec_stg", "ota_4")), min_size=12, max_size=12, unique=True))
    use_ota = draw(st.booleans()) if ota is None else ota
    rows.append((names[0], "data", "nvs", draw(st.sampled_from([0x4000, 0x5000, 0x6000]))))
    if use_ota:
        rows.append(("otadata", "data", "ota", 0x2000))
    rows.append((names[1], "data", "phy", 0x1000))
    app_size = draw(st.sampled_from([0x100000, 0x180000, 0x1F0000]))
    if use_ota:
        if draw(st.booleans()):
            rows.append(("factory", "app", "factory", app_size))
        for i in range(draw(st.integers(2, 3))):
            rows.append((f"ota_{i}", "app", f"ota_{i}", app_size))
    else:
        rows.append(("factory", "app", "factory", app_size))
    for i in range(draw(st.integers(0, 4))):
        kind, lo, hi = draw(st.sampled_from(DATA_KINDS))
        size = draw(st.integers(lo // 0x1000, hi // 0x1000)) * 0x1000
        rows.append((names[2 + i], "data", kind, size))
    lines = ["# Name, Type, SubType, Offset, Size, Flags"]
    lines += [f"{n}, {t}, {s}, , {size:#x}," for n, t, s, size in rows]
    csv = "\n".join(lines) + "\n"
    table = PartitionTable.from_csv(csv)
    assume(table.end <= flash_size)
    return csv


@SETTINGS
@given(table_layouts())
def test_tables_round_trip_and_match_gen_esp32part(csv: str) -> None:
    ours = PartitionTable.from_csv(csv)
    assert not [i for i in ours.validate(flash_size=16 << 20) if i.is_error]
    blob = ours.to_bytes()
    assert len(blob) == 0xC00
    theirs = idf_partitions.PartitionTable.from_csv(csv)
    theirs.verify()
    assert theirs.to_binary() == blob, "gen_esp32part compiles the same CSV differently"
    assert_table_oracles(blob, 16 << 20)
    image = Image.from_bytes(blob)
    assert image.kind == "partition-table" and image.valid
    assert image.to_bytes() == blob
    assert PartitionTable.from_bytes(blob).to_bytes() == blob
    again = PartitionTable.from_csv(ours.to_csv())
    assert again.to_bytes() == blob
    assert idf_partitions.PartitionTable.from_csv(ours.to_csv()).to_binary() == blob
    sector = ours.to_bytes(size=0x1000)
    assert sector[:0xC00] == blob and sector[0xC00:] == b"\xff" * 0x400
    assert Image.from_bytes(sector).valid and Image.from_bytes(sector).to_bytes() == sector


@FEW
@given(st.sampled_from(["firmware-esp32-4MB.bin", "ota"]), st.data())
def test_retable_edits_verify_or_refuse(source_name: str, data: st.DataObject) -> None:
    """--delete / --rename / --resize / --add with random arguments: either a refusal with a
    reason (LayoutError) or an output that verifies and that gen_esp32part accepts."""
    from esp_image.transforms.partitions import parse_add_spec
    from esp_image.transforms.retable import RetableOptions, retable

    source = Image.from_bytes(_source(source_name))
    assert source.table is not None
    names = [p.name for p in source.table.partitions]
    options = RetableOptions(
        delete=tuple(data.draw(st.lists(st.sampled_from(names), max_size=1, unique=True))),
        resize=tuple(data.draw(st.lists(st.tuples(st.sampled_from(names), st.sampled_from(
            [0, 0x1000, 0x10000, 0x20000, 0x200000])), max_size=1))),
        rename=tuple(data.draw(st.lists(st.tuples(st.sampled_from(names), st.sampled_from(
            ["renamed", "x", "vfs"])), max_size=1))),
        add=tuple(parse_add_spec(spec) for spec in data.draw(st.lists(st.sampled_from(
            ["extra:data:fat:64K", "blob:data:0x99:0x3000", "app2:app:ota_1:0x100000",
             "od:data:ota:0x2000"]), max_size=1))),
        flash_size=data.draw(st.sampled_from([None, 8 << 20])))
    assume(not options.empty)
    try:
        result = retable(source, options)
    except LayoutError as exc:
        event("refused")
        assert str(exc)
        return
    _assert_retabled(result.data, result.flash_size)


def test_retable_resize_nvs_below_the_read_write_minimum() -> None:
    """Found by test_retable_edits_verify_or_refuse: ``--resize nvs=4K`` must be refused, or
    give a table gen_esp32part accepts (it requires read-write NVS of at least 0x3000)."""
    from esp_image.transforms.retable import RetableOptions, retable

    try:
        result = retable(Image.from_bytes(_source("firmware-esp32-4MB.bin")),
                         RetableOptions(resize=(("nvs", 0x1000),)))
    except LayoutError as exc:
        assert "nvs" in str(exc)
        return
    _assert_retabled(result.data, result.flash_size)


# ---------------------------------------------------------------------- otadata
@SETTINGS
@given(st.integers(1, 16), st.data())
def test_otadata_switch_sequences_follow_esp_idf(n: int, data: st.DataObject) -> None:
    from esp_image.otadata import compute_ota_seq_for_target_slot

    otadata = OtaData.erased()
    steps = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=12))
    for slot in steps:
        before = otadata
        otadata = otadata.switch(slot, ota_slot_count=n)
        raw = otadata.to_bytes()
        assert len(raw) == 0x2000
        assert idf_boot_slot(raw, n) == slot
        for copy in (0, 1):
            rec = raw[copy * 0x1000:copy * 0x1000 + 32]
            if rec[:4] != b"\xff\xff\xff\xff":
                assert struct.unpack_from("<I", rec, 28)[0] == \
                    zlib.crc32(rec[:4], 0xFFFFFFFF) & 0xFFFFFFFF
            assert raw[copy * 0x1000 + 32:(copy + 1) * 0x1000] == b"\xff" * (0x1000 - 32)
        active = before.active_copy()
        if active is not None:
            old = before.entries[active]
            if old.slot(n) != slot:
                theirs = idf_otadata.OtaDataSelectEntry(old.ota_seq).incremented(slot, n)
                new_seq = max(e.ota_seq for e in otadata.entries if not e.is_erased)
                assert new_seq == theirs.seq == compute_ota_seq_for_target_slot(
                    old.ota_seq, slot, n)
        assert OtaData.from_bytes(raw).to_bytes() == raw
        image = Image.from_bytes(raw)
        assert image.kind == "otadata" and image.valid and image.to_bytes() == raw
        if n == 2:
            assert image.boot is not None and image.boot.slot == slot


@SETTINGS
@given(st.integers(0, 1), st.sampled_from([None, "new", "pending", "valid", "undefined"]),
       st.lists(st.integers(0, 1), max_size=5))
def test_otadata_command_on_bare_file(slot: int, state: str | None, history: list[int]) -> None:
    from esp_image.transforms.ota import otadata_for

    start = OtaData.erased()
    for s in history:
        start = start.switch(s, ota_slot_count=2)
    if start.is_erased:
        start = start.switch(0, ota_slot_count=2)
    out = otadata_for(Image.from_bytes(start.to_bytes()), slot=slot, state=state).data
    image = Image.from_bytes(out)
    assert image.kind == "otadata" and image.valid and image.to_bytes() == out
    assert idf_boot_slot(out, 2) == slot
    if state is not None:
        names = {"new": 0, "pending": 1, "valid": 2, "undefined": 0xFFFFFFFF}
        copy = image.otadata.active_copy() if image.otadata else None
        assert copy is not None
        assert struct.unpack_from("<I", out, copy * 0x1000 + 24)[0] == names[state]


# ---------------------------------------------------------------------- merged files
@cache
def _fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@cache
def _source(name: str) -> bytes:
    """A fixture, or ``ota``: the merged fixture retabled to the OTA layout."""
    if name != "ota":
        return _fixture(name)
    from esp_image.transforms.retable import RetableOptions, retable

    return retable(Image.from_bytes(_fixture("firmware-esp32-4MB.bin")),
                   RetableOptions(table="ota")).data


def _assert_retabled(out: bytes, flash_size: int) -> None:
    """A rewritten flash file verifies, rebuilds, and every part passes the oracles."""
    image = Image.from_bytes(out)
    assert image.kind == "flash" and image.valid, [c for c in image.checks if not c.valid]
    assert image.to_bytes() == out
    assert image.bootloader is not None and image.bootloader.flash_size == flash_size
    assert image.table is not None and image.table_address is not None
    at = image.table_address - (image.base or 0)
    assert_table_oracles(out[at:at + 0xC00], flash_size)
    assert_image_oracles(out[image.bootloader_file_offset:], "esp32")
    booted = [c for c in image.apps if c.image is not None]
    assert booted, "the app was lost"
    for content in booted:
        assert_image_oracles(out[content.partition.offset - (image.base or 0):], "esp32")
    if image.table.otadata is not None and image.otadata is not None:
        part = image.table.otadata
        raw = out[part.offset - (image.base or 0):][:0x2000]
        slot = idf_boot_slot(raw, len(image.table.ota_slots))
        assert image.boot is not None
        assert slot == image.boot.slot or (slot is None and image.boot.slot in (None, 0))


@SETTINGS
@given(table_layouts(flash_size=4 << 20), st.sampled_from([None, 4 << 20]),
       st.sampled_from([0, 0x1000]))
def test_merged_files_round_trip(csv: str, pad: int | None, start: int) -> None:
    from esp_image.transforms.extract import extract
    from esp_image.transforms.merge import merge

    table = PartitionTable.from_csv(csv)
    app_slot = next(p for p in table.partitions if p.is_app)
    boot, app = _fixture("esp32-bootloader.bin"), _fixture("esp32-app.bin")
    blob = table.to_bytes()
    parts = [(0x1000, boot), (0x8000, blob), (app_slot.offset, app)]
    otadata_part = table.otadata
    if otadata_part is not None:
        parts.append((otadata_part.offset, OtaData.erased().switch(
            0, ota_slot_count=len(table.ota_slots)).to_bytes()))
    result = merge(parts, pad_to=pad, target_offset=start)
    data = result.data
    image = Image.from_bytes(data)
    assert image.kind == "flash" and image.valid, [c for c in image.checks if not c.valid]
    assert image.base == 0 if start == 0 else image.base == 0x1000
    assert image.to_bytes() == data
    assert extract(image, "bootloader").data == boot
    assert extract(image, "partition-table").data[:0xC00] == blob
    assert extract(image, app_slot.name).data == app
    assert_table_oracles(extract(image, "partition-table").data, 4 << 20)
    assert_image_oracles(extract(image, "bootloader").data, "esp32")
    assert_image_oracles(extract(image, app_slot.name).data, "esp32")


# ---------------------------------------------------------------------- transforms on firmware
@FEW
@given(st.sampled_from([None, 4 << 20, 8 << 20, 16 << 20]),
       st.sampled_from([None, "ota", "default", "original", "micropython"]),
       st.sampled_from([None, 0x180000, 0x200000]))
def test_retable_output_verifies(flash_size: int | None, table: str | None,
                                 app_size: int | None) -> None:
    from esp_image.transforms.retable import RetableOptions, retable

    options = RetableOptions(flash_size=flash_size, table=table, app_size=app_size)
    assume(not options.empty)
    source = Image.from_bytes(_fixture("firmware-esp32-4MB.bin"))
    try:
        result = retable(source, options)
    except LayoutError as exc:
        event("refused")
        assert str(exc)  # refused, with the reason
        return
    _assert_retabled(result.data, result.flash_size)


@FEW
@given(st.integers(0, 1), st.sampled_from([None, "valid", "new"]))
def test_otadata_in_merged_ota_firmware(slot: int, state: str | None) -> None:
    from esp_image.transforms.ota import otadata_for

    ota = _source("ota")
    out = otadata_for(Image.from_bytes(ota), slot=slot, state=state).data
    image = Image.from_bytes(out)
    assert image.valid and image.boot is not None and image.boot.slot == slot
    assert image.table is not None and image.table.otadata is not None
    at = image.table.otadata.offset - (image.base or 0)
    assert idf_boot_slot(out[at:at + 0x2000], len(image.table.ota_slots)) == slot
    # Nothing but the otadata partition changed.
    assert out[:at] == ota[:at] and out[at + 0x2000:] == ota[at + 0x2000:]


@FEW
@given(st.sampled_from(["4MB", "2MB", "8MB", "16MB"]), st.sampled_from([None, "qio", "dout"]),
       st.sampled_from([None, "80m", "40m"]))
def test_flash_params_on_merged_firmware(size: str, mode: str | None, freq: str | None) -> None:
    from esp_image.transforms.flash import FlashParams, set_flash_params

    source = Image.from_bytes(_fixture("firmware-esp32-4MB.bin"))
    try:
        out = set_flash_params(source, FlashParams.parse(size, mode, freq)).data
    except LayoutError as exc:
        assert size == "2MB" and "too small" in str(exc)
        return
    image = Image.from_bytes(out)
    assert image.valid and image.to_bytes() == out
    assert image.bootloader is not None
    assert_image_oracles(out[image.bootloader_file_offset:], "esp32")
    for content in image.apps:
        if content.image is not None:
            assert_image_oracles(out[content.partition.offset - (image.base or 0):], "esp32")
