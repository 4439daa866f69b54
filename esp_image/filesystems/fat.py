"""FAT12/16 partitions as MicroPython and ESP-IDF make them, optionally behind ESP-IDF wear
levelling (Arduino FFat, ESP-IDF FATFS), read and written through pyfatfs (extra ``fs``).

This module is the entry point: :func:`open_fat`, :func:`mkfs_fat` and :func:`inspect_fat`.
The boot sector lives in :mod:`.fat_boot`, formatting in :mod:`.fat_mkfs` and the pyfatfs-backed
volume in :mod:`.fat_volume`; their public names are re-exported here.

Every pyfatfs or decoding failure is turned into an :mod:`esp_image.errors` exception:
:class:`FormatError` for damage, :class:`InputError` for a missing or unusable path,
:class:`LayoutError` for no space.
"""

from __future__ import annotations

from typing import Any

from ..errors import EspImageError, FormatError, InputError, LayoutError
from . import Entry, wl
from .fat_boot import BootSector, parse_boot_sector
from .fat_mkfs import _build_fat, _esp_idf_params, _micropython_params
from .fat_volume import FatVolume, _root_label

__all__ = [
    "BootSector",
    "Entry",
    "FatVolume",
    "inspect_fat",
    "mkfs_fat",
    "open_fat",
    "parse_boot_sector",
]


def _detect_wl(data: bytes) -> bool:
    return wl.is_wear_levelled(data)


def _kind_to_wl(kind: str | None, wear_levelling: bool | None) -> bool | None:
    if kind is None:
        return wear_levelling
    if kind not in ("fat", "fat-wl"):
        raise InputError(f"unknown FAT kind {kind!r} (fat or fat-wl)")
    if wear_levelling is not None and wear_levelling != (kind == "fat-wl"):
        raise InputError(f"kind={kind!r} contradicts wear_levelling={wear_levelling}")
    return kind == "fat-wl"


def open_fat(
    data: bytes,
    *,
    wear_levelling: bool | None = None,
    long_names: bool = True,
    kind: str | None = None,
) -> FatVolume:
    """Open a FAT partition image; ``wear_levelling=None`` detects the ESP-IDF WL layer.

    ``kind`` ("fat" / "fat-wl", as :func:`esp_image.filesystems.detect` names them) is another
    way to say ``wear_levelling``.
    """
    wear_levelling = _kind_to_wl(kind, wear_levelling)
    data = bytes(data)
    if not data:
        raise InputError("empty partition image")
    if wear_levelling is None:
        wear_levelling = _detect_wl(data)
        if not wear_levelling and wl.looks_wear_levelled(data):
            try:
                parse_boot_sector(data)
            except FormatError:
                wear_levelling = True  # damaged WL: let unwrap report it
    if wear_levelling:
        logical, info = wl.unwrap(data)
        return FatVolume(logical, partition=data, wl_info=info, long_names=long_names)
    return FatVolume(data, long_names=long_names)


def mkfs_fat(
    size: int,
    *,
    wear_levelling: bool = False,
    sector_size: int = 4096,
    label: str | None = None,
    long_names: bool = True,
    volume_id: int | None = None,
    kind: str | None = None,
) -> FatVolume:
    """Format an empty FAT partition of ``size`` bytes.

    Plain: as MicroPython's ``VfsFat.mkfs`` on a block device of ``sector_size`` blocks.
    Wear-levelled: as ESP-IDF's ``esp_vfs_fat_spiflash_mount_rw_wl`` (Arduino FFat) formats
    the WL logical space, wrapped as ``wl_fatfsgen.py`` writes it.
    """
    if kind is not None:
        wear_levelling = bool(_kind_to_wl(kind, None))
    if size <= 0:
        raise LayoutError(f"partition size {size} must be positive")
    if wear_levelling:
        if sector_size not in (512, 4096):
            raise LayoutError(f"wear-levelled FAT uses 512 or 4096-byte sectors, not {sector_size}")
        logical_size = wl.logical_size(size, fat_sector_size=sector_size)
        logical = _build_fat(
            logical_size, sector_size, _esp_idf_params(sector_size), label=label,
            volume_id=volume_id,
        )  # fmt: skip
        partition = wl.wrap(logical, size)
        logical, info = wl.unwrap(partition)
        return FatVolume(logical, partition=partition, wl_info=info, long_names=long_names)
    logical = _build_fat(
        size, sector_size, _micropython_params(sector_size), label=label, volume_id=volume_id
    )
    return FatVolume(logical, long_names=long_names)


def inspect_fat(data: bytes) -> dict[str, Any]:
    """Describe a FAT or wear-levelled FAT partition; damage gives ``valid: False``."""
    data = bytes(data)
    report: dict[str, Any] = {
        "type": "fat",
        "valid": False,
        "reason": None,
        "size": len(data),
        "fat_type": None,
        "wear_levelling": None,
        "warnings": [],
    }
    is_wl = _detect_wl(data) or (wl.looks_wear_levelled(data) and not _boot_sector_ok(data))
    logical = data
    if is_wl:
        report["type"] = "fat-wl"
        try:
            geo, s1, s2, cfg = wl.parse(data)
            report["wear_levelling"] = {
                "state1_valid": s1.crc_ok,
                "state2_valid": s2.crc_ok,
                "config_valid": cfg.crc_ok,
                "version": s1.version if s1.crc_ok else s2.version if s2.crc_ok else None,
                "logical_size": geo.flash_size,
            }
            logical, info = wl.unwrap(data)
            report["wear_levelling"] = info.as_dict()
            report["warnings"].extend(info.notes)
        except EspImageError as exc:
            report["reason"] = str(exc)
            return report
    report["logical_size"] = len(logical)
    try:
        boot = parse_boot_sector(logical)
    except EspImageError as exc:
        report["reason"] = str(exc)
        return report
    report.update(
        fat_type=f"FAT{boot.fat_type}",
        sector_size=boot.bytes_per_sector,
        cluster_size=boot.cluster_size,
        sectors_per_cluster=boot.sectors_per_cluster,
        clusters=boot.clusters,
        reserved_sectors=boot.reserved_sectors,
        fat_count=boot.fat_count,
        fat_sectors=boot.fat_sectors,
        root_entries=boot.root_entries,
        total_sectors=boot.total_sectors,
        oem_name=boot.oem_name,
        volume_id=boot.volume_id,
        volume_label=boot.volume_label,
        dirty=bool(logical[37] & 1) if boot.fat_type != 32 else bool(logical[65] & 1),
    )
    if boot.fat_type != 32 and boot.total_sectors < 128:
        report["warnings"].append(
            "fewer than 128 sectors: ESP-IDF v5 FatFs (R0.15) does not mount such a volume"
        )
    try:
        volume = FatVolume(logical)
        label = _root_label(volume)
        if label is not None:
            report["volume_label"] = label
        used, total = volume.df()
        entries = volume.walk()
        report.update(
            used_bytes=used,
            free_bytes=total - used,
            total_bytes=total,
            files=sum(1 for e in entries if not e.is_dir),
            directories=sum(1 for e in entries if e.is_dir),
        )
        for e in entries:
            if not e.is_dir:
                volume.read(e.path)
        report["warnings"].extend(volume.warnings)
    except EspImageError as exc:
        report["reason"] = str(exc)
        return report
    report["valid"] = True
    return report


def _boot_sector_ok(data: bytes) -> bool:
    try:
        parse_boot_sector(data)
    except EspImageError:
        return False
    return True

