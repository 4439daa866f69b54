"""OTA selection data (the ``data/ota`` partition) as a typed, immutable model.

What the ESP-IDF bootloader boots from a given otadata, and how ESP-IDF rewrites it to switch
slots, following ``shared/docs/formats/otadata.md``:

- validity (§4): ``bootloader_common_ota_select_invalid`` / ``_valid`` in
  ``bootloader_common_loader.c``;
- selection (§5): ``bootloader_utility_get_selected_boot_partition`` in
  ``bootloader_utility.c``, with rollback disabled;
- switch (§6): ``esp_rewrite_ota_data`` / ``compute_ota_seq_for_target_slot`` in
  ``esp_ota_ops.c``;
- what really starts (§5.1): ``bootloader_utility_load_boot_image`` tries the selected index,
  then every lower one down to the factory app, then the higher OTA slots, then the test app,
  skipping partitions whose app ``bootloader_load_image`` rejects (:class:`AppSlots`).

Records are kept exactly as stored (including a wrong CRC and unknown states) so that
``OtaData.from_bytes(b).to_bytes() == b``; the constructors that create records
(:meth:`OtaEntry.make`, :meth:`OtaData.switch`, :meth:`OtaData.erased`) always write correct
CRCs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .boot import FACTORY_INDEX, TEST_INDEX, AppSlots, AppStatus, BootSelection, index_name
from .checks import Check, compare
from .errors import FormatError, LayoutError, TruncatedError
from .formats.compiled import otadata as fmt
from .formats.compiled import partition_table as table_fmt

MAX_OTA_SLOTS = table_fmt.MAX_OTA_SLOTS
"""ESP-IDF supports ota_0..ota_15 (app subtypes 0x10..0x1F)."""

_ENTRY_NAME = "esp_ota_select_entry_t"



def _slot_of(seq: int, ota_slot_count: int) -> int:
    """``(seq - 1) % app_count`` in u32 arithmetic, as the bootloader computes it."""
    return ((seq - 1) & fmt.U32_MASK) % ota_slot_count


def _check_slot_count(ota_slot_count: int, minimum: int) -> None:
    if not minimum <= ota_slot_count <= MAX_OTA_SLOTS:
        raise LayoutError(
            f"otadata: OTA slot count must be {minimum}..{MAX_OTA_SLOTS}, got {ota_slot_count}"
        )


def compute_ota_seq_for_target_slot(current_seq: int, slot: int, ota_slot_count: int) -> int:
    """Return ESP-IDF's next ``ota_seq`` for booting ``slot`` (otadata.md §6 step 3).

    ``base + i * n`` with ``base = (slot + 1) % n`` and ``i`` the smallest non-negative integer
    such that the result is ``>= current_seq``. The result is not reduced to 32 bits: a value
    of 0xFFFFFFFF or more cannot be stored as a valid sequence number.

    Args:
        current_seq: ``ota_seq`` of the active copy.
        slot: the target OTA slot index.
        ota_slot_count: the number of contiguous OTA slots (``n``), at least 1.
    """
    base = (slot + 1) % ota_slot_count
    if current_seq <= base:
        return base
    steps = -(-(current_seq - base) // ota_slot_count)
    return base + steps * ota_slot_count


@dataclass(frozen=True)
class OtaEntry:
    """One ``esp_ota_select_entry_t`` record, as stored.

    Attributes:
        ota_seq: sequence number (0xFFFFFFFF = erased).
        ota_state: ``esp_ota_img_states_t`` value; unknown values are kept as integers.
        crc: the stored CRC (not necessarily correct).
        seq_label: 20 bytes never written by ESP-IDF (normally 0xFF), preserved.
    """

    ota_seq: int
    ota_state: int
    crc: int
    seq_label: bytes = fmt.ERASED_LABEL

    def __post_init__(self) -> None:
        for name in ("ota_seq", "ota_state", "crc"):
            value = getattr(self, name)
            if not 0 <= value <= fmt.U32_MASK:
                raise FormatError(f"{name} {value} does not fit in a u32", None, _ENTRY_NAME)
        if len(self.seq_label) != fmt.SEQ_LABEL_SIZE:
            raise FormatError(
                f"seq_label must be {fmt.SEQ_LABEL_SIZE} bytes, got {len(self.seq_label)}",
                None,
                _ENTRY_NAME,
            )
        object.__setattr__(self, "seq_label", bytes(self.seq_label))

    @classmethod
    def make(cls, ota_seq: int, ota_state: int, seq_label: bytes = fmt.ERASED_LABEL) -> OtaEntry:
        """Return a record with the correct CRC for ``ota_seq``."""
        return cls(ota_seq, ota_state, fmt.ota_crc(ota_seq), seq_label)

    @classmethod
    def erased(cls) -> OtaEntry:
        """Return an all-0xFF record."""
        return cls(fmt.SEQ_ERASED, fmt.UNDEFINED, 0xFFFFFFFF, fmt.ERASED_LABEL)

    @classmethod
    def from_bytes(cls, data: bytes | memoryview) -> OtaEntry:
        """Parse a 32-byte record (``TruncatedError`` if shorter; extra bytes are ignored)."""
        return cls._from_record(fmt.OtaSelectEntry.parse(data, 0, _ENTRY_NAME))

    @classmethod
    def _from_record(cls, r: fmt.OtaSelectEntry) -> OtaEntry:
        return cls(r.ota_seq, r.ota_state, r.crc, r.seq_label)

    def to_bytes(self) -> bytes:
        """Return the 32 stored bytes, with the CRC as stored (not recomputed)."""
        return self._record().build(_ENTRY_NAME)

    def _record(self) -> fmt.OtaSelectEntry:
        return fmt.OtaSelectEntry(self.ota_seq, self.seq_label, self.ota_state, self.crc)

    @property
    def computed_crc(self) -> int:
        """The CRC ESP-IDF expects for this ``ota_seq``."""
        return fmt.ota_crc(self.ota_seq)

    @property
    def crc_ok(self) -> bool:
        """Whether the stored CRC matches ``ota_seq``."""
        return self.crc == self.computed_crc

    @property
    def is_erased(self) -> bool:
        """Whether ``ota_seq`` is 0xFFFFFFFF (erased / unused record)."""
        return self.ota_seq == fmt.SEQ_ERASED

    @property
    def is_invalid(self) -> bool:
        """ESP-IDF ``ota_select_invalid``: seq erased or state INVALID/ABORTED (CRC not checked)."""
        return self.is_erased or self.ota_state in (fmt.INVALID, fmt.ABORTED)

    @property
    def is_valid(self) -> bool:
        """ESP-IDF ``ota_select_valid``: not :attr:`is_invalid` and the CRC matches.

        Every state except INVALID and ABORTED counts, including UNDEFINED, NEW,
        PENDING_VERIFY and unknown values.
        """
        return not self.is_invalid and self.crc_ok

    @property
    def is_initial(self) -> bool:
        """The bootloader's "initial contents" test: seq erased or CRC mismatch (§5.2)."""
        return self.is_erased or not self.crc_ok

    @property
    def state_name(self) -> str:
        """``"new"``, ``"pending_verify"``, ``"valid"``, ``"invalid"``, ``"aborted"``,
        ``"undefined"``, or ``"0x…"`` for an unknown value."""
        return fmt.STATE_NAMES.get(self.ota_state, f"{self.ota_state:#x}")

    def slot(self, ota_slot_count: int) -> int:
        """Return the slot this record selects: ``(ota_seq − 1) mod n`` in u32 arithmetic."""
        _check_slot_count(ota_slot_count, 1)
        return _slot_of(self.ota_seq, ota_slot_count)

    def to_dict(self) -> dict[str, object]:
        """Return the JSON form (integers as numbers, ``seq_label`` as hex)."""
        return {
            "ota_seq": self.ota_seq,
            "ota_state": self.ota_state,
            "state": self.state_name,
            "crc": self.crc,
            "computed_crc": self.computed_crc,
            "crc_ok": self.crc_ok,
            "erased": self.is_erased,
            "valid": self.is_valid,
            "seq_label": self.seq_label.hex(),
        }


def _why_not_valid(entry: OtaEntry) -> str:
    if entry.is_erased:
        return "erased"
    if entry.ota_state in (fmt.INVALID, fmt.ABORTED):
        return f"state {entry.state_name}"
    return f"bad CRC (stored {entry.crc:#010x}, computed {entry.computed_crc:#010x})"


def _active(entries: tuple[OtaEntry, OtaEntry]) -> int | None:
    """``bootloader_common_get_active_otadata``: the valid copy with the larger seq (tie → 0)."""
    v0, v1 = entries[0].is_valid, entries[1].is_valid
    if v0 and v1:
        return 0 if entries[0].ota_seq >= entries[1].ota_seq else 1
    if v0:
        return 0
    if v1:
        return 1
    return None


def _decide(entries: tuple[OtaEntry, OtaEntry], n: int, has_factory: bool) -> BootSelection:
    """The selection pseudo-code of otadata.md §5, rollback disabled."""
    e0, e1 = entries
    both_invalid = e0.is_invalid and e1.is_invalid
    if both_invalid or n == 0:
        if both_invalid and e0.is_erased and e1.is_erased:
            cause = "both copies erased"
        elif both_invalid:
            cause = (
                f"both copies invalid (copy 0 {_why_not_valid(e0)}, copy 1 {_why_not_valid(e1)})"
            )
        else:
            cause = "no OTA app slots in the partition table (app_count 0)"
        if has_factory:
            return BootSelection(None, None, f"{cause} → factory", True)
        seeding = e0.is_initial and e1.is_initial
        reason = f"{cause}; no factory → slot 0 (ota_0)"
        if seeding:
            reason += (
                "; both copies initial: once an OTA app boots, the bootloader writes copy 0 "
                "for its slot (state valid)"
            )
        return BootSelection(0, None, reason, False, seeding)

    active = _active(entries)
    if active is None:
        cause = f"no valid copy (copy 0 {_why_not_valid(e0)}, copy 1 {_why_not_valid(e1)})"
        if has_factory:
            return BootSelection(None, None, f"{cause} → factory", True)
        return BootSelection(
            None,
            None,
            f"{cause}; no factory → the loader tries every OTA slot from ota_0 up",
            True,
        )

    entry, other = entries[active], entries[1 - active]
    seq = entry.ota_seq
    slot = _slot_of(seq, n)
    if seq == 0:
        formula = f"(0−1) mod {n} = 0xffffffff mod {n} = slot {slot} (u32 wrap-around of seq 0)"
    else:
        formula = f"({seq}−1) mod {n} = slot {slot}"
    if not other.is_valid:
        why = _why_not_valid(other)
    elif other.ota_seq == seq:
        why = f"valid, same seq {seq}, the tie goes to copy 0"
    else:
        why = f"valid, smaller seq {other.ota_seq}"
    reason = f"copy {active} valid, seq {seq} → {formula} (copy {1 - active}: {why})"
    return BootSelection(slot, active, reason, False)


@dataclass(frozen=True)
class OtaData:
    """A whole 0x2000-byte otadata partition.

    Attributes:
        entries: the records of copy 0 (+0x0000) and copy 1 (+0x1000), as stored.
        sectors: the bytes of each 4 KiB sector after its 32-byte record (normally all 0xFF),
            kept so that :meth:`to_bytes` reproduces the input exactly.
    """

    entries: tuple[OtaEntry, OtaEntry]
    sectors: tuple[bytes, bytes] = (fmt.ERASED_TAIL, fmt.ERASED_TAIL)

    def __post_init__(self) -> None:
        if len(self.entries) != 2 or len(self.sectors) != 2:
            raise FormatError("otadata has exactly two copies", None, "otadata")
        for i, tail in enumerate(self.sectors):
            if len(tail) != fmt.TAIL_SIZE:
                raise FormatError(
                    f"sector {i} tail must be {fmt.TAIL_SIZE} bytes, got {len(tail)}",
                    None,
                    "otadata",
                )
        object.__setattr__(self, "entries", (self.entries[0], self.entries[1]))
        object.__setattr__(self, "sectors", (bytes(self.sectors[0]), bytes(self.sectors[1])))

    # --- bytes ----------------------------------------------------------------------------

    @classmethod
    def from_bytes(cls, data: bytes | memoryview) -> OtaData:
        """Parse exactly 0x2000 bytes (callers slice the partition out of a larger file).

        Raises:
            TruncatedError: fewer than 0x2000 bytes.
            FormatError: more than 0x2000 bytes.
        """
        if len(data) < fmt.OTADATA_SIZE:
            raise TruncatedError(
                f"needs {fmt.OTADATA_SIZE:#x} bytes, got {len(data):#x}", 0, "otadata"
            )
        if len(data) != fmt.OTADATA_SIZE:
            raise FormatError(
                f"must be exactly {fmt.OTADATA_SIZE:#x} bytes, got {len(data):#x}", 0, "otadata"
            )
        c = fmt.OtaData.parse(data, 0, "otadata")
        e0, e1 = (OtaEntry._from_record(s.entry) for s in c.copies)
        return cls((e0, e1), (c.copies[0].tail, c.copies[1].tail))

    def to_bytes(self) -> bytes:
        """Return the 0x2000 bytes; records keep their stored CRCs (never recomputed)."""
        copies = tuple(fmt.OtaSelectSector(e._record(), t)
                       for e, t in zip(self.entries, self.sectors, strict=True))
        return fmt.OtaData(copies).build("otadata")

    @classmethod
    def erased(cls) -> OtaData:
        """Return fully erased otadata (all 0xFF): no OTA selection."""
        return cls((OtaEntry.erased(), OtaEntry.erased()))

    @property
    def is_erased(self) -> bool:
        """Whether all 0x2000 bytes are 0xFF."""
        return self == OtaData.erased()

    # --- inspection -----------------------------------------------------------------------

    def checks(self, offset: int = 0) -> list[Check]:
        """Return one ``otadata-crc`` check per record whose seq is not erased.

        Args:
            offset: file offset of the partition; each check's offset is its record's.
        """
        out = []
        for i, entry in enumerate(self.entries):
            if entry.is_erased:
                continue
            c = compare("otadata-crc", offset + i * fmt.SECTOR, entry.crc, entry.computed_crc, 8)
            detail = f"copy {i}: seq {entry.ota_seq}, state {entry.state_name}, {c.detail}"
            out.append(Check(c.name, c.valid, c.offset, detail))
        return out

    def active_copy(self) -> int | None:
        """Return the valid copy with the larger seq (a tie picks copy 0), or None."""
        return _active(self.entries)

    def select(self, *, ota_slot_count: int, has_factory: bool,
               apps: AppSlots | None = None) -> BootSelection:
        """Return what the bootloader boots (otadata.md §5, rollback disabled).

        Args:
            ota_slot_count: ``app_count``, the number of OTA app slots (0..16).
            has_factory: whether the partition table has a factory app.
            apps: what each app partition holds; with it the answer follows the loader past
                apps it rejects (:meth:`BootSelection.loaded_from`), else it is the selection.

        Raises:
            LayoutError: ``ota_slot_count`` out of range.
        """
        _check_slot_count(ota_slot_count, 0)
        result = _decide(self.entries, ota_slot_count, has_factory)
        if apps is not None:
            result = result.loaded_from(apps)
        note = self._pending_note(result, ota_slot_count, has_factory, apps)
        return replace(result, pending_note=note) if note else result

    def _pending_note(self, result: BootSelection, n: int, has_factory: bool,
                      apps: AppSlots | None) -> str | None:
        notes = []
        pending = [i for i, e in enumerate(self.entries) if e.ota_state == fmt.PENDING_VERIFY]
        if pending:
            aborted = tuple(
                replace(e, ota_state=fmt.ABORTED) if e.ota_state == fmt.PENDING_VERIFY else e
                for e in self.entries
            )
            alt = _decide((aborted[0], aborted[1]), n, has_factory)
            if apps is not None:
                alt = alt.loaded_from(apps)
            which = " and ".join(f"copy {i}" for i in pending)
            note = (
                f"{which} pending_verify: with rollback enabled the bootloader would mark it "
                "aborted (an unconfirmed first boot)"
            )
            if alt.target != result.target:
                note += f" and boot {alt.target} instead ({alt.reason})"
            else:
                note += f" and still boot {alt.target}"
            notes.append(note)
        if result.copy is not None and self.entries[result.copy].ota_state == fmt.NEW:
            if result.selected_target != result.target:
                # The record is marked before its app is tried, so a skipped app never confirms.
                then = ("; its app is skipped, so nothing confirms it and the next boot marks "
                        "it aborted")
            else:
                then = (" and boot it once; if the app does not confirm it, the next boot marks "
                        "it aborted and rolls back")
            notes.append(
                f"copy {result.copy} new: with rollback enabled the bootloader would mark it "
                f"pending_verify{then}"
            )
        return "; ".join(notes) or None

    # --- transforms -----------------------------------------------------------------------

    def switch(self, slot: int, *, ota_slot_count: int, rollback: bool = False) -> OtaData:
        """Return otadata that boots OTA ``slot``, written as ``esp_rewrite_ota_data`` does (§6).

        Same slot as now: only the active copy's state is rewritten (same seq). Otherwise the
        other copy gets ``compute_ota_seq_for_target_slot``; with no valid copy, copy 0 gets
        seq ``slot + 1``. The written record keeps its ``seq_label``, gets state NEW
        (``rollback``) or UNDEFINED and a correct CRC; its sector is erased first. The other
        sector is left untouched.

        Args:
            slot: target OTA slot index (0 = ota_0).
            ota_slot_count: the number of contiguous OTA slots (1..16).
            rollback: write NEW (rollback enabled) instead of UNDEFINED.

        Raises:
            LayoutError: slot or slot count out of range, or the sequence number ESP-IDF's
                rule yields would not boot ``slot`` (seq overflow, or an active seq-0 record
                whose u32 wrap-around disagrees with the formula); erase otadata and retry.
        """
        _check_slot_count(ota_slot_count, 1)
        if not 0 <= slot < ota_slot_count:
            raise LayoutError(
                f"otadata: OTA slot {slot} does not exist (slots 0..{ota_slot_count - 1})"
            )
        state = fmt.NEW if rollback else fmt.UNDEFINED
        active = self.active_copy()
        if active is None:
            target, new_seq = 0, slot + 1
        else:
            current = self.entries[active].ota_seq
            if _slot_of(current, ota_slot_count) == slot:
                target, new_seq = active, current
            else:
                target = 1 - active
                new_seq = compute_ota_seq_for_target_slot(current, slot, ota_slot_count)
        if new_seq >= fmt.SEQ_ERASED:
            raise LayoutError(
                f"otadata: switching to slot {slot} needs seq {new_seq:#x}, which is not a valid "
                "sequence number; erase otadata (set_factory) and switch again"
            )
        record = OtaEntry.make(new_seq, state, self.entries[target].seq_label)
        entries = list(self.entries)
        sectors = list(self.sectors)
        entries[target] = record
        sectors[target] = fmt.ERASED_TAIL
        result = OtaData((entries[0], entries[1]), (sectors[0], sectors[1]))
        chosen = result.select(ota_slot_count=ota_slot_count, has_factory=False)
        if chosen.slot != slot:
            raise LayoutError(
                f"otadata: ESP-IDF's switch to slot {slot} would write seq {new_seq} to copy "
                f"{target}, but the bootloader would then boot {chosen.target} "
                f"({chosen.reason}); erase otadata (set_factory) and switch again"
            )
        return result

    def set_factory(self) -> OtaData:
        """Return erased otadata, as ``esp_ota_set_boot_partition(factory)`` writes it."""
        return OtaData.erased()

    def to_dict(self) -> dict[str, object]:
        """Return the JSON form: both copies and the active copy."""
        copies = []
        for i, entry in enumerate(self.entries):
            d: dict[str, object] = {"copy": i, "offset": i * fmt.SECTOR}
            d.update(entry.to_dict())
            copies.append(d)
        return {"erased": self.is_erased, "active_copy": self.active_copy(), "copies": copies}


def looks_like_otadata(data: bytes | memoryview) -> bool:
    """Cheap sniff for a bare otadata file.

    True when ``data`` is exactly 0x2000 bytes, bytes 32..0x1000 of each sector are 0xFF, each
    record is all 0xFF or has a matching CRC or a known state value, and the whole is not
    all 0xFF (that is "erased", which callers classify separately).
    """
    if len(data) != fmt.OTADATA_SIZE:
        return False
    view = memoryview(data)
    erased_record = b"\xff" * fmt.ENTRY_SIZE
    any_written = False
    for base in (0, fmt.SECTOR):
        if view[base + fmt.ENTRY_SIZE : base + fmt.SECTOR] != fmt.ERASED_TAIL:
            return False
        record = bytes(view[base : base + fmt.ENTRY_SIZE])
        if record == erased_record:
            continue
        any_written = True
        seq = int.from_bytes(record[0:4], "little")
        state = int.from_bytes(record[24:28], "little")
        crc = int.from_bytes(record[28:32], "little")
        if crc != fmt.ota_crc(seq) and state not in fmt.STATE_NAMES:
            return False
    return any_written


def erased_otadata_note(data: bytes | memoryview) -> str | None:
    """What an erased otadata file (ESP-IDF's ``ota_data_initial.bin``) makes the bootloader do,
    or None unless ``data`` is exactly 0x2000 bytes of 0xFF.

    An all-0xFF file of any other size is just erased flash; this size is what
    ``idf.py build`` writes for the otadata partition and what ``esp_ota_set_boot_partition``
    (factory) leaves (otadata.md §5, §6).
    """
    if len(data) != fmt.OTADATA_SIZE:
        return None
    otadata = OtaData.from_bytes(data)
    if not otadata.is_erased:
        return None
    factory = otadata.select(ota_slot_count=2, has_factory=True).target
    no_factory = otadata.select(ota_slot_count=2, has_factory=False).target
    return (f"erased otadata (ESP-IDF's ota_data_initial.bin): the bootloader boots the "
            f"{factory} app, or {no_factory} when the partition table has no factory app")


# The boot answer lives in esp_image.boot; these names were defined here first.
__all__ = [
    "FACTORY_INDEX",
    "MAX_OTA_SLOTS",
    "TEST_INDEX",
    "AppSlots",
    "AppStatus",
    "BootSelection",
    "OtaData",
    "OtaEntry",
    "compute_ota_seq_for_target_slot",
    "erased_otadata_note",
    "index_name",
    "looks_like_otadata",
]
