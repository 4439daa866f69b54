"""Secure Boot signatures attached to an app image, loaded only when an image carries one.

A Secure Boot v1 block or a v2 sector of ``ets_secure_boot_sig_block_t``. The types are
re-exported by :mod:`esp_image.app_image`; keeping them here saves start-up time on every
unsigned image (most of them).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SignatureBlock:
    """One Secure Boot v2 signature block (``ets_secure_boot_sig_block_t``).

    ``key_digest`` is the SHA-256 of the block's public key, as the ROM and bootloader compute
    it to compare with the eFuse key digests (what ``espsecure digest-sbv2-public-key``
    prints): two blocks verify with the same key exactly when their key digests are equal.
    """

    offset: int
    version: int
    scheme: str
    image_digest: bytes
    block_crc: int
    computed_crc: int
    key_digest: bytes = b""


@dataclass(frozen=True)
class Signature:
    """A Secure Boot signature attached to an image.

    Attributes:
        scheme: ``sbv1``, ``sbv2-rsa`` or ``sbv2-ecdsa``.
        offset: image offset of the SBv1 block or SBv2 sector.
        size: bytes it occupies (68 or 4096).
        blocks: the SBv2 blocks (empty for SBv1).
        covered_digest: SHA-256/384 of everything the SBv2 blocks sign, computed.
    """

    scheme: str
    offset: int
    size: int
    blocks: tuple[SignatureBlock, ...] = ()
    covered_digest: dict[int, bytes] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, object]:
        """JSON form (``image.signature``)."""
        return {"scheme": self.scheme, "blocks": max(len(self.blocks), 1), "offset": self.offset,
                "size": self.size}
