"""Intel HEX and UF2: files that describe flash contents as (address, bytes) segments.

Unlike the wrappers (gzip, signatures, encryption), a container changes nothing about the
bytes: it says where they go. esp-image reads one as the flash bytes it describes, from its
lowest address (gaps are erased flash, 0xFF), and writes one from flash bytes and the address
of their first byte. Each module has:

- ``looks_like(data) -> bool``: cheap, by content, never raises;
- ``decode(data) -> Decoded``: the segments, the facts and the integrity checks;
- ``encode(segments, chip) -> bytes``;
- ``open(data, key=None) -> Unwrapped``: the wrapper framework's view (the flash bytes as the
  inner layer), so ``info`` shows the container like any other layer.

Both forms leave out erased data: :func:`sparse` keeps every 4 KiB sector that holds a byte
other than 0xFF, whole, and drops the others (a tool that erases a sector before writing it
then cannot lose a neighbour's bytes in that sector).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import InputError
from ..io import MAX_FILE_SIZE

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import ModuleType
    from typing import Literal

    from ..checks import Check
    from ..chips import Chip
    from ..image import Image
    from ..wrappers import Unwrapped

    Form = Literal["raw", "hex", "uf2"]

SECTOR = 0x1000
"""The flash erase unit every ESP chip shares (4 KiB)."""
FORMS = ("raw", "hex", "uf2")
"""Values of ``--format``: a plain flash image, Intel HEX, UF2."""
KIND_OF_FORM = {"hex": "intel-hex", "uf2": "uf2"}
FORM_OF_KIND = {"intel-hex": "hex", "uf2": "uf2"}
SUFFIXES = {".hex": "hex", ".ihex": "hex", ".uf2": "uf2"}

Segment = tuple[int, bytes]
_ERASED = b"\xff" * SECTOR
HEX_SNIFF = 1024
"""How far HEX is looked for: its first record starts within the first KiB."""


@dataclass(frozen=True)
class Decoded:
    """A container, read.

    Attributes:
        kind: ``intel-hex`` or ``uf2``.
        segments: (flash address, bytes) in address order, none overlapping.
        facts: JSON-ready facts (family id, block count, record count ...).
        checks: integrity checks, offsets in the container file.
        chip: the chip the container names (a UF2 family id), None when it names none.
    """

    kind: str
    segments: tuple[Segment, ...]
    facts: dict[str, object] = field(default_factory=dict)
    checks: tuple[Check, ...] = ()
    chip: Chip | None = None

    @property
    def start(self) -> int:
        """Flash address of the first byte described (0 when nothing is)."""
        return self.segments[0][0] if self.segments else 0

    def flash(self) -> bytes:
        """The flash bytes from :attr:`start` to the last byte described, gaps 0xFF."""
        return flatten(self.segments)[1]


def module(kind: str) -> ModuleType:
    """The module reading and writing ``kind`` (``intel-hex`` or ``uf2``)."""
    import importlib

    return importlib.import_module(f"{__name__}.{'hex' if kind == 'intel-hex' else 'uf2'}")


def sniff(data: bytes | memoryview) -> str | None:
    """``intel-hex``, ``uf2`` or None, by content (a first look)."""
    from . import uf2 as uf2_mod

    if uf2_mod.looks_like(data):
        return "uf2"
    # HEX is text whose first non-blank byte is ':' (hex.looks_like, which also parses the
    # record); for anything else the HEX reader is not even imported.
    if bytes(data[:HEX_SNIFF]).lstrip()[:1] != b":":
        return None
    from . import hex as hex_mod

    return "intel-hex" if hex_mod.looks_like(data) else None


def decode(data: bytes | memoryview) -> Decoded:
    """Read a HEX or UF2 file.

    Raises:
        InputError: not a container, or one whose data cannot be had (broken record syntax,
            addresses that overlap or span more than the largest flash).
    """
    kind = sniff(data)
    if kind is None:
        raise InputError("neither Intel HEX nor UF2")
    result: Decoded = module(kind).decode(data)
    return result


def check_layout(segments: Sequence[Segment], what: str) -> list[Segment]:
    """``segments`` sorted by address, refused (one line) when two overlap or when together
    they span more than the largest flash: checked before any flash buffer is allocated."""
    ordered = sorted(segments, key=lambda s: s[0])
    end = 0
    for address, data in ordered:
        if address < end:
            raise InputError(f"{what}: data at {address:#x} overlaps data before it (up to "
                             f"{end:#x}); which bytes would be flashed is not defined")
        end = address + len(data)
    if ordered and end - ordered[0][0] > MAX_FILE_SIZE:
        from ..units import format_size

        raise InputError(f"{what}: addresses {ordered[0][0]:#x}..{end:#x} span more than the "
                         f"largest flash ({format_size(MAX_FILE_SIZE)}); refusing to read it")
    return ordered


def flatten(segments: Sequence[Segment]) -> tuple[int, bytes]:
    """The lowest address and the flash bytes from there to the last byte, gaps 0xFF
    (``segments`` sorted and checked by :func:`check_layout`)."""
    if not segments:
        return 0, b""
    start = segments[0][0]
    out = bytearray()
    for address, data in segments:
        out += b"\xff" * (address - start - len(out))
        out += data
    return start, bytes(out)


def sparse(address: int, data: bytes | memoryview) -> list[Segment]:
    """``data`` (flash bytes from ``address``) without its erased 4 KiB sectors.

    Sectors are aligned on flash addresses; a kept sector is kept whole (within ``data``), and
    neighbouring kept sectors join into one segment.
    """
    view = memoryview(data)
    segments: list[Segment] = []
    pos, n = 0, len(view)
    run_start: int | None = None
    while pos < n:
        nxt = min(n, (address + pos) // SECTOR * SECTOR + SECTOR - address)
        # bytes, not the memoryview: a memoryview compares element by element (see
        # spans.is_erased), a 4 KiB copy and a memcmp cost far less
        if bytes(view[pos:nxt]) == _ERASED[:nxt - pos]:
            if run_start is not None:
                segments.append((address + run_start, bytes(view[run_start:pos])))
                run_start = None
        elif run_start is None:
            run_start = pos
        pos = nxt
    if run_start is not None:
        segments.append((address + run_start, bytes(view[run_start:])))
    return segments


def encode(form: Form, address: int, data: bytes | memoryview, chip: Chip | None) -> bytes:
    """``data`` (flash bytes from ``address``) as ``form``: raw bytes as they are, HEX or UF2
    without the erased sectors.

    Raises:
        UsageError: UF2 for no chip, or a chip without a UF2 family id.
    """
    if form == "raw":
        return bytes(data)
    return encode_segments(form, sparse(address, data), chip)


def encode_segments(form: Form, segments: Sequence[Segment], chip: Chip | None) -> bytes:
    """:func:`encode` of segments already made sparse (HEX or UF2)."""
    encoded: bytes = module(KIND_OF_FORM[form]).encode(segments, chip)
    return encoded


def unwrapped(found: Decoded) -> Unwrapped:
    """``found`` as a wrapper layer: the flash bytes from the lowest address are the inner
    bytes, the start address and segments the outer facts."""
    from ..wrappers import Unwrapped

    start, flash = flatten(found.segments)
    outer: dict[str, object] = {
        "start_address": start,
        "segments": [{"address": a, "size": len(d)} for a, d in found.segments],
        **found.facts}
    if found.chip is not None:
        outer["chip"] = found.chip.name
    notes = [f"describes {len(found.segments)} segment(s) of flash from {start:#x}; the gaps "
             "between them are read as erased flash (0xFF), which flashing the file does not "
             "write"]
    return Unwrapped(found.kind, outer, flash, 0, True, found.checks, tuple(notes))  # type: ignore[arg-type]


def _esp32_role(found: Image) -> str | None:
    """``app`` or ``bootloader`` for a single ESP32-family image, else None."""
    firmware = found.firmware if found.kind == "image" else None
    role = getattr(firmware, "role", None)
    return role if role in ("app", "bootloader") and found.chip is not None else None


def is_tinyuf2_app(layer: Unwrapped, found: Image) -> bool:
    """An app image at UF2 address 0: the app-only file TinyUF2 bootloaders take."""
    return (layer.kind == "uf2" and layer.outer.get("start_address") == 0
            and _esp32_role(found) == "app")


def placement(layer: Unwrapped, found: Image) -> list[Check]:
    """Whether the container's start address and chip agree with what it holds (``found``,
    the recognisers' reading of its flash bytes): a merged file's base, a bootloader's
    offset, an app's 64 KiB alignment, the UF2 family id's chip. Offsets are 0 (the
    container's header)."""
    from ..checks import Check

    start = int(layer.outer.get("start_address", 0))  # type: ignore[call-overload]
    name = "container-address"
    checks: list[Check] = []
    role = _esp32_role(found)
    chip = found.chip
    if found.kind == "flash" and found.base is not None:
        checks.append(Check(name, found.base == start, 0,
                            f"starts at {start:#x}; what it holds is a flash image whose byte "
                            f"0 belongs at {found.base:#x}"))
    elif role == "bootloader" and chip is not None:
        checks.append(Check(name, start == chip.bootloader_offset, 0,
                            f"a {chip.title} bootloader at {start:#x}; the ROM loads it from "
                            f"{chip.bootloader_offset:#x}"))
    elif role == "app" and not is_tinyuf2_app(layer, found):
        checks.append(Check(name, start % 0x10000 == 0 and start > 0, 0,
                            f"an app image at {start:#x}; app partitions start on a 64 KiB "
                            "boundary after the bootloader and table"))
    named = layer.outer.get("chip")
    if named is not None and chip is not None:
        checks.append(Check("uf2-family", named == chip.name, 0,
                            f"family id {layer.outer.get('family_id')} names {named}; the "
                            f"image header says {chip.name}"))
    return checks


def form_for(requested: str | None, output: str | None, source: str | None) -> Form:
    """The output form: ``--format``, else ``-o``'s suffix, else the input's own container
    (``source`` is its kind, None for a plain file)."""
    from ..errors import UsageError

    if requested is not None:
        if requested.lower() not in FORMS:
            raise UsageError(f"--format: {requested!r} is not one of {', '.join(FORMS)}")
        return requested.lower()  # type: ignore[return-value]
    if output is not None:
        import os

        suffix = SUFFIXES.get(os.path.splitext(output)[1].lower())
        if suffix is not None:
            return suffix  # type: ignore[return-value]
        if output.lower().endswith(".bin"):
            return "raw"
    if source in FORM_OF_KIND:
        return FORM_OF_KIND[source]  # type: ignore[return-value]
    return "raw"


def suffix_of(form: Form) -> str:
    """The file name suffix of ``form`` (a default output name keeps what it holds)."""
    return {"raw": ".bin", "hex": ".hex", "uf2": ".uf2"}[form]


__all__ = ["Decoded", "check_layout", "decode", "encode", "flatten", "form_for", "sniff",
           "sparse"]
