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
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace

from .checks import Check, Issue, compare_digest
from .errors import CsvFieldError, FormatError, LayoutError, TruncatedError
from .formats.compiled import partition_table as fmt
from .units import SECTOR, align_up

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost

__all__ = ["Partition", "PartitionTable"]

_STRUCTURE = "partition table"
_CSV = "partition CSV"

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
        issues: list[Issue] = []

        def add(severity: str, code: str, message: str) -> None:
            issues.append(Issue(severity, code, message))

        def who(p: Partition) -> str:
            return f"partition {p.name!r} at {p.offset:#x}"

        # --- per partition (gen_esp32part PartitionDefinition.verify, plus §6 / §8)
        for p in self.partitions:
            align = fmt.APP_ALIGN if p.is_app else fmt.DATA_ALIGN
            if p.offset % align:
                add("error", "misaligned", f"{who(p)}: offset is not aligned to {align:#x}")
            if p.is_app and p.size % SECTOR:
                add("error", "size-misaligned",
                    f"{who(p)}: app size {p.size:#x} is not a multiple of {SECTOR:#x}")
            if p.name in fmt.TYPES and fmt.TYPES[p.name] != p.type:
                add("warning", "name-mismatch",
                    f"{who(p)}: named like the type {p.name!r} but has type {p.type:#x}")
            elif (p.name in _ALL_SUBTYPE_KEYWORDS
                  and fmt.SUBTYPES.get(p.type, {}).get(p.name) != p.subtype):
                add("warning", "name-mismatch",
                    f"{who(p)}: named like the subtype {p.name!r} but has type {p.type:#x} "
                    f"subtype {p.subtype:#x}")
            if (p.type == fmt.TYPE_DATA and p.readonly
                    and p.subtype in (fmt.SUBTYPE_DATA_OTA, fmt.SUBTYPE_DATA_COREDUMP)):
                add("error", "readonly-not-allowed",
                    f"{who(p)}: data/{p.subtype_name} is always read-write and cannot be readonly")
            if (p.type == fmt.TYPE_DATA and p.subtype == fmt.SUBTYPE_DATA_NVS
                    and p.size < fmt.NVS_RW_MIN_SIZE and not p.readonly):
                add("warning", "nvs-too-small",
                    f"{who(p)}: read-write NVS of {p.size:#x} bytes is below "
                    f"{fmt.NVS_RW_MIN_SIZE:#x}; flag it readonly (ESP-IDF >= 5.5 refuses it)")
            unknown_flags = p.flags & ~_KNOWN_FLAGS
            if unknown_flags:
                add("warning", "unknown-flags",
                    f"{who(p)}: unknown flag bits {unknown_flags:#x} (kept as they are)")
            if p.type not in _TYPE_NAMES and not 0x40 <= p.type <= 0xFE:
                add("warning", "unknown-type",
                    f"{who(p)}: type {p.type:#x} is reserved for ESP-IDF but unknown")
            elif p.type != fmt.TYPE_DATA and p.type in _TYPE_NAMES and p.subtype_name is None:
                # Data subtypes are open (0x8F romfs, 0x99 eeprom occur in the field); app,
                # bootloader and partition_table subtypes are a closed set.
                add("warning", "subtype-out-of-range",
                    f"{who(p)}: subtype {p.subtype:#x} is not defined for type {p.type_name}")
            try:
                p.label_bytes()
            except LayoutError as exc:
                add("error", "label-too-long", str(exc))
            if flash_size is not None and (p.offset > flash_size or p.size > flash_size - p.offset):
                add("error", "past-flash-end",
                    f"{who(p)}: ends at {p.end:#x}, beyond the {flash_size:#x}-byte flash "
                    "(the bootloader rejects the whole table)")

        # --- whole table
        seen: dict[str, Partition] = {}
        for p in self.partitions:
            if p.name in seen:
                add("error", "duplicate-name",
                    f"{who(p)}: name already used by the partition at {seen[p.name].offset:#x}")
            else:
                seen[p.name] = p

        first_free = table_offset + fmt.TABLE_SECTOR
        ordered = sorted(self.partitions, key=lambda q: q.offset)  # stable: ties in file order
        previous: Partition | None = None
        for p in ordered:
            if p.offset < first_free and not p._is_primary_fixed:
                add("error", "below-table",
                    f"{who(p)}: starts below {first_free:#x} (table at {table_offset:#x} "
                    f"occupies {table_offset:#x}-{first_free - 1:#x})")
            if previous is not None and p.offset < previous.end:
                add("error", "overlap",
                    f"{who(p)} overlaps {previous.name!r} at "
                    f"{previous.offset:#x}-{previous.end - 1:#x}")
            if previous is None or p.end > previous.end:
                previous = p

        for subtype, what in ((fmt.SUBTYPE_DATA_OTA, "otadata"),
                              (fmt.SUBTYPE_DATA_TEE_OTA, "TEE otadata")):
            found = [p for p in self.partitions
                     if p.type == fmt.TYPE_DATA and p.subtype == subtype]
            if len(found) > 1:
                add("error", "otadata-count",
                    f"{len(found)} {what} partitions ("
                    + ", ".join(f"{p.name!r} at {p.offset:#x}" for p in found)
                    + "); only one is allowed")
            for p in found:
                if p.size != fmt.OTADATA_SIZE:
                    add("error", "otadata-size",
                        f"{who(p)}: {what} size is {p.size:#x}, must be {fmt.OTADATA_SIZE:#x}")

        records = len(self.partitions) + (1 if self.md5 is not None else 0)
        if (records + 1) * fmt.RECORD_SIZE > fmt.TABLE_MAX_LEN:
            add("error", "too-many-partitions",
                f"{len(self.partitions)} partitions do not fit in {fmt.TABLE_MAX_LEN:#x} bytes "
                "with MD5 record and end marker")

        slots = self.ota_slots
        indices = [p.ota_index for p in slots if p.ota_index is not None]
        by_index: dict[int, list[Partition]] = {}
        for p in slots:
            by_index.setdefault(p.ota_index or 0, []).append(p)
        for index, group in sorted(by_index.items()):
            if len(group) > 1:
                add("error", "ota-duplicate",
                    f"ota_{index} is used by " + ", ".join(who(p) for p in group))
        if indices:
            missing = [i for i in range(max(indices) + 1) if i not in by_index]
            if missing:
                add("error", "ota-gap",
                    "OTA slots are not contiguous from ota_0: missing "
                    + ", ".join(f"ota_{i}" for i in missing)
                    + " (the app counts only contiguous slots; later slots are unbootable)")
        if len(slots) > fmt.MAX_OTA_SLOTS:
            add("error", "too-many-ota-slots",
                f"{len(slots)} OTA app partitions; at most {fmt.MAX_OTA_SLOTS} are supported")
        if len(slots) == 1:
            add("warning", "single-ota-slot",
                f"only one OTA slot ({who(slots[0])}): over-the-air updates need two")
        otadata = self.otadata
        if otadata is not None and not slots:
            add("warning", "otadata-without-slots",
                f"{who(otadata)}: otadata without OTA app slots (the bootloader boots factory)")
        if slots and otadata is None:
            add("warning", "slots-without-otadata",
                "OTA app slots without an otadata partition (the bootloader always boots "
                f"{'factory' if self.factory else 'ota_0'})")

        if table_offset % SECTOR:
            add("error", "table-misaligned",
                f"table offset {table_offset:#x} is not a multiple of {SECTOR:#x}")
        if bootloader_offset is not None and table_offset <= bootloader_offset < first_free:
            add("error", "table-overlaps-bootloader",
                f"table sector {table_offset:#x}-{first_free - 1:#x} overlaps the bootloader "
                f"at {bootloader_offset:#x}")
        elif bootloader_offset is not None and table_offset < bootloader_offset:
            add("error", "table-overlaps-bootloader",
                f"table at {table_offset:#x} lies below the bootloader at {bootloader_offset:#x}")
        for p in self.partitions:
            if (p.type == fmt.TYPE_BOOTLOADER and p.subtype == fmt.SUBTYPE_PRIMARY
                    and p.offset < first_free and p.end > table_offset):
                add("error", "table-overlaps-bootloader",
                    f"{who(p)}: bootloader region {p.offset:#x}-{p.end - 1:#x} overlaps the "
                    f"table sector at {table_offset:#x}")
        return issues

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

    def to_csv(self) -> str:
        """Render the table as gen_esp32part ``to_csv`` does (same text for the same table).

        Offsets are hex; sizes are ``NM``/``NK`` when divisible, else hex; unknown types and
        subtypes are decimal numbers. Unknown flag bits cannot be written in CSV: they are noted
        in a comment line before the entry.
        """
        rows = ["# ESP-IDF Partition Table", "# Name, Type, SubType, Offset, Size, Flags"]
        for p in self.partitions:
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


# ---------------------------------------------------------------------- CSV helpers

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


def csv_text(name: str, data: bytes) -> str | None:
    """The partition CSV ``data`` holds, or None when it is a binary table or firmware.

    A name ending in ``.csv`` is a CSV whatever it holds; otherwise ASCII bytes that start
    with neither a table record, an image header nor erased flash are one.

    Raises:
        InputError: a CSV that is not UTF-8 text (naming the first bad byte).
    """
    from .errors import InputError
    from .formats.compiled.esp32_image import MAGIC as IMAGE_MAGIC

    binary = data[:2] == fmt.MAGIC or data[:1] in (bytes([IMAGE_MAGIC]), b"\xff")
    if not name.lower().endswith(".csv") and (binary or not data.isascii()):
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not a CSV text file (byte {data[exc.start]:#04x} at offset "
                         f"{exc.start:#x} is not UTF-8 text)") from None
