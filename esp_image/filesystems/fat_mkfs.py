"""FAT formatting as the firmware does it: the geometry FatFs ``f_mkfs`` chooses and the bytes
of an empty volume. pyfatfs' own ``mkfs`` is not used because its geometry is not what a device
writes. The two callers:

* MicroPython (``VfsFat.mkfs`` → oofatfs R0.12 ``f_mkfs(FM_FAT | FM_SFD, au=0)``): no partition
  table, 1 FAT, 512 root entries, cluster size chosen automatically, block size = sector size
  (4096 on esp8266/esp32), erase-block alignment 1 sector.
* ESP-IDF / Arduino FFat (``vfs_fat_spiflash.c`` → FatFs R0.15 ``f_mkfs`` with
  ``{FM_ANY | FM_SFD, n_fat=2, n_root=sector_size/32, au=sector_size}``) on the wear-levelled
  logical space; the diskio driver reports no erase-block size, so no alignment.

Both: 1 reserved sector, VBR ``EB FE 90`` + ``MSDOS5.0``, media 0xF8, 63 sectors/track,
255 heads, drive 0x80, ``NO NAME`` / ``FAT`` strings, FAT entries 0/1 = F8 FF (FF) (FF), the
data area left as erased flash (0xFF).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from ..errors import InputError, LayoutError
from .fat_boot import _INVALID_SFN_CHARS, MAX_FAT12, MAX_FAT16


@dataclass(frozen=True)
class _MkfsParams:
    """The choices a firmware's FatFs f_mkfs call makes."""

    n_fats: int
    n_root: int
    au: int  # cluster size in sectors, 0 = FatFs automatic choice
    min_sectors: int


def _micropython_params(ss: int) -> _MkfsParams:
    return _MkfsParams(n_fats=1, n_root=512, au=0, min_sectors=128)  # R0.12 says 50; R0.15 128


def _esp_idf_params(ss: int) -> _MkfsParams:
    return _MkfsParams(n_fats=2, n_root=ss // 32, au=1, min_sectors=128)


def _fatfs_geometry(sz_vol: int, ss: int, p: _MkfsParams) -> tuple[int, int, int, int, int]:
    """FatFs ``f_mkfs`` for FAT12/16 (sz_blk = 1): returns (fat_type, au, rsv, fat, dir)."""
    if sz_vol < p.min_sectors:
        raise LayoutError(
            f"a FAT volume needs at least {p.min_sectors} sectors of {ss} bytes; "
            f"this one would have {sz_vol} (FatFs refuses to format or mount it)"
        )
    cst = (1, 4, 16, 64, 256, 512)  # cluster size boundaries in 4K-sector units
    au = p.au
    while True:
        pau = au
        if pau == 0:
            n = sz_vol // 0x1000
            pau = 1
            for bound in cst:
                if bound > n:
                    break
                pau <<= 1
        n_clst = sz_vol // pau
        fat_type = 16 if n_clst > MAX_FAT12 else 12
        n = n_clst * 2 + 4 if fat_type == 16 else (n_clst * 3 + 1) // 2 + 3
        sz_fat = (n + ss - 1) // ss
        sz_rsv = 1
        sz_dir = p.n_root * 32 // ss
        b_data = sz_rsv + sz_fat * p.n_fats + sz_dir
        if sz_vol < b_data + pau * 16:
            raise LayoutError(f"{sz_vol} sectors of {ss} bytes is too small for a FAT volume")
        n_clst = (sz_vol - sz_rsv - sz_fat * p.n_fats - sz_dir) // pau
        if fat_type == 16:
            if n_clst > MAX_FAT16:
                if p.au == 0 and pau * 2 <= 128:
                    au = pau * 2
                    continue
                raise LayoutError("volume too large for FAT16 (FAT32 is not generated)")
            if n_clst <= MAX_FAT12:
                if p.au == 0 and pau * 2 <= 128:
                    au = pau * 2
                    continue
                raise LayoutError(
                    f"{sz_vol} sectors fall between FAT12 and FAT16 for a {pau}-sector cluster "
                    "(FatFs f_mkfs aborts here too); use a slightly different size"
                )
        return fat_type, pau, sz_rsv, sz_fat, sz_dir


def _build_fat(
    size: int, ss: int, params: _MkfsParams, *, label: str | None, volume_id: int | None
) -> bytes:
    if ss not in (512, 1024, 2048, 4096):
        raise LayoutError(f"FAT sector size {ss} is not 512, 1024, 2048 or 4096")
    sz_vol = size // ss
    fat_type, pau, sz_rsv, sz_fat, sz_dir = _fatfs_geometry(sz_vol, ss, params)
    if volume_id is None:
        volume_id = zlib.crc32(struct.pack("<III", size, ss, params.n_fats))
    vbr = bytearray(ss)
    vbr[0:11] = b"\xeb\xfe\x90MSDOS5.0"
    struct.pack_into(
        "<HBHBHHBHHHI", vbr, 11, ss, pau, sz_rsv, params.n_fats, params.n_root,
        sz_vol if sz_vol < 0x10000 else 0, 0xF8, sz_fat, 63, 255, 0,
    )  # fmt: skip
    if sz_vol >= 0x10000:
        struct.pack_into("<I", vbr, 32, sz_vol)
    vbr[36] = 0x80  # drive number
    vbr[38] = 0x29  # extended boot signature
    struct.pack_into("<I", vbr, 39, volume_id & 0xFFFFFFFF)
    vbr[43:54] = _label_bytes(label) if label else b"NO NAME    "
    vbr[54:62] = b"FAT     "
    vbr[510:512] = b"\x55\xaa"
    out = bytearray(b"\xff" * (sz_vol * ss))
    out[0:ss] = vbr
    fat = bytearray(sz_fat * ss)
    fat[0:4] = b"\xf8\xff\xff\x00" if fat_type == 12 else b"\xf8\xff\xff\xff"
    for i in range(params.n_fats):
        start = (sz_rsv + i * sz_fat) * ss
        out[start : start + len(fat)] = fat
    root = bytearray(sz_dir * ss)
    if label:
        root[0:11] = _label_bytes(label)
        root[11] = 0x08  # ATTR_VOLUME_ID
    start = (sz_rsv + params.n_fats * sz_fat) * ss
    out[start : start + len(root)] = root
    return bytes(out) + b"\xff" * (size - len(out))


def _label_bytes(label: str) -> bytes:
    text = label.upper()
    if len(text) > 11 or any(c in _INVALID_SFN_CHARS or ord(c) < 0x20 for c in text):
        bad = "".join(sorted(_INVALID_SFN_CHARS))
        raise InputError(f"volume label {label!r}: at most 11 characters, none of {bad}")
    try:
        return text.encode("ascii").ljust(11, b" ")
    except UnicodeEncodeError:
        raise InputError(f"volume label {label!r} must be ASCII") from None
