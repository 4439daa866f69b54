"""ESP-IDF core dumps as stored in a ``data``/``coredump`` partition.

Sources:

- espressif/esp-coredump ``esp_coredump/corefile/loader.py`` (the reader ``idf.py coredump-info``
  runs): the four header layouts, the dump versions (``EspCoreDumpLoader.BIN_V1`` ..
  ``ELF_SHA256_V2_2``), which header each version uses, and the checksum: CRC-32
  (``binascii.crc32``, i.e. zlib's) or SHA-256 over the header and the body, stored right after
  them, ``tot_len`` bytes in all; the binary form's task records (``TaskHeader``, the TCB, the
  stack of ``|stack_top - stack_end|`` bytes, 4-aligned) and memory segments.
- ``esp_coredump/corefile/elf.py``: the ELF32 little-endian header, program headers and notes
  (name and desc each padded to 4 bytes); ``PT_ESP_INFO`` (8266) notes named
  ``ESP_CORE_DUMP_INFO`` hold the dump version and the app ELF's SHA-256 as hex text, cut to
  ``CONFIG_APP_RETRIEVE_LEN_ELF_SHA`` characters and NUL-padded; each task has a ``CORE``
  (``NT_PRSTATUS``) note.
- ESP-IDF ``components/espcoredump/include_core_dump/esp_core_dump_types.h``: the version word
  is ``chip id << 16 | dump version``; the chip id is the ``esp_chip_id_t`` of image headers.

Pure declarations: no I/O, no policy.
"""

from __future__ import annotations

from construct import Int32ul, Struct

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from typing import Any

# --- versions (loader.py, EspCoreDumpLoader) ------------------------------------------------------

BIN_V1 = 0x0001
BIN_V2 = 0x0002
BIN_V2_1 = 0x0003
ELF_CRC32_V2 = 0x0100
ELF_SHA256_V2 = 0x0101
ELF_CRC32_V2_1 = 0x0102
ELF_SHA256_V2_1 = 0x0103
ELF_SHA256_V2_2 = 0x0104

VERSIONS: dict[int, tuple[str, str, str]] = {
    BIN_V1: ("bin", "crc32", "v1"),
    BIN_V2: ("bin", "crc32", "v2"),
    BIN_V2_1: ("bin", "crc32", "v2_1"),
    ELF_CRC32_V2: ("elf", "crc32", "v2"),
    ELF_SHA256_V2: ("elf", "sha256", "v2"),
    ELF_CRC32_V2_1: ("elf", "crc32", "v2_1"),
    ELF_SHA256_V2_1: ("elf", "sha256", "v2_1"),
    ELF_SHA256_V2_2: ("elf", "sha256", "v2_2"),
}
"""Dump version -> (data format, checksum kind, header layout)."""

CHECKSUM_SIZES: dict[str, int] = {"crc32": 4, "sha256": 32}
HEADER_SIZES: dict[str, int] = {"v1": 16, "v2": 20, "v2_1": 24, "v2_2": 12}

CHIP_SHIFT = 16
DUMP_VERSION_MASK = 0xFFFF
MAX_CHIP_ID = 0xFF
"""Chip ids are small (``esp_chip_id_t``); a larger upper half is not a core dump."""

# --- ELF (elf.py) --------------------------------------------------------------------------------

# The ELF32 header and program headers are :mod:`.elf`'s (``Elf32_Ehdr``, ``Elf32_Phdr``).
NT_PRSTATUS = 1
PT_ESP_INFO = 8266
"""Note type of ``ESP_CORE_DUMP_INFO`` (and ``ESP_CHIP_REV``)."""
NOTE_CORE = b"CORE"
NOTE_INFO = b"ESP_CORE_DUMP_INFO"
NOTE_ALIGN = 4

# --- structures ----------------------------------------------------------------------------------

HeaderV1: Any = """``EspCoreDumpV1Header`` (BIN_V1).""" * Struct(
    "tot_len" / Int32ul,
    "ver" / Int32ul,
    "task_num" / Int32ul,
    "tcbsz" / Int32ul,
)
HeaderV2: Any = """``EspCoreDumpV2Header`` (BIN_V2, ELF_CRC32_V2, ELF_SHA256_V2).""" * Struct(
    "tot_len" / Int32ul,
    "ver" / Int32ul,
    "task_num" / Int32ul,
    "tcbsz" / Int32ul,
    "segs_num" / Int32ul,
)
HeaderV2_1: Any = """``EspCoreDumpV2_1_Header`` (BIN_V2_1, ELF_CRC32_V2_1, ELF_SHA256_V2_1):
adds the chip revision (major * 100 + minor).""" * Struct(
    "tot_len" / Int32ul,
    "ver" / Int32ul,
    "task_num" / Int32ul,
    "tcbsz" / Int32ul,
    "segs_num" / Int32ul,
    "chip_rev" / Int32ul,
)
HeaderV2_2: Any = """``EspCoreDumpV2_2_Header`` (ELF_SHA256_V2_2): no task count; the ELF
holds the tasks.""" * Struct(
    "tot_len" / Int32ul,
    "ver" / Int32ul,
    "chip_rev" / Int32ul,
)
TaskHeader: Any = """A task record of the binary form; the TCB and stack follow.""" * Struct(
    "tcb_addr" / Int32ul,
    "stack_top" / Int32ul,
    "stack_end" / Int32ul,
)
MemSegmentHeader: Any = """A binary-form memory segment; ``mem_sz`` bytes follow.""" * Struct(
    "mem_start" / Int32ul,
    "mem_sz" / Int32ul,
)
NoteHeader: Any = """ELF note header; the name (``namesz`` bytes with its NUL) and the desc
follow, each padded to 4 bytes.""" * Struct(
    "namesz" / Int32ul,
    "descsz" / Int32ul,
    "type" / Int32ul,
)


def align4(size: int) -> int:
    """``size`` rounded up to a multiple of 4 (note fields, binary-form stacks)."""
    return (size + 3) & ~3
