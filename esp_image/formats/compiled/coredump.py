"""Generated from :mod:`esp_image.formats.coredump`: do not edit.

Change the declarations there and run ``python -m esp_image.formats._compile``.
"""

from __future__ import annotations

from struct import Struct

from .._records import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

BIN_V1 = 1
BIN_V2 = 2
BIN_V2_1 = 3
ELF_CRC32_V2 = 0x100
ELF_SHA256_V2 = 0x101
ELF_CRC32_V2_1 = 0x102
ELF_SHA256_V2_1 = 0x103
ELF_SHA256_V2_2 = 0x104
VERSIONS = {1: ('bin', 'crc32', 'v1'),
 2: ('bin', 'crc32', 'v2'),
 3: ('bin', 'crc32', 'v2_1'),
 256: ('elf', 'crc32', 'v2'),
 257: ('elf', 'sha256', 'v2'),
 258: ('elf', 'crc32', 'v2_1'),
 259: ('elf', 'sha256', 'v2_1'),
 260: ('elf', 'sha256', 'v2_2')}
CHECKSUM_SIZES = {'crc32': 4, 'sha256': 32}
HEADER_SIZES = {'v1': 16, 'v2': 20, 'v2_1': 24, 'v2_2': 12}
CHIP_SHIFT = 16
DUMP_VERSION_MASK = 0xFFFF
MAX_CHIP_ID = 0xFF
NT_PRSTATUS = 1
PT_ESP_INFO = 0x204A
NOTE_CORE = b'CORE'
NOTE_INFO = b'ESP_CORE_DUMP_INFO'
NOTE_ALIGN = 4


def align4(size: int) -> int:
    """``size`` rounded up to a multiple of 4 (note fields, binary-form stacks)."""
    return (size + 3) & ~3


class HeaderV1(Record):
    """``EspCoreDumpV1Header`` (BIN_V1)."""

    __slots__ = ('tot_len', 'ver', 'task_num', 'tcbsz')
    FIELDS = __slots__
    NAME = 'coredump.HeaderV1'
    SIZE = 16
    _STRUCT = Struct('<LLLL')

    tot_len: int
    ver: int
    task_num: int
    tcbsz: int

    def __init__(self, tot_len: int, ver: int, task_num: int, tcbsz: int) -> None:
        self.tot_len = tot_len
        self.ver = ver
        self.task_num = task_num
        self.tcbsz = tcbsz

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> HeaderV1:
        return cls(v[0], v[1], v[2], v[3])

    def _values(self) -> tuple[Any, ...]:
        return (self.tot_len, self.ver, self.task_num, self.tcbsz)


class HeaderV2(Record):
    """``EspCoreDumpV2Header`` (BIN_V2, ELF_CRC32_V2, ELF_SHA256_V2)."""

    __slots__ = ('tot_len', 'ver', 'task_num', 'tcbsz', 'segs_num')
    FIELDS = __slots__
    NAME = 'coredump.HeaderV2'
    SIZE = 20
    _STRUCT = Struct('<LLLLL')

    tot_len: int
    ver: int
    task_num: int
    tcbsz: int
    segs_num: int

    def __init__(self, tot_len: int, ver: int, task_num: int, tcbsz: int, segs_num: int) -> None:
        self.tot_len = tot_len
        self.ver = ver
        self.task_num = task_num
        self.tcbsz = tcbsz
        self.segs_num = segs_num

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> HeaderV2:
        return cls(v[0], v[1], v[2], v[3], v[4])

    def _values(self) -> tuple[Any, ...]:
        return (self.tot_len, self.ver, self.task_num, self.tcbsz, self.segs_num)


class HeaderV2_1(Record):
    """``EspCoreDumpV2_1_Header`` (BIN_V2_1, ELF_CRC32_V2_1, ELF_SHA256_V2_1):
    adds the chip revision (major * 100 + minor)."""

    __slots__ = ('tot_len', 'ver', 'task_num', 'tcbsz', 'segs_num', 'chip_rev')
    FIELDS = __slots__
    NAME = 'coredump.HeaderV2_1'
    SIZE = 24
    _STRUCT = Struct('<LLLLLL')

    tot_len: int
    ver: int
    task_num: int
    tcbsz: int
    segs_num: int
    chip_rev: int

    def __init__(
        self,
        tot_len: int,
        ver: int,
        task_num: int,
        tcbsz: int,
        segs_num: int,
        chip_rev: int,
    ) -> None:
        self.tot_len = tot_len
        self.ver = ver
        self.task_num = task_num
        self.tcbsz = tcbsz
        self.segs_num = segs_num
        self.chip_rev = chip_rev

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> HeaderV2_1:
        return cls(v[0], v[1], v[2], v[3], v[4], v[5])

    def _values(self) -> tuple[Any, ...]:
        return (self.tot_len, self.ver, self.task_num, self.tcbsz, self.segs_num, self.chip_rev)


class HeaderV2_2(Record):
    """``EspCoreDumpV2_2_Header`` (ELF_SHA256_V2_2): no task count; the ELF
    holds the tasks."""

    __slots__ = ('tot_len', 'ver', 'chip_rev')
    FIELDS = __slots__
    NAME = 'coredump.HeaderV2_2'
    SIZE = 12
    _STRUCT = Struct('<LLL')

    tot_len: int
    ver: int
    chip_rev: int

    def __init__(self, tot_len: int, ver: int, chip_rev: int) -> None:
        self.tot_len = tot_len
        self.ver = ver
        self.chip_rev = chip_rev

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> HeaderV2_2:
        return cls(v[0], v[1], v[2])

    def _values(self) -> tuple[Any, ...]:
        return (self.tot_len, self.ver, self.chip_rev)


class TaskHeader(Record):
    """A task record of the binary form; the TCB and stack follow."""

    __slots__ = ('tcb_addr', 'stack_top', 'stack_end')
    FIELDS = __slots__
    NAME = 'coredump.TaskHeader'
    SIZE = 12
    _STRUCT = Struct('<LLL')

    tcb_addr: int
    stack_top: int
    stack_end: int

    def __init__(self, tcb_addr: int, stack_top: int, stack_end: int) -> None:
        self.tcb_addr = tcb_addr
        self.stack_top = stack_top
        self.stack_end = stack_end

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> TaskHeader:
        return cls(v[0], v[1], v[2])

    def _values(self) -> tuple[Any, ...]:
        return (self.tcb_addr, self.stack_top, self.stack_end)


class MemSegmentHeader(Record):
    """A binary-form memory segment; ``mem_sz`` bytes follow."""

    __slots__ = ('mem_start', 'mem_sz')
    FIELDS = __slots__
    NAME = 'coredump.MemSegmentHeader'
    SIZE = 8
    _STRUCT = Struct('<LL')

    mem_start: int
    mem_sz: int

    def __init__(self, mem_start: int, mem_sz: int) -> None:
        self.mem_start = mem_start
        self.mem_sz = mem_sz

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> MemSegmentHeader:
        return cls(v[0], v[1])

    def _values(self) -> tuple[Any, ...]:
        return (self.mem_start, self.mem_sz)


class NoteHeader(Record):
    """ELF note header; the name (``namesz`` bytes with its NUL) and the desc
    follow, each padded to 4 bytes."""

    __slots__ = ('namesz', 'descsz', 'type')
    FIELDS = __slots__
    NAME = 'coredump.NoteHeader'
    SIZE = 12
    _STRUCT = Struct('<LLL')

    namesz: int
    descsz: int
    type: int

    def __init__(self, namesz: int, descsz: int, type: int) -> None:
        self.namesz = namesz
        self.descsz = descsz
        self.type = type

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> NoteHeader:
        return cls(v[0], v[1], v[2])

    def _values(self) -> tuple[Any, ...]:
        return (self.namesz, self.descsz, self.type)
