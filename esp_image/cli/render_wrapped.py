"""The lines ``info`` prints for the wrappers around a file (gzip, an Arduino signature, a
Matter OTA header, esp_encrypted_img, a length word): one per layer, from the outside in."""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from ..image import Image
    from ..wrappers import Unwrapped


def wrapper_lines(image: Image) -> list[str]:
    """One line per wrapper layer: what it is, what it says, and its checks."""
    return [_line(w) for w in image.wrappers]


def wrapper_notes(image: Image) -> list[str]:
    """The layers' notes (what a device does with such a file)."""
    return [n for w in image.wrappers for n in w.notes]


def wrapped_in(image: Image) -> str:
    """`` inside gzip`` / `` inside arduino-signed, gzip`` ('' when not wrapped), for the
    one-line verdicts."""
    return f" inside {', '.join(w.kind for w in image.wrappers)}" if image.wrappers else ""


def _line(layer: Unwrapped) -> str:
    facts = layer.outer
    size = layer.inner_size
    if layer.kind == "gzip":
        name = f" ({facts['name']!r})" if facts.get("name") else ""
        what = f"gzip{name}: {facts['member_size']} bytes inflate to {size}"
    elif layer.kind == "arduino-signed":
        what = (f"Arduino signed update: {facts['signed_length']} signed bytes "
                f"({facts['signed_content']}), {facts['signature_length']}-byte RSA signature")
        if not layer.checks:
            what += "; signature not verified (give --key PUBLIC.pem)"
    elif layer.kind == "matter-ota":
        what = (f"Matter OTA file: vendor {_hex(facts['vendor_id'])} product "
                f"{_hex(facts['product_id'])}, version {facts['software_version']} "
                f"({facts['software_version_string']}), payload {size} bytes at "
                f"{layer.inner_offset:#x}")
    elif layer.kind == "esp-encrypted-img":
        what = (f"pre-encrypted OTA image (esp_encrypted_img, {facts['scheme']}): "
                f"{facts['bin_size']} bytes of ciphertext")
        what += f", {size} decrypted" if size is not None else \
            "; encrypted, cannot be judged without --key PRIVATE.pem"
    elif layer.kind in ("intel-hex", "uf2"):
        what = _container(layer)
    else:
        what = f"{layer.kind}: {size} bytes at {layer.inner_offset:#x}"
    checks = ", ".join(f"{c.name} {'ok' if c.valid else 'FAILED'}" for c in layer.checks)
    return f"{what}; {checks}" if checks else what


def _container(layer: Unwrapped) -> str:
    """``inside intel-hex from 0x1000``: where its flash bytes start, its segments, and a
    UF2's family."""
    facts = layer.outer
    segments = facts["segments"]
    count = len(segments) if isinstance(segments, list) else 0
    what = (f"{layer.kind}: flash from {_hex(facts['start_address'], 0)}, {count} "
            f"segment{'s' if count != 1 else ''} ({layer.inner_size} bytes with the gaps)")
    if layer.kind == "uf2":
        chip = f" ({facts['chip']})" if facts.get("chip") else ""
        what += f", family {facts.get('family_id')}{chip}, {facts.get('blocks')} blocks"
    return what


def _hex(value: object, width: int = 6) -> str:
    return f"{value:#0{width}x}" if isinstance(value, int) else str(value)
