"""What changed between two files: the semantic difference behind ``esp-image diff``.

:func:`diff` compares two parsed :class:`~esp_image.image.Image` objects and returns a
:class:`Diff`: an ordered tuple of :class:`Change` rows, each naming a *section* (the part of
the file) and a *field* (what in it changed), with the value in A and in B and one line of
detail. Nothing is printed; :func:`esp_image.cli.diff_render.diff_blocks` turns a result into
the human table.

Equality is byte equality: byte-identical files are ``equal`` with no changes, and files whose
bytes differ always give at least one change; when nothing esp_image models explains the
difference, a ``file``/``bytes`` change names the first differing offset and how many bytes
differ.

Sections (in the order they appear):

* ``kind``: what the files are (``kind``, ``chip``, ``base``), ``file``: the verdict, bytes
  after a single image, and the ``bytes`` fallback;
* a single image: ``app`` (or ``bootloader``) for header and integrity fields, ``flash``
  (size/mode/freq), ``segments`` (matched by load address), ``descriptor`` (app or
  bootloader descriptor), ``signature``, and for ESP8266 images ``esp8266`` (format, variant,
  user-bin marker, irom, CRC32);
* an image inside a flash file: the same with a prefix: ``bootloader``,
  ``bootloader.flash``, ``app[factory]``, ``app[factory].segments`` ... (ESP8266 flash files:
  ``image[NAME]``); ``partitions`` (table rows matched by name, then by offset, and the
  contents of data partitions) and ``otadata`` (both copies and the slot that boots);
  ESP8266 flash files: ``esp8266`` (shape, flash map) and ``regions``.

Values (``before``/``after``) are JSON-friendly: None (absent), bool, int, str, or a small dict.
"""

from __future__ import annotations

from dataclasses import dataclass

from .app_image import AppDescriptor, AppImage, BootloaderDescriptor
from .units import format_size

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from .esp8266 import Esp8266Image
    from .image import Image, PartitionContent
    from .nvs.partition import NvsEntry
    from .otadata import OtaEntry
    from .partition_table import Partition, PartitionTable

    AnyImage = AppImage | Esp8266Image


@dataclass(frozen=True)
class Change:
    """One difference between file A and file B.

    Attributes:
        section: the part of the file (``app``, ``app[factory].segments``, ``partitions``...).
        field: what in that part changed (``entry``, ``size``, ``factory.offset``...).
        before: the value in A (None: absent in A).
        after: the value in B (None: absent in B).
        detail: one line for a person (``added``, ``+0x1a40``, ``both valid``...).
    """

    section: str
    field: str
    before: object
    after: object
    detail: str = ""

    def to_dict(self) -> dict[str, object]:
        """JSON form (``changes[]``)."""
        return {"section": self.section, "field": self.field, "before": self.before,
                "after": self.after, "detail": self.detail}


@dataclass(frozen=True)
class Diff:
    """The difference between two files.

    Attributes:
        changes: every change, in file order (kind first, then the parts of the file).
        equal: whether the files are byte-identical (then ``changes`` is empty; otherwise it
            never is).
        a_size / b_size: bytes in each file.
        a_path / b_path: where each file was read from (None for bytes).
    """

    changes: tuple[Change, ...]
    equal: bool
    a_size: int = 0
    b_size: int = 0
    a_path: str | None = None
    b_path: str | None = None

    @property
    def sections(self) -> tuple[str, ...]:
        """The sections that changed, in order, each once."""
        return tuple(dict.fromkeys(c.section for c in self.changes))

    def find(self, section: str, field: str | None = None) -> list[Change]:
        """The changes of one section (and one field, when given)."""
        return [c for c in self.changes
                if c.section == section and (field is None or c.field == field)]

    @property
    def summary(self) -> str:
        """One line: ``identical (N bytes)`` or ``N changes in S sections: ...``."""
        if self.equal:
            return f"identical ({self.a_size} bytes)"
        n, sections = len(self.changes), self.sections
        return (f"{n} change{'s' if n != 1 else ''} in {len(sections)} section"
                f"{'s' if len(sections) != 1 else ''}: {', '.join(sections)}")

    def to_dict(self) -> dict[str, object]:
        """JSON form: ``equal``, sizes, ``summary``, ``sections`` and ``changes``."""
        return {"equal": self.equal, "a_size": self.a_size, "b_size": self.b_size,
                "summary": self.summary, "sections": list(self.sections),
                "changes": [c.to_dict() for c in self.changes]}


# ---------------------------------------------------------------------- the comparison
def diff(a: Image, b: Image) -> Diff:
    """Compare two files; pure (reads only the parsed models and their bytes). A HEX or UF2
    file compares as the flash it describes, so it equals the .bin it was made from."""
    from .recognise.wrapped import is_container

    a, b = (x.unwrapped() if is_container(x) else x for x in (a, b))
    same_bytes = a.size == b.size and a.data == b.data
    out: list[Change] = []
    if not same_bytes:
        _Differ(out).files(a, b)
        if not out:
            out.append(_bytes_change(a.data, b.data))
    return Diff(tuple(out), same_bytes, a.size, b.size, a.path, b.path)


def _bytes_change(a: memoryview, b: memoryview) -> Change:
    """The last-resort change: where the bytes first differ and how many differ."""
    common = min(len(a), len(b))
    first: int | None = None
    count = 0
    step = 0x10000
    for start in range(0, common, step):
        stop = min(start + step, common)
        x, y = a[start:stop], b[start:stop]
        if x == y:
            continue
        xor = (int.from_bytes(x, "little") ^ int.from_bytes(y, "little")).to_bytes(
            len(x), "little")
        count += len(xor) - xor.count(0)
        if first is None:
            first = start + next(i for i, v in enumerate(xor) if v)
    parts = []
    if first is not None:
        parts.append(f"first difference at offset {first:#x}; {count} of {common:#x} "
                     "compared bytes differ")
    else:
        parts.append(f"the first {common:#x} bytes are identical")
    if len(a) != len(b):
        longer = "B" if len(b) > len(a) else "A"
        parts.append(f"{longer} has {abs(len(b) - len(a)):#x} more bytes")
    return Change("file", "bytes", len(a), len(b), "; ".join(parts))


def _sec(prefix: str | None, sub: str) -> str:
    return sub if prefix is None else f"{prefix}.{sub}"


def _rev(full: int, maximum: bool = False) -> str:
    """``v3.99``; a maximum of 0 or 0xFFFF means no limit."""
    if maximum and full in (0, 0xFFFF):
        return "not set"
    return f"v{full // 100}.{full % 100}"


def _delta(before: int, after: int) -> str:
    d = after - before
    return f"{'+' if d >= 0 else '-'}{abs(d):#x}"


def _verdict(image: Image) -> str:
    if image.kind == "unknown":
        return "unrecognised"
    return "valid" if image.valid else "INVALID"


class _Differ:
    """Collects changes into ``out`` (a helper with one method per structure)."""

    def __init__(self, out: list[Change]) -> None:
        self.out = out

    def add(self, section: str, field: str, before: object, after: object,
            detail: str = "") -> None:
        self.out.append(Change(section, field, before, after, detail))

    def field(self, section: str, field: str, before: object, after: object,
              detail: str = "") -> bool:
        """Add a change when the values differ; return whether one was added."""
        if before == after:
            return False
        self.add(section, field, before, after, detail)
        return True

    def sized(self, section: str, field: str, before: int | None, after: int | None,
              verb: str = "") -> bool:
        """A size or address: the detail is the signed difference (``+0x1a40``)."""
        detail = ""
        if before is not None and after is not None:
            detail = f"{verb} {_delta(before, after)}".strip()
        return self.field(section, field, before, after, detail)

    # ------------------------------------------------------------------ whole files
    def files(self, a: Image, b: Image) -> None:
        self.field("kind", "kind", a.kind, b.kind)
        self.field("kind", "chip", a.chip.name if a.chip else None,
                   b.chip.name if b.chip else None)
        if a.kind == b.kind == "flash":
            self.field("kind", "base", a.base, b.base, "flash address of file byte 0")
        self.field("file", "verdict", _verdict(a), _verdict(b))

        if a.esp8266 is not None and b.esp8266 is not None and a.kind == b.kind == "flash":
            self.esp8266_flash(a, b)
            return
        if a.kind == b.kind == "image" and a.firmware is not None and b.firmware is not None:
            self.image(a.firmware, b.firmware, None)
            self.sized("file", "trailing bytes", a.firmware.trailing, b.firmware.trailing)
            return
        if a.kind == b.kind == "flash":
            self.flash(a, b)
            return
        if a.kind != b.kind:
            # An image against a flash file holding it (extract/merge): compare what both have.
            if (a.bootloader is None) != (b.bootloader is None) and "flash" in (a.kind, b.kind):
                self.field("bootloader", "image", _image_summary(a.bootloader),
                           _image_summary(b.bootloader))
            role = _single_role(a) or _single_role(b)
            if role is not None:
                part_a, part_b = _part(a, role), _part(b, role)
                if part_a is not None and part_b is not None:
                    self.image(part_a, part_b, role)
        if a.kind == b.kind == "nvs" and a.content is not None and b.content is not None:
            self.nvs(a.content.model, b.content.model, "nvs")
        if a.table is not None or b.table is not None:
            self.table(a, b)
        if a.otadata is not None or b.otadata is not None:
            self.otadata(a, b)

    # ------------------------------------------------------------------ images
    def image(self, a: AnyImage, b: AnyImage, prefix: str | None) -> None:
        head = prefix or ("bootloader" if a.role == b.role == "bootloader" else "app")
        if isinstance(a, AppImage) and isinstance(b, AppImage):
            self.app(a, b, prefix, head)
        elif not isinstance(a, AppImage) and not isinstance(b, AppImage):
            self.esp8266_image(a, b, prefix, head)
        else:
            self.field(head, "format", _format(a), _format(b))

    def app(self, a: AppImage, b: AppImage, prefix: str | None, head: str) -> None:
        ha, hb = a.header, b.header
        self.field(head, "role", a.role, b.role)
        if prefix is not None:
            self.field(head, "chip", a.chip.name if a.chip else ha.chip_id,
                       b.chip.name if b.chip else hb.chip_id)
        self.field(head, "entry", ha.entry_addr, hb.entry_addr)
        self.field(head, "min chip rev", _rev(ha.min_chip_rev_full), _rev(hb.min_chip_rev_full))
        self.field(head, "min chip rev (legacy)", ha.min_chip_rev, hb.min_chip_rev)
        self.field(head, "max chip rev", _rev(ha.max_chip_rev_full, True),
                   _rev(hb.max_chip_rev_full, True))
        self.field(head, "hash_appended", ha.hash_appended == 1, hb.hash_appended == 1)
        self.field(head, "wp pin", ha.wp_pin, hb.wp_pin)
        self.field(head, "spi pin drive", ha.spi_pin_drv.hex(), hb.spi_pin_drv.hex())
        self.sized(head, "length", a.length, b.length)
        self.field(head, "structure", _structure(a.problems), _structure(b.problems))
        self.field(head, "checksum", _checksum_status(a), _checksum_status(b))
        self.field(head, "sha256", _sha_status(a), _sha_status(b))

        flash = _sec(prefix, "flash")
        self.field(flash, "size", a.flash_size_name, b.flash_size_name)
        self.field(flash, "mode", ha.flash_mode, hb.flash_mode)
        self.field(flash, "freq", a.flash_freq, b.flash_freq)

        self.segments(a, b, _sec(prefix, "segments"))
        self.descriptors(a, b, _sec(prefix, "descriptor"))
        self.signature(a, b, _sec(prefix, "signature"))

    def descriptors(self, a: AppImage, b: AppImage, section: str) -> None:
        for attr, what in (("app_desc", "app descriptor"),
                           ("bootloader_desc", "bootloader descriptor")):
            da, db = getattr(a, attr), getattr(b, attr)
            if da is None and db is None:
                continue
            if da is None or db is None:
                self.add(section, what, _desc_summary(da), _desc_summary(db),
                         "added" if da is None else "removed")
                continue
            left, right = da.to_dict(), db.to_dict()
            for key in left:
                self.field(section, key, left[key], right[key])

    def signature(self, a: AppImage, b: AppImage, section: str) -> None:
        sa, sb = a.signature, b.signature
        if sa is None and sb is None:
            return
        if sa is None or sb is None:
            sig = sa or sb
            assert sig is not None
            blocks = f", {len(sig.blocks)} block(s)" if sig.blocks else ""
            self.add(section, "scheme", sa.scheme if sa else None, sb.scheme if sb else None,
                     f"{'added' if sa is None else 'removed'}: {sig.scheme} at "
                     f"{sig.offset:#x}, {sig.size} bytes{blocks}")
            return
        self.field(section, "scheme", sa.scheme, sb.scheme)
        self.field(section, "blocks", len(sa.blocks), len(sb.blocks))
        self.field(section, "offset", sa.offset, sb.offset)
        if sa.scheme == sb.scheme and a.data[sa.offset:a.end] != b.data[sb.offset:b.end]:
            self.add(section, "contents", sa.size, sb.size,
                     "the signature bytes differ (another key, or a re-signed image)")
        self.field(section, "verification", _signature_status(a), _signature_status(b))

    def segments(self, a: AnyImage, b: AnyImage, section: str) -> None:
        """Segments matched by load address (in order among equal addresses)."""
        regions_a = [str(s["region"]) for s in _seg_dicts(a)]
        regions_b = [str(s["region"]) for s in _seg_dicts(b)]
        unmatched_b = list(range(len(b.segments)))
        pairs: list[tuple[int | None, int | None]] = []
        for index, first in enumerate(a.segments):
            match = next((k for k in unmatched_b if b.segments[k].load_addr == first.load_addr),
                         None)
            if match is not None:
                unmatched_b.remove(match)
            pairs.append((index, match))
        pairs.extend((None, k) for k in unmatched_b)
        for i, j in pairs:
            sa = a.segments[i] if i is not None else None
            sb = b.segments[j] if j is not None else None
            seg = sa or sb
            assert seg is not None
            region = regions_a[i] if i is not None else regions_b[j] if j is not None else ""
            name = f"{seg.load_addr:#010x}" + (f" {region}" if region else "")
            if sa is None or sb is None:
                self.add(section, name, sa.data_len if sa else None,
                         sb.data_len if sb else None,
                         f"{'added' if sa is None else 'removed'} ({seg.data_len:#x} bytes)")
            elif sa.data_len != sb.data_len:
                self.add(section, name, sa.data_len, sb.data_len,
                         f"resized {_delta(sa.data_len, sb.data_len)}")
            elif a.data[sa.data_offset:sa.end] != b.data[sb.data_offset:sb.end]:
                self.add(section, name, sa.data_len, sb.data_len,
                         "same size, contents differ")
        order_a = [s.load_addr for s in a.segments]
        order_b = [s.load_addr for s in b.segments]
        if sorted(order_a) == sorted(order_b) and order_a != order_b:
            self.add(section, "order", [f"{x:#x}" for x in order_a],
                     [f"{x:#x}" for x in order_b], "same segments in another order")

    def esp8266_image(self, a: Esp8266Image, b: Esp8266Image, prefix: str | None,
                      head: str) -> None:
        self.field(head, "role", a.role, b.role)
        self.field(head, "entry", a.entry, b.entry)
        self.sized(head, "length", a.length, b.length)
        self.field(head, "structure", _structure(a.problems), _structure(b.problems))
        self.field(head, "checksum", _checksum_status(a), _checksum_status(b))

        flash = _sec(prefix, "flash")
        self.field(flash, "size", a.flash_size_name, b.flash_size_name)
        self.field(flash, "mode", a.flash_mode, b.flash_mode)
        self.field(flash, "freq", a.flash_freq, b.flash_freq)

        section = _sec(prefix, "esp8266")
        self.field(section, "format", a.format, b.format)
        self.field(section, "variant", a.variant, b.variant)
        self.field(section, "user", a.user, b.user,
                   "gen_appbin user-bin marker (EA byte 3)")
        self.field(section, "bootloader", a.bootloader_name, b.bootloader_name)
        self.field(section, "bootloader version", a.bootloader_version, b.bootloader_version)
        self.sized(section, "irom size", a.irom_size, b.irom_size)
        self.field(section, "irom address", a.irom_address, b.irom_address,
                   "run-time address the irom part is linked for")
        if (a.irom_size is not None and a.irom_size == b.irom_size
                and a.data[16:a.header_offset] != b.data[16:b.header_offset]):
            self.add(section, "irom contents", a.irom_size, b.irom_size,
                     "same size, contents differ")
        status_a, status_b = a.crc32_status, b.crc32_status
        same = f"both {status_a}" if status_a == status_b else f"{status_a} -> {status_b}"
        self.field(section, "crc32", a.stored_crc32, b.stored_crc32, same)
        if a.stored_crc32 == b.stored_crc32:
            self.field(section, "crc32 status", status_a, status_b)
        self.field(section, "sha256", _v3_status(a), _v3_status(b))
        self.segments(a, b, _sec(prefix, "segments"))

    # ------------------------------------------------------------------ ESP32 flash files
    def flash(self, a: Image, b: Image) -> None:
        if a.bootloader is None or b.bootloader is None:
            self.field("bootloader", "image", _image_summary(a.bootloader),
                       _image_summary(b.bootloader))
        else:
            self.image(a.bootloader, b.bootloader, "bootloader")
        pairs = self.table(a, b)
        self.otadata(a, b)
        contents_a = {id(c.partition): c for c in a.partitions}
        contents_b = {id(c.partition): c for c in b.partitions}
        for pa, pb in pairs:
            ca, cb = contents_a.get(id(pa)), contents_b.get(id(pb))
            if ca is None or cb is None:
                continue
            self.partition_contents(a, b, ca, cb)

    def partition_contents(self, a: Image, b: Image, ca: PartitionContent,
                           cb: PartitionContent) -> None:
        pa, pb = ca.partition, cb.partition
        name = pa.name if pa.name == pb.name else f"{pa.name}->{pb.name}"
        if pa.is_app and pb.is_app:
            section = f"app[{name}]"
            if ca.image is not None and cb.image is not None:
                self.image(ca.image, cb.image, section)
            elif ca.state != cb.state:
                image = ca.image or cb.image
                self.add(section, "state", ca.state, cb.state,
                         f"{'removed' if cb.image is None else 'added'}: "
                         f"{_image_summary(image)}" if image is not None else "")
            elif ca.state == cb.state == "invalid" and a.base is not None \
                    and b.base is not None:
                sa, sb = pa.offset - a.base, pb.offset - b.base
                if a.data[sa:sa + ca.covered] != b.data[sb:sb + cb.covered]:
                    self.add(section, "contents", ca.covered, cb.covered, "contents differ")
            return
        if pa.is_otadata and pb.is_otadata:
            return  # the otadata section covers it
        if ca.content is not None and cb.content is not None and \
                ca.content.kind == cb.content.kind == "nvs":
            self.nvs(ca.content.model, cb.content.model, f"nvs[{name}]")
            return
        field = f"{name}.contents"
        if self.field("partitions", field, ca.state, cb.state):
            return
        if ca.state == "data" and a.base is not None and b.base is not None:
            sa, sb = pa.offset - a.base, pb.offset - b.base
            if a.data[sa:sa + ca.covered] != b.data[sb:sb + cb.covered]:
                self.add("partitions", field, ca.state, cb.state, "contents differ")

    def nvs(self, a: object, b: object, section: str) -> None:
        """Changed, added and removed keys (``namespace:key``) of two NVS partitions."""
        from .nvs.partition import NvsPartition

        assert isinstance(a, NvsPartition) and isinstance(b, NvsPartition)
        if not (a.readable and b.readable):
            self.field(section, "encrypted", not a.readable, not b.readable)
            return
        keys_a = {(e.namespace, e.key): e for e in a.entries()}
        keys_b = {(e.namespace, e.key): e for e in b.entries()}
        for where in sorted(keys_a.keys() | keys_b.keys()):
            ea, eb = keys_a.get(where), keys_b.get(where)
            va, vb = _nvs_value(ea), _nvs_value(eb)
            if va != vb:
                what = "added" if ea is None else "removed" if eb is None else "changed"
                self.add(section, ":".join(where), va, vb, what)

    # ------------------------------------------------------------------ partition tables
    def table(self, a: Image, b: Image) -> list[tuple[Partition, Partition]]:
        """Table rows matched by name, then by offset; returns the matched pairs."""
        ta, tb = a.table, b.table
        if ta is None or tb is None:
            if ta is not None or tb is not None:
                self.add("partitions", "table", _table_summary(ta), _table_summary(tb),
                         "added" if ta is None else "removed")
            return []
        self.field("partitions", "table address", a.table_address, b.table_address)
        self.field("partitions", "md5", _md5_status(ta), _md5_status(tb))
        self.field("partitions", "signed", ta.signature is not None, tb.signature is not None,
                   "Secure Boot v1 signature at 0xc00")
        rest_b = list(tb.partitions)
        pairs: list[tuple[Partition, Partition]] = []
        rest_a: list[Partition] = []
        for p in ta.partitions:
            match = next((q for q in rest_b if q.name == p.name), None)
            if match is None:
                rest_a.append(p)
            else:
                rest_b.remove(match)
                pairs.append((p, match))
        removed: list[Partition] = []
        for p in rest_a:
            match = next((q for q in rest_b if q.offset == p.offset), None)
            if match is None:
                removed.append(p)
            else:
                rest_b.remove(match)
                pairs.append((p, match))
        pairs.sort(key=lambda pair: ta.partitions.index(pair[0]))
        for p, q in pairs:
            self.partition(p, q)
        for p in removed:
            self.add("partitions", p.name, _part_dict(p), None, f"removed: {_part_text(p)}")
        for q in rest_b:
            self.add("partitions", q.name, None, _part_dict(q), f"added: {_part_text(q)}")
        order_b = {id(q): i for i, q in enumerate(tb.partitions)}
        in_b = sorted(pairs, key=lambda pair: order_b[id(pair[1])])
        if in_b != pairs:
            self.add("partitions", "order", [p.name for p, _ in pairs],
                     [q.name for _, q in in_b], "the same partitions in another order")
        return pairs

    def partition(self, p: Partition, q: Partition) -> None:
        self.field("partitions", f"{p.name}.name", p.name, q.name, "renamed")
        self.field("partitions", f"{p.name}.type", _type_text(p), _type_text(q))
        self.sized("partitions", f"{p.name}.offset", p.offset, q.offset, "moved")
        self.sized("partitions", f"{p.name}.size", p.size, q.size, "resized")
        self.field("partitions", f"{p.name}.flags", ",".join(map(str, p.flag_names)),
                   ",".join(map(str, q.flag_names)))

    # ------------------------------------------------------------------ otadata
    def otadata(self, a: Image, b: Image) -> None:
        oa, ob = a.otadata, b.otadata
        if oa is None or ob is None:
            if oa is not None or ob is not None:
                self.add("otadata", "otadata", _ota_summary(oa), _ota_summary(ob),
                         "added" if oa is None else "removed")
        else:
            for i, (ea, eb) in enumerate(zip(oa.entries, ob.entries, strict=True)):
                self.field("otadata", f"copy {i}", _entry_text(ea), _entry_text(eb))
        self.field("otadata", "boots", _boot_text(a), _boot_text(b),
                   b.boot.reason if b.boot is not None else "")

    # ------------------------------------------------------------------ ESP8266 flash files
    def esp8266_flash(self, a: Image, b: Image) -> None:
        fa, fb = a.esp8266, b.esp8266
        assert fa is not None and fb is not None
        self.field("esp8266", "shape", fa.shape, fb.shape)
        self.field("esp8266", "flash map", fa.flash_map.name if fa.flash_map else None,
                   fb.flash_map.name if fb.flash_map else None)
        regions_b = {r.name: r for r in fb.regions}
        seen: set[str] = set()
        for ra in fa.regions:
            if ra.name in seen:
                continue
            seen.add(ra.name)
            rb = regions_b.get(ra.name)
            if rb is None:
                self.add("regions", ra.name, _region_text(ra.kind, ra.address, ra.size), None,
                         "removed")
                continue
            before = len(self.out)
            self.field("regions", f"{ra.name}.kind", ra.kind, rb.kind)
            self.sized("regions", f"{ra.name}.address", ra.address, rb.address, "moved")
            self.sized("regions", f"{ra.name}.size", ra.size, rb.size, "resized")
            img_a, img_b = _esp8266_model_image(ra.model), _esp8266_model_image(rb.model)
            if img_a is not None and img_b is not None:
                self.image(img_a, img_b, f"image[{ra.name}]")
            if len(self.out) == before and (
                    a.data[ra.offset:ra.offset + ra.size] != b.data[rb.offset:rb.offset + rb.size]):
                self.add("regions", f"{ra.name}.contents", ra.size, rb.size, "contents differ")
        for rb in fb.regions:
            if rb.name not in seen:
                seen.add(rb.name)
                self.add("regions", rb.name, None, _region_text(rb.kind, rb.address, rb.size),
                         "added")


# ---------------------------------------------------------------------- value helpers
def _format(image: AnyImage) -> str:
    return "esp32" if isinstance(image, AppImage) else image.format


def _single_role(image: Image) -> str | None:
    """``app`` or ``bootloader`` for a single image, else None."""
    if image.kind != "image" or image.firmware is None:
        return None
    return "bootloader" if image.firmware.role == "bootloader" else "app"


def _part(image: Image, role: str) -> AnyImage | None:
    """A single image in that role, or the flash file's bootloader or running app."""
    if image.kind == "image":
        return image.firmware if _single_role(image) == role else None
    if role == "bootloader":
        return image.bootloader
    apps = [c for c in image.apps if c.image is not None]
    if image.boot is not None:
        slot = image.boot.slot
        for c in apps:
            p = c.partition
            if (slot is None and p.is_factory) or (slot is not None and p.ota_index == slot):
                return c.image
    return apps[0].image if apps else None


def _structure(problems: tuple[str, ...]) -> str:
    return "; ".join(problems) if problems else "ok"


def _checksum_status(image: AnyImage) -> str:
    if image.stored_checksum is None:
        return "missing (truncated)"
    return "valid" if image.checksum_valid else "INVALID"


def _sha_status(image: AppImage) -> str:
    if image.header.hash_appended != 1:
        return "not appended"
    if image.digest_valid is None:
        return "missing (truncated)"
    return "valid" if image.digest_valid else "INVALID"


def _v3_status(image: Esp8266Image) -> str | None:
    valid = image.sha256_valid
    return None if valid is None else "valid" if valid else "INVALID"


def _signature_status(image: AppImage) -> str:
    failed = [c for c in image.checks() if c.name.startswith("signature") and not c.valid]
    if image.signature is not None and not image.signature.blocks:
        return "not verifiable without the key"
    return "; ".join(c.detail for c in failed) if failed else "blocks and digests match"


def _desc_summary(desc: AppDescriptor | BootloaderDescriptor | None) -> str | None:
    if desc is None:
        return None
    if isinstance(desc, BootloaderDescriptor):
        return f"version {desc.version}, IDF {desc.idf_ver}"
    name = f"{desc.project_name} {desc.version}".strip()
    return f"{name + ', ' if name else ''}IDF {desc.idf_ver}"


def _image_summary(image: AppImage | None) -> str | None:
    if image is None:
        return None
    return f"{image.role}, {image.end:#x} bytes"


def _seg_dicts(image: AnyImage) -> list[dict[str, object]]:
    segs = image.to_dict()["segments"]
    assert isinstance(segs, list)
    return segs


def _table_summary(table: PartitionTable | None) -> str | None:
    return None if table is None else f"{len(table.partitions)} partitions"


def _md5_status(table: PartitionTable) -> str:
    if table.md5 is None:
        return "absent"
    return "valid" if table.md5 == table.computed_md5 else "INVALID"


def _type_text(p: Partition) -> str:
    return f"{p.type_name or hex(p.type)}/{p.subtype_name or hex(p.subtype)}"


def _part_dict(p: Partition) -> dict[str, object]:
    return p.to_dict()


def _part_text(p: Partition) -> str:
    return f"{_type_text(p)} at {p.offset:#x}, {p.size:#x} ({format_size(p.size)})"


def _ota_summary(otadata: object) -> str | None:
    return None if otadata is None else "present"


def _entry_text(e: OtaEntry) -> str:
    if e.is_erased:
        return "erased"
    status = "valid" if e.is_valid else ("invalid state" if e.is_invalid else "bad CRC")
    return f"seq {e.ota_seq}, {e.state_name}, {status}"


def _boot_text(image: Image) -> str | None:
    boot = image.boot
    if boot is None:
        return None
    if boot.slot is None:
        return boot.target  # factory, test, or none when no app loads
    slots = image.table.ota_slots if image.table is not None else ()
    if boot.slot < len(slots):
        return f"ota_{boot.slot} ({slots[boot.slot].name})"
    return f"ota_{boot.slot}"


def _region_text(kind: str, address: int, size: int) -> str:
    return f"{kind} at {address:#x}, {size:#x} bytes"


def _nvs_value(entry: NvsEntry | None) -> object:
    """A key's value for the diff: numbers and text as they are, blobs by size and digest."""
    from hashlib import sha256

    value = entry.value if entry is not None else None
    if isinstance(value, bytes):
        return f"blob {len(value)} bytes, sha256 {sha256(value).hexdigest()[:12]}"
    return value if entry is None or entry.type == "string" else f"{entry.type} {value}"


def _esp8266_model_image(model: object) -> Esp8266Image | None:
    from .esp8266 import Esp8266Image

    if isinstance(model, Esp8266Image):
        return model
    inner = getattr(model, "image", None)
    return inner if isinstance(inner, Esp8266Image) else None


__all__ = ["Change", "Diff", "diff"]
