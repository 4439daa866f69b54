"""The ``esp_secure_cert`` partition (TLV form) as a model: entries, CRCs, integrity SHA-256.

Reads the partition as ``esp_secure_cert_find_tlv`` does (see :mod:`esp_image.formats.secure_cert`):
TLVs one after another from offset 0 until a header lacks the magic. Every entry is kept as
stored (flags, reserved bytes, padding, CRC), so ``SecureCert.from_bytes(b).to_bytes() == b``.

The legacy forms are not this kind: the ``nvs`` flavour is an NVS partition (namespace
``esp_secure_cert``), and the ``cust_flash`` flavour (a metadata block of CRC/length pairs at 0,
the device certificate at 64) has no magic; :func:`looks_like_secure_cert` claims neither.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from .checks import Check, Checked, compare, compare_digest
from .errors import FormatError
from .formats.compiled import secure_cert as fmt
from .formats.compiled.otadata import ota_crc_bytes as rom_crc32

_HEADER = "esp_secure_cert_tlv_header_t"


@dataclass(frozen=True)
class TlvEntry:
    """One TLV, as stored.

    Attributes:
        offset: partition offset of the header.
        header: the 12-byte header record (magic, flags, reserved, type, subtype, length).
        data: the ``length`` bytes of value.
        padding: the bytes between data and footer (zero when the generator wrote them).
        crc: the stored footer CRC.
    """

    offset: int
    header: fmt.TlvHeader
    data: bytes
    padding: bytes
    crc: int

    @property
    def type(self) -> int:
        """``esp_secure_cert_tlv_type_t`` value."""
        return self.header.type

    @property
    def type_name(self) -> str | None:
        """``ca_cert``, ``dev_cert``, ``priv_key`` ... or None for a type unknown here."""
        return fmt.TYPE_NAMES.get(self.header.type)

    @property
    def subtype(self) -> int:
        """The index among TLVs of the same type."""
        return self.header.subtype

    @property
    def flags(self) -> int:
        """The flags byte."""
        return self.header.flags

    @property
    def flag_names(self) -> list[str]:
        """What the flags say about storage: ``hmac_encryption``, ``hmac_ecdsa_key_derivation``,
        ``ecdsa_peripheral``; empty for plain data (and for the 0xFF of old generators)."""
        names = []
        storage = self.flags & fmt.FLAG_STORAGE_MASK
        if storage == fmt.FLAG_HMAC_ENCRYPTION:
            names.append("hmac_encryption")
        elif storage == fmt.FLAG_HMAC_ECDSA_KEY_DERIVATION:
            names.append("hmac_ecdsa_key_derivation")
        if self.flags & fmt.FLAG_KEY_MASK == fmt.FLAG_KEY_ECDSA_PERIPHERAL:
            names.append("ecdsa_peripheral")
        return names

    @property
    def size(self) -> int:
        """Bytes the TLV takes in the partition."""
        return fmt.tlv_size(self.header.length)

    @property
    def computed_crc(self) -> int:
        """The CRC the reader computes over header, data and padding."""
        return rom_crc32(self.header.build(_HEADER) + self.data + self.padding)

    @property
    def crc_ok(self) -> bool:
        """Whether the stored CRC matches."""
        return self.crc == self.computed_crc

    def check(self) -> Check:
        """The ``crc32`` check of this TLV, at its footer."""
        return compare("crc32", self.offset + self.size - fmt.FOOTER_SIZE, self.crc,
                       self.computed_crc, 8)

    def to_bytes(self) -> bytes:
        """The stored bytes of the TLV."""
        return (self.header.build(_HEADER) + self.data + self.padding
                + fmt.TlvFooter(self.crc).build())

    def to_dict(self) -> dict[str, object]:
        """The JSON form."""
        return {"offset": self.offset, "type": self.type, "type_name": self.type_name,
                "subtype": self.subtype, "flags": self.flags, "flag_names": self.flag_names,
                "length": self.header.length, "crc_ok": self.crc_ok}


class SecureCert(Checked):
    """An ``esp_secure_cert`` partition in TLV form.

    Attributes:
        entries: the TLVs in partition order.
        trailing: the bytes after the last TLV (erased flash in a partition read-out).
        checks: a ``crc32`` check per TLV, a ``sha256`` check for the last INTEGRITY TLV, and a
            failed ``structure`` check when a TLV runs past the end of the data or data other
            than erased flash (0xFF, or 0x00 from generators that pad with zeros) follows the
            chain.
    """

    def __init__(self, entries: list[TlvEntry], trailing: bytes, truncated: bool = False):
        self.entries = entries
        self.trailing = trailing
        self._truncated = truncated
        self.checks = self._checks()

    @classmethod
    def from_bytes(cls, data: bytes | memoryview) -> SecureCert:
        """Read the TLV chain.

        Raises:
            FormatError: ``data`` does not start with a TLV header.
        """
        data = bytes(data)
        if not looks_like_secure_cert(data):
            raise FormatError("no esp_secure_cert TLV magic (0xBA5EBA11) at offset 0", 0,
                              _HEADER)
        entries: list[TlvEntry] = []
        at = 0
        # Each TLV advances by at least 16 bytes and is bounded by len(data): no runaway loop.
        while data[at:at + 4] == fmt.MAGIC_BYTES and at + fmt.HEADER_SIZE <= len(data):
            header = fmt.TlvHeader.parse(data, at, _HEADER)
            end = at + fmt.tlv_size(header.length)
            if end > len(data):
                return cls(entries, data[at:], truncated=True)
            start = at + fmt.HEADER_SIZE
            pad_at = start + header.length
            crc_at = end - fmt.FOOTER_SIZE
            entries.append(TlvEntry(at, header, data[start:pad_at], data[pad_at:crc_at],
                                    int.from_bytes(data[crc_at:end], "little")))
            at = end
        return cls(entries, data[at:], truncated=data[at:at + 4] == fmt.MAGIC_BYTES)

    @property
    def end(self) -> int:
        """Partition offset where the TLV chain ends (the reader's ``ESP_SECURE_CERT_TLV_END``)."""
        return self.entries[-1].offset + self.entries[-1].size if self.entries else 0

    @property
    def size(self) -> int:
        """Bytes in the partition data."""
        return self.end + len(self.trailing)

    def _checks(self) -> list[Check]:
        checks = [entry.check() for entry in self.entries]
        integrity = self.integrity_check()
        if integrity is not None:
            checks.append(integrity)
        if self._truncated:
            checks.append(Check("structure", False, self.end,
                                f"TLV header at {self.end:#x} runs past the end of the data "
                                f"({self.size:#x} bytes)"))
        elif not self.trailing_erased and self.trailing.count(0) != len(self.trailing):
            # The reader stops at the first header without the magic, so a damaged header
            # hides every TLV after it; what follows a healthy chain is erased flash.
            checks.append(Check("structure", False, self.end,
                                f"the TLV chain ends at {self.end:#x} but the "
                                f"{len(self.trailing)} bytes after it are not erased"))
        return sorted(checks, key=lambda c: c.offset)

    def integrity_check(self) -> Check | None:
        """``esp_secure_cert_verify_partition_integrity``: the last INTEGRITY TLV's SHA-256 of
        everything before it; None when the partition has none."""
        found = [e for e in self.entries if e.type == fmt.TYPE_INTEGRITY]
        if not found:
            return None
        entry = found[-1]
        at = entry.offset + fmt.HEADER_SIZE
        if len(entry.data) != fmt.INTEGRITY_SIZE:
            return Check("sha256", False, at,
                         f"INTEGRITY TLV holds {len(entry.data)} bytes, not a SHA-256")
        covered = b"".join(e.to_bytes() for e in self.entries if e.offset < entry.offset)
        return compare_digest("sha256", at, entry.data, hashlib.sha256(covered).digest())

    @property
    def trailing_erased(self) -> bool:
        """Whether everything after the chain is erased flash (0xFF)."""
        return self.trailing.count(0xFF) == len(self.trailing)

    def find(self, type_: int, subtype: int | None = None) -> TlvEntry | None:
        """The first TLV of ``type_`` (and ``subtype``), as ``esp_secure_cert_find_tlv`` finds
        it; None if there is none."""
        for entry in self.entries:
            if entry.type == type_ and subtype in (None, entry.subtype):
                return entry
        return None

    def to_bytes(self) -> bytes:
        """The partition, byte for byte as read."""
        return b"".join(e.to_bytes() for e in self.entries) + self.trailing

    def to_dict(self) -> dict[str, object]:
        """The JSON form."""
        return {"format": "tlv", "size": self.size, "end": self.end,
                "trailing": len(self.trailing), "trailing_erased": self.trailing_erased,
                "valid": self.valid, "entries": [e.to_dict() for e in self.entries],
                "checks": [c.to_dict() for c in self.checks]}

    @staticmethod
    def looks_like(data: bytes | memoryview) -> bool:
        """See :func:`looks_like_secure_cert`."""
        return looks_like_secure_cert(data)


def looks_like_secure_cert(data: bytes | memoryview) -> bool:
    """Whether ``data`` starts with a TLV header (the 4-byte magic). A first TLV cut short
    still counts: :class:`SecureCert` reports it as damage. NVS (legacy ``nvs`` flavour)
    starts with a page state, and the legacy ``cust_flash`` layout with a CRC: neither matches.
    """
    return len(data) >= fmt.HEADER_SIZE and bytes(data[:4]) == fmt.MAGIC_BYTES


def make_tlv(type_: int, subtype: int, data: bytes, flags: int = 0) -> bytes:
    """One TLV as ``tools/esp_secure_cert/tlv_format.py`` writes it: zero reserved bytes and
    padding, correct CRC.

    Raises:
        FormatError: ``data`` is longer than the 16-bit length field allows.
    """
    if len(data) > 0xFFFF:
        raise FormatError(f"TLV data of {len(data)} bytes does not fit the u16 length", None,
                          _HEADER)
    header = fmt.TlvHeader(fmt.MAGIC, flags, bytes(3), type_, subtype, len(data)).build(_HEADER)
    body = header + data + bytes(fmt.padding_length(len(data)))
    return body + fmt.TlvFooter(rom_crc32(body)).build()
