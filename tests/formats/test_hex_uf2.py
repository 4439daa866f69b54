"""Intel HEX and UF2 containers: the readers, the writers, the sector rule, the placement
checks, hostile input, and esptool/intelhex as oracles."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest
from esptool.cmds import merge_bin
from esptool.targets import CHIP_DEFS
from esptool.uf2_writer import UF2Writer
from intelhex import IntelHex

from esp_image import Image
from esp_image.chips import CHIPS, UF2_FAMILIES, chip_by_name, chip_by_uf2_family
from esp_image.containers import decode, encode, flatten, sniff, sparse
from esp_image.errors import InputError, UsageError
from esp_image.io import MAX_FILE_SIZE
from tests.conftest import corpus_rows, fixture_path

FW = fixture_path("firmware-esp32-4MB.bin")
ESP32 = chip_by_name("esp32")


def _uf2_blocks(data: bytes) -> list[tuple[int, int, int, int, int, int, bytes]]:
    """A test-side UF2 parse, independent of esp_image: (flags, address, size, number, total,
    family, payload) of each block, every magic checked."""
    out = []
    for at in range(0, len(data), 512):
        block = data[at:at + 512]
        m0, m1, flags, addr, size, no, total, family = struct.unpack_from("<8I", block)
        assert (m0, m1, struct.unpack_from("<I", block, 508)[0]) == \
            (0x0A324655, 0x9E5D5157, 0x0AB16F30)
        out.append((flags, addr, size, no, total, family, block[32:32 + size]))
    return out


def _flash_of_blocks(data: bytes) -> dict[int, int]:
    return {a + i: b for _, a, _, _, _, _, p in _uf2_blocks(data) for i, b in enumerate(p)}


def _intelhex_segments(text: bytes) -> list[tuple[int, bytes]]:
    ih = IntelHex(io.StringIO(text.decode("ascii")))
    return [(lo, ih.tobinstr(lo, hi - 1)) for lo, hi in ih.segments()]


# ------------------------------------------------------------------------------ family ids
def test_uf2_family_ids_are_esptools() -> None:
    for chip in CHIPS:
        target = CHIP_DEFS.get(chip.name)
        # a class's own id: ESP32-E22's target inherits ESP32's, which names the ESP32
        fid = vars(target).get("UF2_FAMILY_ID", 0) if target is not None else 0
        assert UF2_FAMILIES.get(chip.name, 0) == fid, chip.name
        if fid:
            assert chip_by_uf2_family(fid) is chip
    assert chip_by_uf2_family(0xE48BFF56) is None  # RP2040: not an Espressif chip


# ------------------------------------------------------------------------------ sector rule
def test_sparse_leaves_out_whole_erased_sectors_only() -> None:
    data = bytearray(b"\xff" * 0x5000)
    data[0x10] = 1          # sector 0x1000 (data starts at 0x1000)
    data[0x3FFF] = 2        # sector 0x4000: its last byte
    segments = sparse(0x1000, bytes(data))
    assert [(a, len(d)) for a, d in segments] == [(0x1000, 0x1000), (0x4000, 0x1000)]
    # an unaligned start: the first sector is the part of 0x0-0x1000 in the data, whole
    assert [(a, len(d)) for a, d in sparse(0x800, b"\x00" + b"\xff" * 0x2000)] == \
        [(0x800, 0x800)]
    assert sparse(0, b"\xff" * 0x3000) == []
    assert flatten(segments) == (0x1000, bytes(data[:0x4000]))  # the last sector is erased


# ------------------------------------------------------------------------------ HEX
def test_hex_output_is_what_intelhex_writes_and_reads() -> None:
    data = FW.read_bytes()
    text = encode("hex", 0x1000, data, None)
    ih = IntelHex()
    for address, part in sparse(0x1000, data):
        ih.frombytes(part, address)
    written = io.StringIO()
    ih.write_hex_file(written)
    assert text == written.getvalue().encode()
    assert _intelhex_segments(text) == sparse(0x1000, data)
    assert decode(text).segments == tuple(sparse(0x1000, data))


def test_hex_damage_is_a_failed_check_where_the_data_can_be_had() -> None:
    good = encode("hex", 0x10000, bytes(range(256)) * 4, None)
    lines = good.split(b"\n")
    lines[3] = lines[3][:-2] + (b"00" if lines[3][-2:] != b"00" else b"11")
    found = decode(b"\n".join(lines))
    assert [c.name for c in found.checks if not c.valid] == ["hex-checksum"]
    assert found.flash() == bytes(range(256)) * 4
    cut = decode(b"\n".join(good.split(b"\n")[:-2]))
    assert [c.name for c in cut.checks if not c.valid] == ["structure"]


@pytest.mark.parametrize("text, why", [
    (b":0100000001FE\n:10000000zz\n:00000001FF\n", "well-formed"),
    (b":0400000000000000FC\n:0400020001020304F0\n:00000001FF\n", "overlaps"),
    (b":020000041000EA\n:0100000001FE\n:020000040000FA\n:0100000001FE\n:00000001FF\n",
     "span more"),
    (b":020000060000F8\n:00000001FF\n", "record type"),
])
def test_unusable_hex_is_refused_in_one_line(text: bytes, why: str) -> None:
    with pytest.raises(InputError, match=why):
        decode(text)


def test_a_hostile_span_is_refused_before_a_buffer_is_allocated() -> None:
    # two bytes 2 GiB apart: flattening would allocate 2 GiB
    text = b":0100000001FE\n:020000048000FA\n:0100000001FE\n:00000001FF\n"
    assert sniff(text) == "intel-hex"
    with pytest.raises(InputError, match=str(MAX_FILE_SIZE // (1 << 20))):
        Image.from_bytes(text)


# ------------------------------------------------------------------------------ UF2
def test_uf2_output_is_what_esptools_writer_writes(tmp_path: Path) -> None:
    data = FW.read_bytes()
    ours = encode("uf2", 0x1000, data, ESP32)
    with UF2Writer(UF2_FAMILIES["esp32"], str(tmp_path / "e.uf2"), None) as writer:
        for address, part in sparse(0x1000, data):
            writer.add_file(address, part)
    assert ours == (tmp_path / "e.uf2").read_bytes()
    blocks = _uf2_blocks(ours)
    assert {b[0] for b in blocks} == {0x2000 | 0x4000} and {b[5] for b in blocks} == \
        {0x1C5F21B0}
    want = {a + i: b for a, d in sparse(0x1000, data) for i, b in enumerate(d)}
    assert _flash_of_blocks(ours) == want


def test_uf2_without_md5_parts_reads(tmp_path: Path) -> None:
    with UF2Writer(UF2_FAMILIES["esp32s3"], str(tmp_path / "n.uf2"), None,
                   md5_enabled=False) as writer:
        writer.add_file(0x10000, bytes(range(256)) * 10)
    found = decode((tmp_path / "n.uf2").read_bytes())
    assert found.flash() == bytes(range(256)) * 10 and found.start == 0x10000
    assert found.chip is chip_by_name("esp32s3") and all(c.valid for c in found.checks)
    assert found.facts["md5_blocks"] == 0


def _mutated(data: bytes, at: int, value: bytes) -> bytes:
    return data[:at] + value + data[at + len(value):]


@pytest.mark.parametrize("change, name", [
    (lambda d: _mutated(d, 32 + 452 + 8, b"\x00" * 16), "uf2-md5"),
    (lambda d: _mutated(d, 512 + 20, struct.pack("<I", 7)), "uf2-blocks"),
    (lambda d: d[:-512], "uf2-blocks"),
    (lambda d: d + b"x" * 10, "structure"),
    (lambda d: _mutated(d, 512 + 28, struct.pack("<I", 0xE48BFF56)), "uf2-family"),
    (lambda d: _mutated(d, 512, b"\x00" * 4), "uf2-magic"),
    (lambda d: _mutated(d, 512 + 16, struct.pack("<I", 470)), "uf2-payload"),
])
def test_uf2_damage_is_a_failed_check(change: object, name: str) -> None:
    good = encode("uf2", 0x10000, bytes(range(256)) * 20, ESP32)
    found = decode(change(good))  # type: ignore[operator]
    assert name in [c.name for c in found.checks if not c.valid]


def test_unusable_uf2_is_refused_in_one_line() -> None:
    one = encode("uf2", 0x10000, b"\x01" * 100, ESP32)
    with pytest.raises(InputError, match="overlaps"):
        decode(one + one)
    far = _mutated(one, 12, struct.pack("<I", 0xF0000000))
    with pytest.raises(InputError, match="span more"):
        decode(one[:0] + encode("uf2", 0, b"\x01", ESP32) + far)
    not_flash = _mutated(one, 8, struct.pack("<I", 0x2001))
    with pytest.raises(InputError, match="no block"):
        decode(not_flash)
    with pytest.raises(UsageError, match="family id"):
        encode("uf2", 0, b"\x01", chip_by_name("esp32e22"))


# ------------------------------------------------------------------------------ the model
@pytest.mark.parametrize("form", ["hex", "uf2"])
def test_a_container_reads_as_the_flash_it_describes(form: str) -> None:
    data = FW.read_bytes()
    file = encode(form, 0x1000, data, ESP32)  # type: ignore[arg-type]
    image = Image.from_bytes(file)
    bare = Image.from_bytes(data)
    assert image.kind == bare.kind == "flash" and image.base == 0x1000 and image.valid
    assert bytes(image.data) == data.rstrip(b"\xff")[:len(image.data)]
    assert image.wrappers[0].outer["start_address"] == 0x1000
    assert image.to_bytes() == file
    assert image.unwrapped().to_bytes() == bytes(image.data)


def test_a_bootloader_where_the_rom_does_not_load_it_fails() -> None:
    boot = fixture_path("esp32-bootloader.bin").read_bytes()
    image = Image.from_bytes(encode("hex", 0, boot, None))
    failed = [c for c in image.checks if not c.valid]
    assert [c.name for c in failed] == ["container-address"]
    assert "0x1000" in failed[0].detail
    assert Image.from_bytes(encode("hex", 0x1000, boot, None)).valid


def test_a_merged_file_at_the_wrong_base_fails() -> None:
    image = Image.from_bytes(encode("uf2", 0x2000, FW.read_bytes(), ESP32))
    assert [c.name for c in image.checks if not c.valid] == ["container-address"]


def test_a_uf2_family_of_another_chip_fails() -> None:
    image = Image.from_bytes(encode("uf2", 0x1000, FW.read_bytes(), chip_by_name("esp32s3")))
    failed = [c for c in image.checks if not c.valid]
    assert [c.name for c in failed] == ["uf2-family"] and "esp32s3" in failed[0].detail


def test_an_app_at_uf2_address_0_is_a_tinyuf2_app() -> None:
    fw = Image.open(fixture_path("firmware-esp32s3.bin"))
    app = next(p for p in fw.partitions if p.image is not None)
    data = fw.partition_bytes(app.partition)
    image = Image.from_bytes(encode("uf2", 0, data, fw.chip))
    assert image.valid and any("TinyUF2 app" in n for n in image.notes)


# ------------------------------------------------------------------------------ esptool oracle
def _corpus_firmware() -> list[tuple[str, int, bytes, str]]:
    """(name, flash address, bytes, chip) of every merged file and bare app in both corpora
    that is not wrapped."""
    out = []
    for row in corpus_rows():
        path = Path(row["path"])
        if not path.is_file():
            continue
        try:
            image = Image.open(path)
        except Exception:
            continue
        if image.wrappers or image.chip is None or image.chip.name not in CHIP_DEFS:
            continue
        if image.kind == "flash" and image.base is not None:
            out.append((path.name, image.base, path.read_bytes(), image.chip.name))
        elif image.kind == "image" and getattr(image.firmware, "role", None) == "app":
            out.append((path.name, 0x10000, path.read_bytes(), image.chip.name))
    return out


def _esptool(tmp: Path, form: str, address: int, data: bytes, chip: str) -> bytes:
    merge_bin([(address, data)], chip, output=str(tmp / f"e.{form}"), format=form)
    return (tmp / f"e.{form}").read_bytes()


def test_esptool_merge_bin_output_of_the_fixture_reads_the_same(tmp_path: Path) -> None:
    data = FW.read_bytes()
    for form in ("hex", "uf2"):
        found = decode(_esptool(tmp_path, form, 0x1000, data, "esp32"))
        assert found.start == 0x1000 and found.flash() == data and all(c.valid for c in
                                                                       found.checks)


def test_esptool_merge_bin_over_the_corpus_reads_the_same(tmp_path: Path) -> None:
    cases = _corpus_firmware()
    if not cases:
        pytest.skip("corpus absent: no merged files or bare apps")
    for name, address, data, chip in cases:
        # UF2 for all; HEX for the small ones: esptool writes it through intelhex, a dict
        # entry per byte, about 0.7 s a MiB (the fixture test covers a whole merged file)
        for form in ("uf2", "hex") if len(data) <= 0x28000 else ("uf2",):
            oracle = _esptool(tmp_path, form, address, data, chip)
            image = Image.from_bytes(oracle)
            assert image.wrappers[0].outer["start_address"] == address, name
            assert bytes(image.data) == data, (name, form)
            ours = encode(form, address, data, chip_by_name(chip))  # type: ignore[arg-type]
            assert list(decode(ours).segments) == sparse(address, data), (name, form)
