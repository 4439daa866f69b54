"""Cut one part (bootloader, partition table, otadata, a partition) out of a firmware file.

Images are cut at their real end, computed by walking the header and segments and adding the
SHA-256 and any Secure Boot signature (esp32-image.md §10.3); the file length and trailing
0xFF bytes never decide where an image ends. ``raw`` returns the whole region instead, as far
as the file covers it.

Flash addresses are canonical: ``Image.base`` (the flash address of file byte 0) maps them to
file offsets, so merged files (MicroPython ``firmware.bin``, base 0x1000) and dumps from 0x0
work the same way.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from ..errors import FormatError, InputError
from ..formats.compiled import otadata as ota_fmt
from ..formats.compiled import partition_table as table_fmt
from ..units import format_size
from . import TransformResult

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost

if TYPE_CHECKING:
    from ..app_image import AppImage
    from ..image import Image, PartitionContent

TABLE_SIZE = table_fmt.TABLE_MAX_LEN
"""What gen_esp32part.py writes: entries, MD5 record, 0xFF padding (``MAX_PARTITION_LENGTH``)."""
TABLE_SECTOR = table_fmt.TABLE_SECTOR
TABLE_SIGNATURE_SIZE = 68
"""Secure Boot v1 signs the 0xC00 table and appends a 68-byte block (espsecure ``sign_data``)."""
OTADATA_SIZE = ota_fmt.OTADATA_SIZE
DEFAULT_TABLE_OFFSET = table_fmt.DEFAULT_TABLE_OFFSET

_SPECIAL = ("bootloader", "partition-table", "otadata")
_IMAGE_WORDS = ("app", "image", "bootloader")


@dataclass(frozen=True, kw_only=True)
class Extracted(TransformResult):
    """One part cut out of a file: ``data`` is its bytes, ``actions`` says what was extracted
    and ``notes`` holds the description.

    Attributes:
        name: what was extracted (``bootloader``, ``partition-table``, ``otadata`` or the
            partition's name).
        address: the flash address the data belongs at (None when the input does not say, e.g.
            a bare app image or a bare partition table).
        description: one line for a person: what it is, how long, and what was left out.
        partial: the file ends before the region does (only the bytes present are returned).
    """

    name: str
    address: int | None
    description: str
    partial: bool = False


def _extracted(name: str, address: int | None, data: bytes, description: str,
               partial: bool = False) -> Extracted:
    where = f" (flash {address:#x})" if address is not None else ""
    return Extracted(data=data, actions=(f"extracted {name}{where}",), notes=(description,),
                     name=name, address=address, description=description, partial=partial)


def extract(image: Image, what: str, *, raw: bool = False) -> Extracted:
    """Cut ``what`` out of a parsed file.

    Args:
        image: the file (:meth:`esp_image.Image.open` / ``from_bytes``).
        what: ``bootloader``, ``partition-table``, ``otadata`` or a partition name. For a bare
            image file, ``app``/``image``/``bootloader`` (whichever it is); for an ESP8266 flash
            file, a region name (``boot``, ``user1``, ``irom0`` ...).
        raw: return the whole region instead of the image: the bootloader region up to the
            partition table, the full 0x1000 table sector, the whole partition (even when it is
            erased or holds no image).

    Returns:
        The bytes and where they belong.

    Raises:
        InputError: an unknown name, a part the file does not contain, an erased part (unless
            ``raw``), or a file kind that holds no parts (the message lists what exists).
        FormatError: an app or bootloader that is damaged or truncated (``raw`` still works).
    """
    what = what.strip()
    if image.esp8266 is not None:
        return _extract_esp8266(image, what, raw)
    if image.kind == "flash":
        return _extract_flash(image, what, raw)
    if image.kind == "image":
        return _extract_single(image, what, raw)
    if image.kind == "partition-table":
        return _extract_bare_table(image, what, raw)
    if image.kind == "otadata":
        if what != "otadata":
            raise InputError(f"{_where(image)}is a bare otadata file; only 'otadata' can be "
                             f"extracted from it, not {what!r}")
        data = bytes(image.data[:OTADATA_SIZE if not raw else len(image.data)])
        return _extracted("otadata", None, data, f"otadata, {len(data):#x} bytes")
    reason = f" ({image.reason})" if image.reason else ""
    raise InputError(f"{_where(image)}is {_kind_text(image.kind)}{reason}; there is nothing to "
                     "extract (extract works on merged firmware files, flash dumps and single "
                     "images)")


def default_extract_name(path: str, what: str) -> str:
    """Output name for ``extract`` without ``-o``: next to the input, ``<stem>-<what>.bin``.

    ``firmware.bin`` + ``factory`` gives ``firmware-factory.bin``; characters that do not belong
    in a file name (a partition label may hold any) become ``_``.
    """
    folder, base = os.path.split(path)
    stem = os.path.splitext(base)[0] or base or "firmware"
    label = re.sub(r"[^A-Za-z0-9._+-]", "_", what.strip()) or "part"
    return os.path.join(folder, f"{stem}-{label}.bin")


# ---------------------------------------------------------------------- flash files
def _extract_flash(image: Image, what: str, raw: bool) -> Extracted:
    if what == "bootloader":
        return _bootloader(image, raw)
    if what == "partition-table":
        return _table(image, raw)
    content = _find_partition(image, what)
    if content is None:
        raise InputError(f"{_where(image)}has no {what!r}; it has {_available(image)}")
    return _partition(image, content, raw, what)


def _find_partition(image: Image, what: str) -> PartitionContent | None:
    for content in image.partitions:
        if content.partition.name == what:
            return content
    if what == "otadata":
        for content in image.partitions:
            if content.partition.is_otadata:
                return content
    return None


def _available(image: Image) -> str:
    """The parts of a flash file, for error messages."""
    names: list[str] = []
    if image.bootloader is not None:
        names.append("bootloader")
    if image.table is not None:
        names.append("partition-table")
    for content in image.partitions:
        label = content.partition.name
        if content.partition.is_otadata and label != "otadata":
            label += " (otadata)"
        if content.state == "absent":
            label += " (not in the file)"
        elif content.state == "erased":
            label += " (erased)"
        names.append(label)
    if image.table is None:
        names.append("no partition table, so no partitions")
    return ", ".join(names) if names else "nothing recognisable"


def _file_covers(image: Image) -> str:
    base = image.base or 0
    return f"the file covers flash {base:#x}-{base + image.size:#x}"


def _bootloader(image: Image, raw: bool) -> Extracted:
    assert image.chip is not None and image.base is not None
    address = image.chip.bootloader_offset
    start = address - image.base
    if start < 0 or start >= image.size:
        raise InputError(f"{_where(image)}does not contain the bootloader at {address:#x} "
                         f"({_file_covers(image)})")
    if raw:
        table = image.table_address if image.table_address is not None else DEFAULT_TABLE_OFFSET
        stop = min(table - image.base, image.size)
        data = bytes(image.data[start:stop])
        partial = table - image.base > image.size
        return _extracted("bootloader", address, data,
                         f"bootloader region {address:#x}-{address + len(data):#x} "
                         f"({len(data):#x} bytes, raw){_partial_text(partial, table)}",
                         partial)
    boot = image.bootloader
    if boot is None:
        if _erased(image.data[start:start + 0x1000]):
            raise InputError(f"{_where(image)}has no bootloader: flash {address:#x} is erased "
                             "(use --raw to get the bytes anyway)")
        raise FormatError("no valid bootloader image there (use --raw to get the bytes anyway)",
                          start, "bootloader")
    _refuse_truncated(boot, "bootloader", start)
    data = bytes(image.data[start:start + boot.end])
    return _extracted("bootloader", address, data,
                     f"bootloader, {_image_text(boot)}")


def _table(image: Image, raw: bool) -> Extracted:
    if image.table is None or image.table_address is None or image.base is None:
        raise InputError(f"{_where(image)}has no partition table; it has {_available(image)}")
    address = image.table_address
    start = address - image.base
    want = TABLE_SECTOR if raw else TABLE_SIZE
    signed = not raw and image.table.signature is not None
    if signed:
        want += TABLE_SIGNATURE_SIZE
    data = bytes(image.data[start:start + want])
    partial = len(data) < want
    what = ("raw sector" if raw else "signed with Secure Boot v1" if signed
            else "as gen_esp32part writes it")
    return _extracted("partition-table", address, data,
                     f"partition table at {address:#x}, {len(data):#x} bytes ({what}), "
                     f"{len(image.table.partitions)} partitions"
                     + _partial_text(partial, address + want), partial)


def _partition(image: Image, content: PartitionContent, raw: bool, what: str) -> Extracted:
    assert image.base is not None
    part = content.partition
    name = "otadata" if what == "otadata" else part.name
    where = f"partition {part.name!r} at {part.offset:#x} ({format_size(part.size)})"
    if content.state == "absent":
        raise InputError(f"{_where(image)}does not contain {where}: {_file_covers(image)}")
    start = part.offset - image.base
    partial = content.covered < part.size
    if raw:
        data = bytes(image.data[start:start + content.covered])
        return _extracted(name, part.offset, data,
                         f"{where}, {len(data):#x} bytes (raw)"
                         + _partial_text(partial, part.end), partial)
    if content.state == "erased":
        raise InputError(f"{_where(image)}holds nothing in {where}: it is erased (all 0xFF; "
                         "use --raw to get the bytes anyway)")
    if part.is_app:
        if content.image is None:
            raise FormatError(f"{where} does not hold a valid app image (use --raw to get the "
                              "bytes anyway)", start, part.name)
        _refuse_truncated(content.image, where, start)
        data = bytes(image.data[start:start + content.image.end])
        return _extracted(name, part.offset, data, f"{where}: {_image_text(content.image)}")
    if part.is_otadata:
        size = min(OTADATA_SIZE, part.size)
        data = bytes(image.data[start:start + min(size, content.covered)])
        partial = len(data) < size
        return _extracted(name, part.offset, data,
                         f"otadata {where}, {len(data):#x} bytes"
                         + _partial_text(partial, part.offset + size), partial)
    data = bytes(image.data[start:start + content.covered])
    return _extracted(name, part.offset, data,
                     f"{where}, {len(data):#x} bytes" + _partial_text(partial, part.end),
                     partial)


# ---------------------------------------------------------------------- other kinds
def _extract_single(image: Image, what: str, raw: bool) -> Extracted:
    from ..app_image import AppImage

    firmware = image.firmware
    if not isinstance(firmware, AppImage):
        raise InputError(f"{_where(image)}holds no parsable image")
    role = firmware.role
    accepted = {"image", role} | ({"app", "bootloader"} if role == "unknown" else set())
    if what not in accepted:
        hint = "'app' or 'image'" if role != "bootloader" else "'bootloader' or 'image'"
        raise InputError(f"{_where(image)}is a single {role} image, not a merged firmware "
                         f"file; it has no {what!r} (use {hint})")
    name = role if role != "unknown" else what
    address = image.chip.bootloader_offset if role == "bootloader" and image.chip else None
    if raw:
        data = bytes(image.data)
        return _extracted(name, address, data, f"whole file, {len(data):#x} bytes (raw)")
    _refuse_truncated(firmware, f"the {role} image", 0)
    data = bytes(image.data[:firmware.end])
    dropped = f"; {firmware.trailing:#x} trailing bytes left out" if firmware.trailing else ""
    return _extracted(name, address, data, f"{role} {_image_text(firmware)}{dropped}")


def _extract_bare_table(image: Image, what: str, raw: bool) -> Extracted:
    if what != "partition-table":
        raise InputError(f"{_where(image)}is a bare partition table; only 'partition-table' "
                         f"can be extracted from it, not {what!r}")
    want = TABLE_SECTOR if raw else TABLE_SIZE
    signed = not raw and image.table is not None and image.table.signature is not None
    if signed:
        want += TABLE_SIGNATURE_SIZE
    data = bytes(image.data[:want])
    return _extracted("partition-table", None, data,
                     f"partition table, {len(data):#x} bytes"
                     + (" (signed with Secure Boot v1)" if signed else ""))


def _extract_esp8266(image: Image, what: str, raw: bool) -> Extracted:
    from ..esp8266 import Esp8266Image

    finding = image.esp8266
    assert finding is not None
    if image.kind == "image" and isinstance(finding.firmware, Esp8266Image):
        fw = finding.firmware
        if what not in ("image", "app", "bootloader", fw.role):
            raise InputError(f"{_where(image)}is a single ESP8266 {fw.role} image; it has no "
                             f"{what!r} (use 'image')")
        if raw:
            return _extracted(fw.role, None, bytes(image.data), "whole file (raw)")
        if fw.truncated:
            raise FormatError("the image is truncated (use --raw to get the bytes anyway)", 0,
                              "ESP8266 image")
        data = bytes(image.data[:fw.end])
        return _extracted(fw.role, 0 if fw.role == "bootloader" else None, data,
                         f"ESP8266 {fw.role} image ({fw.format}), {len(data):#x} bytes")
    if image.kind != "flash":
        raise InputError(f"{_where(image)}is {_kind_text(image.kind)}; there is nothing to "
                         "extract")
    named = [r for r in finding.regions if not r.name.startswith("(")]
    region = next((r for r in named if r.name == what), None)
    if region is None and what == "bootloader":
        region = next((r for r in named if r.address == 0 and isinstance(r.model, Esp8266Image)
                       and r.model.role == "bootloader"), None)
    if region is None:
        names = ", ".join(dict.fromkeys(r.name for r in named))
        raise InputError(f"{_where(image)}has no {what!r}; it has {names or 'no named regions'}")
    data = bytes(image.data[region.offset:region.offset + region.size])
    if not raw and isinstance(region.model, Esp8266Image):
        if region.model.truncated:
            raise FormatError("the image is truncated (use --raw to get the bytes anyway)",
                              region.offset, what)
        data = data[:region.model.end]
    elif not raw and _erased(data):
        raise InputError(f"{_where(image)}holds nothing in {what!r} at {region.address:#x}: it "
                         "is erased (use --raw to get the bytes anyway)")
    return _extracted(what, region.address, data,
                     f"{what} at {region.address:#x}, {len(data):#x} bytes"
                     + (" (raw)" if raw else "") + (f": {region.detail}" if region.detail else ""))


# ---------------------------------------------------------------------- helpers
def _where(image: Image) -> str:
    return f"{image.path}: " if image.path else "the input "


def _kind_text(kind: str) -> str:
    return {"erased": "erased flash (all 0xFF)", "unknown": "not a recognised firmware file",
            "yaota8266-ota": "a yaota8266 .ota update file"}.get(kind, f"a {kind} file")


def _erased(data: bytes | memoryview) -> bool:
    from ..spans import is_erased

    return is_erased(data)


def _partial_text(partial: bool, region_end: int) -> str:
    return f"; the file ends before the region does (at flash {region_end:#x})" if partial else ""


def _image_text(img: AppImage) -> str:
    parts = [f"{img.end:#x} bytes"]
    if img.app_desc is not None and (img.app_desc.project_name or img.app_desc.version):
        parts.append(" ".join(x for x in (img.app_desc.project_name, img.app_desc.version) if x))
    if img.signature is not None:
        parts.append(f"{img.signature.scheme} signature included")
    return ", ".join(parts)


def _refuse_truncated(img: AppImage, what: str, offset: int) -> None:
    if img.truncated:
        raise FormatError(f"{what} is truncated: the file (or partition) ends inside the image "
                          "(use --raw to get the bytes that are there)", offset, "ESP32 image")


__all__ = ["Extracted", "default_extract_name", "extract"]
