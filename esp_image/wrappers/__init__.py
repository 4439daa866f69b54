"""Containers around an ESP image: what they say, whether they are intact, and the image inside.

One module per wrapper, each with the same three functions:

- ``looks_like(data) -> bool``: a cheap test of the magic and sizes, never raises;
- ``open(data, key=None) -> Unwrapped``: parse completely, run the checks, return the inner
  bytes (raises :class:`~esp_image.errors.FormatError` when ``data`` is not that wrapper, and
  :class:`~esp_image.errors.KeyMismatch` for a key that cannot serve it);
- ``KIND``: the ``Unwrapped.kind`` it produces.

:func:`unwrap` tries them in :data:`ORDER`; :func:`unwrap_all` peels nested layers (a signed
gzip is ``arduino-signed`` around ``gzip`` around the image). Damage (a CRC, digest, signature or
GCM tag that does not match) is a failed :class:`~esp_image.checks.Check`, not an exception, so
the caller reports it like any other check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

from ..errors import InputError, KeyMismatch

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from collections.abc import Mapping
    from types import ModuleType
    from typing import Literal

    from ..checks import Check

    Kind = Literal["esp-encrypted-img", "matter-ota", "arduino-signed", "gzip",
                   "length-prefixed", "intel-hex", "uf2"]

ORDER: tuple[Kind, ...] = ("uf2", "intel-hex", "esp-encrypted-img", "matter-ota",
                           "arduino-signed", "gzip", "length-prefixed")
"""The order :func:`unwrap` tries: the flash containers (a UF2 block's three magics, HEX
records; :mod:`esp_image.containers`), the wrappers with a 4-byte magic (0x0788B6CF,
0x1BEEF11E), then the signed update (it may end a gzip, so it must be peeled before gzip is
tried), then gzip (2-byte magic), and last the bare length word, which has no magic of its own."""

_MODULES: dict[Kind, str] = {
    "esp-encrypted-img": "encrypted_img",
    "matter-ota": "matter_ota",
    "arduino-signed": "arduino_signed",
    "gzip": "gzip",
    "length-prefixed": "length_prefix",
    "intel-hex": "..containers.hex",
    "uf2": "..containers.uf2",
}

MAX_DEPTH = 4
"""Most layers :func:`unwrap_all` peels (signed gzip is two; more is hostile input)."""


@dataclass(frozen=True)
class Unwrapped:
    """One wrapper layer, opened.

    Attributes:
        kind: which wrapper (see :data:`Kind`).
        outer: what the wrapper's header and trailer say (JSON-ready plain values: ints, strs,
            bools, hex strings for bytes).
        inner: the wrapped bytes (decompressed, decrypted or sliced out), or None when they
            cannot be had (an encrypted image without its key, a failed GCM tag).
        inner_offset: offset in the outer data where the inner bytes' carrier starts (the
            payload for ``matter-ota``/``length-prefixed``/``arduino-signed``, the deflate
            stream for ``gzip``, the ciphertext for ``esp-encrypted-img``).
        transformed: True when ``inner`` is not a slice of the outer data (decompressed or
            decrypted): offsets inside ``inner`` then do not map to the outer file.
        checks: the integrity checks run, with offsets in the outer data.
        notes: one-line remarks for a person (what a device does with this file).
    """

    kind: Kind
    outer: Mapping[str, object]
    inner: bytes | None
    inner_offset: int
    transformed: bool
    checks: tuple[Check, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "outer", MappingProxyType(dict(self.outer)))
        object.__setattr__(self, "checks", tuple(self.checks))
        object.__setattr__(self, "notes", tuple(self.notes))

    @property
    def valid(self) -> bool:
        """Whether every check passed."""
        return all(c.valid for c in self.checks)

    @property
    def inner_size(self) -> int | None:
        """Length of :attr:`inner`, None when it is not available."""
        return None if self.inner is None else len(self.inner)

    def to_dict(self) -> dict[str, object]:
        """The JSON form: kind, the outer facts, where the inner starts, checks and notes."""
        return {"kind": self.kind, **self.outer, "inner_offset": self.inner_offset,
                "inner_size": self.inner_size, "transformed": self.transformed,
                "checks": [c.to_dict() for c in self.checks], "notes": list(self.notes)}


def module(kind: Kind) -> ModuleType:
    """The module implementing ``kind`` (imported on first use)."""
    import importlib

    name = _MODULES[kind]
    if name.startswith(".."):  # a container: esp_image.containers
        return importlib.import_module(name[1:], __name__.rsplit(".", 1)[0])
    return importlib.import_module(f"{__name__}.{name}")


def unwrap(data: bytes | memoryview, key: bytes | None = None) -> Unwrapped | None:
    """Open the outermost wrapper of ``data``, trying :data:`ORDER`; None when none claims it.

    Args:
        data: the whole file.
        key: PEM key bytes (or a raw 32-byte ECIES HMAC key) for the wrapper that takes one;
            the wrappers that take none ignore it.

    Raises:
        FormatError: a wrapper's magic matched but its structure is broken beyond reading.
        DecompressionLimit: a gzip inflates past the limit.
        KeyMismatch: ``key`` is not usable for the wrapper found.
    """
    for kind in ORDER:
        mod = module(kind)
        if mod.looks_like(data):
            result: Unwrapped = mod.open(data, key=key)
            return result
    return None


def unwrap_all(data: bytes | memoryview, key: bytes | None = None) -> list[Unwrapped]:
    """Every wrapper layer from the outside in ([] when ``data`` is not wrapped).

    Peeling stops at bytes no wrapper claims, at a layer without inner bytes, or after
    :data:`MAX_DEPTH` layers.
    """
    layers: list[Unwrapped] = []
    current: bytes | memoryview | None = data
    while current is not None and len(layers) < MAX_DEPTH:
        layer = unwrap(current, key)
        if layer is None:
            break
        layers.append(layer)
        current = layer.inner
    return layers


# ------------------------------------------------------------------------------ shared helpers
_CRYPTO_HINT = ("keys need the 'cryptography' package: pip install cryptography "
                "(or esp-image[yaota])")


def require_cryptography() -> None:
    """Raise :class:`InputError` with an install hint when ``cryptography`` is missing."""
    try:
        import cryptography  # noqa: F401
    except ImportError:
        raise InputError(_CRYPTO_HINT) from None


def load_pem_key(pem: bytes, what: str) -> object:
    """A PEM private or public key as a ``cryptography`` key object.

    Raises:
        KeyMismatch: not a PEM key (or an encrypted private key).
        InputError: ``cryptography`` is not installed.
    """
    require_cryptography()
    from cryptography.hazmat.primitives import serialization

    try:
        if b"PRIVATE KEY-----" in pem:
            return serialization.load_pem_private_key(pem, password=None)
        return serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise KeyMismatch(f"{what}: not an unencrypted PEM key ({exc})") from None


def u32(data: bytes | memoryview, offset: int) -> int:
    """The little-endian u32 at ``offset`` (callers check the length first)."""
    return int.from_bytes(data[offset:offset + 4], "little")
