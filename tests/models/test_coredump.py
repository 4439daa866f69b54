"""ESP-IDF core dumps: corpus-2 files judged per MANIFEST facts, project fixtures, esp-coredump
as an oracle, byte-exact round trip, mutations, hostile lengths."""

from __future__ import annotations

import re
import struct
import time
from pathlib import Path

import pytest

from esp_image.coredump import CoreDump, looks_like_coredump
from esp_image.errors import FormatError

from ..cli.test_json_doc import assert_matches
from ..conftest import CORPUS, CORPUS2, FIXTURES, corpus_path
from .test_secure_cert import corpus2_rows

KINDS = FIXTURES / "kinds"
ELF = FIXTURES / "coredump-esp32c6-elf-sha256.bin"
BIN = FIXTURES / "coredump-esp32-bin-crc32.bin"
ROWS = {r["local_file"]: r for r in corpus2_rows("cdump_")}
_LOADER = re.compile(r"target=(\w+) ver=0x([0-9a-f]+)\((\w+)\) tot_len=(\d+); checksum=(\w+)")


@pytest.mark.parametrize("name", sorted(ROWS))
def test_corpus_file_judged_per_manifest(name: str) -> None:
    row = ROWS[name]
    data = corpus_path(name).read_bytes()
    oracle = row[list(row)[-1]]
    found = _LOADER.search(oracle)
    assert found is not None
    target, version, label, total, checksum = found.groups()
    assert looks_like_coredump(data)
    dump = CoreDump.from_bytes(data)
    assert (dump.chip, dump.version, dump.total_length) == (target, int(version, 16), int(total))
    assert dump.format == ("elf" if label.startswith("ELF") else "bin")
    assert dump.checksum_kind == ("sha256" if "SHA256" in label else "crc32")
    assert dump.checksum_ok is (checksum == "valid") and dump.valid
    cores = re.search(r"COREx(\d+)", oracle)
    assert cores is not None and dump.task_count == int(cores.group(1))
    if dump.format == "elf":
        assert dump.app_elf_sha256 is not None and len(dump.app_elf_sha256) >= 8
        assert dump.machine == (0x5E if "EM_XTENSA" in oracle else 0xF3)
    else:
        assert dump.app_elf_sha256 is None
    assert dump.to_bytes() == data


def test_elf_fixture() -> None:
    data = ELF.read_bytes()
    dump = CoreDump.from_bytes(data)
    assert dump.valid and dump.to_bytes() == data
    assert (dump.chip, dump.format, dump.checksum_kind, dump.dump_version) == (
        "esp32c6", "elf", "sha256", "1.4")
    assert (dump.task_count, dump.app_elf_sha256, dump.chip_rev) == (3, "8f1e0c2d7", 1)
    assert len(dump.trailing) == len(data) - dump.total_length
    assert [c.name for c in dump.checks] == ["sha256"]
    doc = dump.to_dict()
    assert_matches("Core dump document", doc)
    assert doc["machine"] == "riscv"


def test_bin_fixture() -> None:
    data = BIN.read_bytes()
    dump = CoreDump.from_bytes(data)
    assert dump.valid and dump.to_bytes() == data
    assert (dump.chip, dump.format, dump.checksum_kind, dump.dump_version) == (
        "esp32", "bin", "crc32", "0.3")
    assert dump.task_count == 2 and dump.chip_rev == 300
    assert [(t.stack_end - t.stack_start) for t in dump.tasks] == [0x1A0, 0x12C]
    assert_matches("Core dump document", dump.to_dict())


@pytest.mark.parametrize("name", ["coredump-esp32c6-elf-sha256-damaged.img",
                                  "coredump-esp32-bin-crc32-damaged.img"])
def test_damaged_fixtures(name: str) -> None:
    data = (KINDS / name).read_bytes()
    dump = CoreDump.from_bytes(data)
    assert not dump.valid and dump.checksum_ok is False
    assert [c.name for c in dump.damage] == [dump.checksum_kind]
    assert dump.to_bytes() == data


def _oracle_paths() -> list[Path]:
    kinds = sorted([*FIXTURES.glob("coredump-*.bin"), *KINDS.glob("coredump-*.img")])
    return kinds + [CORPUS2 / n for n in sorted(ROWS) if (CORPUS2 / n).is_file()]


@pytest.mark.parametrize("path", _oracle_paths(), ids=lambda p: p.name)
def test_oracle_esp_coredump_agrees(path: Path) -> None:
    loader = pytest.importorskip("esp_coredump.corefile.loader")
    from esp_coredump.corefile import ESPCoreDumpLoaderError

    oracle = loader.ESPCoreDumpFileLoader(str(path))
    dump = CoreDump.from_bytes(path.read_bytes())
    assert (oracle.target, oracle.version, oracle.header.tot_len) == (
        dump.chip, dump.version, dump.total_length)
    try:
        oracle._validate_dump_file()
        accepted = True
    except ESPCoreDumpLoaderError:
        accepted = False
    assert accepted is dump.checksum_ok is dump.valid


def test_every_flipped_byte_of_the_dump_is_damage() -> None:
    for path in (ELF, BIN):
        data = path.read_bytes()
        total = CoreDump.from_bytes(data).total_length
        for at in range(total):
            mutated = bytearray(data)
            mutated[at] ^= 0x10
            try:
                dump = CoreDump.from_bytes(bytes(mutated))
            except FormatError:
                assert 4 <= at < 8, (path.name, at)  # the version word: no longer a dump
                continue
            assert not dump.valid, (path.name, hex(at))


def _dump(version: int, body: bytes, *, tot_len: int | None = None,
          extra: tuple[int, ...] = ()) -> bytes:
    """A v2.2 (ELF, SHA-256) or v2.1 (CRC-32) header around ``body``; checksum left zero."""
    if version & 0xFFFF == 0x0104:
        size, head = 12, struct.pack("<I", 0)
    else:
        size, head = 24, struct.pack("<4I", *(extra or (0, 0, 0, 0)))
    check = 32 if version & 0xFFFF in (0x0101, 0x0103, 0x0104) else 4
    total = tot_len if tot_len is not None else size + len(body) + check
    return struct.pack("<II", total, version) + head + body + bytes(check)


def _elf(phoff: int = 52, phnum: int = 1, phentsize: int = 32, notes: bytes = b"") -> bytes:
    header = b"\x7fELF\x01\x01\x01" + bytes(9) + struct.pack(
        "<HHIIIIIHHHHHH", 4, 0xF3, 1, 0, phoff, 0, 0, 52, phentsize, phnum, 40, 0, 0)
    ph = struct.pack("<8I", 4, 84, 0, 0, len(notes), len(notes), 0, 0)
    return header + ph + notes


@pytest.mark.parametrize("data", [
    _dump(0x000D0104, _elf(), tot_len=0xFFFFFFFF),                      # tot_len huge
    _dump(0x000D0104, _elf(), tot_len=3),                               # tot_len too small
    _dump(0x000D0104, _elf(phnum=0xFFFF)),                              # program headers
    _dump(0x000D0104, _elf(phoff=0xFFFFFFF0)),                          # table far away
    _dump(0x000D0104, _elf(phentsize=8)),                               # wrong entry size
    _dump(0x000D0104, _elf(notes=struct.pack("<III", 0xFFFFFFFF, 4, 1) + bytes(8))),
    _dump(0x000D0104, b"\x7fEL"),                                       # ELF header cut
    _dump(0x00000003, bytes(64), extra=(0xFFFFFFFF, 0x154, 0, 0)),      # task count
    _dump(0x00000003, struct.pack("<3I", 0, 0, 0xFFFFFFF0) + bytes(0x154),
          extra=(1, 0x154, 0, 0)),                                      # stack range
    _dump(0x00000003, struct.pack("<2I", 0, 0xFFFFFFFF), extra=(0, 0x154, 1, 0)),  # segment
])
def test_hostile_lengths_are_structure_damage(data: bytes) -> None:
    start = time.perf_counter()
    dump = CoreDump.from_bytes(data)
    assert "structure" in {c.name for c in dump.damage}
    assert dump.to_bytes() == data
    assert time.perf_counter() - start < 1


def test_not_a_core_dump() -> None:
    for data in (b"", b"\x00" * 7, b"\xff" * 0x1000, bytes(0x1000),
                 struct.pack("<II", 100, 0x01000104) + bytes(92)):  # chip id 0x100
        assert not looks_like_coredump(data)
        with pytest.raises(FormatError):
            CoreDump.from_bytes(data)
    # a known version word alone is not enough: the ELF magic or plausible tasks must follow
    assert not looks_like_coredump(_dump(0x000D0104, b"\0" * 60))
    assert not looks_like_coredump(_dump(0x00000003, bytes(64), extra=(0, 0, 0, 0)))
    # a dump longer than the data is not claimed (a partition read-out holds all of it)
    assert not looks_like_coredump(ELF.read_bytes()[:100])


def test_detector_claims_no_other_corpus_file() -> None:
    for folder in (CORPUS, CORPUS2):
        for path in sorted(folder.glob("*.bin")) if folder.is_dir() else []:
            data = path.read_bytes()
            assert looks_like_coredump(data) == path.name.startswith("cdump_"), path.name
