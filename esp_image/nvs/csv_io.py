"""The CSV that ESP-IDF's NVS partition generator reads: ``key,type,encoding,value``.

A ``namespace`` row opens a namespace; ``data`` rows hold the value inline (``u8`` .. ``i64``,
``string``, ``hex2bin``, ``base64``); ``file`` rows name a file (``string``, ``hex2bin``,
``base64``, ``binary``) relative to the CSV. Export writes blobs as ``base64`` inline, or as
``binary`` files beside the CSV when a folder is given.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
from pathlib import Path

from ..errors import NvsError, NvsNotFound
from . import values as val
from .partition import NvsPartition

HEADER = ("key", "type", "encoding", "value")
#: How a value is given as text (``esp-image nvs set --type``): the stored types, and the
#: generator's encodings (``hex2bin``, ``base64``; ``file``: a file's bytes) for blobs.
VALUE_TYPES: tuple[str, ...] = (*val.TYPE_NAMES, "hex2bin", "base64", "file")


def export_csv(part: NvsPartition, blob_dir: Path | None = None) -> str:
    """The partition's namespaces and keys as generator CSV (``blob_dir``: blobs as files,
    named ``NAMESPACE.KEY.bin`` and referenced relative to the CSV's folder)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for ns in part.namespaces():
        entries = part.entries(ns.name)
        if not entries:
            continue
        writer.writerow((ns.name, "namespace", "", ""))
        for entry in entries:
            writer.writerow(_row(entry, blob_dir))
    return out.getvalue()


def _row(entry: object, blob_dir: Path | None) -> tuple[str, str, str, str]:
    from .partition import NvsEntry

    assert isinstance(entry, NvsEntry)
    if isinstance(entry.value, bytes):
        if blob_dir is None:
            return (entry.key, "data", "base64", base64.b64encode(entry.value).decode("ascii"))
        name = f"{entry.namespace}.{entry.key}.bin"
        (blob_dir / name).write_bytes(entry.value)
        return (entry.key, "file", "binary", str(blob_dir / name))
    return (entry.key, "data", entry.type, str(entry.value))


def read_csv(text: str, base_dir: Path | None = None
             ) -> list[tuple[str, str, str, val.Value]]:
    """The ``(namespace, key, type, value)`` rows of generator CSV, values decoded.

    Raises:
        NvsError: a row the generator would refuse (unknown type or encoding, data before
            any namespace, a bad hex or base64 value, a missing file), naming its line.
    """
    rows: list[tuple[str, str, str, val.Value]] = []
    namespace: str | None = None
    reader = csv.reader(io.StringIO(text))
    for number, row in enumerate(reader, 1):
        if not row or row[0].startswith("#") or tuple(c.strip() for c in row[:4]) == HEADER:
            continue
        key, kind, encoding, value = [*row, "", "", "", ""][:4]
        kind, encoding = kind.strip(), encoding.strip().lower()
        if kind == "namespace":
            namespace = key
            continue
        if namespace is None:
            raise NvsError(f"CSV line {number}: {key!r} comes before any namespace row")
        if kind not in ("data", "file"):
            raise NvsError(f"CSV line {number}: type {kind!r} is not namespace, data or file")
        try:
            type_name, decoded = _decode(kind, encoding, value, base_dir)
        except (ValueError, binascii.Error, OSError) as exc:
            raise NvsError(f"CSV line {number} ({key}): {exc}") from None
        rows.append((namespace, key, type_name, decoded))
    return rows


def _decode(kind: str, encoding: str, value: str, base_dir: Path | None
            ) -> tuple[str, val.Value]:
    raw: bytes | None = None
    if kind == "file":
        path = Path(value)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        raw = path.read_bytes()
    if encoding in val.INT_TYPES:
        return encoding, int(value, 0)
    if encoding == "string":
        return "string", raw.decode("utf-8") if raw is not None else value
    if encoding == "hex2bin":
        return "blob", binascii.a2b_hex((raw.decode("ascii") if raw else value).strip())
    if encoding == "base64":
        return "blob", binascii.a2b_base64(raw if raw is not None else value.encode("ascii"))
    if encoding == "binary" and raw is not None:
        return "blob", raw
    raise ValueError(f"encoding {encoding!r} is not supported for {kind}")


def parse_value(type_name: str, text: str) -> tuple[str, val.Value]:
    """``(stored type, value)`` of a value given as text: integers in decimal or ``0x`` hex,
    a ``string`` as it is, a ``blob`` as the text's UTF-8 bytes, ``hex2bin`` and ``base64``
    decoded as the generator decodes them, ``file`` the bytes of the file it names.

    Raises:
        NvsError: an unknown type, or a value that does not decode (one line).
    """
    if type_name not in VALUE_TYPES:
        raise NvsError(f"unknown NVS value type {type_name!r} (one of {', '.join(VALUE_TYPES)})")
    if type_name == "blob":
        return "blob", text.encode("utf-8", "surrogateescape")
    kind, encoding = ("file", "binary") if type_name == "file" else ("data", type_name)
    try:
        if type_name == "base64":  # a typo must not store a silently shorter blob
            base64.b64decode(text, validate=True)
        return _decode(kind, encoding, text, None)
    except (ValueError, binascii.Error) as exc:
        raise NvsError(f"{type_name} value {text!r}: {exc}") from None
    except OSError as exc:
        raise NvsError(f"cannot read {text!r}: {exc.strerror or exc}") from None


def set_from_text(part: NvsPartition, namespace: str, key: str, text: str, *,
                  type_name: str | None = None, force: bool = False
                  ) -> tuple[str, val.Value, bool]:
    """Store a value given as text (see :func:`parse_value`) as ``type_name``, else as the
    existing key's type, else as a string; returns the stored type, the value and whether
    anything changed.

    Raises:
        NvsError: as :func:`parse_value` and :meth:`NvsPartition.set` raise.
    """
    if type_name is None:
        try:
            type_name = part.get(namespace, key).type
        except NvsNotFound:
            type_name = "string"
    stored, value = parse_value(type_name, text)
    return stored, value, part.set(namespace, key, value, stored, force=force)


def import_csv(part: NvsPartition, text: str, replace: bool = False,
               base_dir: Path | None = None, force: bool = False) -> NvsPartition:
    """Merge the CSV's keys into ``part`` (in CSV order), or with ``replace`` into an empty
    partition of the same size; returns the partition written."""
    rows = read_csv(text, base_dir)
    target = NvsPartition.mkfs(len(part.pages) * 0x1000, part.keys) if replace else part
    for namespace, key, type_name, value in rows:
        target.set(namespace, key, value, type_name, force=force)
    return target
