"""Files wrapped around what esp-image reads: gzip (``.bin.gz``), Arduino-signed updates, Matter
OTA files, pre-encrypted OTA images (``esp_encrypted_img``) and an image behind a length word.

The recogniser peels every layer (:func:`esp_image.wrappers.unwrap_all`), identifies the
innermost bytes with the other recognisers and returns that Image: it has the kind of what it
wraps, the layers in ``wrappers``, their checks (detail prefixed with the wrapper's kind) before
its own, ``data`` = the unwrapped bytes (every offset in the model is an offset in them) and
``size`` = the file's length. A wrapper with no magic of its own (the length word) claims a file
only when what follows it is recognised, so it never takes a file another recogniser reads.
"""

from __future__ import annotations

from dataclasses import replace

from ..errors import FormatError
from ..image import Image, prefixed

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from collections.abc import Iterable

    from ..checks import Check
    from ..chips import Chip
    from ..wrappers import Unwrapped

CONTAINERS = ("intel-hex", "uf2")
"""Files that only say where flash bytes go: commands that change a file work on those bytes
and write the same container back (:mod:`esp_image.containers`)."""
KEYED = ("arduino-signed", "esp-encrypted-img")
"""The wrappers a key serves: a signature to verify, a payload to decrypt."""

# What every wrapper's ``looks_like`` needs at the least, so that a file no wrapper can claim
# (nearly every file) costs none of the wrapper modules' imports: the gzip magic, the Matter and
# esp_encrypted_img magics, a length word equal to the rest of the file, an RSA signature length
# at the end. The values are the formats' own (tests/image/test_wrapped.py holds them equal).
_GZIP_MAGIC = b"\x1f\x8b"
_HEAD_MAGICS = (0x1BEEF11E, 0x0788B6CF)
_SIGNATURE_SIZES = (128, 256, 384, 512)


_UF2_MAGIC = 0x0A324655
_HEX_START = 0x3A  # ':' (after blanks) starts an Intel HEX record


def may_be_wrapped(view: memoryview) -> bool:
    """False when no wrapper can claim ``view`` (a first look, no imports)."""
    n = len(view)
    if n < 8:
        return False
    head = int.from_bytes(view[:4], "little")
    return (bytes(view[:2]) == _GZIP_MAGIC or head in _HEAD_MAGICS or head == n - 4
            or head == _UF2_MAGIC or _hex_text(view)
            or int.from_bytes(view[n - 4:], "little") in _SIGNATURE_SIZES)


def _hex_text(view: memoryview) -> bool:
    first = bytes(view[:64]).lstrip()
    return first[:1] == b":"


_REDO = {
    "gzip": "is gzip-compressed: decompress it, change it, and compress it again",
    "arduino-signed": "is an Arduino-signed update: change the unsigned file and sign it "
                      "again (signing.py)",
    "matter-ota": "is a Matter OTA file: change the image inside and create the OTA file "
                  "again (ota_image_tool.py create)",
    "esp-encrypted-img": "is a pre-encrypted OTA image: change the plain image and encrypt it "
                         "again (esp_enc_img_gen.py encrypt)",
    "length-prefixed": "is an image behind a length word: change the image and put the "
                       "length in front again",
}


def recognise(view: memoryview, forced: Chip | None, key: bytes | None = None) -> Image | None:
    """The Image of a wrapped file, or None when no wrapper claims ``view``.

    Raises:
        KeyMismatch: ``key`` cannot serve the wrapper found.
        DecompressionLimit: a gzip inflates past the largest flash.
    """
    if not may_be_wrapped(view):
        return None
    from ..wrappers import unwrap_all

    try:
        layers = unwrap_all(view, key)
    except FormatError as exc:
        # A wrapper's magic matched but its structure is broken: what the file is, is known.
        from . import _unknown

        return _unknown(view, f"a damaged wrapper: {exc}")
    if not layers:
        return None
    inner = layers[-1].inner
    if inner is None:
        from . import _unknown

        found = _unknown(view, _sealed(layers[-1]))
    else:
        from . import identify_unwrapped

        found = identify_unwrapped(memoryview(inner), forced)
        if found.kind == "unknown" and all(w.kind == "length-prefixed" for w in layers):
            return None
    placed = _placement(layers, found)
    return replace(found, size=len(view), wrappers=tuple(layers), file_data=view,
                   checks=(*layer_checks(layers), *placed, *found.checks),
                   notes=(*found.notes, *_tinyuf2(layers, found)))


def _placement(layers: list[Unwrapped], found: Image) -> list[Check]:
    """Whether a HEX/UF2 file puts what it holds where that belongs (the innermost
    container's start address and family id against what the recognisers found)."""
    from ..containers import placement

    return [c for i, w in enumerate(layers) if w.kind in CONTAINERS and i == len(layers) - 1
            for c in prefixed(placement(w, found), w.kind)]


def _tinyuf2(layers: list[Unwrapped], found: Image) -> list[str]:
    from ..containers import is_tinyuf2_app

    if layers and is_tinyuf2_app(layers[-1], found):
        return ["a TinyUF2 app: an app image at UF2 address 0 (relative to the app "
                "partition), not a bootloader; TinyUF2 bootloaders flash it into the app slot"]
    return []


def _sealed(layer: Unwrapped) -> str:
    """Why a layer yields no inner bytes (the reason of the ``unknown`` verdict)."""
    if layer.kind == "esp-encrypted-img":
        if not any(c.name == "gcm-tag" for c in layer.checks):
            return (f"pre-encrypted OTA image (esp_encrypted_img, {layer.outer['scheme']}): "
                    "the image inside is encrypted and cannot be judged without its private "
                    "key (--key PRIVATE.pem)")
        return "pre-encrypted OTA image: the GCM tag does not match, so nothing was decrypted"
    return f"{layer.kind}: the wrapped bytes cannot be read"


def layer_checks(layers: Iterable[Unwrapped]) -> list[Check]:
    """Every layer's checks as the file lists them: detail prefixed with the wrapper's kind,
    offset in that layer's input (the file, for the outermost)."""
    return [c for w in layers for c in prefixed(w.checks, w.kind)]


def uses_key(image: Image) -> bool:
    """Whether a wrapper of ``image`` takes a key."""
    return any(w.kind in KEYED for w in image.wrappers)


def change_refusal(image: Image) -> str | None:
    """The one line refusing to change a wrapped file in place (None when it is not wrapped)."""
    if not image.wrappers or is_container(image):
        return None
    outer = image.wrappers[0]
    return f"{image.path or 'input'} {_REDO[outer.kind]}"


def is_container(image: Image) -> bool:
    """Whether ``image`` is a HEX/UF2 file of plain flash bytes (no other layer)."""
    return len(image.wrappers) == 1 and image.wrappers[0].kind in CONTAINERS


def rewrap(image: Image) -> bytes:
    """The file's bytes: the inner model rebuilt and put back where each layer holds it
    (a layer that compresses or encrypts keeps the file's bytes: it cannot be redone exactly)."""
    assert image.file_data is not None
    carriers = [bytes(image.file_data), *(bytes(w.inner or b"") for w in image.wrappers)]
    built = image.unwrapped().to_bytes() if image.wrappers[-1].inner is not None else b""
    for depth in range(len(image.wrappers) - 1, -1, -1):
        layer, outer = image.wrappers[depth], carriers[depth]
        if layer.transformed or layer.inner is None:
            built = outer
            continue
        start = layer.inner_offset
        built = outer[:start] + built + outer[start + len(layer.inner):]
    return built


__all__ = ["change_refusal", "is_container", "layer_checks", "recognise", "rewrap", "uses_key"]
