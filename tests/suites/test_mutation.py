"""Mutation suite: damaged variants of every corpus file and fixture must never crash esp-image.

For each input (``../shared/corpus`` via :func:`corpus_rows`, skipped when absent, and every
``fixtures/*.bin``) the parsed models give the structural boundaries (header ends, every
segment header and data end, checksum byte, SHA-256, table records and MD5 record, otadata
records, regions of flash files). From them the suite derives mutants:

- truncation at every structural boundary (and one byte either side in the long profile);
- bit flips at structurally meaningful offsets (boundaries and every length/count field),
  plus a seeded random sample over the whole file;
- flips of every stored integrity field (checksum byte, SHA-256, MD5 digest, otadata record,
  CRC32 trailer) and of segment data: the matching check must then be reported invalid *by its
  check name*;
- extension with 0xFF, 0x00 and random bytes;
- swapped and duplicated regions (segments, flash regions, the two halves of the file);
- length and count fields set to 0, 1, 0x7F.., 0xFF.. and 0xFFFFFFFF; partition records made
  hostile (zero/huge sizes, self-referencing offsets, overlaps, 95 entries) with the MD5
  repaired so that the layout code runs; otadata sequence numbers at the u32 extremes with
  their CRC repaired.

Each mutant must: parse with :meth:`Image.from_bytes` or raise only an
:class:`esp_image.errors.EspImageError` subclass, within a time bound; give a JSON-serialisable
``to_dict()``; describe itself for ``info``/``verify`` without crashing; rebuild with
``to_bytes()`` (or refuse with an EspImageError), byte-identical when it verifies as valid.

Profiles (environment variable ``ESP_IMAGE_MUTATION_PROFILE``): ``ci`` (default, well under a
minute) and ``long`` (every bit at every structural offset, ±1 truncations, a larger random
sample, more transforms; several minutes). See tests/fuzz/README.md.
"""

from __future__ import annotations

import json
import os
import random
import struct
import time
import traceback
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pytest

from esp_image import Image
from esp_image.app_image import AppImage
from esp_image.errors import EspImageError

from ..conftest import CORPUS, FIXTURES, corpus_rows

PROFILE = os.environ.get("ESP_IMAGE_MUTATION_PROFILE", "ci").strip().lower()
LONG = PROFILE == "long"

RANDOM_FLIPS = 400 if LONG else 24
"""Seeded random single-bit flips per file, anywhere in the file."""
RANDOM_TRUNCATIONS = 50 if LONG else 4
STRUCTURAL_BITS = range(8) if LONG else (0, 7)
"""Bits flipped at each structural offset."""
MAX_STRUCTURAL_OFFSETS = 10_000 if LONG else 160
"""Cap on structural offsets flipped per file (a sample is taken when there are more)."""
TIME_LIMIT = 5.0
"""Seconds one mutant may take from parse to rebuild (parsing is milliseconds normally)."""
SEED = int(os.environ.get("ESP_IMAGE_MUTATION_SEED", "5"))

INTEGRITY_CHECKS = ("checksum", "sha256", "md5", "otadata-crc", "crc32")
U32_EXTREMES = (0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF)


# ---------------------------------------------------------------------- the inputs
def _inputs() -> list[Path]:
    files = [Path(row["path"]) for row in corpus_rows()]
    files = [f for f in files if f.is_file()]
    files += sorted(FIXTURES.glob("*.bin"))
    return files


INPUTS = _inputs()


# ---------------------------------------------------------------------- structure
@dataclass
class Structure:
    """Offsets in one file that the parsed models say are meaningful."""

    size: int
    boundaries: set[int] = field(default_factory=set)
    fields: list[tuple[int, int, str]] = field(default_factory=list)  # (offset, width, what)
    integrity: list[tuple[int, str]] = field(default_factory=list)  # (byte offset, check name)
    regions: list[tuple[int, int, str]] = field(default_factory=list)  # (offset, size, what)
    tables: list[int] = field(default_factory=list)  # file offsets of partition tables
    otadata: list[int] = field(default_factory=list)  # file offsets of otadata partitions

    def bound(self, *offsets: int) -> None:
        self.boundaries.update(o for o in offsets if 0 <= o <= self.size)

    def add_field(self, offset: int, width: int, what: str) -> None:
        if offset >= 0 and offset + width <= self.size:
            self.fields.append((offset, width, what))

    def region(self, offset: int, size: int, what: str) -> None:
        size = min(size, self.size - offset)
        if offset >= 0 and size > 0:
            self.regions.append((offset, size, what))


def _esp32_image(s: Structure, img: AppImage, at: int, name: str) -> None:
    s.bound(at, at + 8, at + 24, at + img.length, at + img.end)
    s.add_field(at + 1, 1, f"{name} segment_count")
    s.add_field(at + 3, 1, f"{name} flash size/freq")
    s.add_field(at + 4, 4, f"{name} entry")
    s.add_field(at + 12, 2, f"{name} chip_id")
    s.add_field(at + 23, 1, f"{name} hash_appended")
    for i, seg in enumerate(img.segments):
        s.bound(at + seg.offset, at + seg.data_offset, at + seg.end)
        s.add_field(at + seg.offset, 4, f"{name} segment {i} load_addr")
        s.add_field(at + seg.offset + 4, 4, f"{name} segment {i} data_len")
        s.region(at + seg.offset, seg.end - seg.offset, f"{name} segment {i}")
        if seg.data_len >= 4 and not img.truncated:
            # Any change to segment data changes the XOR checksum.
            s.integrity.append((at + seg.data_offset + seg.data_len // 2, "checksum"))
    if img.stored_checksum is not None:
        checksum_at = img.length - 1 - (32 if img.stored_digest is not None else 0)
        s.bound(at + checksum_at, at + checksum_at + 1)
    if img.signature is not None:
        s.bound(at + img.signature.offset)


def _esp8266_image(s: Structure, img: object, at: int, name: str) -> None:
    from esp_image.esp8266 import Esp8266Image

    assert isinstance(img, Esp8266Image)
    s.bound(at, at + 8, at + img.header_offset, at + img.header_offset + 8, at + img.length,
            at + img.end)
    s.add_field(at + 1, 1, f"{name} segment_count")
    s.add_field(at + 3, 1, f"{name} flash size/freq")
    if img.v2_header is not None:
        s.bound(at + 16)
        s.add_field(at + 8, 4, f"{name} irom_addr")
        s.add_field(at + 12, 4, f"{name} irom_len")
        s.add_field(at + img.header_offset + 1, 1, f"{name} inner segment_count")
        if img.stored_crc32 is not None and (img.irom_size or 0) >= 4 and not img.truncated:
            s.integrity.append((at + 16 + (img.irom_size or 0) // 2, "crc32"))
    for i, seg in enumerate(img.segments):
        s.bound(at + seg.offset, at + seg.data_offset, at + seg.end)
        s.add_field(at + seg.offset, 4, f"{name} segment {i} load_addr")
        s.add_field(at + seg.offset + 4, 4, f"{name} segment {i} data_len")
        s.region(at + seg.offset, seg.end - seg.offset, f"{name} segment {i}")
        if seg.data_len >= 4 and not img.truncated and img.stored_checksum is not None:
            s.integrity.append((at + seg.data_offset + seg.data_len // 2, "checksum"))
    if img.checksum_offset is not None:
        s.bound(at + img.checksum_offset, at + img.checksum_offset + 1)


def _table(s: Structure, at: int, count: int) -> None:
    s.tables.append(at)
    for i in range(min(count + 2, 96) + 1):
        s.bound(at + 32 * i)
    for i in range(count):
        rec = at + 32 * i
        s.add_field(rec + 2, 1, f"table record {i} type")
        s.add_field(rec + 3, 1, f"table record {i} subtype")
        s.add_field(rec + 4, 4, f"table record {i} offset")
        s.add_field(rec + 8, 4, f"table record {i} size")
        s.add_field(rec + 28, 4, f"table record {i} flags")
    s.bound(at + 0xC00, at + 0x1000)


def _otadata(s: Structure, at: int) -> None:
    s.otadata.append(at)
    for copy in (0, 0x1000):
        rec = at + copy
        s.bound(rec, rec + 4, rec + 24, rec + 28, rec + 32)
        s.add_field(rec, 4, f"otadata copy {copy // 0x1000} ota_seq")
        s.add_field(rec + 24, 4, f"otadata copy {copy // 0x1000} ota_state")
    s.bound(at + 0x2000)


def structure_of(data: bytes, image: Image) -> Structure:
    """Every structural offset the parsed models of ``image`` describe."""
    s = Structure(len(data))
    s.bound(0, 1, 2, 4, 8, 16, 24, 32)
    if any(layer.transformed for layer in image.wrappers):
        # The model's offsets are in the inflated (or decrypted) bytes, not in the file's: only
        # the header bounds and the random flips apply to a compressed file.
        return s
    fw = image.firmware
    if isinstance(fw, AppImage):
        _esp32_image(s, fw, 0, "image")
    elif fw is not None:
        _esp8266_image(s, fw, 0, "image")
    if image.esp8266 is not None:
        from esp_image.esp8266 import Esp8266Image
        from esp_image.partition_table import PartitionTable

        for r in image.esp8266.regions:
            s.bound(r.offset, r.offset + r.size)
            s.region(r.offset, r.size, r.name)
            if isinstance(r.model, Esp8266Image) and r.offset:
                _esp8266_image(s, r.model, r.offset, r.name)
            elif isinstance(r.model, PartitionTable):
                _table(s, r.offset, len(r.model.partitions))
    if image.kind == "partition-table" and image.table is not None:
        _table(s, 0, len(image.table.partitions))
    if image.kind == "otadata":
        _otadata(s, 0)
    if image.kind == "flash" and image.base is not None and image.esp8266 is None:
        for reg in image.regions:
            s.bound(reg.offset, reg.offset + reg.size)
            s.region(reg.offset, reg.size, reg.name)
        if image.bootloader is not None:
            _esp32_image(s, image.bootloader, image.bootloader_file_offset, "bootloader")
        if image.table is not None and image.table_address is not None:
            _table(s, image.table_address - image.base, len(image.table.partitions))
        for content in image.partitions:
            start = content.partition.offset - image.base
            if content.image is not None:
                _esp32_image(s, content.image, start, content.partition.name)
            if content.partition.is_otadata and content.covered >= 0x2000:
                _otadata(s, start)
    # The stored integrity fields, located by the checks that reported them as valid.
    for check in image.checks:
        if not check.valid or check.name not in INTEGRITY_CHECKS:
            continue
        if check.name == "md5":
            s.integrity.append((check.offset + 16 + 7, "md5"))  # the digest, not the magic
        elif check.name == "sha256":
            s.integrity += [(check.offset, "sha256"), (check.offset + 31, "sha256")]
        elif check.name == "otadata-crc":
            s.integrity += [(check.offset, "otadata-crc"), (check.offset + 28, "otadata-crc")]
        elif check.name == "crc32":
            s.integrity.append((check.offset + 3, "crc32"))
        else:
            s.integrity.append((check.offset, check.name))
        s.bound(check.offset)
    if image.table is not None and image.table.md5 is not None and any(
            c.name == "md5" and c.valid for c in image.checks):
        for table_at in s.tables:
            for i in range(len(image.table.partitions)):
                s.integrity.append((table_at + 32 * i + 8, "md5"))  # a size byte of a record
    s.integrity = [(o, n) for o, n in s.integrity if 0 <= o < s.size]
    return s


# ---------------------------------------------------------------------- mutants
@dataclass(frozen=True)
class Mutant:
    what: str
    data: bytes
    expect_invalid: str | None = None  # a check name that must be reported invalid


def _flip(data: bytes, offset: int, bit: int) -> bytes:
    out = bytearray(data)
    out[offset] ^= 1 << bit
    return bytes(out)


def _put(data: bytes, offset: int, value: bytes) -> bytes:
    out = bytearray(data)
    out[offset:offset + len(value)] = value
    return bytes(out)


def _repair_md5(out: bytearray, table_at: int) -> None:
    """Recompute the MD5 record of the table at ``table_at`` so layout rules are reached."""
    pos = table_at
    while pos + 32 <= min(len(out), table_at + 0xC00) and out[pos:pos + 2] == b"\xaa\x50":
        pos += 32
    if pos + 32 <= len(out) and out[pos:pos + 2] == b"\xeb\xeb":
        import hashlib

        out[pos + 16:pos + 32] = hashlib.md5(bytes(out[table_at:pos])).digest()


def _table_mutants(data: bytes, s: Structure, image: Image) -> Iterator[Mutant]:
    if image.table is None:
        return
    count = len(image.table.partitions)
    for at in s.tables:
        table_address = image.table_address if image.table_address is not None else 0x8000
        def hostile(i: int, offset: int | None, size: int | None, what: str,
                    at: int = at) -> Mutant:
            out = bytearray(data)
            rec = at + 32 * i
            if offset is not None:
                out[rec + 4:rec + 8] = struct.pack("<I", offset & 0xFFFFFFFF)
            if size is not None:
                out[rec + 8:rec + 12] = struct.pack("<I", size & 0xFFFFFFFF)
            _repair_md5(out, at)
            return Mutant(f"table at {at:#x} record {i}: {what} (MD5 repaired)", bytes(out))

        for i in range(count):
            part = image.table.partitions[i]
            for value in U32_EXTREMES:
                yield hostile(i, None, value, f"size {value:#x}")
                yield hostile(i, value, None, f"offset {value:#x}")
            yield hostile(i, table_address, None, "offset = the table itself")
            yield hostile(i, 0, 0xFFFFFFFF, "whole 4 GiB address space")
            yield hostile(i, part.offset, part.size * 0x1000, "size x 4096")
            yield hostile(i, (image.base or 0), 0x1000, "offset = file byte 0")
            if i:
                prev = image.table.partitions[i - 1]
                yield hostile(i, prev.offset, None, "same offset as the previous partition")
                yield hostile(i, prev.offset + 0x1000, None, "inside the previous partition")
        # 95 entries: the first record repeated until the 0xC00 area is full.
        for entries, md5 in ((95, False), (94, True), (96, False)):
            out = bytearray(data)
            end = min(len(out), at + 0x1000)
            first = bytes(out[at:at + 32])
            area = bytearray(b"\xff" * (end - at))
            records = first * entries
            if md5:
                import hashlib

                records += b"\xeb\xeb" + b"\xff" * 14 + hashlib.md5(records).digest()
            area[:min(len(records), len(area))] = records[:len(area)]
            out[at:end] = area
            yield Mutant(f"table at {at:#x}: {entries} copies of record 0"
                         + (" + MD5" if md5 else ""), bytes(out))
        # Every record a distinct overlapping app partition (labels differ, MD5 valid).
        out = bytearray(data)
        recs = b"".join(
            b"\xaa\x50\x00" + bytes([0x10 + (i % 16)]) + struct.pack("<II", 0x10000 + i * 0x1000,
                                                                   0x100000)
            + f"p{i}".encode().ljust(16, b"\0") + bytes(4) for i in range(94))
        import hashlib

        recs += b"\xeb\xeb" + b"\xff" * 14 + hashlib.md5(recs).digest() + b"\xff" * 32
        end = min(len(out), at + 0xC00)
        out[at:end] = recs[:end - at]
        yield Mutant(f"table at {at:#x}: 94 overlapping OTA slots + MD5", bytes(out))


def _otadata_mutants(data: bytes, s: Structure) -> Iterator[Mutant]:
    from esp_image.formats.otadata import ota_crc

    for at in s.otadata:
        for copy in (0, 0x1000):
            for seq in (*U32_EXTREMES, 2, 3, 16, 17):
                for state in (0, 2, 3, 4, 5, 0xFFFFFFFF, 0x12345678):
                    if not LONG and state not in (0xFFFFFFFF, 3, 0x12345678):
                        continue
                    out = bytearray(data)
                    rec = at + copy
                    out[rec:rec + 4] = struct.pack("<I", seq)
                    out[rec + 24:rec + 28] = struct.pack("<I", state)
                    out[rec + 28:rec + 32] = struct.pack("<I", ota_crc(seq))
                    yield Mutant(f"otadata at {at:#x} copy {copy // 0x1000}: seq {seq:#x} "
                                 f"state {state:#x} (CRC repaired)", bytes(out))


def mutants(data: bytes, image: Image, seed: int) -> Iterator[Mutant]:
    """Every mutant of ``data`` for the active profile."""
    rng = random.Random(seed)
    size = len(data)
    s = structure_of(data, image)

    # Truncation at every structural boundary.
    cuts = set(s.boundaries)
    if LONG:
        cuts |= {b - 1 for b in s.boundaries} | {b + 1 for b in s.boundaries}
    cuts |= {rng.randrange(size) for _ in range(RANDOM_TRUNCATIONS)}
    for cut in sorted(c for c in cuts if 0 <= c < size):
        yield Mutant(f"truncated at {cut:#x}", data[:cut])

    # Bit flips at structural offsets, and a seeded random sample.
    offsets = sorted({o for o in s.boundaries if o < size}
                     | {o + k for o, w, _ in s.fields for k in range(w)})
    if len(offsets) > MAX_STRUCTURAL_OFFSETS:
        offsets = sorted(rng.sample(offsets, MAX_STRUCTURAL_OFFSETS))
    for offset in offsets:
        for bit in STRUCTURAL_BITS:
            yield Mutant(f"bit {bit} flipped at {offset:#x} (structural)",
                         _flip(data, offset, bit))
    for _ in range(RANDOM_FLIPS):
        offset, bit = rng.randrange(size), rng.randrange(8)
        yield Mutant(f"bit {bit} flipped at {offset:#x} (random)", _flip(data, offset, bit))

    # Damaged integrity fields: the named check must fail.
    for offset, name in s.integrity:
        for bit in ((0, 5) if not LONG else range(8)):
            yield Mutant(f"bit {bit} flipped at {offset:#x} ({name} field)",
                         _flip(data, offset, bit), name)

    # Extension.
    for length in (1, 16, 0x1000):
        yield Mutant(f"{length:#x} bytes of 0xFF appended", data + b"\xff" * length)
        yield Mutant(f"{length:#x} bytes of 0x00 appended", data + bytes(length))
        yield Mutant(f"{length:#x} random bytes appended", data + rng.randbytes(length))
    if LONG:
        yield Mutant("file doubled", data + data)

    # Swapped and duplicated regions.
    regions = sorted(set(s.regions))
    pairs = [(a, b) for i, a in enumerate(regions) for b in regions[i + 1:]
             if a[0] + a[1] <= b[0]]
    if not LONG and len(pairs) > 12:
        pairs = rng.sample(pairs, 12)
    for (a_off, a_size, a_name), (b_off, b_size, b_name) in pairs:
        n = min(a_size, b_size, 0x40000)
        out = bytearray(data)
        out[a_off:a_off + n], out[b_off:b_off + n] = data[b_off:b_off + n], data[a_off:a_off + n]
        yield Mutant(f"swapped {a_name} ({a_off:#x}) and {b_name} ({b_off:#x}), {n:#x} bytes",
                     bytes(out))
        out = bytearray(data)
        out[b_off:b_off + n] = data[a_off:a_off + n]
        yield Mutant(f"{a_name} ({a_off:#x}) copied over {b_name} ({b_off:#x})", bytes(out))
    half = size // 2
    if half:
        yield Mutant("halves swapped", data[half:] + data[:half])

    # Length and count fields at their extremes.
    for offset, width, what in s.fields:
        top = (1 << (8 * width)) - 1
        values = {0, 1, top, top >> 1, top ^ (top >> 1)}
        if width == 4:
            values |= {0xFFFFFFF0, size, size + 1, 0x1000000}
        for value in sorted(v & top for v in values):
            yield Mutant(f"{what} at {offset:#x} set to {value:#x}",
                         _put(data, offset, value.to_bytes(width, "little")))

    yield from _table_mutants(data, s, image)
    yield from _otadata_mutants(data, s)


# ---------------------------------------------------------------------- the oracle
def exercise(data: bytes) -> Image | None:
    """Everything ``info``/``verify`` do with a file, in-process; raise on a contract breach.

    Returns the parsed image, or None when the library refused the bytes with an EspImageError.
    """
    try:
        image = Image.from_bytes(data)
    except EspImageError:
        return None
    json.dumps(image.to_dict())
    from esp_image.cli.render import describe, plain, verify_lines

    plain(describe(image))
    verify_lines(image)
    assert image.valid in (True, False)
    try:
        rebuilt = image.to_bytes()
    except EspImageError:
        if image.valid:
            raise AssertionError("a valid image refused to rebuild") from None
        return image
    if image.valid:
        assert rebuilt == data, "a valid image did not rebuild byte for byte"
    return image


def _tail(exc: BaseException) -> str:
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    text = "".join(lines).strip().splitlines()
    return "\n      ".join(text[-6:])


def run_mutants(source: str, items: Iterator[Mutant],
                check: Callable[[bytes], Image | None] = exercise) -> tuple[int, list[str]]:
    """Run every mutant; return how many ran and the failures as readable reports."""
    failures: list[str] = []
    count = 0
    for m in items:
        count += 1
        start = time.perf_counter()
        try:
            image = check(m.data)
        except Exception as exc:  # every non-EspImageError escape is a finding
            failures.append(f"{source}: {m.what}: {type(exc).__name__}: {exc}\n      "
                            f"{_tail(exc)}")
            continue
        elapsed = time.perf_counter() - start
        if elapsed > TIME_LIMIT:
            failures.append(f"{source}: {m.what}: took {elapsed:.1f}s (limit {TIME_LIMIT}s)")
        if m.expect_invalid is not None:
            names = [] if image is None else [c.name for c in image.checks if not c.valid]
            if image is not None and m.expect_invalid not in names:
                failures.append(f"{source}: {m.what}: expected a failed {m.expect_invalid!r} "
                                f"check, got kind {image.kind!r}, failed checks {names}")
    return count, failures


def _report(failures: list[str], count: int) -> str:
    shown = "\n  ".join(failures[:12])
    more = f"\n  ... and {len(failures) - 12} more" if len(failures) > 12 else ""
    return f"{len(failures)} of {count} mutants broke the contract:\n  {shown}{more}"


# ---------------------------------------------------------------------- tests
def _id(path: Path) -> str:
    return ("fixture:" if path.parent == FIXTURES else "corpus:") + path.name


@pytest.mark.parametrize("path", INPUTS, ids=[_id(p) for p in INPUTS])
def test_mutants_never_crash(path: Path) -> None:
    data = path.read_bytes()
    image = Image.from_bytes(data)
    seed = SEED ^ zlib.crc32(path.name.encode())
    count, failures = run_mutants(path.name, mutants(data, image, seed))
    assert count > 0
    assert not failures, _report(failures, count)


def test_corpus_present_or_skipped() -> None:
    """Report (not fail) when the shared corpus is absent: only fixtures were mutated."""
    if not corpus_rows():
        pytest.skip("../shared/corpus absent: the mutation suite ran over fixtures/ only")
    assert any(p.parent != FIXTURES for p in INPUTS)


@pytest.mark.parametrize("data", [
    bytes([0xE9, 0xFF]) + bytes(22),
    bytes([0xE9, 0x10, 2, 0x20]) + b"\xff" * 20 + (b"\0\0\0\0\xff\xff\xff\xff" * 16),
    bytes([0xEA, 0x04, 0, 0]) + bytes(4) + b"\0\0\x20\x40\xff\xff\xff\xff",
    b"\xaa\x50" + b"\xff" * 30,
    b"\xaa\x50" * 0x800,
    b"\xeb\xeb" + b"\xff" * 0xBFE,
    b"\xe9" * 0x3000,
    b"\xea" * 0x3000,
    b"\0" * 0x2000,
    b"\xff" * 0x1FFF + b"\x00",
    b"yaota8266" + b"\xff" * 100,
    b"yaota8266",
    bytes(range(256)) * 64,
], ids=lambda d: d[:4].hex() + f"-{len(d)}")
def test_hand_made_hostile_buffers(data: bytes) -> None:
    count, failures = run_mutants("hostile", iter([Mutant("as given", data)]))
    assert not failures, _report(failures, count)


@pytest.mark.parametrize("name", ["firmware-esp32-4MB.bin", "esp32-app.bin",
                                  "otadata-ota0.bin", "partitions-4MiB-ota.bin"])
def test_integrity_damage_is_named(name: str) -> None:
    """Every stored digest/CRC of the fixtures, damaged, fails the check of that name."""
    data = (FIXTURES / name).read_bytes()
    s = structure_of(data, Image.from_bytes(data))
    assert s.integrity, "no integrity field found"
    items = (Mutant(f"byte at {o:#x} ({n})", _flip(data, o, 3), n) for o, n in s.integrity)
    count, failures = run_mutants(name, items)
    assert not failures, _report(failures, count)


# ---------------------------------------------------------------------- transforms on damage
def _transform_calls(image: Image) -> Iterator[tuple[str, Callable[[], object]]]:
    from esp_image.transforms.extract import extract
    from esp_image.transforms.flash import FlashParams, set_flash_params
    from esp_image.transforms.ota import otadata_for
    from esp_image.transforms.retable import RetableOptions, retable

    yield "flash-params --size 8MB", lambda: set_flash_params(image, FlashParams.parse("8MB"))
    yield "flash-params --mode qio", lambda: set_flash_params(image, FlashParams.parse(mode="qio"))
    yield "otadata --boot 1", lambda: otadata_for(image, slot=1)
    yield "otadata --erase", lambda: otadata_for(image, erase=True)
    yield "otadata --state valid", lambda: otadata_for(image, state="valid")
    for what in ("bootloader", "partition-table", "otadata", "factory", "ota_0", "app"):
        yield f"extract {what}", partial(extract, image, what)
        if LONG:
            yield f"extract --raw {what}", partial(extract, image, what, raw=True)
    yield "retable -f 8MB", lambda: retable(image, RetableOptions(flash_size=8 << 20))
    yield "retable --table ota", lambda: retable(image, RetableOptions(table="ota"))
    if LONG:
        yield "retable -f 16MB --table default", lambda: retable(
            image, RetableOptions(flash_size=16 << 20, table="default"))


def _transforms(data: bytes) -> Image | None:
    """Run every ESP32 transform on a mutant: only EspImageError may escape, and whatever a
    transform returns must verify."""
    from esp_image.io import verify_bytes

    image = exercise(data)
    if image is None:
        return None
    for _what, call in _transform_calls(image):
        try:
            result = call()
        except EspImageError:
            continue
        out = getattr(result, "data", None) if not isinstance(result, tuple) else result[0]
        if isinstance(out, bytes) and out[:1] in (b"\xe9", b"\xaa") and image.valid:
            verify_bytes(out)
    return image


def _esp8266_transforms(data: bytes) -> Image | None:
    from esp_image.transforms.esp8266 import convert_v2, set_esp8266_flash_params

    image = exercise(data)
    calls: list[Callable[[], object]] = [
        partial(convert_v2, data, to="gen_appbin", user=1),
        partial(convert_v2, data, to="esptool"),
        partial(set_esp8266_flash_params, data, size="4MB-c1", mode="dio"),
        partial(set_esp8266_flash_params, data, freq="80m")]
    for call in calls:
        try:
            call()
        except EspImageError:
            continue
    return image


TRANSFORM_INPUTS = [FIXTURES / "firmware-esp32-4MB.bin", FIXTURES / "otadata-ota0.bin",
                    FIXTURES / "esp32-app.bin"]
ESP8266_INPUTS = ["nonos306_at_user1.1024.new.2.bin", "esptool_test_esp8266_sdk_4096_user1.bin",
                  "nonos_boot_v1.7.bin", "mgwr_rboot_rom0_0x02000.bin"]


def _sample(items: Iterator[Mutant], n: int, seed: int) -> list[Mutant]:
    pool = list(items)
    return pool if LONG or len(pool) <= n else random.Random(seed).sample(pool, n)


@pytest.mark.parametrize("path", TRANSFORM_INPUTS, ids=lambda p: p.name)
def test_transforms_on_mutants(path: Path) -> None:
    """retable, flash-params, otadata and extract on damaged files: refuse, never crash."""
    data = path.read_bytes()
    image = Image.from_bytes(data)
    sample = _sample(mutants(data, image, SEED), 150, SEED)
    count, failures = run_mutants(path.name, iter(sample), _transforms)
    assert not failures, _report(failures, count)


@pytest.mark.parametrize("name", ESP8266_INPUTS)
def test_esp8266_transforms_on_mutants(name: str) -> None:
    path = CORPUS / name
    if not path.is_file():
        pytest.skip(f"corpus file {name} not available")
    data = path.read_bytes()
    sample = _sample(mutants(data, Image.from_bytes(data), SEED), 120, SEED)
    count, failures = run_mutants(name, iter(sample), _esp8266_transforms)
    assert not failures, _report(failures, count)
