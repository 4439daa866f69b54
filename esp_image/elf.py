"""Firmware images as ELF32 executables that debuggers and disassemblers load.

:func:`program` turns an app or bootloader (any ESP32-family chip, or ESP8266) into an
:class:`ElfProgram`: one ``PT_LOAD`` program header per loaded segment at its load address
(``p_vaddr == p_paddr``), the image's entry point, and one section per segment named after the
chip's memory region (:data:`SECTIONS`, keyed by the region names of
:data:`esp_image.chips.MEMORY_MAPS`), plus ``.shstrtab``. :meth:`ElfProgram.to_bytes` writes
it; :meth:`ElfProgram.from_bytes` reads one back (what a written file is verified with).

Machine and flags: ``EM_XTENSA`` with ``EF_XTENSA_XT_INSN | EF_XTENSA_XT_LIT`` (0x300, what the
Xtensa linkers of ESP-IDF and the ESP8266 SDKs set) for the ESP8266, ESP32, S2 and S3;
``EM_RISCV`` with ``EF_RISCV_RVC`` (every ESP RISC-V core runs compressed code) for the others,
plus ``EF_RISCV_FLOAT_ABI_SINGLE`` where ESP-IDF builds with ``-mabi=ilp32f`` (the P4).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import chips
from .errors import FormatError, TruncatedError
from .formats.compiled import elf as fmt

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from typing import TypeVar

    from .app_image import AppImage
    from .esp8266 import Esp8266Image

    _H = TypeVar("_H", fmt.Elf32_Phdr, fmt.Elf32_Shdr)

XTENSA_CHIPS = frozenset({"esp8266", "esp32", "esp32s2", "esp32s3"})
"""The chips with Xtensa cores; every other ESP chip is RISC-V."""
RISCV_HARD_FLOAT = frozenset({"esp32p4"})
"""RISC-V chips whose ESP-IDF toolchain file sets ``-mabi=ilp32f``."""

_R, _RW, _RX, _RWX = fmt.PF_R, fmt.PF_R | fmt.PF_W, fmt.PF_R | fmt.PF_X, \
    fmt.PF_R | fmt.PF_W | fmt.PF_X

SECTIONS: dict[str, tuple[str, int]] = {
    "IRAM": (".iram0.text", _RX),
    "DRAM": (".dram0.data", _RW),
    "IROM": (".flash.text", _RX),
    "DROM": (".flash.rodata", _R),
    "RTC_IRAM": (".rtc.text", _RX),
    "RTC_DRAM": (".rtc.data", _RW),
    "RTC_DATA": (".rtc.data", _RW),
    "CACHE_APP": (".iram_loader.text", _RX),
    "CACHE_PRO": (".iram_loader.text", _RX),
    "EXTRAM_DATA": (".ext_ram.data", _RW),
    "IROM_MASK": (".rom.text", _RX),
}
"""Memory region (:data:`esp_image.chips.MEMORY_MAPS`) -> (section name as ESP-IDF's linker
scripts name it, ``p_flags``). A segment in no region gets :data:`UNMAPPED`."""
UNMAPPED = (".unmapped", _RW)

_ALIGN = 4


@dataclass(frozen=True)
class ElfSegment:
    """One loaded segment: ``data`` at ``address``, in section ``section`` with ``flags``
    (``PF_R``/``PF_W``/``PF_X``)."""

    address: int
    data: bytes
    section: str
    flags: int


@dataclass(frozen=True)
class ElfProgram:
    """An ELF32 little-endian executable: machine, ``e_flags``, entry point and segments."""

    machine: int
    flags: int
    entry: int
    segments: tuple[ElfSegment, ...]

    @property
    def architecture(self) -> str:
        """``xtensa`` or ``riscv`` (or the machine number)."""
        return {fmt.EM_XTENSA: "xtensa", fmt.EM_RISCV: "riscv"}.get(self.machine,
                                                                   str(self.machine))

    def to_bytes(self) -> bytes:
        """The file: header, program headers, segment data, ``.shstrtab``, section headers."""
        count = len(self.segments)
        names, name_at = _string_table([s.section for s in self.segments])
        out = bytearray(fmt.Elf32_Ehdr.SIZE + count * fmt.Elf32_Phdr.SIZE)
        phdrs: list[bytes] = []
        shdrs = [bytes(fmt.Elf32_Shdr.SIZE)]
        for seg in self.segments:
            align = _ALIGN if seg.address % _ALIGN == 0 else 1
            out += bytes(-len(out) % align)
            phdrs.append(fmt.Elf32_Phdr(fmt.PT_LOAD, len(out), seg.address, seg.address,
                                        len(seg.data), len(seg.data), seg.flags, align).build())
            shdrs.append(fmt.Elf32_Shdr(name_at[seg.section], fmt.SHT_PROGBITS,
                                        _section_flags(seg.flags), seg.address, len(out),
                                        len(seg.data), 0, 0, align, 0).build())
            out += seg.data
        shdrs.append(fmt.Elf32_Shdr(name_at[".shstrtab"], fmt.SHT_STRTAB, 0, 0, len(out),
                                    len(names), 0, 0, 1, 0).build())
        out += names
        out += bytes(-len(out) % _ALIGN)
        header = fmt.Elf32_Ehdr(
            fmt.ELFCLASS32, fmt.ELFDATA2LSB, fmt.EV_CURRENT, bytes(9), fmt.ET_EXEC,
            self.machine, fmt.EV_CURRENT, self.entry, fmt.Elf32_Ehdr.SIZE if count else 0,
            len(out), self.flags, fmt.Elf32_Ehdr.SIZE, fmt.Elf32_Phdr.SIZE, count,
            fmt.Elf32_Shdr.SIZE, len(shdrs), len(shdrs) - 1)
        out[:fmt.Elf32_Ehdr.SIZE] = header.build()
        out[fmt.Elf32_Ehdr.SIZE:fmt.Elf32_Ehdr.SIZE + len(phdrs) * fmt.Elf32_Phdr.SIZE] = \
            b"".join(phdrs)
        return bytes(out + b"".join(shdrs))

    @classmethod
    def from_bytes(cls, data: bytes | memoryview) -> ElfProgram:
        """Read the ``PT_LOAD`` segments of an ELF32 little-endian executable, each named by
        the section that starts at its address and offset (``""`` without one).

        Raises:
            FormatError: not an ELF32 little-endian file, or a header table or segment that
                lies past the end of the data.
        """
        view = memoryview(data)
        head = fmt.Elf32_Ehdr.parse(view, 0, "ELF header")
        if (head.ei_class, head.ei_data) != (fmt.ELFCLASS32, fmt.ELFDATA2LSB):
            raise FormatError(f"not a 32-bit little-endian ELF (class {head.ei_class}, data "
                              f"{head.ei_data})", 4, "ELF header")
        phdrs = _table(view, fmt.Elf32_Phdr, head.e_phoff, head.e_phnum, head.e_phentsize)
        names = _section_names(view, head)
        segments = []
        for ph in phdrs:
            if ph.p_type != fmt.PT_LOAD:
                continue
            if ph.p_offset + ph.p_filesz > len(view):
                raise TruncatedError(f"a segment of {ph.p_filesz:#x} bytes at {ph.p_offset:#x} "
                                     "runs past the end", ph.p_offset, "ELF")
            segments.append(ElfSegment(ph.p_vaddr,
                                       bytes(view[ph.p_offset:ph.p_offset + ph.p_filesz]),
                                       names.get((ph.p_vaddr, ph.p_offset), ""), ph.p_flags))
        return cls(head.e_machine, head.e_flags, head.e_entry, tuple(segments))


def machine(chip: chips.Chip) -> tuple[int, int]:
    """``(e_machine, e_flags)`` for ``chip`` (see the module docstring)."""
    if chip.name in XTENSA_CHIPS:
        return fmt.EM_XTENSA, fmt.EF_XTENSA_XT_INSN | fmt.EF_XTENSA_XT_LIT
    hard = fmt.EF_RISCV_FLOAT_ABI_SINGLE if chip.name in RISCV_HARD_FLOAT else 0
    return fmt.EM_RISCV, fmt.EF_RISCV_RVC | hard


def program(img: AppImage | Esp8266Image, chip: chips.Chip, *,
            extra: tuple[tuple[int, bytes], ...] = ()) -> ElfProgram:
    """The ELF program of ``img``: its loaded segments, then ``extra`` ``(address, bytes)``
    parts loaded beside it (an ESP8266 irom0 part).

    A segment at address 0 (esptool's padding, which no loader loads) is left out.
    """
    from .app_image import AppImage  # not esp8266: it imports typing (start-up)

    entry = img.header.entry_addr if isinstance(img, AppImage) else img.entry
    parts = [(s.load_addr, bytes(img.data[s.data_offset:s.end])) for s in img.segments
             if s.load_addr != 0]
    parts += list(extra)
    first_flash = next((a for a, _ in parts if _regions(chip, a) & chips.FLASH_MAPPED), None)
    segments = tuple(ElfSegment(addr, data, *_section(chip, addr, len(data), entry,
                                                      addr == first_flash))
                     for addr, data in parts)
    e_machine, e_flags = machine(chip)
    return ElfProgram(e_machine, e_flags, entry, segments)


def _regions(chip: chips.Chip, addr: int) -> frozenset[str]:
    if chip.name == "esp8266":
        from .esp8266 import _regions as esp8266_regions

        return frozenset(esp8266_regions(addr))
    return frozenset(chips.memory_regions(chip.name, addr))


def _section(chip: chips.Chip, addr: int, size: int, entry: int, first_flash: bool
             ) -> tuple[str, int]:
    """The section name and flags of a segment.

    RISC-V chips map code and data to the same addresses, so the region alone does not say
    which a segment is. ESP-IDF links the app descriptor into the first flash segment it
    writes (read-only data) and code after it; in shared RAM the segment holding the entry
    point is code, and every shared-RAM segment is marked readable, writable and executable,
    as the memory is.
    """
    names = sorted(n for n in _regions(chip, addr) if n in SECTIONS)
    if not names:
        return UNMAPPED
    if len(names) == 1:
        return SECTIONS[names[0]]
    code = [n for n in names if SECTIONS[n][1] & fmt.PF_X]
    data = [n for n in names if not SECTIONS[n][1] & fmt.PF_X]
    if not code or not data:
        return SECTIONS[names[0]]
    if set(names) & chips.FLASH_MAPPED:
        return SECTIONS[data[0] if first_flash else code[0]]
    holds_entry = addr <= entry < addr + size
    return SECTIONS[code[0] if holds_entry else data[0]][0], _RWX


def _section_flags(p_flags: int) -> int:
    flags = fmt.SHF_ALLOC
    if p_flags & fmt.PF_W:
        flags |= fmt.SHF_WRITE
    if p_flags & fmt.PF_X:
        flags |= fmt.SHF_EXECINSTR
    return flags


def _string_table(names: list[str]) -> tuple[bytes, dict[str, int]]:
    """``.shstrtab``: a NUL, then each distinct name once with its NUL."""
    table, where = bytearray(b"\0"), {}
    for name in [*names, ".shstrtab"]:
        if name not in where:
            where[name] = len(table)
            table += name.encode() + b"\0"
    return bytes(table), where


def _table(view: memoryview, record: type[_H], offset: int, count: int, entsize: int
           ) -> list[_H]:
    if not count:
        return []
    if entsize != record.SIZE or offset + count * entsize > len(view):
        raise FormatError(f"{count} headers of {entsize} bytes at {offset:#x} do not fit the "
                          f"{len(view):#x}-byte file", offset, "ELF")
    return [record.parse(view, offset + n * entsize) for n in range(count)]


def _section_names(view: memoryview, head: fmt.Elf32_Ehdr) -> dict[tuple[int, int], str]:
    """``(sh_addr, sh_offset)`` -> name of every named section."""
    shdrs = _table(view, fmt.Elf32_Shdr, head.e_shoff, head.e_shnum, head.e_shentsize)
    if not shdrs or head.e_shstrndx >= len(shdrs):
        return {}
    strtab = shdrs[head.e_shstrndx]
    table = bytes(view[strtab.sh_offset:strtab.sh_offset + strtab.sh_size])
    names = {}
    for sh in shdrs:
        if sh.sh_type == fmt.SHT_PROGBITS and sh.sh_name < len(table):
            end = table.find(b"\0", sh.sh_name)
            names[sh.sh_addr, sh.sh_offset] = table[sh.sh_name:end if end >= 0 else None
                                                    ].decode(errors="replace")
    return names


__all__ = ["SECTIONS", "ElfProgram", "ElfSegment", "machine", "program"]
