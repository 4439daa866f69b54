"""Arduino-ESP8266 builds: eboot at 0x0, the sketch at 0x1000, and elf2bin's length and CRC.

The one place for the rules (wire layout and sources in :mod:`esp_image.formats.arduino`):

- which core generation wrote a file: no length/CRC words (cores before 2.7.0), the words in
  the last 8 bytes of the 0xAA-padded eboot sector (2.7.x), or in the first 8 bytes of the
  sketch's irom segment (3.x);
- what boots it: the ROM checks eboot's XOR checksum; eboot reads the sketch's header at
  0x1000, copies its RAM segments and jumps to its entry, checking nothing else (no magic, no
  checksum, no CRC: ``load_app_from_flash_raw``);
- what shows damage: the elf2bin CRC when the build has one (``ESP.checkFlashCRC()`` compares
  it at run time), and the sketch's XOR checksum, which in a 3.x build was computed while the
  words at 0x1010 were still the linker's zero placeholders, so it is checked that way;
- how a file is (re)built: :func:`build` and :meth:`ArduinoBuild.to_bytes` follow elf2bin.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from .checks import Check, compare
from .errors import ChecksumMismatch, FormatError
from .esp8266 import Esp8266Image
from .formats.compiled import arduino as fmt
from .hashing import crc32_msb, xor_bytes
from .image import prefixed

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from typing import Literal

    Layout = Literal["no-crc", "crc-in-eboot-sector", "crc-in-sketch"]

LAYOUTS: dict[str, tuple[int | None, str]] = {
    "no-crc": (None, "core 2.6.x or older (no elf2bin length/CRC)"),
    "crc-in-eboot-sector": (fmt.CRC_IN_EBOOT_SECTOR, "core 2.7.x (elf2bin length/CRC at 0xff8)"),
    "crc-in-sketch": (fmt.CRC_IN_SKETCH, "core 3.x (elf2bin length/CRC at 0x1010)"),
}
"""Each layout: where its length/CRC words are, and the core generation that writes it."""

_WORDS = fmt.CrcWords.SIZE
_IN_SKETCH = fmt.CRC_IN_SKETCH - fmt.APP_START  # sketch offset of the 3.x words


def elf2bin_crc(data: bytes | bytearray | memoryview, words_at: int, length: int) -> int:
    """``crc8266`` of ``data[:length]`` with the 8 bytes at ``words_at`` taken as zero."""
    view = memoryview(data)
    crc = crc32_msb(view[:words_at])
    crc = crc32_msb(bytes(_WORDS), crc)
    return crc32_msb(view[words_at + _WORDS:length], crc)


def _irom_first(sketch: Esp8266Image) -> bool:
    """The sketch starts with its irom segment at 0x40201010, as elf2bin and esptool-ck put it."""
    return bool(sketch.segments) and sketch.segments[0].load_addr == fmt.IROM_START \
        and sketch.segments[0].data_len >= 2 * _WORDS


def detect_layout(view: memoryview, sketch: Esp8266Image) -> Layout:
    """Which elf2bin generation wrote the file (``view`` from flash 0, ``sketch`` at 0x1000).

    Anything but 0xAA in the eboot sector's last 8 bytes is 2.7.x's words. In a 3.x build the
    word at 0x1010 is the length, which is where the sketch ends; with a damaged length word,
    the sketch's XOR checksum still tells: it matches only with those 8 bytes taken as zero.
    """
    tail = bytes(view[fmt.CRC_IN_EBOOT_SECTOR:fmt.APP_START])
    if tail != bytes([fmt.EBOOT_PAD]) * _WORDS:
        return "crc-in-eboot-sector"
    if not _irom_first(sketch) or sketch.truncated:
        return "no-crc"
    words = fmt.CrcWords.parse(view, fmt.CRC_IN_SKETCH)
    if words.length == fmt.APP_START + sketch.end:
        return "crc-in-sketch"
    if not sketch.checksum_valid and _zeroed_checksum(view, sketch) == sketch.stored_checksum:
        return "crc-in-sketch"
    return "no-crc"


def _zeroed_checksum(view: memoryview, sketch: Esp8266Image) -> int:
    """The sketch's XOR checksum with the 3.x words taken as zero (as elf2bin computed it)."""
    words = view[fmt.CRC_IN_SKETCH:fmt.CRC_IN_SKETCH + _WORDS]
    return (sketch.computed_checksum ^ xor_bytes(words)) & 0xFF


@dataclass(frozen=True)
class ArduinoBuild:
    """An elf2bin file: eboot, its 0xAA-padded sector, the sketch at 0x1000 and the CRC words.

    Attributes:
        eboot: the eboot image at 0x0.
        sketch: the sketch image at 0x1000 (offsets relative to 0x1000).
        layout: ``no-crc``, ``crc-in-eboot-sector`` or ``crc-in-sketch`` (:data:`LAYOUTS`).
        words: the stored length and CRC (None for ``no-crc``).
        core_version: the core's ``ARDUINO_ESP8266_GIT_VER`` (None when not in the file).
        data: the file from flash 0x0.
    """

    eboot: Esp8266Image
    sketch: Esp8266Image
    layout: Layout
    words: fmt.CrcWords | None
    core_version: int | None
    data: memoryview = field(repr=False, compare=False)

    @classmethod
    def from_bytes(cls, data: bytes | memoryview, eboot: Esp8266Image | None = None
                   ) -> ArduinoBuild:
        """Read the build starting at ``data[0]`` (an eboot image, the sketch at 0x1000).

        Raises:
            FormatError: no image at 0 or at 0x1000.
        """
        view = memoryview(data)
        eboot = eboot or Esp8266Image.from_bytes(view)
        sketch = Esp8266Image.from_bytes(view, fmt.APP_START, flash_offset=fmt.APP_START)
        layout = detect_layout(view, sketch)
        at = LAYOUTS[layout][0]
        words = fmt.CrcWords.parse(view, at) if at is not None else None
        version = None
        if _irom_first(sketch):
            where = fmt.CRC_IN_SKETCH + (_WORDS if layout == "crc-in-sketch" else 0)
            version = int.from_bytes(view[where:where + 4], "little")
        return cls(eboot, sketch, layout, words, version, view)

    # ------------------------------------------------------------------ facts
    @property
    def words_offset(self) -> int | None:
        """File offset of the length word (the CRC word follows it)."""
        return LAYOUTS[self.layout][0]

    @property
    def generation(self) -> str:
        """The core generation the layout belongs to, for a person."""
        return LAYOUTS[self.layout][1]

    @property
    def core_release(self) -> str | None:
        """The esp8266/Arduino release whose commit :attr:`core_version` is, if it is one."""
        return fmt.CORE_RELEASES.get(self.core_version) if self.core_version else None

    @property
    def sketch_end(self) -> int:
        """File offset where the sketch image ends (what elf2bin stores as the length)."""
        return fmt.APP_START + self.sketch.end

    @cached_property
    def computed_crc(self) -> int | None:
        """The CRC over the stored length (None without words, or when the file is shorter)."""
        if self.words is None or self.words_offset is None \
                or not self.words_offset + _WORDS <= self.words.length <= len(self.data):
            return None
        return elf2bin_crc(self.data, self.words_offset, self.words.length)

    @property
    def crc_valid(self) -> bool | None:
        """Whether the stored CRC matches (None without one)."""
        if self.words is None:
            return None
        return self.computed_crc == self.words.crc

    @property
    def sketch_checksum(self) -> int:
        """The sketch's XOR checksum as elf2bin computed it (3.x: with the words as zero)."""
        if self.layout == "crc-in-sketch":
            return _zeroed_checksum(self.data, self.sketch)
        return self.sketch.computed_checksum

    # ------------------------------------------------------------------ checks
    def checks(self) -> list[Check]:
        """eboot's and the sketch's checks (the sketch's checksum the way elf2bin made it),
        then the length and CRC words."""
        sketch = [self._sketch_checksum_check(c.offset)
                  if c.name == "checksum" and self.layout == "crc-in-sketch" else c
                  for c in self.sketch.checks(fmt.APP_START)]
        return [*prefixed(self.eboot.checks(0), "eboot"), *prefixed(sketch, "sketch"),
                *self._word_checks()]

    def _sketch_checksum_check(self, offset: int) -> Check:
        assert self.sketch.stored_checksum is not None
        made = compare("checksum", offset, self.sketch.stored_checksum, self.sketch_checksum)
        return Check("checksum", made.valid, offset,
                     f"{made.detail} with the words at 0x1010 as zero (elf2bin stores the "
                     "length and CRC there after computing the checksum; over the bytes as "
                     f"they are: {self.sketch.computed_checksum:#04x})")

    def _word_checks(self) -> list[Check]:
        if self.words is None or self.words_offset is None:
            return []
        at, length = self.words_offset, self.words.length
        out = []
        if length != self.sketch_end:
            out.append(Check("structure", False, at,
                             f"elf2bin length word {length:#x} is not where the sketch ends "
                             f"({self.sketch_end:#x})"))
        if self.computed_crc is None:
            out.append(Check("crc32", False, at + 4,
                             f"elf2bin CRC: length word {length:#x} does not fit the file "
                             f"({len(self.data):#x} bytes)"))
        else:
            made = compare("crc32", at + 4, self.words.crc, self.computed_crc, 8)
            out.append(Check("crc32", made.valid, at + 4,
                             f"elf2bin CRC of 0x0-{length:#x} (words at {at:#x} as zero): "
                             f"{made.detail}"))
        return out

    def to_dict(self) -> dict[str, object]:
        """JSON form (``esp8266.arduino``)."""
        words = self.words
        return {"layout": self.layout, "generation": self.generation,
                "crc_offset": None if self.words_offset is None else self.words_offset + 4,
                "length": words.length if words else None,
                "crc": words.crc if words else None, "crc_computed": self.computed_crc,
                "crc_valid": self.crc_valid, "sketch_end": self.sketch_end,
                "core_version": self.core_version, "core_release": self.core_release}

    # ------------------------------------------------------------------ building
    @cached_property
    def rebuilt(self) -> bytes:
        """The file ``[0:sketch end]`` rebuilt the way elf2bin writes it.

        Raises:
            FormatError: an image is truncated, or the length word does not fit the sketch.
        """
        out = bytearray(self.data[:self.sketch_end])
        out[:self.eboot.end] = self.eboot.to_bytes()
        out[fmt.APP_START:] = _sketch_bytes(self.sketch, self.layout)
        if self.words is not None and self.words_offset is not None:
            if not self.words_offset + _WORDS <= self.words.length <= len(out):
                raise FormatError(f"length word {self.words.length:#x} does not fit the build",
                                  self.words_offset, "elf2bin length/CRC")
            seal(out, self.words_offset, self.words.length)
        return bytes(out)

    def part(self, start: int, stop: int) -> BuildPart:
        """The model of the file bytes ``[start:stop]`` (a region's model)."""
        return BuildPart(self, start, stop)


class BuildPart:
    """A region's model: its slice of :attr:`ArduinoBuild.rebuilt` (a plain class: start-up).

    The CRC covers the whole build, so the region holding the words rebuilds from the whole.
    """

    __slots__ = ("build", "start", "stop")

    def __init__(self, build: ArduinoBuild, start: int, stop: int) -> None:
        self.build, self.start, self.stop = build, start, stop

    @property
    def image(self) -> Esp8266Image:
        """The sketch (what ``diff`` compares)."""
        return self.build.sketch

    def to_bytes(self) -> bytes:
        return self.build.rebuilt[self.start:self.stop]


def _sketch_bytes(sketch: Esp8266Image, layout: Layout) -> bytes:
    """The sketch rebuilt; for 3.x with its checksum over zero words, the words kept."""
    if layout != "crc-in-sketch":
        return sketch.to_bytes()
    raw = bytearray(sketch.data[:sketch.end])
    kept = bytes(raw[_IN_SKETCH:_IN_SKETCH + _WORDS])
    raw[_IN_SKETCH:_IN_SKETCH + _WORDS] = bytes(_WORDS)
    out = bytearray(Esp8266Image.from_bytes(bytes(raw)).to_bytes())
    out[_IN_SKETCH:_IN_SKETCH + _WORDS] = kept
    return bytes(out)


def seal(out: bytearray, words_at: int, length: int) -> None:
    """Store elf2bin's length and CRC words at ``words_at`` (``add_crc``)."""
    crc = elf2bin_crc(out, words_at, length)
    out[words_at:words_at + _WORDS] = fmt.CrcWords(length, crc).build()


def build(eboot: bytes, sketch: bytes, layout: Layout) -> bytes:
    """An elf2bin file from an eboot image and a sketch image (both whole v1 images).

    As elf2bin does: eboot padded with 0xAA to 0x1000 (at least 8 bytes of padding), the
    sketch after it; for a 2.7.x or 3.x layout the length and CRC words last. For 3.x the
    sketch's first 8 irom bytes are the linker's zero placeholders when its checksum is made.

    Raises:
        FormatError: eboot leaves no room for the words, or the sketch does not start with its
            irom segment at 0x40201010 (3.x).
    """
    boot = Esp8266Image.from_bytes(eboot)
    app = Esp8266Image.from_bytes(sketch)
    if boot.end + _WORDS > fmt.APP_START:
        raise FormatError(f"eboot is {boot.end:#x} bytes; elf2bin needs it 8 bytes short of "
                          "0x1000", 0, "eboot")
    if layout == "crc-in-sketch" and not _irom_first(app):
        raise FormatError("the sketch does not start with its irom segment at 0x40201010", 0,
                          "sketch")
    head = boot.to_bytes().ljust(fmt.APP_START, bytes([fmt.EBOOT_PAD]))
    if layout == "crc-in-sketch":
        raw = bytearray(sketch[:app.end])
        raw[_IN_SKETCH:_IN_SKETCH + _WORDS] = bytes(_WORDS)
        body = Esp8266Image.from_bytes(bytes(raw)).to_bytes()
    else:
        body = app.to_bytes()
    out = bytearray(head + body)
    at = LAYOUTS[layout][0]
    if at is not None:
        seal(out, at, len(out))
    return bytes(out)


def reseal(before: bytes | memoryview, after: bytearray, *, ignore_invalid: bool = False
           ) -> bool:
    """After an edit of ``before`` into ``after`` (same size), recompute elf2bin's CRC.

    Returns whether ``after`` is an Arduino build with a CRC (and so was resealed).

    Raises:
        ChecksumMismatch: the CRC did not match before the edit (it would hide the damage).
    """
    from .esp8266_parts import _bootloader_name

    view = memoryview(before)
    if len(view) <= fmt.APP_START or view[fmt.APP_START] != 0xE9:
        return False
    try:
        eboot = Esp8266Image.from_bytes(view)
        if _bootloader_name(view, eboot.length)[0] != "eboot":
            return False
        found = ArduinoBuild.from_bytes(view, eboot)
    except FormatError:
        return False
    if found.words is None or found.words_offset is None:
        return False
    if not found.crc_valid and not ignore_invalid:
        raise ChecksumMismatch(
            f"the elf2bin CRC at {found.words_offset + 4:#x} does not match the file "
            f"(stored {found.words.crc:#010x}, computed {found.computed_crc or 0:#010x}); "
            "refusing to recompute it over possibly damaged data")
    if found.computed_crc is not None:
        seal(after, found.words_offset, found.words.length)
    return True


__all__ = ["LAYOUTS", "ArduinoBuild", "BuildPart", "build", "detect_layout", "elf2bin_crc",
           "reseal", "seal"]
