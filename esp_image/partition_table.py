"""ESP-IDF partition table: typed model, binary and CSV forms, integrity check and layout rules.

See shared/docs/formats/partition-table.md. The wire format is declared in
:mod:`esp_image.formats.partition_table`; users only see the frozen dataclasses here.

Parsing is lenient (file order, unknown types/subtypes/flags and every byte after the end
marker are kept, a bad MD5 is reported by :meth:`PartitionTable.checks`), building is strict
(digest recomputed, end marker, 0xFF padding) and :meth:`PartitionTable.validate` reports the
rules of gen_esp32part (spec §5) and of the bootloader (spec §6) as :class:`Issue` values.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from .checks import Check, Issue, compare_digest
from .errors import FormatError, LayoutError, TruncatedError
from .formats.compiled import partition_table as fmt

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost

__all__ = ["Partition", "PartitionTable"]

_STRUCTURE = "partition table"

_TYPE_NAMES: dict[int, str] = {v: k for k, v in fmt.TYPES.items()}
_SUBTYPE_NAMES: dict[int, dict[int, str]] = {
    t: {v: k for k, v in names.items()} for t, names in fmt.SUBTYPES.items()
}
_ALL_SUBTYPE_KEYWORDS: frozenset[str] = frozenset(
    name for names in fmt.SUBTYPES.values() for name in names
)
_KNOWN_FLAGS = 0
for _mask in fmt.FLAGS.values():
    _KNOWN_FLAGS |= _mask
_U32 = 0xFFFFFFFF


def _decode_label(raw: bytes) -> str:
    """Label bytes → name: up to the first NUL, bad UTF-8 replaced (never raises)."""
    return raw.split(b"\0", 1)[0].decode("utf-8", errors="replace")


def _hex(value: int) -> str:
    return f"{value:#x}"


@dataclass(frozen=True)
class Partition:
    """One partition table entry (``esp_partition_info_t``).

    Attributes:
        name: the label as text (decoded leniently when parsed).
        type: partition type, 0..255; unknown values are kept as they are.
        subtype: partition subtype, 0..255; unknown values are kept as they are.
        offset: absolute flash address.
        size: size in bytes.
        flags: the raw flags word (bit 0 encrypted, bit 1 readonly; other bits are kept).
        label: the raw 16 label bytes when parsed, so that an unchanged entry is rebuilt byte for
            byte. It is used only while it still decodes to ``name``; after a rename (or when
            None) the label is built from ``name``: UTF-8, NUL-padded to 16 bytes.
    """

    name: str
    type: int
    subtype: int
    offset: int
    size: int
    flags: int = 0
    label: bytes | None = None

    def __post_init__(self) -> None:
        if self.label is not None and len(self.label) != fmt.LABEL_SIZE:
            raise ValueError(f"label must be exactly 16 bytes, got {len(self.label)}")

    @property
    def end(self) -> int:
        """First flash address after the partition."""
        return self.offset + self.size

    @property
    def type_name(self) -> str | None:
        """Type keyword (``app``, ``data``, ...) or None when the type is not an ESP-IDF one."""
        return _TYPE_NAMES.get(self.type)

    @property
    def subtype_name(self) -> str | None:
        """Subtype keyword (``factory``, ``ota_0``, ``nvs``, ...) or None when unknown."""
        return _SUBTYPE_NAMES.get(self.type, {}).get(self.subtype)

    @property
    def flag_names(self) -> list[str | int]:
        """Known flag names, then each unknown set bit as its integer mask (e.g. 4 for bit 2)."""
        names: list[str | int] = [n for n, m in fmt.FLAGS.items() if self.flags & m]
        unknown = self.flags & ~_KNOWN_FLAGS
        names.extend(1 << bit for bit in range(32) if unknown & (1 << bit))
        return names

    @property
    def encrypted(self) -> bool:
        """Whether the ``encrypted`` flag is set."""
        return bool(self.flags & fmt.FLAGS["encrypted"])

    @property
    def readonly(self) -> bool:
        """Whether the ``readonly`` flag is set."""
        return bool(self.flags & fmt.FLAGS["readonly"])

    @property
    def is_app(self) -> bool:
        """Whether this is an app partition (type 0x00)."""
        return self.type == fmt.TYPE_APP

    @property
    def ota_index(self) -> int | None:
        """N for an app ``ota_N`` partition (subtype 0x10 + N), else None."""
        if self.is_app and fmt.SUBTYPE_APP_OTA_MIN <= self.subtype <= fmt.SUBTYPE_APP_OTA_MAX:
            return self.subtype - fmt.SUBTYPE_APP_OTA_MIN
        return None

    @property
    def is_factory(self) -> bool:
        """Whether this is the app/factory partition."""
        return self.is_app and self.subtype == fmt.SUBTYPE_APP_FACTORY

    @property
    def is_otadata(self) -> bool:
        """Whether this is the data/ota (otadata) partition."""
        return self.type == fmt.TYPE_DATA and self.subtype == fmt.SUBTYPE_DATA_OTA

    @property
    def _is_primary_fixed(self) -> bool:
        # Primary bootloader / primary partition-table entries describe fixed regions below the
        # table; gen_esp32part exempts them from placement and the "below table" rule.
        return (
            self.type in (fmt.TYPE_BOOTLOADER, fmt.TYPE_PARTITION_TABLE)
            and self.subtype == fmt.SUBTYPE_PRIMARY
        )

    def to_dict(self) -> dict[str, object]:
        """Return the stable JSON form (cli-contract.md ``partitions``).

        ``type``/``subtype`` are keywords when known and plain integers otherwise; ``flags`` is
        :attr:`flag_names`.
        """
        return {
            "name": self.name,
            "type": self.type_name if self.type_name is not None else self.type,
            "subtype": self.subtype_name if self.subtype_name is not None else self.subtype,
            "offset": self.offset,
            "size": self.size,
            "flags": self.flag_names,
        }

    def label_bytes(self) -> bytes:
        """The 16 label bytes to write.

        Raises:
            LayoutError: the name needs more than 16 bytes in UTF-8 (gen_esp32part would
                truncate it silently, which can create duplicate labels).
        """
        if self.label is not None and _decode_label(self.label) == self.name:
            return self.label
        encoded = self.name.encode("utf-8")
        if len(encoded) > fmt.LABEL_SIZE:
            raise LayoutError(
                f"partition {self.name!r}: name is {len(encoded)} bytes in UTF-8, "
                f"the label holds {fmt.LABEL_SIZE}"
            )
        return encoded.ljust(fmt.LABEL_SIZE, b"\0")

    def to_record(self) -> bytes:
        """Build the 32-byte ``esp_partition_info_t`` record.

        Raises:
            LayoutError: a field does not fit its width, or the name is too long.
        """
        for what, value, limit in (
            ("type", self.type, 0xFF),
            ("subtype", self.subtype, 0xFF),
            ("offset", self.offset, _U32),
            ("size", self.size, _U32),
            ("flags", self.flags, _U32),
        ):
            if not 0 <= value <= limit:
                raise LayoutError(f"partition {self.name!r}: {what} {value:#x} out of range")
        return fmt.PartitionInfo(self.type, self.subtype, self.offset, self.size,
                                 self.label_bytes(), self.flags).build("partition record")

    @classmethod
    def _from_container(cls, c: fmt.PartitionInfo) -> Partition:
        label = bytes(c.label)
        return cls(
            name=_decode_label(label),
            type=int(c.type),
            subtype=int(c.subtype),
            offset=int(c.offset),
            size=int(c.size),
            flags=int(c.flags),
            label=label,
        )


MAX_CSV_SIZE = 0x100000
"""Longest partition CSV accepted: the table holds fewer than a hundred entries, so even one
heavily commented is a few KB."""

SIGNATURE_OFFSET = fmt.TABLE_MAX_LEN
SIGNATURE_SIZE = 68


@dataclass(frozen=True)
class PartitionTable:
    """A partition table, partitions in file order.

    Attributes:
        partitions: the entries in the order they appear in the table (never sorted).
        md5: the stored MD5 digest, or None when the table has no MD5 record.
        md5_record_padding: the 14 bytes between the MD5 magic and the digest, as read.
        has_end_marker: whether the end-marker record is written (always True when parsed).
        tail: every byte after the end marker up to the end of the parsed area (padding and the
            reserved last 0x400 bytes of the sector), kept so an unchanged table rebuilds exactly.
        end_marker: the terminating record as read; the bootloader only looks at its first four
            bytes (magic 0xFFFF, type and subtype 0xFF), so the rest is kept verbatim.
        area_size: length of the parsed area (0xC00 or 0x1000 typically), None when the table
            was not parsed from bytes. It is the default output size of :meth:`to_bytes`.
    """

    partitions: tuple[Partition, ...]
    md5: bytes | None
    md5_record_padding: bytes = fmt.MD5_PADDING
    has_end_marker: bool = True
    tail: bytes = b""
    end_marker: bytes = field(default=fmt.END_MARKER, repr=False)
    area_size: int | None = None

    def __post_init__(self) -> None:
        if self.md5 is not None and len(self.md5) != 16:
            raise ValueError(f"md5 must be 16 bytes, got {len(self.md5)}")
        if len(self.md5_record_padding) != 14:
            raise ValueError("md5_record_padding must be 14 bytes")
        if len(self.end_marker) != fmt.RECORD_SIZE or self.end_marker[:4] != b"\xff" * 4:
            raise ValueError("end_marker must be 32 bytes starting with ff ff ff ff")

    # ------------------------------------------------------------------ binary form

    @classmethod
    def from_bytes(cls, data: bytes | memoryview) -> PartitionTable:
        """Parse a binary table, record by record (spec §2).

        ``data`` starts at the table; at most 0x1000 bytes (one sector) are considered and records
        are only looked for in the first 0xC00.

        Raises:
            TruncatedError: the data ends before the end marker.
            FormatError: a record has an unknown magic, the table is empty, there is a second MD5
                record or a partition after the MD5 record, or no end marker within 0xC00 bytes.
        """
        buf = bytes(data[: fmt.TABLE_SECTOR])
        if len(buf) < fmt.RECORD_SIZE:
            raise TruncatedError(
                f"needs at least {fmt.RECORD_SIZE} bytes, got {len(buf)}", 0, _STRUCTURE
            )
        limit = min(len(buf), fmt.TABLE_MAX_LEN)
        partitions: list[Partition] = []
        md5: bytes | None = None
        padding = fmt.MD5_PADDING
        pos = 0
        while True:
            if pos + fmt.RECORD_SIZE > limit:
                if limit < fmt.TABLE_MAX_LEN:
                    raise TruncatedError(
                        f"data ends at {len(buf):#x} before the end marker", pos, _STRUCTURE
                    )
                raise FormatError(
                    f"no end marker within the first {fmt.TABLE_MAX_LEN:#x} bytes "
                    "(the bootloader rejects the table)",
                    pos,
                    _STRUCTURE,
                )
            record = buf[pos : pos + fmt.RECORD_SIZE]
            magic = record[:2]
            if magic == fmt.MAGIC:
                if md5 is not None:
                    # Representable on flash (the bootloader skips past the MD5 record), but
                    # gen_esp32part never writes it and the model keeps one digest for all records.
                    raise FormatError("partition record after the MD5 record", pos, _STRUCTURE)
                info = fmt.PartitionInfo.parse(buf, pos, "partition record")
                partitions.append(Partition._from_container(info))
            elif magic == fmt.MD5_MAGIC:
                if not partitions:
                    raise FormatError("empty table: the first record is an MD5 record", pos,
                                      _STRUCTURE)
                if md5 is not None:
                    raise FormatError("second MD5 record (the bootloader allows one)", pos,
                                      _STRUCTURE)
                md5_record = fmt.Md5Record.parse(buf, pos, "MD5 record")
                md5 = md5_record.digest
                padding = md5_record.padding
            elif record[:4] == b"\xff" * 4:
                # esp_partition_table_verify: magic 0xFFFF with type and subtype 0xFF ends it.
                if not partitions:
                    raise FormatError("empty table: the first record is the end marker", pos,
                                      _STRUCTURE)
                end_pos = pos + fmt.RECORD_SIZE
                return cls(
                    partitions=tuple(partitions),
                    md5=md5,
                    md5_record_padding=padding,
                    has_end_marker=True,
                    tail=buf[end_pos:],
                    end_marker=record,
                    area_size=len(buf),
                )
            else:
                raise FormatError(
                    f"unknown record magic {magic.hex()} (expected aa50 partition, ebeb MD5 or "
                    "the ffff end marker)",
                    pos,
                    _STRUCTURE,
                )
            pos += fmt.RECORD_SIZE

    @property
    def computed_md5(self) -> bytes:
        """MD5 over all partition records as :meth:`to_bytes` writes them."""
        return hashlib.md5(self._records()).digest()

    def _records(self) -> bytes:
        return b"".join(p.to_record() for p in self.partitions)

    def to_bytes(self, *, md5: bool | None = None, size: int | None = None) -> bytes:
        """Build the binary table: records in table order, MD5 record, end marker, padding.

        Args:
            md5: write the MD5 record (digest always recomputed); None keeps what the table had.
                ESP32-family apps refuse a table without one (spec §6); ESP8266 RTOS SDK
                tables normally have none.
            size: output length; default :attr:`area_size` for a parsed table (so an unchanged
                table rebuilds byte for byte) else 0xC00, gen_esp32part's standalone form.
                Bytes of :attr:`tail` keep their position; bytes no longer covered by it are 0xFF.

        Raises:
            LayoutError: no partitions, too many records for 0xC00 bytes, a field out of range,
                or ``size`` smaller than the records or larger than the 0x1000 sector.
        """
        if not self.partitions:
            raise LayoutError("a partition table needs at least one partition")
        records = self._records()
        body = records
        if md5 is True or (md5 is None and self.md5 is not None):
            body += fmt.Md5Record(self.md5_record_padding,
                                  hashlib.md5(records).digest()).build("MD5 record")
        if self.has_end_marker:
            body += self.end_marker
        if len(body) > fmt.TABLE_MAX_LEN:
            raise LayoutError(
                f"{len(self.partitions)} partitions need {len(body):#x} bytes with MD5 record and "
                f"end marker; the table holds {fmt.TABLE_MAX_LEN:#x}"
            )
        if size is None:
            size = fmt.TABLE_MAX_LEN if self.area_size is None else max(self.area_size, len(body))
        if not len(body) <= size <= fmt.TABLE_SECTOR:
            raise LayoutError(
                f"table size {size:#x} must be between {len(body):#x} and {fmt.TABLE_SECTOR:#x}"
            )
        out = bytearray(body + b"\xff" * (size - len(body)))
        if self.tail and self.area_size is not None:
            # Overlay the kept bytes at their original positions, wherever records do not now
            # cover them (e.g. the reserved signature area 0xC00..0xFFF).
            start = self.area_size - len(self.tail)
            lo, hi = max(start, len(body)), min(self.area_size, size)
            if lo < hi:
                out[lo:hi] = self.tail[lo - start : hi - start]
        return bytes(out)

    @property
    def signature(self) -> bytes | None:
        """The 68-byte Secure Boot v1 signature block at 0xC00, when the table is signed.

        With Secure Boot v1, ESP-IDF signs the 0xC00-byte table and appends
        ``esp_secure_boot_sig_block_t`` (u32 version 0, then a 64-byte ECDSA signature) in
        the sector's reserved area. Editing a signed table breaks the signature.
        """
        if self.area_size is None or self.area_size < SIGNATURE_OFFSET + SIGNATURE_SIZE:
            return None
        start = self.area_size - len(self.tail)
        if start > SIGNATURE_OFFSET:
            return None
        block = self.tail[SIGNATURE_OFFSET - start:SIGNATURE_OFFSET - start + SIGNATURE_SIZE]
        sig = block[4:]
        if block[:4] != bytes(4) or sig in (b"\xff" * 64, bytes(64)):
            return None
        return block

    def checks(self, offset: int = 0) -> list[Check]:
        """Integrity checks: the ``md5`` check when the table has an MD5 record.

        Args:
            offset: file offset of the table, added to the reported record offset.
        """
        if self.md5 is None:
            return []
        where = offset + len(self.partitions) * fmt.RECORD_SIZE
        return [compare_digest("md5", where, self.md5, self.computed_md5)]

    # ------------------------------------------------------------------ lookups

    def __len__(self) -> int:
        return len(self.partitions)

    def __iter__(self) -> Iterator[Partition]:
        return iter(self.partitions)

    def find(self, name: str) -> Partition | None:
        """The first partition called ``name``, or None."""
        return next((p for p in self.partitions if p.name == name), None)

    @property
    def app_partitions(self) -> tuple[Partition, ...]:
        """App partitions in table order."""
        return tuple(p for p in self.partitions if p.is_app)

    @property
    def data_partitions(self) -> tuple[Partition, ...]:
        """Data partitions in table order."""
        return tuple(p for p in self.partitions if p.type == fmt.TYPE_DATA)

    @property
    def ota_slots(self) -> tuple[Partition, ...]:
        """App ``ota_N`` partitions sorted by N (ties in table order)."""
        slots = [p for p in self.partitions if p.ota_index is not None]
        return tuple(sorted(slots, key=lambda p: p.ota_index or 0))

    @property
    def factory(self) -> Partition | None:
        """The first app/factory partition, or None."""
        return next((p for p in self.partitions if p.is_factory), None)

    @property
    def otadata(self) -> Partition | None:
        """The first data/ota partition, or None."""
        return next((p for p in self.partitions if p.is_otadata), None)

    @property
    def end(self) -> int:
        """The highest partition end address (0 for an empty table)."""
        return max((p.end for p in self.partitions), default=0)

    # ------------------------------------------------------------------ validation

    def validate(
        self,
        *,
        flash_size: int | None = None,
        table_offset: int = fmt.DEFAULT_TABLE_OFFSET,
        bootloader_offset: int | None = None,
    ) -> list[Issue]:
        """Check the layout against gen_esp32part's rules (spec §5) and the bootloader's (§6).

        Args:
            flash_size: flash size from the bootloader header; partitions must end within it.
            table_offset: flash address of this table.
            bootloader_offset: flash address of the bootloader (0x1000 on ESP32/S2, 0x0 on
                most newer chips), to check that the table sector lies above it.

        Returns:
            Issues in rule order; severity ``"error"`` when ESP-IDF or the bootloader would
            reject the table, ``"warning"`` when it works but is probably a mistake.
        """
        from .partition_rules import validate_table

        return validate_table(self, flash_size=flash_size, table_offset=table_offset,
                              bootloader_offset=bootloader_offset)

    # ------------------------------------------------------------------ CSV form

    @classmethod
    def from_csv(
        cls,
        text: str,
        *,
        table_offset: int = fmt.DEFAULT_TABLE_OFFSET,
        primary_bootloader_offset: int | None = None,
        recovery_bootloader_offset: int | None = None,
    ) -> PartitionTable:
        """Compile an ESP-IDF partition CSV like gen_esp32part ``PartitionTable.from_csv``.

        Supports comments, blank lines, missing trailing fields, ``$VAR`` expansion, K/M
        suffixes, ``int(x, 0)`` numbers, keywords in any case, numeric types and subtypes,
        negative sizes (end address), automatic offsets and primary bootloader/partition-table
        entries (spec §4). The result has an MD5 record; layout rules are left to
        :meth:`validate`.

        Args:
            text: the CSV text (a leading BOM is ignored).
            table_offset: ``--offset``: the table's flash address; placement starts one sector
                above it.
            primary_bootloader_offset: ``--primary-bootloader-offset``, needed by bootloader
                entries.
            recovery_bootloader_offset: ``--recovery-bootloader-offset``, needed by
                bootloader/recovery entries.

        Raises:
            FormatError: a line does not parse (message starts with ``line N``).
            LayoutError: explicit offsets go backwards / overlap, a size resolves negative, or
                a name does not fit the 16-byte label.
        """
        from .partition_csv import table_from_csv

        return table_from_csv(cls, text, table_offset=table_offset,
                              primary_bootloader_offset=primary_bootloader_offset,
                              recovery_bootloader_offset=recovery_bootloader_offset)

    def to_csv(self) -> str:
        """Render the table as gen_esp32part ``to_csv`` does (same text for the same table).

        Offsets are hex; sizes are ``NM``/``NK`` when divisible, else hex; unknown types and
        subtypes are decimal numbers. Unknown flag bits cannot be written in CSV: they are noted
        in a comment line before the entry.
        """
        from .partition_csv import table_to_csv

        return table_to_csv(self)
