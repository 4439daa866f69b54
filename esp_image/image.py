"""The whole-file view: identify what a file is, parse every part, check everything.

This module holds the model (:class:`Image`, :class:`PartitionContent`, the regions' models) and
:class:`Builder`, with which every recogniser makes one.

:class:`Image` is the one whole-file model for every family. What a file is comes from the
ordered recognisers of :mod:`esp_image.recognise`; the first that answers wins (ESP8266 and
ESP32 share the 0xE9 magic, so the order matters):

1. empty → error; exactly 8 KiB shaped like two OTA records, or 8 KiB of 0xFF (ESP-IDF's
   ``ota_data_initial.bin``) → bare ``otadata``; other all-0xFF data → ``erased``;
2. ``AA 50`` at 0 → bare partition table;
3. (otadata: see 1);
4. ``yaota8266`` at 0 → a yaota8266 ``.ota`` update file; ``1d 04 db ae`` twice → a direct-boot
   image; then a bare NVS, ``nvs_keys``, ``esp_secure_cert`` (TLV) or core dump partition
   image;
4a. a wrapper around an image (:mod:`esp_image.recognise.wrapped`: gzip, an Arduino-signed
   update, a Matter OTA file, a pre-encrypted OTA image, a bare length word) → the Image of
   what it wraps, with the layers in ``wrappers``;
5. with ``--chip esp8266``, an ESP8266 layout (ESP8266 images carry no chip id);
6. 0xE9 at 0 with a plausible ESP32-family header (known chip id, ``hash_appended`` 0/1):
   a merged firmware if a partition table sits where that chip's layout puts it (base =
   bootloader offset), otherwise a single image (a damaged reading loses to an intact ESP8266
   one); 0xE9 without such a header → an ESP8266 layout, else ``unknown``;
7. a plausible ESP32-family bootloader at 0x1000 or 0x2000 whose chip boots from there → a flash
   dump from address 0;
8. an ESP8266 layout (esp8266.md §11.3: NONOS, RTOS SDK, rBoot, Arduino, MicroPython,
   yaota8266, noboot, bare init data or rBoot config, raw irom);
9. a filesystem partition image;
10. anything else → ``unknown`` with the reason.

Flash addresses are canonical: ``base`` is the flash address of file byte 0.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from . import chips
from .checks import Check, Issue
from .errors import EspImageError, FormatError, InputError
from .formats.compiled import partition_table as table_fmt
from .io import MAX_FILE_SIZE
from .spans import Region, fill_gaps, is_erased

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from typing import Any, Literal

    from .app_image import AppImage
    from .chips import Chip
    from .data_content import DataContent
    from .esp8266 import Esp8266Image, FlashMap
    from .filesystems import FileSystemInfo
    from .otadata import AppSlots, BootSelection, OtaData
    from .partition_table import Partition, PartitionTable
    from .wrappers import Unwrapped
    from .yaota8266 import OtaFile

    # The closed sets of the JSON contract, spelled once (cli-contract.md).
    ImageKind = Literal["image", "flash", "partition-table", "otadata", "erased", "filesystem",
                        "yaota8266-ota", "esp8266-init-data", "rboot-config", "nvs", "nvs-keys",
                        "esp-secure-cert", "coredump", "unknown"]
    RegionKind = Literal["image", "partition-table", "otadata", "data", "erased", "gap", "irom",
                         "init-data", "system-params", "rboot-config", "filesystem", "nvs",
                         "nvs-keys", "esp-secure-cert", "coredump", "unread"]
    Esp8266Shape = Literal["image", "nonos-flash", "rboot-flash", "micropython", "noboot",
                           "nodemcu", "arduino", "yaota8266-bundle", "yaota8266-initial",
                           "yaota8266-main-app", "rtos-sdk-flash", "init-data", "rboot-config",
                           "irom", "unknown"]
    ContentState = Literal["absent", "erased", "image", "data", "invalid", "unread"]


TABLE_AREA = table_fmt.TABLE_SECTOR
DEFAULT_TABLE_OFFSET = table_fmt.DEFAULT_TABLE_OFFSET


@dataclass(frozen=True)
class PartitionContent:
    """What a flash file holds for one partition.

    Attributes:
        partition: the table entry.
        covered: bytes of the partition present in the file (0 when the file ends before it).
        state: ``absent`` (not in the file), ``erased``, ``image`` (an app image was parsed),
            ``data`` (non-erased bytes) or ``invalid`` (an app slot holding no image).
        image: the app image in an app partition, if one starts there.
        filesystem: the filesystem in a data partition, if one is there.
        content: NVS, nvs_keys, esp_secure_cert or a core dump in a data partition.
    """

    partition: Partition
    covered: int
    state: ContentState
    image: AppImage | None = None
    filesystem: FileSystemInfo | None = None
    content: DataContent | None = None

    @property
    def fill(self) -> float | None:
        """Fraction of the partition the app image uses (real image length, not file length)."""
        if self.image is None or not self.partition.size:
            return None
        return self.image.end / self.partition.size

    def to_dict(self) -> dict[str, object]:
        """JSON form: the partition entry plus what the file holds for it."""
        out = self.partition.to_dict()
        out["covered"] = self.covered
        out["state"] = self.state
        if self.filesystem is not None:
            out["filesystem"] = self.filesystem.to_dict()
        if self.content is not None:
            out[self.content.key] = self.content.to_dict()
        if self.image is not None:
            out["image_size"] = self.image.end
            out["fill"] = round(self.fill or 0.0, 4)
            out["image"] = self.image.to_dict()
        return out


@dataclass(frozen=True)
class Image:
    """Everything esp_image found in one file.

    Use :meth:`open` or :meth:`from_bytes`; the result is immutable.

    Attributes:
        path: where it was read from (None for bytes).
        size: bytes in the file.
        kind: ``image``, ``flash``, ``partition-table``, ``otadata``, ``erased``, ``nvs``,
            ``nvs-keys``, ``esp-secure-cert``, ``coredump``, ``filesystem`` or ``unknown``...
        chip: the chip, when known.
        base: flash address of file byte 0 (``kind == "flash"``).
        firmware: the single image (``kind == "image"``).
        bootloader: the bootloader found in a flash file.
        table: the partition table (bare or found in a flash file).
        table_address: flash address of that table.
        otadata: the OTA selection data (bare, or from the flash file's otadata partition).
        boot: which app slot the bootloader picks, when a table is known.
        partitions: per-partition contents of a flash file.
        regions: the file's regions in file order (``kind == "flash"``).
        checks: every integrity check that was run, in file order.
        issues: layout errors and warnings (errors also appear as a failed ``layout`` check).
        notes: facts worth telling a person that are not problems.
        reason: why the data is ``unknown``.
        ota_file: a yaota8266 ``.ota`` update file (``kind == "yaota8266-ota"``).
        shape: the ESP8266 layout found (``nonos-flash``, ``rboot-flash``, ``micropython``...,
            ``image`` for a single image); None for files of other families.
        flash_map: the ESP8266 flash map the image at 0 declares.
        details: the ESP8266 layout's extra JSON sections (``system_params``,
            ``rboot_config``, ``yaota8266``, ``init_data``, ``micropython``, ``boot8266``,
            ``main_app``...).
        wrappers: the layers around what the file holds (gzip, an Arduino signature...), from
            the outside in; empty for a file that is not wrapped. When there are any, ``data``
            and every offset in the model (regions, segments, the inner checks) belong to the
            unwrapped bytes, while ``size`` and :attr:`file_data` are the file's.
        file_data: the file's own bytes when it is wrapped (None otherwise).
        content: a bare NVS, nvs_keys, esp_secure_cert or core dump partition image.
    """

    path: str | None
    size: int
    kind: ImageKind
    chip: chips.Chip | None = None
    base: int | None = None
    firmware: AppImage | Esp8266Image | None = None
    bootloader: AppImage | None = None
    table: PartitionTable | None = None
    table_address: int | None = None
    otadata: OtaData | None = None
    boot: BootSelection | None = None
    partitions: tuple[PartitionContent, ...] = ()
    regions: tuple[Region, ...] = ()
    checks: tuple[Check, ...] = ()
    issues: tuple[Issue, ...] = ()
    notes: tuple[str, ...] = ()
    reason: str | None = None
    ota_file: OtaFile | None = None
    filesystem: FileSystemInfo | None = None
    shape: Esp8266Shape | None = None
    flash_map: FlashMap | None = None
    details: dict[str, object] = field(default_factory=dict)
    content: DataContent | None = None
    data: memoryview = field(repr=False, compare=False, default=memoryview(b""))
    wrappers: tuple[Unwrapped, ...] = ()
    file_data: memoryview | None = field(repr=False, compare=False, default=None)

    # ------------------------------------------------------------------ construction
    @classmethod
    def open(cls, path: str | os.PathLike[str], *, chip: str | None = None,
             max_size: int | None = MAX_FILE_SIZE, key: bytes | None = None) -> Image:
        """Read and identify a file.

        Args:
            path: the file.
            chip: the chip the file must be for (e.g. ``"esp32s3"``): a file that states
                another fails its ``chip`` check; where the file states none, it is read as
                this chip.
            max_size: refuse larger files (None: no limit).
            key: a key file's bytes for a wrapper that takes one: the RSA public key of an
                Arduino-signed update (the signature is verified), the private key of a
                pre-encrypted OTA image (it is decrypted and the image judged).

        Raises:
            InputError: the file is missing, unreadable, not a regular file, empty or too large;
                :class:`~esp_image.errors.KeyMismatch` (a subclass) for a key that does not
                serve the file's wrapper, :class:`~esp_image.errors.DecompressionLimit` for
                a gzip that inflates past the largest flash.
        """
        from .io import read_input

        data = read_input(path, max_size=max_size)
        return cls.from_bytes(data, path=str(path), chip=chip, key=key)

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview, *, path: str | None = None,
                   chip: str | None = None, key: bytes | None = None) -> Image:
        """Identify and parse a buffer (not copied); ``key`` as for :meth:`open`.

        Raises:
            InputError: the buffer is empty (and as :meth:`open` for ``key`` and gzip).
        """
        view = memoryview(data).cast("B") if not isinstance(data, bytes) else memoryview(data)
        if not len(view):
            raise InputError(f"{path or 'input'}: file is empty")
        from .recognise import identify

        return identify(view, path, chips.chip_by_name(chip) if chip else None, key)

    # ------------------------------------------------------------------ derived
    @property
    def valid(self) -> bool:
        """Every check that applies passed and the structure parsed completely."""
        if self.kind in ("unknown",):
            return False
        return all(c.valid for c in self.checks)

    @property
    def esp8266(self) -> Image | None:
        """This Image when it is an ESP8266 reading (its ``shape`` names the layout), else None."""
        return self if self.shape is not None else None

    @property
    def apps(self) -> tuple[PartitionContent, ...]:
        """Contents of the app partitions of a flash file."""
        return tuple(p for p in self.partitions if p.partition.is_app)

    def app_slots(self) -> AppSlots | None:
        """What the bootloader finds in each app partition (None without a table in a flash
        file): the input of :meth:`BootSelection.loaded_from`."""
        if self.kind != "flash" or self.table is None or self.chip is None:
            return None
        from .recognise.esp32 import app_slots

        return app_slots(list(self.partitions), self.chip)

    def to_bytes(self) -> bytes:
        """Rebuild the file from the parsed models (byte-identical, damaged input included).

        Regions esp_image does not model (gaps, data partitions, trailing data) are kept
        byte for byte; every parsed structure is rebuilt from its model, and a model that
        cannot be rebuilt (a truncated image) or fails its checks leaves its bytes as they are.

        A wrapped file's layers are put back around the rebuilt inner bytes; a layer that
        compresses or encrypts them cannot be redone byte for byte, so the file's own bytes
        stand for it.

        Raises:
            FormatError: a rebuilt part is longer than the file.
        """
        if self.wrappers:
            from .recognise.wrapped import rewrap

            return rewrap(self)
        out = bytearray(self.data)
        for offset, model in self._models():
            # A damaged image keeps its bytes: rebuilding would silently repair its checksum
            # or SHA-256, and the round trip is byte-exact for damaged input too.
            if getattr(model, "valid", True) is False:
                continue
            try:
                built = model.to_bytes()
            except FormatError:
                continue
            if offset + len(built) > len(out):
                raise FormatError(f"rebuilt part ({len(built):#x} bytes) does not fit the file",
                                  offset, type(model).__name__)
            out[offset:offset + len(built)] = built
        return bytes(out)

    def _models(self) -> Iterator[tuple[int, Any]]:
        """``(file offset, model)`` of every part :meth:`to_bytes` rebuilds."""
        if self.kind == "image" and self.firmware is not None:
            yield 0, self.firmware
        elif self.kind == "partition-table" and self.table is not None:
            yield 0, TableArea(self.table, min(self.size, TABLE_AREA))
        elif self.kind == "otadata" and self.otadata is not None:
            yield 0, self.otadata
        elif self.ota_file is not None:
            yield 0, self.ota_file
        for region in self.regions:
            if region.model is not None:
                yield region.offset, region.model

    def unwrapped(self) -> Image:
        """What a wrapped file holds, as if it were the file (no wrappers, their checks
        dropped); this Image itself when it is not wrapped."""
        if not self.wrappers:
            return self
        from dataclasses import replace

        from .recognise.wrapped import layer_checks

        outer = set(layer_checks(self.wrappers))
        return replace(self, size=len(self.data), wrappers=(), file_data=None,
                       checks=tuple(c for c in self.checks if c not in outer))

    def partition_bytes(self, part: Partition) -> bytes:
        """``part``'s bytes in a flash file, as the chip reads them (see :func:`read_partition`).

        Raises:
            InputError: this is not a flash file, or the partition starts before the file.
        """
        if self.base is None or part.offset < self.base:
            raise InputError(f"{self.path or 'input'}: partition {part.name!r} at "
                             f"{part.offset:#x} is not in this file")
        return read_partition(self.data, part.offset - self.base,
                              readable_size(part, self.flash_end))

    @property
    def flash_end(self) -> int:
        """The end of flash for reading partitions (see :func:`flash_end`)."""
        return flash_end(self.bootloader.flash_size if self.bootloader is not None else None,
                         self.chip)

    @property
    def _table_file_offset(self) -> int:
        if self.table_address is None or self.base is None:
            return 0
        return self.table_address - self.base

    @property
    def bootloader_file_offset(self) -> int:
        """File offset of the bootloader in a flash file."""
        if self.base is None or self.chip is None:
            return 0
        return self.chip.bootloader_offset - self.base

    def to_dict(self) -> dict[str, object]:
        """The JSON document of cli-contract.md for this file."""
        out: dict[str, object] = {
            "path": self.path,
            "size": self.size,
            "kind": self.kind,
            "chip": self.chip.name if self.chip else None,
            "valid": self.valid,
            "checks": [c.to_dict() for c in self.checks],
        }
        if self.wrappers:
            out["wrappers"] = [{**w.to_dict(), "valid": w.valid} for w in self.wrappers]
        if self.shape is not None:
            out["esp8266"] = {"shape": self.shape, "flash_map": self.flash_map.to_dict()
                              if self.flash_map else None, **self.details}
        if self.kind == "image" and self.firmware is not None:
            out["image"] = self.firmware.to_dict()
        elif self.kind == "image" and self.shape is None and "image" in self.details:
            out["image"] = self.details["image"]  # a format without a model (direct boot)
        if self.kind == "flash" or self.regions:
            out["flash"] = self._flash_dict()
        if self.table is not None and self.table.signature is not None:
            out["table_signature"] = {"scheme": "sbv1", "offset": self._table_file_offset
                                      + table_fmt.TABLE_MAX_LEN, "size": len(self.table.signature)}
        if self.table is not None:
            if self.partitions:
                out["partitions"] = [p.to_dict() for p in self.partitions]
            else:
                out["partitions"] = [p.to_dict() for p in self.table.partitions]
        for key, part in (("otadata", self.otadata), ("yaota8266_ota", self.ota_file),
                          ("filesystem", self.filesystem), ("boot", self.boot)):
            if part is not None:
                out[key] = part.to_dict()
        if self.content is not None:
            out[self.content.key] = self.content.to_dict()
        # ESP8266 documents list issues only when there are any (contract order).
        if self.issues or self.shape is None:
            out["issues"] = [i.to_dict() for i in self.issues]
        if self.notes:
            out["notes"] = list(self.notes)
        if self.reason:
            out["reason"] = self.reason
        out.setdefault("issues", [])
        return out

    def _flash_dict(self) -> dict[str, object]:
        flash: dict[str, object] = {
            "base": self.base or 0,
            "regions": [r.to_dict() for r in self.regions],
        }
        if self.bootloader is not None:
            flash["bootloader"] = self.bootloader.to_dict()
            flash["size"] = self.bootloader.flash_size_name
        if self.table_address is not None:
            flash["table_address"] = self.table_address
        return flash


class TableArea:
    """A partition table as the sector area it is rebuilt into (a region's model).

    A plain class, not a dataclass: creating a dataclass costs about a millisecond of start-up.
    """

    __slots__ = ("size", "table")

    def __init__(self, table: PartitionTable, size: int) -> None:
        self.table = table
        self.size = size

    def to_bytes(self) -> bytes:
        return self.table.to_bytes(size=self.size)


def flash_end(flash_size: int | None, chip: Chip | None) -> int:
    """The flash address partition contents are read up to.

    Table entries and headers are not trusted: nothing past the flash size in the bootloader
    header, the most the chip addresses, or the largest flash of any chip exists on the chip,
    so nothing is read or allocated for it.
    """
    end = min(flash_size or MAX_FILE_SIZE, MAX_FILE_SIZE)
    return min(end, chip.max_flash) if chip is not None else end


def readable_size(part: Partition, end: int) -> int:
    """How many of ``part``'s bytes lie below ``end`` (a :func:`flash_end`)."""
    return max(0, min(part.end, end) - part.offset)


def read_partition(view: memoryview, start: int, size: int) -> bytes:
    """``size`` bytes from file offset ``start``: the file's, then erased flash (0xFF) past the
    end of the file; one allocation (callers bound ``size`` with :func:`readable_size`)."""
    return bytes(view[start:start + size]).ljust(size, b"\xff")


# ---------------------------------------------------------------------- building
def prefixed(checks: Iterable[Check], label: str) -> list[Check]:
    """``checks`` with ``label: `` before each detail, once (a detail that already starts with
    it is kept)."""
    return [Check(c.name, c.valid, c.offset,
                  c.detail if c.detail.startswith(f"{label}:") else f"{label}: {c.detail}")
            for c in checks]


def image_summary(img: AppImage | Esp8266Image) -> str:
    """One line for a person naming an image of either family (a region's detail)."""
    from .app_image import AppImage

    if isinstance(img, AppImage):
        desc = ""
        if img.app_desc is not None:
            desc = " ".join(x for x in (img.app_desc.project_name, img.app_desc.version,
                                        f"IDF {img.app_desc.idf_ver}") if x)
        elif img.bootloader_desc is not None:
            desc = f"IDF {img.bootloader_desc.idf_ver}"
        return f"{img.role} image, {img.end:#x} bytes" + (f", {desc}" if desc else "")
    what = img.bootloader_name or img.role
    extra = ""
    if img.variant == "gen_appbin":
        extra = f", gen_appbin user{img.user}.bin"
    elif img.variant == "esptool":
        extra = ", esptool v2"
    if img.crc32_status == "absent":
        extra += ", no CRC32 trailer"
    return f"{img.format} {what} image, {img.end:#x} bytes{extra}"


def layout_check(issues: Iterable[Issue], offset: int, what: str) -> Check:
    """The ``layout`` check: fails with the error issues' messages, else passes with ``what``."""
    errors = [i.message for i in issues if i.is_error]
    if errors:
        return Check("layout", False, offset, "; ".join(errors))
    return Check("layout", True, offset, what)


def single_image(view: memoryview, img: AppImage | Esp8266Image, chip: Chip | None,
                 notes: list[str], issues: list[Issue], *, erased_tail: str, data_tail: str,
                 **fields: Any) -> Image:
    """The Image of one image at 0: ``notes`` follow the one on what comes after the image
    (``erased_tail`` / ``data_tail`` say what that usually is for the family)."""
    if img.trailing:
        if is_erased(view[img.end:]):
            notes.insert(0, f"{img.trailing:#x} bytes of erased flash (0xFF) follow the image"
                         + erased_tail)
        else:
            notes.insert(0, f"{img.trailing:#x} bytes of non-erased data follow the image"
                         + data_tail)
    return Image(None, len(view), "image", chip=chip, firmware=img, checks=tuple(img.checks(0)),
                 issues=tuple(issues), notes=tuple(notes), data=view, **fields)


class Builder:
    """Collects the regions, checks, issues and notes of one file, then makes its Image."""

    def __init__(self, view: memoryview, base: int = 0) -> None:
        self.view = view
        self.base = base
        self.regions: list[Region] = []
        self.checks: list[Check] = []
        self.issues: list[Issue] = []
        self.notes: list[str] = []
        self.details: dict[str, object] = {}

    def region(self, offset: int, size: int, kind: RegionKind, name: str, detail: str = "", *,
               model: Any = None) -> None:
        """Add a region, clipped to the file (nothing when none of it is in the file)."""
        size = max(0, min(size, len(self.view) - offset))
        if size:
            self.regions.append(Region(offset, size, offset + self.base, kind, name, detail,
                                       model))

    def image(self, img: AppImage | Esp8266Image, offset: int, name: str,
              model: Any = None) -> None:
        """Add an image's region and its checks (prefixed with ``name``)."""
        self.checks.extend(prefixed(img.checks(offset), name))
        self.region(offset, img.end, "image", name, image_summary(img), model=model or img)
        # ESP8266 images report oddities a bootloader tolerates; ESP32 images have none.
        for warning in getattr(img, "warnings", ()):
            self.issues.append(Issue("warning", "image", f"{name}: {warning}"))

    def layout(self, what: str, offset: int = 0) -> None:
        """Add the ``layout`` check over the issues found so far."""
        self.checks.append(layout_check(self.issues, offset, what))

    def finish(self, kind: ImageKind, chip: Chip | None, **fields: Any) -> Image:
        """The Image: regions with the unclaimed stretches filled in, checks in file order."""
        regions = fill_gaps(self.regions, self.view, self.base, Region)
        return Image(None, len(self.view), kind, chip=chip,
                     base=self.base if kind == "flash" else None, regions=tuple(regions),
                     checks=tuple(sorted(self.checks, key=lambda c: c.offset)),
                     issues=tuple(self.issues), notes=tuple(self.notes),
                     details=self.details, data=self.view, **fields)


__all__ = ["EspImageError", "Image", "PartitionContent", "Region"]
