"""Generated from :mod:`esp_image.formats.elf`: do not edit.

Change the declarations there and run ``python -m esp_image.formats._compile``.
"""

from __future__ import annotations

from struct import Struct

from .._records import Record, bad_magic, check_len

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

ELF_MAGIC = b'\x7fELF'
ELFCLASS32 = 1
ELFDATA2LSB = 1
EV_CURRENT = 1
ET_EXEC = 2
ET_CORE = 4
EM_XTENSA = 0x5E
EM_RISCV = 0xF3
EF_XTENSA_XT_INSN = 0x100
EF_XTENSA_XT_LIT = 0x200
EF_RISCV_RVC = 1
EF_RISCV_FLOAT_ABI_SINGLE = 2
PT_LOAD = 1
PT_NOTE = 4
PF_X = 1
PF_W = 2
PF_R = 4
SHT_NULL = 0
SHT_PROGBITS = 1
SHT_STRTAB = 3
SHF_WRITE = 1
SHF_ALLOC = 2
SHF_EXECINSTR = 4


class Elf32_Ehdr(Record):
    """ELF32 little-endian file header (52 bytes)."""

    __slots__ = (
        'ei_class',
        'ei_data',
        'ei_version',
        'ei_pad',
        'e_type',
        'e_machine',
        'e_version',
        'e_entry',
        'e_phoff',
        'e_shoff',
        'e_flags',
        'e_ehsize',
        'e_phentsize',
        'e_phnum',
        'e_shentsize',
        'e_shnum',
        'e_shstrndx',
    )
    FIELDS = __slots__
    NAME = 'elf.Elf32_Ehdr'
    SIZE = 52
    _STRUCT = Struct('<4sBBB9sHHLLLLLHHHHHH')

    ei_class: int
    ei_data: int
    ei_version: int
    ei_pad: bytes
    e_type: int
    e_machine: int
    e_version: int
    e_entry: int
    e_phoff: int
    e_shoff: int
    e_flags: int
    e_ehsize: int
    e_phentsize: int
    e_phnum: int
    e_shentsize: int
    e_shnum: int
    e_shstrndx: int

    def __init__(
        self,
        ei_class: int,
        ei_data: int,
        ei_version: int,
        ei_pad: bytes,
        e_type: int,
        e_machine: int,
        e_version: int,
        e_entry: int,
        e_phoff: int,
        e_shoff: int,
        e_flags: int,
        e_ehsize: int,
        e_phentsize: int,
        e_phnum: int,
        e_shentsize: int,
        e_shnum: int,
        e_shstrndx: int,
    ) -> None:
        self.ei_class = ei_class
        self.ei_data = ei_data
        self.ei_version = ei_version
        self.ei_pad = ei_pad
        self.e_type = e_type
        self.e_machine = e_machine
        self.e_version = e_version
        self.e_entry = e_entry
        self.e_phoff = e_phoff
        self.e_shoff = e_shoff
        self.e_flags = e_flags
        self.e_ehsize = e_ehsize
        self.e_phentsize = e_phentsize
        self.e_phnum = e_phnum
        self.e_shentsize = e_shentsize
        self.e_shnum = e_shnum
        self.e_shstrndx = e_shstrndx

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> Elf32_Ehdr:
        if v[0] != b'\x7fELF':
            raise bad_magic(cls.NAME, offset, b'\x7fELF', v[0])
        return cls(
            v[1],
            v[2],
            v[3],
            v[4],
            v[5],
            v[6],
            v[7],
            v[8],
            v[9],
            v[10],
            v[11],
            v[12],
            v[13],
            v[14],
            v[15],
            v[16],
            v[17],
        )

    def _values(self) -> tuple[Any, ...]:
        check_len(self.NAME, 'ei_pad', self.ei_pad, 9)
        return (
            b'\x7fELF',
            self.ei_class,
            self.ei_data,
            self.ei_version,
            self.ei_pad,
            self.e_type,
            self.e_machine,
            self.e_version,
            self.e_entry,
            self.e_phoff,
            self.e_shoff,
            self.e_flags,
            self.e_ehsize,
            self.e_phentsize,
            self.e_phnum,
            self.e_shentsize,
            self.e_shnum,
            self.e_shstrndx,
        )


class Elf32_Phdr(Record):
    """ELF32 program header (32 bytes)."""

    __slots__ = (
        'p_type',
        'p_offset',
        'p_vaddr',
        'p_paddr',
        'p_filesz',
        'p_memsz',
        'p_flags',
        'p_align',
    )
    FIELDS = __slots__
    NAME = 'elf.Elf32_Phdr'
    SIZE = 32
    _STRUCT = Struct('<LLLLLLLL')

    p_type: int
    p_offset: int
    p_vaddr: int
    p_paddr: int
    p_filesz: int
    p_memsz: int
    p_flags: int
    p_align: int

    def __init__(
        self,
        p_type: int,
        p_offset: int,
        p_vaddr: int,
        p_paddr: int,
        p_filesz: int,
        p_memsz: int,
        p_flags: int,
        p_align: int,
    ) -> None:
        self.p_type = p_type
        self.p_offset = p_offset
        self.p_vaddr = p_vaddr
        self.p_paddr = p_paddr
        self.p_filesz = p_filesz
        self.p_memsz = p_memsz
        self.p_flags = p_flags
        self.p_align = p_align

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> Elf32_Phdr:
        return cls(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7])

    def _values(self) -> tuple[Any, ...]:
        return (
            self.p_type,
            self.p_offset,
            self.p_vaddr,
            self.p_paddr,
            self.p_filesz,
            self.p_memsz,
            self.p_flags,
            self.p_align,
        )


class Elf32_Shdr(Record):
    """ELF32 section header (40 bytes); ``sh_name`` is an offset into the
    section-name string table (``e_shstrndx``)."""

    __slots__ = (
        'sh_name',
        'sh_type',
        'sh_flags',
        'sh_addr',
        'sh_offset',
        'sh_size',
        'sh_link',
        'sh_info',
        'sh_addralign',
        'sh_entsize',
    )
    FIELDS = __slots__
    NAME = 'elf.Elf32_Shdr'
    SIZE = 40
    _STRUCT = Struct('<LLLLLLLLLL')

    sh_name: int
    sh_type: int
    sh_flags: int
    sh_addr: int
    sh_offset: int
    sh_size: int
    sh_link: int
    sh_info: int
    sh_addralign: int
    sh_entsize: int

    def __init__(
        self,
        sh_name: int,
        sh_type: int,
        sh_flags: int,
        sh_addr: int,
        sh_offset: int,
        sh_size: int,
        sh_link: int,
        sh_info: int,
        sh_addralign: int,
        sh_entsize: int,
    ) -> None:
        self.sh_name = sh_name
        self.sh_type = sh_type
        self.sh_flags = sh_flags
        self.sh_addr = sh_addr
        self.sh_offset = sh_offset
        self.sh_size = sh_size
        self.sh_link = sh_link
        self.sh_info = sh_info
        self.sh_addralign = sh_addralign
        self.sh_entsize = sh_entsize

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> Elf32_Shdr:
        return cls(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9])

    def _values(self) -> tuple[Any, ...]:
        return (
            self.sh_name,
            self.sh_type,
            self.sh_flags,
            self.sh_addr,
            self.sh_offset,
            self.sh_size,
            self.sh_link,
            self.sh_info,
            self.sh_addralign,
            self.sh_entsize,
        )
