"""The data partitions esp_image reads whole: NVS, ``nvs_keys``, ``esp_secure_cert`` and core
dumps, as bare partition images (an Image of that kind) and inside flash files (a region of that
kind, its checks joining the file's, prefixed with the partition's name).

What counts as damage follows what the device does with the data. ``nvs_flash`` finishes or
discards an interrupted write at mount (the last item of the active page, a duplicate of it, a
page being freed) and takes a page without a used header (leftover data, a free page not
completely erased) as a free page, so a partition read from a running device in such a state gets
a warning, not a failed check. An erased ``coredump`` or ``nvs_keys``
partition is the normal state (no crash yet, keys not yet generated): an ``erased`` region.
"""

from __future__ import annotations

from .checks import Check

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from typing import Literal

    from .coredump import CoreDump
    from .nvs.keys import NvsKeys
    from .nvs.partition import NvsPartition
    from .partition_table import Partition
    from .secure_cert import SecureCert

    DataKind = Literal["nvs", "nvs-keys", "esp-secure-cert", "coredump"]

# First words of an NVS page in use (active, full, freeing): a cheap test before parsing.
_NVS_STATES = frozenset({b"\xfe\xff\xff\xff", b"\xfc\xff\xff\xff", b"\xf8\xff\xff\xff"})
# Empty, corrupt and invalid pages (nvs_flash marks a page it cannot use corrupt, or zeroes it).
_OTHER_STATES = frozenset({b"\xff\xff\xff\xff", b"\xf0\xff\xff\xff", b"\0\0\0\0"})
_SECURE_CERT_MAGIC = b"\x11\xba\x5e\xba"
_SECURE_CERT_TYPE = 0x3F  # esp_secure_cert_mgr's custom partition type (any subtype)
_SECURE_CERT_NAME = "esp_secure_cert"
_NVS_KEYS_SUBTYPE = 0x04
_COREDUMP_SUBTYPE = 0x03
_KEYS_RECORD = 68  # nvs_sec_cfg_t: two 32-byte keys and their CRC


class DataContent:
    """One data partition's contents as esp_image reads them.

    Attributes:
        kind: ``nvs``, ``nvs-keys``, ``esp-secure-cert`` or ``coredump`` (the file's or the
            region's kind).
        key: the JSON key of :meth:`to_dict` (``nvs``, ``nvs_keys``, ``secure_cert``,
            ``coredump``).
        model: the parsed partition (``NvsPartition``, ``NvsKeys``, ``SecureCert``,
            ``CoreDump``).
        summary: one line for a person (a region's detail).
        checks: the checks, at partition offsets.
        warnings: states the device repairs by itself (an interrupted NVS write).
        notes: facts worth telling (an encrypted NVS partition read without its keys).
    """

    # A plain class: creating a dataclass costs start-up time on the ``info`` path.
    __slots__ = ("checks", "key", "kind", "model", "notes", "summary", "warnings")

    def __init__(self, kind: DataKind, key: str, model: object, summary: str, *,
                 checks: list[Check], warnings: list[str] | None = None,
                 notes: list[str] | None = None) -> None:
        self.kind = kind
        self.key = key
        self.model = model
        self.summary = summary
        self.checks = checks
        self.warnings = warnings or []
        self.notes = notes or []

    @property
    def valid(self) -> bool:
        """Whether every check passed."""
        return all(c.valid for c in self.checks)

    def to_dict(self) -> dict[str, object]:
        """The JSON form: the model's, plus the warnings when there are any."""
        if self.kind == "nvs":
            out = _nvs_dict(self.model)  # type: ignore[arg-type]
        elif self.kind == "nvs-keys":
            out = {"size": _KEYS_RECORD, "crc_ok": self.valid}
        else:
            out = self.model.to_dict()  # type: ignore[attr-defined]
        if self.warnings:
            out["warnings"] = list(self.warnings)
        return out


# ---------------------------------------------------------------------- bare files
def read_bare(data: bytes | memoryview) -> DataContent | None:
    """A bare partition image of one of these kinds, or None."""
    head = bytes(data[:4])
    if head == _SECURE_CERT_MAGIC:
        return _secure_cert(data)
    if _maybe_nvs(data):
        from .nvs.locate import looks_like_nvs

        if looks_like_nvs(data):
            return _nvs(bytes(data), None)
    if _KEYS_RECORD <= len(data) <= 0x1000 and _keys_crc_ok(data) \
            and bytes(data[_KEYS_RECORD:]).count(0xFF) == len(data) - _KEYS_RECORD:
        return _nvs_keys(bytes(data))
    # A dump's version word (chip id << 16 | version) has a zero top byte where an image holds
    # its entry address (0x40..., 0x42...): most files never import the core dump model.
    if len(data) < 8 or data[7] != 0:
        return None
    from .coredump import looks_like_coredump

    return _coredump(data) if looks_like_coredump(data) else None


def _maybe_nvs(data: bytes | memoryview) -> bool:
    """Whole pages, one in use, and every page but one (damage) starting with a page state:
    a flash dump holds NVS pages too, but its other sectors start with anything."""
    if not data or len(data) % 0x1000:
        return False
    heads = [bytes(data[at:at + 4]) for at in range(0, len(data), 0x1000)]
    foreign = sum(1 for h in heads if h not in _NVS_STATES and h not in _OTHER_STATES)
    allowed = 1 if len(heads) > 2 else 0
    return foreign <= allowed and any(h in _NVS_STATES for h in heads)


# ---------------------------------------------------------------------- partitions
def read_partition_content(part: Partition, data: bytes, keys: NvsKeys | None
                           ) -> DataContent | None:
    """What a (not erased) data partition holds, when it is one of these kinds and its bytes
    say so; None otherwise. ``keys`` (the file's ``nvs_keys``) decrypt encrypted NVS."""
    from .formats.compiled import partition_table as table_fmt

    if part.type == table_fmt.TYPE_DATA and part.subtype == table_fmt.SUBTYPE_DATA_NVS:
        from .nvs.locate import looks_like_nvs

        return _nvs(data, keys) if looks_like_nvs(data) else None
    if part.type == table_fmt.TYPE_DATA and part.subtype == _NVS_KEYS_SUBTYPE:
        return _nvs_keys(data)
    if part.type == table_fmt.TYPE_DATA and part.subtype == _COREDUMP_SUBTYPE:
        from .coredump import looks_like_coredump

        return _coredump(data) if looks_like_coredump(data) else None
    if (part.type == _SECURE_CERT_TYPE or part.name == _SECURE_CERT_NAME) \
            and data[:4] == _SECURE_CERT_MAGIC:
        return _secure_cert(data)
    return None


def file_nvs_keys(parts: list[tuple[Partition, bytes]]) -> NvsKeys | None:
    """The keys in the first ``nvs_keys`` partition whose key CRC matches, else None."""
    from .errors import EspImageError
    from .nvs.keys import NvsKeys

    for part, data in parts:
        if part.subtype == _NVS_KEYS_SUBTYPE:
            try:
                return NvsKeys.from_bytes(data)
            except EspImageError:
                continue
    return None


# ---------------------------------------------------------------------- the kinds
def _nvs(data: bytes, keys: NvsKeys | None) -> DataContent:
    from .errors import EspImageError
    from .nvs.partition import NvsPartition

    notes: list[str] = []
    nvs = NvsPartition.from_bytes(data)
    if not nvs.readable and keys is not None:
        try:
            nvs = NvsPartition.from_bytes(data, keys)
        except EspImageError as exc:
            notes.append(f"the file's nvs_keys do not open this NVS partition ({exc})")
        else:
            notes.append("encrypted NVS, read with the keys of the file's nvs_keys partition")
    checks, warnings = nvs_findings(nvs)
    return DataContent("nvs", "nvs", nvs, nvs_summary(nvs), checks=checks, warnings=warnings,
                       notes=notes)


def nvs_summary(nvs: NvsPartition) -> str:
    """``NVS, 3 of 6 pages in use, 2 namespaces (main: 3 keys, wifi: 2 keys)``."""
    used = sum(1 for p in nvs.pages if p.in_use)
    head = f"NVS, {used} of {len(nvs.pages)} pages in use"
    if not nvs.readable:
        return f"encrypted NVS, {used} of {len(nvs.pages)} pages in use (entries need the " \
               "nvs_keys partition)"
    spaces = nvs.namespaces()
    counts = ", ".join(f"{ns.name}: {len(nvs.entries(ns.name))} key"
                       f"{'s' if len(nvs.entries(ns.name)) != 1 else ''}" for ns in spaces)
    enc = "encrypted " if nvs.encrypted else ""
    return f"{enc}{head}, {len(spaces)} namespace{'s' if len(spaces) != 1 else ''}" + (
        f" ({counts})" if counts else "")


def nvs_findings(nvs: NvsPartition) -> tuple[list[Check], list[str]]:
    """The checks of an NVS partition for a whole file, and the warnings.

    Passing CRC checks are summed up, one per check name (a dump's NVS holds hundreds of
    items); every failure stays a check of its own, except what ``nvs_flash`` repairs at
    mount or uses as a free page (:func:`_tolerated`), which becomes a warning.
    """
    from collections import Counter

    passed: Counter[str] = Counter()
    first: dict[str, int] = {}
    checks: list[Check] = []
    warnings: list[str] = []
    for check in nvs.checks:
        if check.valid:
            passed[check.name] += 1
            first.setdefault(check.name, check.offset)
        elif (why := _tolerated(nvs, check)) is not None:
            warnings.append(f"{check.name} at partition offset {check.offset:#x}: "
                            f"{check.detail} ({why})")
        else:
            checks.append(check)
    what = {"nvs-page-crc": "page header CRCs", "nvs-entry-crc": "item CRCs",
            "nvs-data-crc": "string/blob data CRCs"}
    for name, count in passed.items():
        checks.append(Check(name, True, first[name], f"{count} {what.get(name, name)} match"))
    return sorted(checks, key=lambda c: c.offset), warnings


def _tolerated(nvs: NvsPartition, check: Check) -> str | None:
    """Why nvs_flash does not lose data over a finding, or None when it is damage.

    ``Page::load`` takes a page whose header is not a used state (a free page not completely
    erased, leftover data in a page never used, one it marked corrupt) as a free page, erased
    before use. ``Page::writeItem`` marks an item's first entry written, then writes and marks
    its data (so an item cut short has nothing marked written after its first entry), and
    ``PageManager::load`` erases the older duplicate of the active page's last
    item and finishes moving a ``freeing`` page: so a damaged or duplicate last item of the
    active page, or a duplicate while a page is being freed, is an interrupted write.
    """
    from .formats.compiled import nvs as fmt

    if check.offset >= nvs.size:
        return None
    page = nvs.pages[check.offset // fmt.PAGE_SIZE]
    if check.name == "structure" and check.offset == page.offset \
            and page.state not in fmt.USED_PAGE_STATES:
        return "holds no NVS data; nvs_flash erases it when it needs a free page"
    interrupted = "an interrupted write; nvs_flash finishes or discards it at mount"
    if page.state != fmt.PAGE_ACTIVE or not page.in_use or check.name not in (
            "nvs-entry-crc", "nvs-data-crc", "nvs-duplicate", "structure"):
        return None
    if check.name == "nvs-duplicate" and any(p.state == fmt.PAGE_FREEING for p in nvs.pages):
        return interrupted
    index = (check.offset - page.offset - fmt.FIRST_ENTRY_OFFSET) // fmt.ENTRY_SIZE
    # A duplicate is a whole item; anything else was cut short before its data entries
    # were marked written, so nothing after its first entry is.
    span = max(1, nvs.span_at(check.offset)) if check.name == "nvs-duplicate" else 1
    after = page.states[index + span:]
    return interrupted if all(s == fmt.ENTRY_EMPTY for s in after) else None


def _nvs_dict(nvs: NvsPartition) -> dict[str, object]:
    # Values are what `esp-image nvs ls` is for; the file document keeps the structure.
    out = nvs.to_dict()
    out.pop("entries", None)
    out.pop("checks", None)
    out["usage"] = nvs.usage()
    return out


def _keys_crc_ok(data: bytes | memoryview) -> bool:
    from .formats.compiled import nvs as fmt

    rec = bytes(data[:_KEYS_RECORD])
    return rec[:64] != b"\xff" * 64 and fmt.nvs_crc(rec[:64]) == int.from_bytes(rec[64:],
                                                                                 "little")


def _nvs_keys(data: bytes) -> DataContent:
    from .checks import compare
    from .formats.compiled import nvs as fmt

    stored = int.from_bytes(data[64:_KEYS_RECORD], "little")
    check = compare("nvs-keys-crc", 64, stored, fmt.nvs_crc(data[:64]), 8)
    what = "NVS encryption keys (nvs_keys), key CRC " + ("matches" if check.valid else
                                                         "does NOT match")
    return DataContent("nvs-keys", "nvs_keys", None, what, checks=[check])


def _secure_cert(data: bytes | memoryview) -> DataContent:
    from .secure_cert import SecureCert

    cert: SecureCert = SecureCert.from_bytes(data)
    names = ", ".join(e.type_name or f"type {e.type}" for e in cert.entries)
    summary = f"esp_secure_cert, {len(cert.entries)} TLV{'s' if len(cert.entries) != 1 else ''}"
    return DataContent("esp-secure-cert", "secure_cert", cert,
                       summary + (f" ({names})" if names else ""), checks=list(cert.checks))


def _coredump(data: bytes | memoryview) -> DataContent:
    from .coredump import CoreDump

    dump: CoreDump = CoreDump.from_bytes(data)
    sha = f", app ELF SHA-256 {dump.app_elf_sha256}" if dump.app_elf_sha256 else ""
    summary = (f"core dump v{dump.dump_version} ({dump.format}, {dump.checksum_kind}) of "
               f"{dump.chip or f'chip id {dump.chip_id}'}, {dump.task_count} tasks{sha}")
    return DataContent("coredump", "coredump", dump, summary, checks=list(dump.checks))


def shifted(checks: list[Check], delta: int) -> list[Check]:
    """``checks`` moved from partition to file offsets."""
    return [c.shifted(delta) for c in checks]
