"""ELF32 little-endian files: the file header, program headers and section headers.

Sources: the System V gABI (``Elf32_Ehdr``, ``Elf32_Phdr``, ``Elf32_Shdr``), binutils
``include/elf/common.h`` (``EM_XTENSA`` 94, ``EM_RISCV`` 243), ``include/elf/xtensa.h`` and the
RISC-V ELF psABI (``EF_RISCV_RVC``, ``EF_RISCV_FLOAT_ABI_SINGLE``). ESP-IDF core dumps
(:mod:`.coredump`) and the ``elf`` command (:mod:`esp_image.elf`) both use these.

Pure declarations: no I/O, no policy.
"""

from __future__ import annotations

from construct import Bytes, Const, Int8ul, Int16ul, Int32ul, Struct

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from typing import Any

ELF_MAGIC = b"\x7fELF"
ELFCLASS32 = 1
ELFDATA2LSB = 1
EV_CURRENT = 1
ET_EXEC = 2
ET_CORE = 4
EM_XTENSA = 0x5E
EM_RISCV = 0xF3

EF_XTENSA_XT_INSN = 0x100
EF_XTENSA_XT_LIT = 0x200
"""What xtensa-esp32-elf-ld (and the ESP8266 toolchain) set in every ESP-IDF/NONOS ELF."""
EF_RISCV_RVC = 0x1
EF_RISCV_FLOAT_ABI_SINGLE = 0x2

PT_LOAD = 1
PT_NOTE = 4
PF_X = 0x1
PF_W = 0x2
PF_R = 0x4

SHT_NULL = 0
SHT_PROGBITS = 1
SHT_STRTAB = 3
SHF_WRITE = 0x1
SHF_ALLOC = 0x2
SHF_EXECINSTR = 0x4

# --- structures -----------------------------------------------------------------------------

Elf32_Ehdr: Any = """ELF32 little-endian file header (52 bytes).""" * Struct(
    "magic" / Const(ELF_MAGIC),
    "ei_class" / Int8ul,
    "ei_data" / Int8ul,
    "ei_version" / Int8ul,
    "ei_pad" / Bytes(9),
    "e_type" / Int16ul,
    "e_machine" / Int16ul,
    "e_version" / Int32ul,
    "e_entry" / Int32ul,
    "e_phoff" / Int32ul,
    "e_shoff" / Int32ul,
    "e_flags" / Int32ul,
    "e_ehsize" / Int16ul,
    "e_phentsize" / Int16ul,
    "e_phnum" / Int16ul,
    "e_shentsize" / Int16ul,
    "e_shnum" / Int16ul,
    "e_shstrndx" / Int16ul,
)
Elf32_Phdr: Any = """ELF32 program header (32 bytes).""" * Struct(
    "p_type" / Int32ul,
    "p_offset" / Int32ul,
    "p_vaddr" / Int32ul,
    "p_paddr" / Int32ul,
    "p_filesz" / Int32ul,
    "p_memsz" / Int32ul,
    "p_flags" / Int32ul,
    "p_align" / Int32ul,
)
Elf32_Shdr: Any = """ELF32 section header (40 bytes); ``sh_name`` is an offset into the
section-name string table (``e_shstrndx``).""" * Struct(
    "sh_name" / Int32ul,
    "sh_type" / Int32ul,
    "sh_flags" / Int32ul,
    "sh_addr" / Int32ul,
    "sh_offset" / Int32ul,
    "sh_size" / Int32ul,
    "sh_link" / Int32ul,
    "sh_info" / Int32ul,
    "sh_addralign" / Int32ul,
    "sh_entsize" / Int32ul,
)
