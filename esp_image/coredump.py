"""ESP-IDF core dumps (the contents of a ``data``/``coredump`` partition) as a model.

Reads a dump as esp-coredump's loader does (see :mod:`esp_image.formats.coredump`): the header
named by the dump version, the body (an ELF32 core file, or the older binary task list), and the
CRC-32 or SHA-256 of header and body after them, ``tot_len`` bytes in all. Bytes after
``tot_len`` (the rest of the partition, normally erased) are kept, so
``CoreDump.from_bytes(b).to_bytes() == b``.

Every length in the data is checked against the bytes that are there before anything is read
or sliced, so hostile lengths end in a failed ``structure`` check, never a large allocation.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass

from .checks import Check, Checked, compare, compare_digest
from .errors import FormatError
from .formats.compiled import coredump as fmt
from .formats.compiled import elf as elf_fmt

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TypeAlias

    Header: TypeAlias = fmt.HeaderV1 | fmt.HeaderV2 | fmt.HeaderV2_1 | fmt.HeaderV2_2

_NAME = "core dump"
_HEADERS: dict[str, type[Header]] = {"v1": fmt.HeaderV1, "v2": fmt.HeaderV2,
                                     "v2_1": fmt.HeaderV2_1, "v2_2": fmt.HeaderV2_2}
_MACHINES = {elf_fmt.EM_XTENSA: "xtensa", elf_fmt.EM_RISCV: "riscv"}
_MAX_BIN_TASKS = 1024
_MAX_TCB_SIZE = 0x1000


@dataclass(frozen=True)
class CoreDumpNote:
    """One ELF note: ``offset`` in the file, ``name`` (without the NUL), ``type``, ``desc``."""

    offset: int
    name: str
    type: int
    desc: bytes

    def to_dict(self) -> dict[str, object]:
        """The JSON form."""
        return {"offset": self.offset, "name": self.name, "type": self.type,
                "size": len(self.desc)}


@dataclass(frozen=True)
class CoreDumpTask:
    """One task record of the binary form: where it is, its TCB address and stack range."""

    offset: int
    tcb_addr: int
    stack_start: int
    stack_end: int

    def to_dict(self) -> dict[str, object]:
        """The JSON form."""
        return {"offset": self.offset, "tcb_addr": self.tcb_addr,
                "stack_start": self.stack_start, "stack_end": self.stack_end}


def _parts(data: bytes) -> tuple[Header, str, str, str]:
    """The header record and the version's (format, checksum kind, layout).

    Raises:
        FormatError: not a core dump version esp-coredump reads.
        TruncatedError: shorter than the header.
    """
    if len(data) < 8:
        raise FormatError(f"{len(data)} bytes are too few for a core dump header", 0, _NAME)
    version = int.from_bytes(data[4:8], "little")
    known = fmt.VERSIONS.get(version & fmt.DUMP_VERSION_MASK)
    if known is None or version >> fmt.CHIP_SHIFT > fmt.MAX_CHIP_ID:
        raise FormatError(f"unknown core dump version word {version:#010x}", 4, _NAME)
    form, checksum, layout = known
    return _HEADERS[layout].parse(data, 0, _NAME), form, checksum, layout


class CoreDump(Checked):
    """One core dump.

    Attributes:
        header: the header record (``tot_len``, ``ver`` and, by layout, ``task_num``,
            ``tcbsz``, ``segs_num``, ``chip_rev``).
        format: ``"elf"`` or ``"bin"``.
        checksum_kind: ``"crc32"`` or ``"sha256"``.
        body: the bytes between header and checksum (the ELF file in the ELF form).
        stored_checksum: the stored CRC-32 (4 bytes) or SHA-256; empty when ``tot_len`` does
            not fit the data.
        trailing: the bytes after ``tot_len``.
        notes: the ELF notes (ELF form).
        tasks: the task records (binary form).
        checks: the ``crc32``/``sha256`` check and any failed ``structure`` checks.
    """

    def __init__(self, data: bytes | memoryview) -> None:
        data = bytes(data)
        self.header, self.format, self.checksum_kind, self.layout = _parts(data)
        self.header_size = fmt.HEADER_SIZES[self.layout]
        self.checksum_size = fmt.CHECKSUM_SIZES[self.checksum_kind]
        self.size = len(data)
        self.notes: list[CoreDumpNote] = []
        self.tasks: list[CoreDumpTask] = []
        self.machine: int | None = None
        problems: list[tuple[int, str]] = []
        total = self.header.tot_len
        if self.header_size + self.checksum_size <= total <= len(data):
            at = total - self.checksum_size
            self.body = data[self.header_size:at]
            self.stored_checksum = data[at:total]
            self.trailing = data[total:]
        else:
            self.body, self.stored_checksum, self.trailing = data[self.header_size:], b"", b""
            problems.append((0, f"tot_len {total:#x} does not fit the {len(data):#x} bytes "
                                f"(header and checksum take "
                                f"{self.header_size + self.checksum_size})"))
        if self.format == "elf":
            problems += self._read_elf()
        else:
            problems += self._read_bin()
        self.checks = sorted(self._checksum_checks()
                             + [Check("structure", False, at, why) for at, why in problems],
                             key=lambda c: c.offset)

    @classmethod
    def from_bytes(cls, data: bytes | memoryview) -> CoreDump:
        """Parse a core dump (a partition read-out may carry erased flash after it).

        Raises:
            FormatError: not a core dump (unknown version word, or shorter than its header).
        """
        return cls(data)

    # --- reading ---------------------------------------------------------------------------------

    def _read_elf(self) -> list[tuple[int, str]]:
        """Read the ELF header, program headers and notes; [] or the structure problems."""
        body, base = self.body, self.header_size
        try:
            elf = elf_fmt.Elf32_Ehdr.parse(body, 0, "ELF header")
        except FormatError as exc:
            return [(base, f"the ELF core file does not start with an ELF header ({exc.reason})")]
        self.machine = elf.e_machine
        problems = []
        if (elf.ei_class, elf.ei_data, elf.e_type) != (elf_fmt.ELFCLASS32, elf_fmt.ELFDATA2LSB,
                                                       elf_fmt.ET_CORE):
            problems.append((base, f"not a 32-bit little-endian ELF core file (class "
                                   f"{elf.ei_class}, data {elf.ei_data}, type {elf.e_type})"))
        table_end = elf.e_phoff + elf.e_phnum * elf_fmt.Elf32_Phdr.SIZE
        if elf.e_phnum and (elf.e_phentsize != elf_fmt.Elf32_Phdr.SIZE or table_end > len(body)):
            return [*problems, (base + 28, f"{elf.e_phnum} program headers of "
                                           f"{elf.e_phentsize} bytes at {elf.e_phoff:#x} do "
                                           f"not fit the {len(body):#x}-byte ELF")]
        for n in range(elf.e_phnum):
            ph = elf_fmt.Elf32_Phdr.parse(body, elf.e_phoff + n * elf_fmt.Elf32_Phdr.SIZE)
            if ph.p_offset + ph.p_filesz > len(body):
                problems.append((base + elf.e_phoff + n * elf_fmt.Elf32_Phdr.SIZE,
                                 f"segment {n} ({ph.p_filesz:#x} bytes at {ph.p_offset:#x}) "
                                 f"runs past the end of the ELF"))
            elif ph.p_type == elf_fmt.PT_NOTE:
                problems += self._read_notes(ph.p_offset, ph.p_offset + ph.p_filesz)
        return problems

    def _read_notes(self, start: int, end: int) -> list[tuple[int, str]]:
        """Append the notes of one PT_NOTE segment; each note advances at least 12 bytes."""
        body, at = self.body, start
        while at + fmt.NoteHeader.SIZE <= end:
            note = fmt.NoteHeader.parse(body, at)
            name_at = at + fmt.NoteHeader.SIZE
            desc_at = name_at + fmt.align4(note.namesz)
            after = desc_at + fmt.align4(note.descsz)
            if after > end:
                return [(self.header_size + at, f"note at {at:#x} ({note.namesz}+{note.descsz} "
                                                f"bytes) runs past its segment")]
            name = body[name_at:name_at + note.namesz].split(b"\0", 1)[0]
            self.notes.append(CoreDumpNote(self.header_size + at,
                                           name.decode("ascii", "replace"), note.type,
                                           body[desc_at:desc_at + note.descsz]))
            at = after
        return []

    def _read_bin(self) -> list[tuple[int, str]]:
        """Read the binary form's task records and memory segments."""
        body, base = self.body, self.header_size
        if isinstance(self.header, fmt.HeaderV2_2):
            return [(4, "a v2.2 header belongs to the ELF form")]
        count, tcb_size = self.header.task_num, self.header.tcbsz
        if count > _MAX_BIN_TASKS or tcb_size > _MAX_TCB_SIZE:
            return [(8, f"{count} tasks with {tcb_size}-byte TCBs is not a FreeRTOS dump")]
        at = 0
        for _ in range(count):
            if at + fmt.TaskHeader.SIZE > len(body):
                return [(base + at, f"task {len(self.tasks)} header runs past the data")]
            task = fmt.TaskHeader.parse(body, at)
            stack = abs(task.stack_top - task.stack_end)
            size = fmt.align4(fmt.TaskHeader.SIZE + tcb_size + stack)
            if at + size > len(body):
                return [(base + at, f"task {len(self.tasks)} ({size:#x} bytes with its TCB and "
                                    f"stack) runs past the data")]
            self.tasks.append(CoreDumpTask(base + at, task.tcb_addr,
                                           min(task.stack_top, task.stack_end),
                                           max(task.stack_top, task.stack_end)))
            at += size
        for n in range(getattr(self.header, "segs_num", 0)):
            if at + fmt.MemSegmentHeader.SIZE > len(body):
                return [(base + at, f"memory segment {n} header runs past the data")]
            seg = fmt.MemSegmentHeader.parse(body, at)
            at += fmt.MemSegmentHeader.SIZE + seg.mem_sz
            if at > len(body):
                return [(base + at - seg.mem_sz, f"memory segment {n} ({seg.mem_sz:#x} bytes) "
                                                 f"runs past the data")]
        return []

    # --- checks ----------------------------------------------------------------------------------

    def computed_checksum(self) -> bytes:
        """The CRC-32 (4 bytes, little-endian) or SHA-256 of header and body."""
        covered = self.header.build() + self.body
        if self.checksum_kind == "sha256":
            return hashlib.sha256(covered).digest()
        return (zlib.crc32(covered) & 0xFFFFFFFF).to_bytes(4, "little")

    def _checksum_checks(self) -> list[Check]:
        if not self.stored_checksum:
            return []
        at = self.header_size + len(self.body)
        computed = self.computed_checksum()
        if self.checksum_kind == "sha256":
            return [compare_digest("sha256", at, self.stored_checksum, computed)]
        return [compare("crc32", at, int.from_bytes(self.stored_checksum, "little"),
                        int.from_bytes(computed, "little"), 8)]

    @property
    def checksum_ok(self) -> bool | None:
        """Whether the stored checksum matches; None when ``tot_len`` leaves none to compare."""
        return self.stored_checksum == self.computed_checksum() if self.stored_checksum \
            else None

    # --- facts -----------------------------------------------------------------------------------

    @property
    def version(self) -> int:
        """The whole version word (chip id << 16 | dump version)."""
        return self.header.ver

    @property
    def dump_version(self) -> str:
        """The dump version as ``major.minor`` (``1.4`` = ELF with SHA-256, header v2.2)."""
        return f"{self.version >> 8 & 0xFF}.{self.version & 0xFF}"

    @property
    def chip_id(self) -> int:
        """``esp_chip_id_t`` of the chip that wrote the dump."""
        return self.version >> fmt.CHIP_SHIFT

    @property
    def chip(self) -> str | None:
        """esptool's chip name, or None for a chip id unknown here."""
        from .chips import chip_by_id, is_known_chip_id

        return chip_by_id(self.chip_id).name if is_known_chip_id(self.chip_id) else None

    @property
    def total_length(self) -> int:
        """``tot_len``: header, body and checksum."""
        return self.header.tot_len

    @property
    def chip_rev(self) -> int | None:
        """The chip revision (major * 100 + minor) in v2.1/v2.2 headers."""
        rev: int | None = getattr(self.header, "chip_rev", None)
        return rev

    @property
    def task_count(self) -> int:
        """Tasks in the dump: the ELF form's ``CORE`` notes (one per task), the binary form's
        task records."""
        if self.format == "elf":
            return sum(1 for n in self.notes if n.name == "CORE" and n.type == fmt.NT_PRSTATUS)
        return len(self.tasks)

    @property
    def app_elf_sha256(self) -> str | None:
        """The app ELF's SHA-256 (hex, possibly cut to ``CONFIG_APP_RETRIEVE_LEN_ELF_SHA``
        characters) from the ``ESP_CORE_DUMP_INFO`` note; None when there is none."""
        for note in self.notes:
            if note.name == fmt.NOTE_INFO.decode() and note.type == fmt.PT_ESP_INFO:
                text = note.desc[4:].split(b"\0", 1)[0]
                if text and all(c in b"0123456789abcdefABCDEF" for c in text):
                    return text.decode("ascii").lower()
        return None

    def to_bytes(self) -> bytes:
        """The dump, byte for byte as read (the stored checksum, not a recomputed one)."""
        head: bytes = self.header.build(_NAME)
        return head + self.body + self.stored_checksum + self.trailing

    def to_dict(self) -> dict[str, object]:
        """The JSON form."""
        return {
            "size": self.size, "total_length": self.total_length, "version": self.version,
            "dump_version": self.dump_version, "chip_id": self.chip_id, "chip": self.chip,
            "chip_rev": self.chip_rev, "format": self.format, "checksum": self.checksum_kind,
            "checksum_ok": self.checksum_ok, "tasks": self.task_count,
            "app_elf_sha256": self.app_elf_sha256,
            "machine": _MACHINES.get(self.machine) if self.machine is not None else None,
            "trailing": len(self.trailing), "valid": self.valid,
            "notes": [n.to_dict() for n in self.notes],
            "checks": [c.to_dict() for c in self.checks],
        }

    @staticmethod
    def looks_like(data: bytes | memoryview) -> bool:
        """See :func:`looks_like_coredump`."""
        return looks_like_coredump(data)


def looks_like_coredump(data: bytes | memoryview) -> bool:
    """Whether ``data`` starts with a core dump header esp-coredump reads: a known dump version
    with a small chip id, a ``tot_len`` that fits the data, and then an ELF magic (ELF form) or
    a plausible task count and TCB size (binary form). Reads at most the first 40 bytes."""
    try:
        header, form, checksum, layout = _parts(bytes(data[:40]))
    except FormatError:
        return False
    total = header.tot_len
    size = fmt.HEADER_SIZES[layout]
    if not size + fmt.CHECKSUM_SIZES[checksum] <= total <= len(data):
        return False
    if form == "elf":
        return bytes(data[size:size + 4]) == elf_fmt.ELF_MAGIC
    return (not isinstance(header, fmt.HeaderV2_2) and 0 < header.task_num <= _MAX_BIN_TASKS
            and 0 < header.tcbsz <= _MAX_TCB_SIZE)
