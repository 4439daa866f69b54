"""ESP-IDF partition CSV: compiled like gen_esp32part, written like its ``to_csv``.

The text form of :class:`~esp_image.partition_table.PartitionTable` (partition-table.md §4);
:meth:`PartitionTable.from_csv <esp_image.partition_table.PartitionTable.from_csv>` and
:meth:`~esp_image.partition_table.PartitionTable.to_csv` are the entry points. Also here: how
a file is told to be a CSV rather than a binary table, and its decoding.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import replace

from .errors import CsvFieldError, FormatError, InputError, LayoutError
from .formats.compiled import partition_table as fmt
from .formats.compiled.esp32_image import MAGIC as IMAGE_MAGIC
from .partition_table import _KNOWN_FLAGS, _U32, MAX_CSV_SIZE, Partition, PartitionTable
from .units import align_up

_CSV = "partition CSV"


def looks_like_csv(path: str, raw: bytes) -> bool:
    """Whether a file given as a partition table is its CSV form: named ``.csv``, or ASCII
    text that starts like neither a binary table (AA 50), an image (E9) nor erased flash."""
    return path.lower().endswith(".csv") or (
        raw[:2] != fmt.MAGIC and raw[:1] not in (bytes([IMAGE_MAGIC]), b"\xff")
        and raw.isascii())


def decode_csv(raw: bytes, path: str) -> str:
    """The text of a partition CSV file (UTF-8, a leading BOM dropped).

    Raises:
        InputError: the bytes are not UTF-8 text.
    """
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"cannot read partition CSV {path}: not a CSV text file (byte "
                         f"{raw[exc.start]:#04x} at offset {exc.start:#x} is not UTF-8 "
                         "text)") from None


def table_from_csv(cls: type[PartitionTable], text: str, *, table_offset: int,
                   primary_bootloader_offset: int | None,
                   recovery_bootloader_offset: int | None) -> PartitionTable:
    """:meth:`PartitionTable.from_csv <esp_image.partition_table.PartitionTable.from_csv>`."""
    if len(text) > MAX_CSV_SIZE:
        # Refused before splitting into lines, which would cost many times the text's size.
        raise FormatError(f"{len(text)} characters, more than a table of at most "
                          f"{fmt.TABLE_MAX_LEN // fmt.RECORD_SIZE - 2} entries needs "
                          f"(the limit is {MAX_CSV_SIZE // 1024}KB)", None, _CSV)
    rows = [
        _CsvRow.parse(line, n, table_offset, primary_bootloader_offset,
                      recovery_bootloader_offset)
        for n, line in _csv_lines(text)
    ]
    last_end = table_offset + fmt.TABLE_SECTOR
    partitions: list[Partition] = []
    for row in rows:
        offset, size = row.offset, row.size
        if not row.fixed:
            if offset is not None and offset < last_end:
                raise LayoutError(
                    f"{_CSV} line {row.line}: partitions overlap: offset {offset:#x} is below "
                    f"{last_end:#x} (end of the previous partition or of the table sector)"
                )
            if offset is None:
                align = fmt.APP_ALIGN if row.type == fmt.TYPE_APP else fmt.DATA_ALIGN
                offset = align_up(last_end, align)
            if size < 0:
                size = -size - offset
                if size < 0:
                    raise LayoutError(
                        f"{_CSV} line {row.line}: end address {-row.size:#x} is below the "
                        f"offset {offset:#x}"
                    )
            last_end = offset + size
        assert offset is not None  # fixed rows always carry their offset
        if not (0 <= offset <= _U32 and 0 <= size <= _U32):
            raise FormatError(f"line {row.line}: offset {offset:#x} / size {size:#x} "
                              "do not fit in 32 bits", None, _CSV)
        p = Partition(row.name, row.type, row.subtype, offset, size, row.flags)
        try:
            p.label_bytes()
        except LayoutError as exc:
            raise LayoutError(f"{_CSV} line {row.line}: {exc}") from None
        partitions.append(p)
    table = cls(tuple(partitions), md5=None)
    if partitions:
        table = replace(table, md5=table.computed_md5)
    return table


def table_to_csv(table: PartitionTable) -> str:
    """:meth:`PartitionTable.to_csv <esp_image.partition_table.PartitionTable.to_csv>`."""
    rows = ["# ESP-IDF Partition Table", "# Name, Type, SubType, Offset, Size, Flags"]
    for p in table.partitions:
        unknown = p.flags & ~_KNOWN_FLAGS
        if unknown:
            rows.append(f"# {p.name}: unknown flag bits {unknown:#x} not representable")
        type_text = p.type_name if p.type_name is not None else str(p.type)
        sub_text = p.subtype_name if p.subtype_name is not None else str(p.subtype)
        flags = ":".join(n for n in p.flag_names if isinstance(n, str))
        rows.append(",".join(
            [p.name, type_text, sub_text, f"{p.offset:#x}", _csv_size(p.size), flags]
        ))
    return "\n".join(rows) + "\n"


_UNEXPANDED = re.compile(r"(?<!\\)\$\{?([A-Za-z_][A-Za-z0-9_]*)")


def _csv_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, expanded and stripped line) for every entry line."""
    text = text.removeprefix("\ufeff")
    for number, raw in enumerate(text.splitlines(), start=1):
        line = os.path.expandvars(raw).strip()
        if not line or line.startswith("#"):
            continue
        unexpanded = _UNEXPANDED.search(line)
        if unexpanded:
            # gen_esp32part only notices a leftover at the start of a line; any leftover here
            # would otherwise surface as a confusing "invalid number".
            raise FormatError(f"line {number}: unknown variable '{unexpanded.group(1)}'",
                              None, _CSV)
        yield number, line


def _csv_size(size: int) -> str:
    for unit, suffix in ((0x100000, "M"), (0x400, "K")):
        if size % unit == 0:
            return f"{size // unit}{suffix}"
    return f"{size:#x}"


def _parse_int(text: str, keywords: Mapping[str, int] | None = None) -> int:
    """gen_esp32part ``parse_int``: K/M suffixes (recursive), ``int(x, 0)``, then keywords."""
    lower = text.lower()
    for suffix, multiplier in (("k", 1024), ("m", 1024 * 1024)):
        if lower.endswith(suffix):
            return _parse_int(text[:-1], keywords) * multiplier
    try:
        return int(text, 0)
    except ValueError:
        pass
    if not keywords:
        raise CsvFieldError(f"invalid number {text!r}")
    try:
        return keywords[lower]
    except KeyError:
        raise CsvFieldError(
            f"{text!r} is not a number or a known keyword ({', '.join(keywords)})"
        ) from None


class _CsvRow:
    # A plain class: a dataclass would cost ~0.5 ms of code generation on every import.
    __slots__ = ("fixed", "flags", "line", "name", "offset", "size", "subtype", "type")

    def __init__(self, line: int, name: str, type: int, subtype: int, *, offset: int | None,
                 size: int, flags: int, fixed: bool) -> None:
        self.line, self.name, self.type, self.subtype = line, name, type, subtype
        self.offset, self.size, self.flags = offset, size, flags
        self.fixed = fixed  # primary bootloader / partition table: no automatic placement

    @classmethod
    def parse(cls, text: str, line: int, table_offset: int, primary_bl: int | None,
              recovery_bl: int | None) -> _CsvRow:
        try:
            return cls._parse(text, line, table_offset, primary_bl, recovery_bl)
        except CsvFieldError as exc:
            raise FormatError(f"line {line}: {exc}", None, _CSV) from None

    @classmethod
    def _parse(cls, text: str, line: int, table_offset: int, primary_bl: int | None,
               recovery_bl: int | None) -> _CsvRow:
        # Missing trailing fields are empty; fields past the sixth are ignored (as upstream).
        fields = [f.strip() for f in text.split(",")]
        fields += [""] * (6 - len(fields))
        name, type_text, sub_text, offset_text, size_text, flags_text = fields[:6]

        if not type_text:
            raise CsvFieldError("the type field can't be empty")
        ptype = _parse_int(type_text, fmt.TYPES)
        if not sub_text:
            if ptype == fmt.TYPE_APP:
                raise CsvFieldError("an app partition cannot have an empty subtype")
            subtype = fmt.SUBTYPE_DATA_UNDEFINED
        else:
            subtype = _parse_int(sub_text, fmt.SUBTYPES.get(ptype, {}))
        if not 0 <= ptype <= 0xFF or not 0 <= subtype <= 0xFF:
            raise CsvFieldError(f"type {ptype:#x} / subtype {subtype:#x} must be 0..0xff")

        sub_names = fmt.SUBTYPES[fmt.TYPE_BOOTLOADER]
        offset: int | None
        fixed = False
        if ptype == fmt.TYPE_BOOTLOADER and subtype == sub_names["primary"]:
            if primary_bl is None:
                raise CsvFieldError("primary bootloader offset is not provided")
            offset, fixed = primary_bl, True
        elif ptype == fmt.TYPE_BOOTLOADER and subtype == sub_names["recovery"]:
            if recovery_bl is None:
                raise CsvFieldError("recovery bootloader offset is not provided")
            offset = recovery_bl
        elif ptype == fmt.TYPE_PARTITION_TABLE and subtype == fmt.SUBTYPE_PRIMARY:
            offset, fixed = table_offset, True
        else:
            offset = _parse_int(offset_text) if offset_text else None

        # gen_esp32part ignores the Size field of every bootloader and partition_table entry.
        if ptype == fmt.TYPE_BOOTLOADER:
            if primary_bl is None:
                raise CsvFieldError("primary bootloader offset is not provided")
            size = table_offset - primary_bl
        elif ptype == fmt.TYPE_PARTITION_TABLE:
            size = fmt.TABLE_SECTOR
        elif not size_text:
            raise CsvFieldError("the size field can't be empty")
        else:
            size = _parse_int(size_text)

        flags = 0
        for flag in (f.strip() for f in flags_text.split(":")):
            if flag in fmt.FLAGS:
                flags |= fmt.FLAGS[flag]
            elif flag:
                raise CsvFieldError(f"unknown flag {flag!r} (known: {', '.join(fmt.FLAGS)})")
        return cls(line, name, ptype, subtype, offset=offset, size=size, flags=flags, fixed=fixed)
