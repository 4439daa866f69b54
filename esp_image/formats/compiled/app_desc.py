"""Generated from :mod:`esp_image.formats.app_desc`: do not edit.

Change the declarations there and run ``python -m esp_image.formats._compile``.
"""

from __future__ import annotations

from struct import Struct

from .._records import Record, check_len

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

APP_DESC_MAGIC = 0xABCD5432
BOOTLOADER_DESC_MAGIC = 0x50
DESC_OFFSET = 32


class AppDesc(Record):
    """esp_app_desc_t (256 bytes)"""

    __slots__ = (
        'magic_word',
        'secure_version',
        'reserv1',
        'version',
        'project_name',
        'time',
        'date',
        'idf_ver',
        'app_elf_sha256',
        'min_efuse_blk_rev_full',
        'max_efuse_blk_rev_full',
        'mmu_page_size',
        'spi_flash_mode',
        'reserv3',
        'reserv2',
    )
    FIELDS = __slots__
    NAME = 'app_desc.AppDesc'
    SIZE = 256
    _STRUCT = Struct('<LL8s32s32s16s16s32s32sHHBB2s72s')

    magic_word: int
    secure_version: int
    reserv1: bytes
    version: bytes
    project_name: bytes
    time: bytes
    date: bytes
    idf_ver: bytes
    app_elf_sha256: bytes
    min_efuse_blk_rev_full: int
    max_efuse_blk_rev_full: int
    mmu_page_size: int
    spi_flash_mode: int
    reserv3: bytes
    reserv2: bytes

    def __init__(
        self,
        magic_word: int,
        secure_version: int,
        reserv1: bytes,
        version: bytes,
        project_name: bytes,
        time: bytes,
        date: bytes,
        idf_ver: bytes,
        app_elf_sha256: bytes,
        min_efuse_blk_rev_full: int,
        max_efuse_blk_rev_full: int,
        mmu_page_size: int,
        spi_flash_mode: int,
        reserv3: bytes,
        reserv2: bytes,
    ) -> None:
        self.magic_word = magic_word
        self.secure_version = secure_version
        self.reserv1 = reserv1
        self.version = version
        self.project_name = project_name
        self.time = time
        self.date = date
        self.idf_ver = idf_ver
        self.app_elf_sha256 = app_elf_sha256
        self.min_efuse_blk_rev_full = min_efuse_blk_rev_full
        self.max_efuse_blk_rev_full = max_efuse_blk_rev_full
        self.mmu_page_size = mmu_page_size
        self.spi_flash_mode = spi_flash_mode
        self.reserv3 = reserv3
        self.reserv2 = reserv2

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> AppDesc:
        return cls(
            v[0],
            v[1],
            v[2],
            v[3],
            v[4],
            v[5],
            v[6],
            v[7],
            v[8],
            v[9],
            v[10],
            v[11],
            v[12],
            v[13],
            v[14],
        )

    def _values(self) -> tuple[Any, ...]:
        check_len(self.NAME, 'reserv1', self.reserv1, 8)
        check_len(self.NAME, 'version', self.version, 32)
        check_len(self.NAME, 'project_name', self.project_name, 32)
        check_len(self.NAME, 'time', self.time, 16)
        check_len(self.NAME, 'date', self.date, 16)
        check_len(self.NAME, 'idf_ver', self.idf_ver, 32)
        check_len(self.NAME, 'app_elf_sha256', self.app_elf_sha256, 32)
        check_len(self.NAME, 'reserv3', self.reserv3, 2)
        check_len(self.NAME, 'reserv2', self.reserv2, 72)
        return (
            self.magic_word,
            self.secure_version,
            self.reserv1,
            self.version,
            self.project_name,
            self.time,
            self.date,
            self.idf_ver,
            self.app_elf_sha256,
            self.min_efuse_blk_rev_full,
            self.max_efuse_blk_rev_full,
            self.mmu_page_size,
            self.spi_flash_mode,
            self.reserv3,
            self.reserv2,
        )


class BootloaderDesc(Record):
    """esp_bootloader_desc_t (80 bytes)"""

    __slots__ = (
        'magic_byte',
        'reserved',
        'secure_version',
        'version',
        'idf_ver',
        'date_time',
        'reserved2',
    )
    FIELDS = __slots__
    NAME = 'app_desc.BootloaderDesc'
    SIZE = 80
    _STRUCT = Struct('<B2sBL32s24s16s')

    magic_byte: int
    reserved: bytes
    secure_version: int
    version: int
    idf_ver: bytes
    date_time: bytes
    reserved2: bytes

    def __init__(
        self,
        magic_byte: int,
        reserved: bytes,
        secure_version: int,
        version: int,
        idf_ver: bytes,
        date_time: bytes,
        reserved2: bytes,
    ) -> None:
        self.magic_byte = magic_byte
        self.reserved = reserved
        self.secure_version = secure_version
        self.version = version
        self.idf_ver = idf_ver
        self.date_time = date_time
        self.reserved2 = reserved2

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> BootloaderDesc:
        return cls(v[0], v[1], v[2], v[3], v[4], v[5], v[6])

    def _values(self) -> tuple[Any, ...]:
        check_len(self.NAME, 'reserved', self.reserved, 2)
        check_len(self.NAME, 'idf_ver', self.idf_ver, 32)
        check_len(self.NAME, 'date_time', self.date_time, 24)
        check_len(self.NAME, 'reserved2', self.reserved2, 16)
        return (
            self.magic_byte,
            self.reserved,
            self.secure_version,
            self.version,
            self.idf_ver,
            self.date_time,
            self.reserved2,
        )
