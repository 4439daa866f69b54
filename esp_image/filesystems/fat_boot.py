"""The FAT boot sector as FatFs reads it when it mounts a volume: :class:`BootSector`, the
validation :func:`parse_boot_sector` shares with FatFs ``find_volume``, the cluster counts that
decide FAT12 / FAT16 / FAT32, and the characters an 8.3 or long name may not hold on disk.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ..errors import FormatError, TruncatedError

MAX_FAT12 = 0xFF5  # FatFs: up to 4085 clusters is FAT12
MAX_FAT16 = 0xFFF5  # FatFs: up to 65525 clusters is FAT16
_INVALID_LFN_CHARS = set('"*/:<>?\\|\x7f')
_INVALID_SFN_CHARS = set('"*+,./:;<=>?[\\]|\x7f')


@dataclass(frozen=True)
class BootSector:
    """The BPB fields FatFs reads when it mounts a volume, and what it derives from them."""

    oem_name: str
    bytes_per_sector: int
    sectors_per_cluster: int
    reserved_sectors: int
    fat_count: int
    root_entries: int
    total_sectors: int
    media: int
    fat_sectors: int
    hidden_sectors: int
    volume_id: int | None
    volume_label: str | None
    fs_type_string: str | None
    fat_type: int  # 12, 16 or 32, by cluster count as FatFs decides
    clusters: int
    root_dir_sectors: int
    first_data_sector: int

    @property
    def cluster_size(self) -> int:
        return self.bytes_per_sector * self.sectors_per_cluster

    @property
    def size(self) -> int:
        return self.total_sectors * self.bytes_per_sector


def parse_boot_sector(data: bytes) -> BootSector:
    """Validate a FAT volume boot record the way FatFs ``find_volume`` does."""
    where = "FAT boot sector"
    if len(data) < 512:
        raise TruncatedError(f"{len(data)} bytes, a boot sector needs 512", 0, where)
    if data[510:512] != b"\x55\xaa":
        blank = data[:512] == b"\xff" * 512
        raise FormatError(
            "no boot sector (erased flash)" if blank else "no 55 AA signature", 510, where
        )
    if data[0] not in (0xEB, 0xE9, 0xE8):
        raise FormatError(f"jump instruction {data[0]:#04x} is not EB/E9/E8", 0, where)
    (ss, spc, rsv, nfats, nroot, tot16, media, fatsz16) = struct.unpack_from("<HBHBHHBH", data, 11)
    hidden, tot32 = struct.unpack_from("<II", data, 28)
    if ss not in (512, 1024, 2048, 4096):
        raise FormatError(f"bytes per sector {ss} is not 512..4096", 11, where)
    if spc == 0 or spc & (spc - 1):
        raise FormatError(f"sectors per cluster {spc} is not a power of two", 13, where)
    if rsv == 0:
        raise FormatError("no reserved sectors", 14, where)
    if nfats not in (1, 2):
        raise FormatError(f"{nfats} FATs (FatFs accepts 1 or 2)", 16, where)
    if nroot % (ss // 32):
        raise FormatError(f"{nroot} root entries do not fill whole sectors", 17, where)
    total = tot16 or tot32
    if total == 0:
        raise FormatError("total sector count is 0", 19, where)
    fatsz = fatsz16 or struct.unpack_from("<I", data, 36)[0]
    if fatsz == 0:
        raise FormatError("FAT size is 0", 22, where)
    fat32 = fatsz16 == 0
    if fat32 and nroot:
        raise FormatError("FAT32 volume with a fixed root directory", 17, where)
    if not fat32 and nroot == 0:
        raise FormatError("FAT12/16 volume without root directory entries", 17, where)
    root_sectors = nroot * 32 // ss
    sysect = rsv + fatsz * nfats + root_sectors
    if total < sysect:
        raise FormatError(f"{total} sectors cannot hold the {sysect} system sectors", 19, where)
    clusters = (total - sysect) // spc
    if clusters == 0:
        raise FormatError("no data clusters", 19, where)
    fat_type = 12 if clusters <= MAX_FAT12 else 16 if clusters <= MAX_FAT16 else 32
    if fat32 != (fat_type == 32):
        raise FormatError(
            f"{clusters} clusters make FAT{fat_type}, the BPB layout says otherwise", 22, where
        )
    if fat_type == 12 and clusters == MAX_FAT12:
        raise FormatError(
            "4085 clusters: FatFs reads FAT12, other implementations FAT16; ambiguous", 19, where
        )
    n_entries = clusters + 2
    fat_bytes = {12: n_entries * 3 // 2 + (n_entries & 1), 16: n_entries * 2, 32: n_entries * 4}
    if fatsz < (fat_bytes[fat_type] + ss - 1) // ss:
        raise FormatError(f"FAT of {fatsz} sectors is too small for {clusters} clusters", 22, where)
    ext = 64 if fat32 else 36  # offset of BS_DrvNum
    volume_id = label = fstype = None
    if data[ext + 2] == 0x29:  # extended boot signature
        volume_id = struct.unpack_from("<I", data, ext + 3)[0]
        label = data[ext + 7 : ext + 18].decode("ascii", "replace").rstrip()
        fstype = data[ext + 18 : ext + 26].decode("ascii", "replace").rstrip()
    return BootSector(
        oem_name=data[3:11].decode("ascii", "replace").rstrip(),
        bytes_per_sector=ss,
        sectors_per_cluster=spc,
        reserved_sectors=rsv,
        fat_count=nfats,
        root_entries=nroot,
        total_sectors=total,
        media=media,
        fat_sectors=fatsz,
        hidden_sectors=hidden,
        volume_id=volume_id,
        volume_label=label,
        fs_type_string=fstype,
        fat_type=fat_type,
        clusters=clusters,
        root_dir_sectors=root_sectors,
        first_data_sector=sysect,
    )
