"""The ``nvs_keys`` partition and the AES-XTS entry encryption of encrypted NVS."""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..checks import compare
from ..errors import ChecksumMismatch, InputError
from ..formats.compiled import nvs as fmt

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..checks import Check


@dataclass(frozen=True)
class NvsKeys:
    """The two 256-bit keys of ``nvs_sec_cfg_t``: ``eky`` encrypts, ``tky`` makes the tweak."""

    eky: bytes
    tky: bytes

    @classmethod
    def from_bytes(cls, data: bytes) -> NvsKeys:
        """Read an ``nvs_keys`` partition (or the 68 bytes at its start).

        Raises:
            InputError: too short, or erased (the keys were never generated).
            ChecksumMismatch: the stored CRC does not match the keys, as nvs_flash checks.
        """
        if len(data) < fmt.SecurityConfig.SIZE:
            raise InputError(f"nvs_keys: needs {fmt.SecurityConfig.SIZE} bytes, "
                             f"got {len(data)}")
        if data[:2 * fmt.KEY_SIZE] == b"\xff" * (2 * fmt.KEY_SIZE):
            raise InputError("nvs_keys: the partition is erased (no keys generated)")
        rec = fmt.SecurityConfig.parse(data)
        check = cls._crc_check(rec.eky + rec.tky, rec.crc32)
        if not check.valid:
            raise ChecksumMismatch(f"nvs_keys: key CRC {check.detail}")
        return cls(rec.eky, rec.tky)

    @classmethod
    def generate(cls) -> NvsKeys:
        """Fresh random keys, as ``nvs_flash_generate_keys`` makes."""
        return cls(os.urandom(fmt.KEY_SIZE), os.urandom(fmt.KEY_SIZE))

    @staticmethod
    def _crc_check(keys: bytes, stored: int) -> Check:
        return compare("nvs-keys-crc", 2 * fmt.KEY_SIZE, stored, fmt.nvs_crc(keys), 8)

    def to_bytes(self) -> bytes:
        """The 4 KiB ``nvs_keys`` partition: keys, CRC, the rest erased."""
        head = fmt.SecurityConfig(self.eky, self.tky, fmt.nvs_crc(self.eky + self.tky)).build()
        return head + b"\xff" * (fmt.KEYS_PARTITION_SIZE - len(head))


class EntryCipher:
    """AES-XTS over 32-byte entries, tweaked by the entry's offset in the partition.

    XTS is computed from two AES-ECB passes over a whole run of entries (the tweaks, then the
    data) rather than one cipher object per entry: a page decrypts in one call each way.
    """

    def __init__(self, keys: NvsKeys) -> None:
        try:
            from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
        except ImportError:
            raise InputError("encrypted NVS needs the 'cryptography' package: install "
                             "esp-image[yaota]") from None

        self._data = Cipher(algorithms.AES(keys.eky), modes.ECB())
        self._tweak = Cipher(algorithms.AES(keys.tky), modes.ECB())

    def _masks(self, offset: int, count: int) -> bytes:
        """Each entry's two XTS masks: the encrypted tweak T, then T times x in GF(2^128)."""
        tweaks = b"".join((offset + n * fmt.ENTRY_SIZE).to_bytes(16, "little")
                          for n in range(count))
        enc = self._tweak.encryptor()
        first = enc.update(tweaks) + enc.finalize()
        out = bytearray()
        for n in range(count):
            t = first[16 * n:16 * n + 16]
            value = int.from_bytes(t, "little") << 1
            if value >> 128:
                value = (value & ((1 << 128) - 1)) ^ 0x87
            out += t + value.to_bytes(16, "little")
        return bytes(out)

    def _run(self, data: bytes, offset: int, encrypt: bool) -> bytes:
        masks = self._masks(offset, len(data) // fmt.ENTRY_SIZE)
        mask = int.from_bytes(masks, "little")
        size = len(data)
        mixed = (int.from_bytes(data, "little") ^ mask).to_bytes(size, "little")
        ctx = self._data.encryptor() if encrypt else self._data.decryptor()
        done = ctx.update(mixed) + ctx.finalize()
        return (int.from_bytes(done, "little") ^ mask).to_bytes(size, "little")

    def decrypt(self, data: bytes, offset: int) -> bytes:
        """Plain text of whole entries stored at partition ``offset``."""
        return self._run(data, offset, False)

    def encrypt(self, data: bytes, offset: int) -> bytes:
        """Cipher text of whole entries to be stored at partition ``offset``."""
        return self._run(data, offset, True)
